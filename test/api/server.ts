/**
 * A real HTTP server on 127.0.0.1:0 that each test scripts, plus a client pointed at it.
 * Deliberately independent of src/sim: these tests pin the client to the documentation.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';
import { strict as assert } from 'node:assert';
import { ApixoClient, type ApixoClientOptions } from '../../src/api/index.js';
import { ApiError, type ErrorCode } from '../../src/core/errors.js';
import type { GenerateRequest } from '../../src/core/types.js';

export const KEY = 'sk-test-4f9a8b7c6d5e4f3a2b1c';

export interface Recorded {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Called once the whole request body has been read. */
export type Handler = (req: Recorded, res: ServerResponse, raw: IncomingMessage) => void;

export interface Scripted {
  baseUrl: string;
  requests: Recorded[];
  client: ApixoClient;
}

export async function listen(handler: Handler): Promise<{ baseUrl: string; requests: Recorded[]; close: () => Promise<void> }> {
  const requests: Recorded[] = [];
  const server = createServer((raw, res) => {
    const chunks: Buffer[] = [];
    raw.on('data', (c: Buffer) => chunks.push(c));
    raw.on('end', () => {
      const rec = { method: raw.method ?? '', url: raw.url ?? '', headers: raw.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(rec);
      handler(rec, res, raw);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        // Tests leave stalled requests behind on purpose; do not wait for them.
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A server and a client for one test, both closed when the test ends. */
export async function scripted(t: TestContext, handler: Handler, opts: Partial<ApixoClientOptions> = {}): Promise<Scripted> {
  const server = await listen(handler);
  const client = new ApixoClient({ baseUrl: server.baseUrl, apiKey: KEY, ...opts });
  t.after(async () => {
    await server.close();
    await client.close();
  });
  return { baseUrl: server.baseUrl, requests: server.requests, client };
}

export function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const type = typeof body === 'string' ? 'text/html' : 'application/json';
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export const envelope = (code: number, message: string, data: unknown = null) => ({ code, message, data });

/** Asserts the promise rejects with an ApiError of `code` whose fields match `fields`; returns it. */
export async function rejectsWith(p: Promise<unknown>, code: ErrorCode, fields: Partial<Record<keyof ApiError, unknown>> = {}): Promise<ApiError> {
  let caught: unknown;
  try {
    await p;
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof ApiError, `expected an ApiError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  for (const [k, v] of Object.entries(fields)) assert.deepEqual(caught[k as keyof ApiError], v, `${k} of: ${caught.message}`);
  assert.ok(!caught.message.includes(KEY), 'the key leaked into the message');
  return caught;
}

export const REQUEST: GenerateRequest = {
  request_type: 'async',
  provider: 'auto',
  input: { mode: 'text-to-video', prompt: 'a cinematic drone shot over snowy mountains at sunrise', duration: 10, aspect_ratio: '16:9', cfg_scale: 0.6 },
};

export const MODEL = 'kling-2-5-turbo-pro';
