import { Agent, request } from 'undici';
import { DownloadError, ERROR_CODES } from '../core/errors.js';
import { parseRetryAfter } from '../api/retryAfter.js';
import { PartFile } from './disk.js';
import { Mp4Verifier, type Mp4Info } from './verify.js';

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
  /** The `.part`, written (and hashed) by a disk worker. */
  file: PartFile;
  /** Fed the same bytes as the file, in file order: the MP4 is checked without reading it back. */
  verifier: Mp4Verifier;
  /** Bytes of the file received so far, in order (a resume asks for the rest from here). */
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
 * Content-Length, the bytes must be a complete MP4 (checked as they stream past, see
 * Mp4Verifier), the file is fsync'd, and only then renamed to `dest`. On any failure the
 * `.part` is removed, so `dest` is complete and verified or absent.
 *
 * The file work (write, sha256, fsync, close, rename) runs in a disk worker (disk.ts);
 * the main thread only receives the body and checks the MP4 structure.
 */
export async function downloadVerified(url: string, dest: string, options: DownloadOptions = {}): Promise<DownloadedFile> {
  const part = `${dest}.part`;
  const maxResumes = options.maxResumes ?? 5;
  // Nothing is on disk until there is a block to write (see PartFile).
  const file = new PartFile(part);
  try {
    const p: Progress = { file, verifier: new Mp4Verifier(), have: 0, total: undefined, validator: undefined };
    let resumes = 0;
    for (;;) {
      const cut = await fetchInto(url, p, options);
      if (cut === undefined) break;
      if (resumes >= maxResumes) throw cut;
      resumes++;
    }
    const bytes = p.have;
    if (p.total !== undefined && bytes !== p.total) {
      throw new ResultDownloadError(`GET ${url}: received ${bytes} bytes of the ${p.total} announced`, { url, status: 200 });
    }
    // The verdict on exactly the bytes written (and hashed), all of them seen on their way in.
    const media = p.verifier.finish(part, bytes);
    // The last block, then fsync, close and rename: one request to the disk worker.
    const sha256 = await file.commit(dest, bytes);
    return { bytes, sha256, media, resumes };
  } catch (err) {
    await file.abort();
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
      await p.file.truncate();
      p.verifier = new Mp4Verifier();
      p.have = 0;
    }
    const length = Number(header(res.headers, 'content-length'));
    p.total = Number.isSafeInteger(length) && length >= 0 ? length : undefined;
    const etag = header(res.headers, 'etag');
    p.validator = etag && !etag.startsWith('W/') ? etag : header(res.headers, 'last-modified');
  }
  // Chunks arrive at 16–64 KiB; each is copied at once into a block that goes to the disk
  // worker when it holds WRITE_BLOCK_BYTES (a file smaller than that goes over once, with
  // its commit). A cut loses nothing: what was received stays in the block, and the resume
  // asks for what follows.
  try {
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      p.verifier.push(chunk, p.have);
      p.have += chunk.length;
      const wait = p.file.append(chunk, WRITE_BLOCK_BYTES);
      if (wait) await wait;
    }
  } catch (err) {
    if ((err as Error).name === 'AbortError' || options.signal?.aborted) throw err;
    return new ResultDownloadError(`GET ${url}: the body was cut off after ${p.have} bytes: ${(err as Error).message}`, { url, status: res.statusCode, networkCode: networkCodeOf(err), cause: err });
  }
  // A body that ended cleanly but short (a proxy that closed early without an error) is a cut too.
  if (p.total !== undefined && p.have < p.total) {
    return new ResultDownloadError(`GET ${url}: the body ended after ${p.have} of ${p.total} bytes`, { url, status: res.statusCode });
  }
  return undefined;
}
