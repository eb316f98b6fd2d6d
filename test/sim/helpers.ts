/** Shared by the simulator tests: start one per test, speak to it over real HTTP. */
import type { TestContext } from 'node:test';
import { request } from 'undici';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/sim/index.js';

export const MODEL = 'kling-2-5-turbo-pro';
export const KEY = 'sk-test-key-0001';
export const GENERATE = `/api/v1/generateTask/${MODEL}`;
export const STATUS = `/api/v1/statusTask/${MODEL}`;

export async function sim(t: TestContext, opts: SimulatorOptions = {}): Promise<Simulator> {
  const s = await startSimulator({ timeScale: 0.005, seed: 7, ...opts });
  t.after(() => s.close());
  return s;
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** Parsed body when it was JSON, else undefined. */
  json: any;
  body: Buffer;
}

export async function call(
  s: Simulator,
  method: 'GET' | 'POST' | 'HEAD' | 'PUT',
  path: string,
  opts: { key?: string | null; body?: unknown; raw?: string; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...opts.headers };
  const key = opts.key === undefined ? KEY : opts.key;
  if (key !== null) headers.authorization = `Bearer ${key}`;
  let body: string | undefined = opts.raw;
  if (opts.body !== undefined) body = JSON.stringify(opts.body);
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await request(s.url + path, { method, headers, ...(body !== undefined ? { body } : {}) });
  const buf = Buffer.from(await res.body.arrayBuffer());
  const text = buf.toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, headers: res.headers, text, json, body: buf };
}

export function t2v(input: Record<string, unknown> = {}): Record<string, unknown> {
  return { request_type: 'async', input: { mode: 'text-to-video', prompt: 'a cinematic drone shot over snowy mountains', ...input } };
}

export function i2v(input: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    input: { mode: 'image-to-video', prompt: 'smooth transition', image_urls: ['https://example.com/head.jpg'], ...input },
  };
}

export async function submit(s: Simulator, body: unknown = t2v(), key: string = KEY): Promise<string> {
  const r = await call(s, 'POST', GENERATE, { body, key });
  if (r.status !== 200) throw new Error(`submit answered ${r.status}: ${r.text}`);
  return r.json.data.taskId as string;
}

export async function status(s: Simulator, taskId: string, key: string = KEY): Promise<Reply> {
  return call(s, 'GET', `${STATUS}?taskId=${encodeURIComponent(taskId)}`, { key });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls until `done` holds, failing after a generous deadline (the machine may be loaded). */
export async function until<T>(what: string, probe: () => Promise<T>, done: (v: T) => boolean, deadlineMs = 15_000, everyMs = 20): Promise<T> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const v = await probe();
    if (done(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(v)}`);
    await sleep(everyMs);
  }
}

export async function finished(s: Simulator, taskId: string, key: string = KEY): Promise<any> {
  const r = await until(`task ${taskId} to finish`, () => status(s, taskId, key), (r) => r.json?.data?.state === 'success' || r.json?.data?.state === 'failed');
  return r.json.data;
}
