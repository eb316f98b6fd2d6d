/**
 * Validation of POST /api/v1/generateTask bodies, as strict as the documentation allows.
 * Strictness is the point: a client bug (a misspelt key, a string "5" for a number) must
 * fail in rehearsal, not on the night. The first problem is reported, naming the field
 * by its dotted path, in the 400 envelope's `message`.
 *
 * Where the documentation is silent:
 * - unknown keys are refused at the top level as well as inside `input`;
 * - `null` is a wrong type, never "absent";
 * - `duration` must be the number 5 or 10 (not the string "5");
 * - lengths are counted in Unicode code points;
 * - `callback_url`, when sent with request_type async, must still be a valid URL (and is ignored).
 */
import {
  ASPECT_RATIOS,
  DURATIONS,
  MODES,
  PROVIDERS,
  REQUEST_TYPES,
  type AspectRatio,
  type Duration,
  type GenerateRequest,
  type Mode,
  type Provider,
  type RequestType,
  type VideoInput,
} from '../core/types.js';

export const MAX_PROMPT_CHARS = 2500;
export const MAX_IMAGE_URLS = 2;

const TOP_KEYS = ['request_type', 'callback_url', 'provider', 'input'] as const;
const INPUT_KEYS = ['mode', 'prompt', 'duration', 'aspect_ratio', 'image_urls', 'negative_prompt', 'cfg_scale'] as const;

/** The request with the documented defaults filled in; what a task is made from. */
export interface ResolvedRequest extends GenerateRequest {
  input: VideoInput & { duration: Duration; aspect_ratio: AspectRatio };
}

export type Validation = { ok: true; request: ResolvedRequest } | { ok: false; message: string };

class Invalid extends Error {}

function show(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  const text = typeof value === 'string' ? JSON.stringify(value.length > 60 ? value.slice(0, 57) + '...' : value) : String(value);
  return `${text} (${typeof value})`;
}

function fail(field: string, expected: string, value: unknown): never {
  throw new Invalid(`Invalid ${field}: expected ${expected}, got ${show(value)}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function oneOf<T extends string | number>(field: string, allowed: readonly T[], value: unknown): T {
  if (!(allowed as readonly unknown[]).includes(value)) fail(field, `one of ${allowed.join(', ')}`, value);
  return value as T;
}

export function isHttpUrl(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  try {
    const u = new URL(value);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    return false;
  }
}

function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

function checkKeys(where: string, obj: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) {
      throw new Invalid(`Unknown field ${where}${key}; supported fields are: ${allowed.join(', ')}`);
    }
  }
}

function text(field: string, value: unknown, allowEmpty: boolean): string {
  if (typeof value !== 'string') fail(field, 'a string', value);
  if (!allowEmpty && value.trim() === '') throw new Invalid(`Invalid ${field}: must not be empty`);
  const n = codePoints(value);
  if (n > MAX_PROMPT_CHARS) throw new Invalid(`Invalid ${field}: at most ${MAX_PROMPT_CHARS} characters, got ${n}`);
  return value;
}

function validateInput(value: unknown): ResolvedRequest['input'] {
  if (value === undefined) throw new Invalid('Missing required field input');
  if (!isRecord(value)) fail('input', 'an object', value);
  checkKeys('input.', value, INPUT_KEYS);
  if (value.mode === undefined) throw new Invalid(`Missing required field input.mode (one of ${MODES.join(', ')})`);
  const mode = oneOf<Mode>('input.mode', MODES, value.mode);
  if (value.prompt === undefined) throw new Invalid('Missing required field input.prompt');
  const prompt = text('input.prompt', value.prompt, false);
  const duration = value.duration === undefined ? 5 : oneOf<Duration>('input.duration', DURATIONS, value.duration);
  const aspect = value.aspect_ratio === undefined ? '16:9' : oneOf<AspectRatio>('input.aspect_ratio', ASPECT_RATIOS, value.aspect_ratio);
  const out: ResolvedRequest['input'] = { mode, prompt, duration, aspect_ratio: aspect };
  if (value.cfg_scale !== undefined) {
    const c = value.cfg_scale;
    if (typeof c !== 'number' || !Number.isFinite(c) || c < 0 || c > 1) fail('input.cfg_scale', 'a number from 0 to 1', c);
    out.cfg_scale = c;
  }
  if (value.negative_prompt !== undefined) out.negative_prompt = text('input.negative_prompt', value.negative_prompt, true);
  const urls = value.image_urls;
  if (mode === 'text-to-video') {
    if (urls !== undefined) throw new Invalid('Invalid input.image_urls: not allowed when input.mode is text-to-video');
  } else {
    if (urls === undefined) throw new Invalid('Missing required field input.image_urls (1 to 2 image URLs) for input.mode image-to-video');
    if (!Array.isArray(urls)) fail('input.image_urls', 'an array of 1 to 2 URLs', urls);
    if (urls.length < 1 || urls.length > MAX_IMAGE_URLS) {
      throw new Invalid(`Invalid input.image_urls: expected 1 to ${MAX_IMAGE_URLS} URLs, got ${urls.length}`);
    }
    urls.forEach((u, i) => {
      if (!isHttpUrl(u)) fail(`input.image_urls[${i}]`, 'an http or https URL', u);
    });
    out.image_urls = urls as string[];
  }
  return out;
}

/** Validates a parsed JSON body. */
export function validateGenerateRequest(body: unknown): Validation {
  try {
    if (!isRecord(body)) fail('request body', 'a JSON object', body);
    checkKeys('', body, TOP_KEYS);
    const requestType = body.request_type === undefined ? 'async' : oneOf<RequestType>('request_type', REQUEST_TYPES, body.request_type);
    const provider = body.provider === undefined ? 'auto' : oneOf<Provider>('provider', PROVIDERS, body.provider);
    const cb = body.callback_url;
    if (cb !== undefined && !isHttpUrl(cb)) fail('callback_url', 'an http or https URL', cb);
    if (requestType === 'callback' && cb === undefined) throw new Invalid('Missing required field callback_url (required when request_type is callback)');
    const input = validateInput(body.input);
    const request: ResolvedRequest = { request_type: requestType, provider, input };
    if (requestType === 'callback') request.callback_url = cb as string;
    return { ok: true, request };
  } catch (e) {
    if (e instanceof Invalid) return { ok: false, message: e.message };
    throw e;
  }
}

/** JSON with object keys sorted at every level: equal inputs give equal strings. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return '[' + value.map((v) => canonicalJson(v)).join(',') + ']';
  if (isRecord(value)) {
    const keys = Object.keys(value).filter((k) => value[k] !== undefined).sort();
    return '{' + keys.map((k) => JSON.stringify(k) + ':' + canonicalJson(value[k])).join(',') + '}';
  }
  return JSON.stringify(value) ?? 'null';
}
