/** Shared by the run-loop tests: a fault-injecting proxy in front of the simulator, and a callback relay. */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import type { Store } from '../../src/store/index.js';

interface Closable {
  after: (fn: () => Promise<void> | void) => void;
}

async function serve(t: Closable, handler: (req: IncomingMessage, body: Buffer, res: ServerResponse) => void): Promise<string> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handler(req, Buffer.concat(chunks), res));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export interface ProxyLog {
  at: number;
  method: string;
  path: string;
  status: number;
}

/**
 * Forwards every API request to `target`, unless `intercept` answers it first (a 429
 * with Retry-After, say). Result URLs in the answers still point at the simulator.
 */
export async function faultProxy(
  t: Closable,
  target: string,
  intercept: (req: { method: string; path: string; n: number }) => { status: number; headers?: Record<string, string>; body: string } | undefined,
): Promise<{ url: string; log: ProxyLog[] }> {
  const log: ProxyLog[] = [];
  let n = 0;
  const url = await serve(t, (req, body, res) => {
    const path = req.url ?? '/';
    const method = req.method ?? 'GET';
    const fake = intercept({ method, path, n: n++ });
    if (fake) {
      log.push({ at: Date.now(), method, path, status: fake.status });
      res.writeHead(fake.status, { 'content-type': 'application/json', ...fake.headers }).end(fake.body);
      return;
    }
    const headers: Record<string, string> = {};
    for (const h of ['authorization', 'content-type', 'accept']) if (typeof req.headers[h] === 'string') headers[h] = req.headers[h] as string;
    request(target + path, { method: method as 'GET', headers, ...(body.length ? { body } : {}) }).then(
      async (up) => {
        const text = await up.body.text();
        log.push({ at: Date.now(), method, path, status: up.statusCode });
        const out: Record<string, string> = { 'content-type': 'application/json' };
        if (typeof up.headers['retry-after'] === 'string') out['retry-after'] = up.headers['retry-after'];
        res.writeHead(up.statusCode, out).end(text);
      },
      () => res.destroy(),
    );
  });
  return { url, log };
}

export const rateLimited = { status: 429, headers: { 'retry-after': '1' }, body: JSON.stringify({ code: 429, message: 'Rate limit exceeded', data: null }) };

/**
 * Where the simulator sends callbacks. Answers 200 at once, then decides per callback:
 * `deliver` returns the delays (ms) after which copies go on to the receiver — [] loses
 * it, [0, 0] duplicates it, [500] makes it late.
 */
export async function callbackRelay(t: Closable, deliver: (n: number, taskId: string) => number[]): Promise<{ url: string; setTarget: (origin: string) => void; seen: string[] }> {
  let target = '';
  let n = 0;
  const seen: string[] = [];
  const url = await serve(t, (req, body, res) => {
    res.writeHead(200).end('ok');
    const taskId = String((JSON.parse(body.toString('utf8')) as { data?: { taskId?: string } }).data?.taskId);
    seen.push(taskId);
    for (const delay of deliver(n++, taskId)) {
      setTimeout(() => {
        request(target + (req.url ?? '/'), { method: 'POST', body, headers: { 'content-type': 'application/json' } }).then((r) => r.body.dump(), () => {});
      }, delay);
    }
  });
  return { url: `${url}/hooks`, setTarget: (o) => (target = o), seen };
}

/** Each task went submitted → succeeded once, never before the provider's completeTime. */
export function detectedOnceAfterCompletion(store: Store, run: string): void {
  for (const row of store.listTasks(run)) {
    const log = store.transitionLog(run, row.key);
    const succeeded = log.filter((l) => l.to === 'succeeded');
    if (succeeded.length !== 1) throw new Error(`${row.key}: ${succeeded.length} succeeded transitions`);
    if (row.completeTime === null || succeeded[0]!.at < row.completeTime) throw new Error(`${row.key}: recorded succeeded at ${succeeded[0]!.at} before completeTime ${row.completeTime}`);
  }
}
