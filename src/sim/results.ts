/**
 * GET/HEAD /results/<taskId>.mp4: the result files. On the real service these live on
 * another host (r2.apixo.ai), so they need no API key, do not count toward the rate
 * limit, and answer in plain text rather than the API's JSON envelope:
 * 404 for an unknown, unfinished or failed task, 410 once `resultTtlMs` has passed since
 * completeTime or once the URL's own `expires` has passed (the expiredUrl fault), 416 for an
 * unsatisfiable Range.
 *
 * The bytes are rebuilt on each request from the synthesizer's per-(duration, aspect,
 * hue) cache plus a trailer naming the task, so 100k tasks cost no memory; a small LRU
 * keeps the last few files for clients that resume with Range requests.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { synthesizeMp4, withTrailer } from './video/synthesize.js';
import type { SimTask } from './tasks.js';

export type RangeResult =
  | { kind: 'full' }
  | { kind: 'partial'; start: number; end: number }
  | { kind: 'unsatisfiable' };

/**
 * One `bytes=` range (RFC 9110 §14.1.2). A header we cannot use (several ranges, another
 * unit, bad syntax) is ignored and the whole file is served, as the RFC allows.
 */
export function parseRange(header: string | undefined, size: number): RangeResult {
  if (header === undefined) return { kind: 'full' };
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m) return { kind: 'full' };
  const [, a = '', b = ''] = m;
  if (a === '' && b === '') return { kind: 'full' };
  if (a === '') {
    const n = Number(b);
    if (n === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(a);
  if (b !== '' && Number(b) < start) return { kind: 'full' };
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'partial', start, end: b === '' ? size - 1 : Math.min(Number(b), size - 1) };
}

/** A stable number per task that picks the video's hue, so neighbouring takes look different. */
export function variantOf(taskId: string): number {
  const n = Number.parseInt(taskId.slice(5, 13), 16);
  return Number.isFinite(n) ? n : 0;
}

const LRU_SIZE = 8;

export class ResultFiles {
  readonly #recent = new Map<string, Buffer>();

  bytes(task: SimTask): Buffer {
    const hit = this.#recent.get(task.taskId);
    if (hit) {
      // Re-insert to mark it most recently used.
      this.#recent.delete(task.taskId);
      this.#recent.set(task.taskId, hit);
      return hit;
    }
    const mp4 = withTrailer(synthesizeMp4({ durationSec: task.durationSec, aspectRatio: task.aspectRatio, variant: variantOf(task.taskId) }), task.taskId);
    this.#recent.set(task.taskId, mp4);
    if (this.#recent.size > LRU_SIZE) {
      const oldest = this.#recent.keys().next().value;
      if (oldest !== undefined) this.#recent.delete(oldest);
    }
    return mp4;
  }
}

function plain(res: ServerResponse, status: number, text: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text), ...extra });
  res.end(text);
}

export interface ServeFaults {
  /** The `expires` of the URL that was asked for (ms), when it carries one. */
  urlExpiresAt?: number;
  /** Bytes of a body of this length to send before dropping the connection; undefined: all of it. */
  truncate?: (length: number) => number | undefined;
}

/** Answers a result request; returns true when file bytes were served (200/206). */
export function serveResult(
  req: IncomingMessage,
  res: ServerResponse,
  task: SimTask | undefined,
  now: number,
  ttlMs: number,
  files: ResultFiles,
  faults: ServeFaults = {},
): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    plain(res, 405, 'Method Not Allowed\n', { allow: 'GET, HEAD' });
    return false;
  }
  if (!task || now < task.completeTime || task.failure) {
    plain(res, 404, 'Not Found\n');
    return false;
  }
  if (now >= task.completeTime + ttlMs || (faults.urlExpiresAt !== undefined && now >= faults.urlExpiresAt)) {
    plain(res, 410, 'Gone: this result URL has expired\n');
    return false;
  }
  const body = files.bytes(task);
  const size = body.length;
  const headers: Record<string, string | number> = {
    'content-type': 'video/mp4',
    'accept-ranges': 'bytes',
    etag: `"${task.taskId}"`,
    'last-modified': new Date(task.completeTime).toUTCString(),
  };
  // A stale If-Range means the client's partial copy is of another file: send it all.
  const ifRange = req.headers['if-range'];
  const rangeHeader = ifRange === undefined || ifRange === headers.etag ? req.headers.range : undefined;
  const range = parseRange(rangeHeader, size);
  if (range.kind === 'unsatisfiable') {
    plain(res, 416, 'Range Not Satisfiable\n', { 'content-range': `bytes */${size}`, 'accept-ranges': 'bytes' });
    return false;
  }
  let slice = body;
  let status = 200;
  if (range.kind === 'partial') {
    status = 206;
    slice = body.subarray(range.start, range.end + 1);
    headers['content-range'] = `bytes ${range.start}-${range.end}/${size}`;
  }
  headers['content-length'] = slice.length;
  res.writeHead(status, headers);
  const cut = req.method === 'HEAD' ? undefined : faults.truncate?.(slice.length);
  if (cut !== undefined) {
    // The headers promised the whole length: the client sees the connection end early.
    res.write(slice.subarray(0, cut), () => res.destroy());
    return true;
  }
  res.end(req.method === 'HEAD' ? undefined : slice);
  return true;
}
