/**
 * The built-in callback receiver for `request_type: callback`.
 *
 * apixo POSTs to `callback_url` when a task completes, expects an answer within 30 s and
 * retries 3 times. A callback is only a hint: the receiver takes nothing from the body
 * but the taskId, answers 200 at once, and hands the taskId to the run loop, which
 * verifies it with one status GET before recording anything. So a forged, duplicated,
 * late or out-of-order callback can cost at most one GET, never a wrong state.
 *
 * Only POSTs whose last path segment is the secret (compared in constant time) are
 * accepted; bodies are capped; slow senders are cut off.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { secretMatches } from './secret.js';

export type RejectReason = 'path' | 'method' | 'too-large' | 'body';

export interface CallbackReceiverOptions {
  /** @default '127.0.0.1' */
  host?: string;
  /** 0 picks a free port. */
  port: number;
  /** The secret path segment (see callbackSecret). */
  secret: string;
  /** Bodies above this are refused with 413. @default 64 KiB (a status answer is a few hundred bytes) */
  maxBodyBytes?: number;
  /** Called once per accepted callback, after the answer was sent. */
  onHint: (taskId: string) => void;
  onRejected?: (reason: RejectReason) => void;
}

export interface ReceiverStats {
  accepted: number;
  rejected: Record<RejectReason, number>;
}

export interface CallbackReceiver {
  /** Where it listens, e.g. `http://127.0.0.1:43123` (no secret: safe to print). */
  readonly origin: string;
  stats(): ReceiverStats;
  close(): Promise<void>;
}

export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

export async function startCallbackReceiver(o: CallbackReceiverOptions): Promise<CallbackReceiver> {
  const max = o.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const stats: ReceiverStats = { accepted: 0, rejected: { path: 0, method: 0, 'too-large': 0, body: 0 } };

  const reject = (res: ServerResponse, status: number, reason: RejectReason): void => {
    stats.rejected[reason]++;
    o.onRejected?.(reason);
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', connection: status === 413 ? 'close' : 'keep-alive' });
    res.end(`${status}\n`);
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const last = path.slice(path.lastIndexOf('/') + 1);
    if (!secretMatches(last, o.secret)) {
      // Not even the method is revealed to a caller without the secret.
      req.resume();
      return reject(res, 404, 'path');
    }
    if (req.method !== 'POST') {
      req.resume();
      return reject(res, 405, 'method');
    }
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > max) {
      reject(res, 413, 'too-large');
      req.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        if (!over) {
          over = true;
          reject(res, 413, 'too-large');
          req.destroy();
        }
        return;
      }
      chunks.push(c);
    });
    req.on('error', () => {});
    req.on('end', () => {
      if (over) return;
      const taskId = taskIdOf(Buffer.concat(chunks, size).toString('utf8'));
      if (taskId === undefined) return reject(res, 400, 'body');
      stats.accepted++;
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('ok\n');
      // The answer goes first: the provider must not wait on our status GET.
      setImmediate(() => o.onHint(taskId));
    });
  };

  const server = createServer({ requestTimeout: 10_000, headersTimeout: 5_000, keepAliveTimeout: 5_000 }, handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const a = server.address() as AddressInfo;
  const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  let closing: Promise<void> | undefined;
  return {
    origin: `http://${host}:${a.port}`,
    stats: () => ({ accepted: stats.accepted, rejected: { ...stats.rejected } }),
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

/**
 * The taskId of the documented status envelope `{code, message, data: {taskId, …}}`;
 * a bare `{taskId}` is accepted too. Nothing else in the body is trusted or used.
 */
export function taskIdOf(text: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const p = parsed as Record<string, unknown>;
  const data = typeof p['data'] === 'object' && p['data'] !== null ? (p['data'] as Record<string, unknown>) : p;
  const id = data['taskId'];
  return typeof id === 'string' && id !== '' && id.length <= 200 ? id : undefined;
}
