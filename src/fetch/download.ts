import { createHash } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Agent, request } from 'undici';
import { DownloadError, ERROR_CODES } from '../core/errors.js';
import { verifyMp4File, type Mp4Info } from './verify.js';

export interface DownloadedFile {
  bytes: number;
  sha256: string;
  media: Mp4Info;
}

/**
 * Result hosts are not the API origin (r2.apixo.ai on the real service), so downloads get
 * their own dispatcher: a slow download never holds a connection the API pool needs.
 */
export function createDownloadAgent(): Agent {
  return new Agent({ connections: 16, headersTimeout: 30_000, bodyTimeout: 60_000, connectTimeout: 10_000 });
}

/**
 * Stream `url` to `<dest>.part`, hashing as it goes; check the size against Content-Length;
 * fsync; verify it is a complete MP4; only then rename to `dest`. On any failure the
 * `.part` is removed, so `dest` is either complete and verified or absent.
 */
export async function downloadVerified(url: string, dest: string, options: { dispatcher?: Agent; signal?: AbortSignal } = {}): Promise<DownloadedFile> {
  const part = `${dest}.part`;
  await mkdir(dirname(dest), { recursive: true });
  try {
    const res = await request(url, { method: 'GET', dispatcher: options.dispatcher, signal: options.signal, maxRedirections: 0 } as Parameters<typeof request>[1]);
    if (res.statusCode !== 200) {
      await res.body.dump();
      throw new DownloadError(ERROR_CODES.DOWNLOAD, `GET ${url} answered ${res.statusCode}`, { url, status: res.statusCode });
    }
    const header = res.headers['content-length'];
    const expected = typeof header === 'string' ? Number(header) : undefined;
    const hash = createHash('sha256');
    const fh = await open(part, 'w');
    let bytes = 0;
    try {
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        hash.update(chunk);
        bytes += chunk.length;
        await fh.write(chunk);
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    if (expected !== undefined && Number.isFinite(expected) && bytes !== expected) {
      throw new DownloadError(ERROR_CODES.DOWNLOAD, `GET ${url}: received ${bytes} bytes of the ${expected} announced`, { url, status: 200 });
    }
    const media = await verifyMp4File(part);
    await rename(part, dest);
    return { bytes, sha256: hash.digest('hex'), media };
  } catch (err) {
    await rm(part, { force: true });
    if (err instanceof DownloadError || (err as Error).name === 'AbortError') throw err;
    throw new DownloadError(ERROR_CODES.DOWNLOAD, `GET ${url} failed: ${(err as Error).message}`, { url, cause: err });
  }
}
