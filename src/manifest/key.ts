/**
 * The task key: what makes a re-run recognise done work. It must depend on the content
 * of a task only — never on key order in the file, on the file's name or on the row's
 * position — and change whenever anything that would change the paid video changes.
 */
import * as crypto from 'node:crypto';
import { createHash } from 'node:crypto';
import type { Provider, VideoInput } from '../core/types.js';

/**
 * JSON with object keys sorted at every depth; arrays keep their order (the order of
 * image_urls is meaningful: start frame, end frame). `undefined` members are dropped,
 * as JSON.stringify does, so an absent field and an undefined one hash the same.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError(`cannot hash the number ${value}`);
    const json = JSON.stringify(value);
    if (json === undefined) throw new TypeError(`cannot hash a value of type ${typeof value}`);
    return json;
  }
  if (Array.isArray(value)) return '[' + value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',') + ']';
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return '{' + entries.map(([k, v]) => JSON.stringify(k) + ':' + canonicalJson(v)).join(',') + '}';
}

/** First 24 hex digits (96 bits) of sha256 over the canonical JSON of the task's content. */
export function taskKey(model: string, provider: Provider, input: VideoInput, take: number): string {
  const json = taskJson(model, provider, input, take);
  return (oneShot ? oneShot('sha256', json, 'hex') : createHash('sha256').update(json, 'utf8').digest('hex')).slice(0, 24);
}

/** crypto.hash (Node ≥ 20.12) hashes a string in one call, three times faster than createHash. */
const oneShot = (crypto as unknown as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash;

const INPUT_KEYS = ['aspect_ratio', 'cfg_scale', 'duration', 'image_urls', 'mode', 'negative_prompt', 'prompt'] as const;

/**
 * canonicalJson({model, provider, input, take}) written out for the one shape it is
 * used on, because a million-row sheet hashes a million of them. Same bytes, by test;
 * anything unexpected in the input takes the general path.
 */
export function taskJson(model: string, provider: Provider, input: VideoInput, take: number): string {
  let known = 0;
  let body = '';
  for (const k of INPUT_KEYS) {
    const v = input[k];
    if (v === undefined) continue;
    known++;
    let json: string;
    if (typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v))) json = JSON.stringify(v);
    else if (Array.isArray(v) && v.every((x) => typeof x === 'string')) json = '[' + v.map((x) => JSON.stringify(x)).join(',') + ']';
    else return canonicalJson({ model, provider, input, take });
    body += (body === '' ? '' : ',') + `"${k}":${json}`;
  }
  if (known !== Object.keys(input).length || !Number.isFinite(take)) return canonicalJson({ model, provider, input, take });
  return `{"input":{${body}},"model":${JSON.stringify(model)},"provider":${JSON.stringify(provider)},"take":${JSON.stringify(take)}}`;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
