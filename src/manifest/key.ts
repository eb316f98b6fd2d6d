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

/** JSON of the last value seen in one place: a sheet's negative prompt, the model or the mode recur task after task. */
class JsonOfLast {
  #value: unknown = undefined;
  #json = '';
  of(value: string | number): string {
    if (value !== this.#value) {
      this.#json = JSON.stringify(value);
      this.#value = value;
    }
    return this.#json;
  }
}

/** `"name":<JSON>,` for the last value seen in one place: an aspect ratio or a cfg_scale recurs task after task. */
class PieceOfLast {
  readonly #name: string;
  #value: unknown = undefined;
  #piece = '';
  constructor(name: string) {
    this.#name = name;
  }
  of(value: string | number): string {
    if (value !== this.#value) {
      this.#piece = `"${this.#name}":${JSON.stringify(value)},`;
      this.#value = value;
    }
    return this.#piece;
  }
}

const aspectPiece = new PieceOfLast('aspect_ratio');
const cfgPiece = new PieceOfLast('cfg_scale');
const json = { mode: new JsonOfLast(), negative: new JsonOfLast(), prompt: new JsonOfLast(), model: new JsonOfLast(), provider: new JsonOfLast() };
/** `"duration":5,` — durations alternate within a row (5, 10, 5, 10): one piece per value. */
const durationPieces = new Map<number, string>();

/**
 * From `"mode":` to `"take":`, for the last mode, negative prompt, prompt, model and
 * provider: the same for every variation of a row that only its axes tell apart.
 */
const tail = { made: false, mode: '', negative: undefined as string | undefined, prompt: '', model: '', provider: '', text: '', inputEnd: 0 };

/**
 * taskKey for an input made by the manifest stage itself (emit.ts): own fields of their
 * schema's types only. Same bytes as taskJson: the fields sorted, a comma after each but
 * the last (`"mode"` and `"prompt"` are always there), built from pieces kept from the
 * task before when unchanged. Anything unexpected takes the general path.
 *
 * `written.inputJson` is set to the input's JSON (fields sorted), which the text hashed
 * contains anyway, so that the store need not write it again; left undefined on the
 * general path.
 */
export function knownTaskKey(model: string, provider: Provider, input: VideoInput, take: number, written?: { inputJson?: string }): string {
  if (written) written.inputJson = undefined;
  const { aspect_ratio, cfg_scale, duration, image_urls, mode, negative_prompt, prompt } = input;
  if (
    typeof mode !== 'string' ||
    typeof prompt !== 'string' ||
    !(aspect_ratio === undefined || typeof aspect_ratio === 'string') ||
    !(negative_prompt === undefined || typeof negative_prompt === 'string') ||
    !(cfg_scale === undefined || (typeof cfg_scale === 'number' && Number.isFinite(cfg_scale))) ||
    !(duration === undefined || (typeof duration === 'number' && Number.isFinite(duration))) ||
    !(image_urls === undefined || (Array.isArray(image_urls) && image_urls.every((u) => typeof u === 'string'))) ||
    !Number.isFinite(take) ||
    typeof model !== 'string' ||
    typeof provider !== 'string'
  ) {
    return taskKey(model, provider, input, take);
  }
  let text = '{"input":{';
  if (aspect_ratio !== undefined) text += aspectPiece.of(aspect_ratio);
  if (cfg_scale !== undefined) text += cfgPiece.of(cfg_scale);
  if (duration !== undefined) {
    let piece = durationPieces.get(duration);
    if (piece === undefined) {
      piece = '"duration":' + JSON.stringify(duration) + ',';
      if (durationPieces.size < 64) durationPieces.set(duration, piece);
    }
    text += piece;
  }
  if (image_urls !== undefined) text += '"image_urls":[' + image_urls.map((u) => JSON.stringify(u)).join(',') + '],';
  if (!tail.made || tail.mode !== mode || tail.negative !== negative_prompt || tail.prompt !== prompt || tail.model !== model || tail.provider !== provider) {
    const inputRest =
      '"mode":' +
      json.mode.of(mode) +
      (negative_prompt === undefined ? '' : ',"negative_prompt":' + json.negative.of(negative_prompt)) +
      ',"prompt":' +
      json.prompt.of(prompt) +
      '}';
    tail.text = inputRest + ',"model":' + json.model.of(model) + ',"provider":' + json.provider.of(provider) + ',"take":';
    tail.inputEnd = inputRest.length;
    tail.made = true;
    tail.mode = mode;
    tail.negative = negative_prompt;
    tail.prompt = prompt;
    tail.model = model;
    tail.provider = provider;
  }
  const inputEnd = text.length + tail.inputEnd;
  text += tail.text + (take === 1 ? '1}' : JSON.stringify(take) + '}');
  const key = (oneShot ? oneShot('sha256', text, 'hex') : createHash('sha256').update(text, 'utf8').digest('hex')).slice(0, 24);
  // The input's own JSON is inside the text hashed, its fields sorted: `{"input":` + it + `,"model":…`.
  if (written) written.inputJson = text.slice(9, inputEnd);
  return key;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
