/**
 * The task key: what makes a re-run recognise done work. It must depend on the content
 * of a task only — never on key order in the file, on the file's name or on the row's
 * position — and change whenever anything that would change the paid video changes.
 */
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
  return createHash('sha256').update(canonicalJson({ model, provider, input, take }), 'utf8').digest('hex').slice(0, 24);
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
