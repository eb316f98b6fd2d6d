import { createHash, type Hash } from 'node:crypto';
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Agent, request } from 'undici';
import { DownloadError, ERROR_CODES } from '../core/errors.js';
import { parseRetryAfter } from '../api/retryAfter.js';
import { verifyMp4File, type Mp4Info } from './verify.js';

export interface DownloadedFile {
  bytes: number;
  sha256: string;
  media: Mp4Info;
  /** Range requests that continued the body after a cut. */
  resumes: number;
}

export interface DownloadOptions {
  dispatcher?: Agent;
  signal?: AbortSignal;
  /** Range requests allowed after cuts, in one call. @default 5 */
  maxResumes?: number;
  /** Clock for Retry-After dates. @default Date.now */
  now?: () => number;
}

/**
 * A failed result download, with what the retry decision needs: the HTTP status (0 when
 * there was no answer), the server's Retry-After, and the network error's code (e.g.
 * ECONNREFUSED: the URL leads nowhere, perhaps a host that moved).
 */
export class ResultDownloadError extends DownloadError {
  readonly retryAfterMs: number | undefined;
  readonly networkCode: string | undefined;
  constructor(message: string, fields: { url: string; status?: number; retryAfterMs?: number; networkCode?: string; cause?: unknown }) {
    super(ERROR_CODES.DOWNLOAD, message, fields);
    this.retryAfterMs = fields.retryAfterMs;
    this.networkCode = fields.networkCode;
  }
}

/**
 * Result hosts are not the API origin (r2.apixo.ai on the real service), so downloads get
 * their own dispatcher: a slow download never holds a connection the API pool needs.
 */
export function createDownloadAgent(): Agent {
  return new Agent({ connections: 16, headersTimeout: 30_000, bodyTimeout: 60_000, connectTimeout: 10_000 });
}

/** What we know of the body being written. */
interface Progress {
  fh: FileHandle;
  hash: Hash;
  have: number;
  /** The whole file's length, from Content-Length or Content-Range. */
  total: number | undefined;
  /** A strong ETag or Last-Modified, for If-Range: a resumed body must be of the same file. */
  validator: string | undefined;
}

function networkCodeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  const inner = (err as { errors?: unknown[] } | null)?.errors;
  return Array.isArray(inner) ? networkCodeOf(inner[0]) : undefined;
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** `bytes START-END/TOTAL` → its numbers; anything else → undefined. */
function contentRange(value: string | undefined): { start: number; total: number | undefined } | undefined {
  const m = /^\s*bytes\s+(\d+)-(\d+)\/(\d+|\*)\s*$/i.exec(value ?? '');
  if (!m) return undefined;
  return { start: Number(m[1]), total: m[3] === '*' ? undefined : Number(m[3]) };
}

/**
 * Stream `url` to `<dest>.part`, hashing as it goes. A body cut off part-way is continued
 * with `Range: bytes=N-` (and `If-Range`, so the rest comes from the same file); a server
 * that answers the Range with the whole file starts it over. Then: the size must match
 * Content-Length, the file is fsync'd, verified as a complete MP4, and only then renamed
 * to `dest`. On any failure the `.part` is removed, so `dest` is complete and verified or
 * absent.
 */
export async function downloadVerified(url: string, dest: string, options: DownloadOptions = {}): Promise<DownloadedFile> {
  const part = `${dest}.part`;
  const maxResumes = options.maxResumes ?? 5;
  await mkdir(dirname(dest), { recursive: true });
  let fh: FileHandle | undefined;
  try {
    fh = await open(part, 'w');
    const p: Progress = { fh, hash: createHash('sha256'), have: 0, total: undefined, validator: undefined };
    let resumes = 0;
    for (;;) {
      const cut = await fetchInto(url, p, options);
      if (cut === undefined) break;
      if (resumes >= maxResumes) throw cut;
      resumes++;
    }
    await fh.sync();
    await fh.close();
    fh = undefined;
    if (p.total !== undefined && p.have !== p.total) {
      throw new ResultDownloadError(`GET ${url}: received ${p.have} bytes of the ${p.total} announced`, { url, status: 200 });
    }
    const media = await verifyMp4File(part);
    await rename(part, dest);
    return { bytes: p.have, sha256: p.hash.digest('hex'), media, resumes };
  } catch (err) {
    await fh?.close().catch(() => {});
    await rm(part, { force: true });
    if (err instanceof DownloadError || (err as Error).name === 'AbortError') throw err;
    throw new ResultDownloadError(`GET ${url} failed: ${(err as Error).message}`, { url, networkCode: networkCodeOf(err), cause: err });
  }
}

/**
 * One request: the whole file, or the rest of it after `p.have` bytes. Resolves undefined
 * when the body arrived to its end, or to the error that cut it (to resume); throws when
 * there is nothing to resume (no answer, an error status).
 */
const WRITE_BLOCK_BYTES = 1 << 20;

async function fetchInto(url: string, p: Progress, options: DownloadOptions): Promise<ResultDownloadError | undefined> {
  const headers: Record<string, string> = {};
  if (p.have > 0) {
    headers.range = `bytes=${p.have}-`;
    if (p.validator) headers['if-range'] = p.validator;
  }
  let res: Awaited<ReturnType<typeof request>>;
  try {
    res = await request(url, { method: 'GET', headers, dispatcher: options.dispatcher, signal: options.signal, maxRedirections: 0 } as Parameters<typeof request>[1]);
  } catch (err) {
    if ((err as Error).name === 'AbortError' || options.signal?.aborted) throw err;
    throw new ResultDownloadError(`GET ${url} failed: ${(err as Error).message}`, { url, networkCode: networkCodeOf(err), cause: err });
  }
  const resumed = p.have > 0 && res.statusCode === 206;
  if (res.statusCode !== 200 && !resumed) {
    await res.body.dump().catch(() => {});
    const retryAfterMs = parseRetryAfter(res.headers['retry-after'], (options.now ?? Date.now)());
    throw new ResultDownloadError(`GET ${url} answered ${res.statusCode}`, { url, status: res.statusCode, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) });
  }
  if (resumed) {
    const range = contentRange(header(res.headers, 'content-range'));
    if (!range || range.start !== p.have || (p.total !== undefined && range.total !== undefined && range.total !== p.total)) {
      await res.body.dump().catch(() => {});
      throw new ResultDownloadError(`GET ${url}: the resumed answer is not the rest of the same file (Content-Range ${header(res.headers, 'content-range') ?? 'missing'})`, { url, status: 206 });
    }
    p.total ??= range.total;
  } else {
    // A first answer, or a server that ignored our Range (or If-Range did not match): start over.
    if (p.have > 0) {
      await p.fh.truncate(0);
      p.hash = createHash('sha256');
      p.have = 0;
    }
    const length = Number(header(res.headers, 'content-length'));
    p.total = Number.isSafeInteger(length) && length >= 0 ? length : undefined;
    const etag = header(res.headers, 'etag');
    p.validator = etag && !etag.startsWith('W/') ? etag : header(res.headers, 'last-modified');
  }
  // Chunks arrive at 16–64 KiB; writing each one is a thread-pool round trip, so they are
  // gathered and written in blocks. `have` counts only bytes on disk, and whatever was
  // gathered is written before a cut is reported, so a resume starts exactly there.
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const flush = async (): Promise<void> => {
    if (pendingBytes === 0) return;
    const block = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    await p.fh.write(block, 0, block.length, p.have);
    p.have += block.length;
  };
  try {
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      p.hash.update(chunk);
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes >= WRITE_BLOCK_BYTES) await flush();
    }
    await flush();
  } catch (err) {
    await flush();
    if ((err as Error).name === 'AbortError' || options.signal?.aborted) throw err;
    return new ResultDownloadError(`GET ${url}: the body was cut off after ${p.have} bytes: ${(err as Error).message}`, { url, status: res.statusCode, networkCode: networkCodeOf(err), cause: err });
  }
  // A body that ended cleanly but short (a proxy that closed early without an error) is a cut too.
  if (p.total !== undefined && p.have < p.total) {
    return new ResultDownloadError(`GET ${url}: the body ended after ${p.have} of ${p.total} bytes`, { url, status: res.statusCode });
  }
  return undefined;
}
