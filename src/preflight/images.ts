/**
 * `vidbatch run --check-images`: before anything is paid for, fetch the start of every
 * distinct image URL of the manifest and check what the provider documents — the URL
 * answers, the bytes are JPG, PNG or WebP (by their signature, not the file name or the
 * Content-Type: a `.png` may well be WebP), and the image is at most 10 MB. Every problem
 * is reported at once, positioned at the task that uses the URL, and nothing is sent.
 *
 * Optional because it costs a request per image to hosts the user chose, and because a
 * provider that fetches from another network may see a different answer.
 */
import { fetch, type Dispatcher } from 'undici';
import { ManifestError, type ManifestIssue } from '../core/errors.js';
import type { TaskSpec } from '../core/types.js';

/** The documented limit: "image_urls supports JPG, PNG, WebP, max 10MB per image". */
export const MAX_IMAGE_BYTES = 10 * 1024 * 1024;
const SNIFF_BYTES = 32;

export type ImageType = 'jpeg' | 'png' | 'webp';

export interface ImageCheck {
  url: string;
  ok: boolean;
  type?: ImageType;
  /** Size in bytes when the server said (Content-Range / Content-Length) or we counted. */
  bytes?: number;
  /** Why it is refused, when it is. */
  problem?: string;
}

export interface PreflightOptions {
  /** Per URL, whole exchange. @default 15000 */
  timeoutMs?: number;
  /** URLs checked at once. @default 8 */
  concurrency?: number;
  /** @default 10 MB (documented) */
  maxBytes?: number;
  dispatcher?: Dispatcher;
}

/** What the first bytes say the file is. Only the three documented types pass. */
export function sniffImage(head: Uint8Array): { type: ImageType } | { other: string } {
  const b = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return { type: 'jpeg' };
  if (b.length >= 8 && b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return { type: 'png' };
  if (b.length >= 12 && b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP') return { type: 'webp' };
  if (b.length === 0) return { other: 'an empty file' };
  if (b.toString('latin1', 0, 4) === 'GIF8') return { other: 'GIF' };
  if (b.toString('latin1', 0, 2) === 'BM') return { other: 'BMP' };
  if (b.toString('latin1', 4, 8) === 'ftyp') return { other: `an ISO media file (${b.toString('latin1', 8, 12).trim() || '?'}: HEIC, AVIF or video)` };
  if (/^\s*</.test(b.toString('latin1'))) return { other: 'HTML/XML/SVG text (an error page or a vector image)' };
  return { other: `unknown bytes (${b.subarray(0, 8).toString('hex')})` };
}

function totalFromContentRange(v: string | null): number | undefined {
  const m = /\/(\d+)\s*$/.exec(v ?? '');
  return m ? Number(m[1]) : undefined;
}

function errorText(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError') return 'no answer in time';
  const code = e?.cause?.code;
  return code ? `unreachable (${code})` : `unreachable (${e?.cause?.message ?? e?.message ?? String(err)})`;
}

/** Checks one URL: GET with `Range: bytes=0-31`, so a cooperative server sends 32 bytes. */
export async function checkImage(url: string, o: PreflightOptions = {}): Promise<ImageCheck> {
  const maxBytes = o.maxBytes ?? MAX_IMAGE_BYTES;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { url, ok: false, problem: 'not a URL' };
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return { url, ok: false, problem: `not an http(s) URL (${parsed.protocol})` };
  const signal = AbortSignal.timeout(o.timeoutMs ?? 15_000);
  try {
    const res = await fetch(url, {
      headers: { range: `bytes=0-${SNIFF_BYTES - 1}`, accept: 'image/jpeg, image/png, image/webp, */*;q=0.1' },
      redirect: 'follow',
      signal,
      ...(o.dispatcher ? { dispatcher: o.dispatcher } : {}),
    });
    if (res.status !== 200 && res.status !== 206) {
      await res.body?.cancel().catch(() => {});
      return { url, ok: false, problem: `answered HTTP ${res.status}` };
    }
    const announced = res.status === 206 ? totalFromContentRange(res.headers.get('content-range')) : Number(res.headers.get('content-length') ?? NaN);
    let bytes = Number.isSafeInteger(announced) ? announced : undefined;
    // Read the head; when a 200 did not say its length, count the body up to the limit.
    const chunks: Buffer[] = [];
    let seen = 0;
    const reader = res.body?.getReader();
    if (reader) {
      for (;;) {
        if (seen >= SNIFF_BYTES && (bytes !== undefined || res.status === 206 || seen > maxBytes)) break;
        const { done, value } = await reader.read();
        if (done) {
          if (bytes === undefined && res.status === 200) bytes = seen;
          break;
        }
        if (seen < SNIFF_BYTES) chunks.push(Buffer.from(value));
        seen += value.length;
      }
      await reader.cancel().catch(() => {});
    }
    if (bytes === undefined && seen > maxBytes) bytes = seen;
    const sniffed = sniffImage(Buffer.concat(chunks).subarray(0, SNIFF_BYTES));
    if ('other' in sniffed) return { url, ok: false, ...(bytes !== undefined ? { bytes } : {}), problem: `is ${sniffed.other}, not JPG, PNG or WebP` };
    if (bytes !== undefined && bytes > maxBytes) {
      return { url, ok: false, type: sniffed.type, bytes, problem: `is ${(bytes / 1024 / 1024).toFixed(1)} MB, over the ${(maxBytes / 1024 / 1024).toFixed(0)} MB limit` };
    }
    return { url, ok: true, type: sniffed.type, ...(bytes !== undefined ? { bytes } : {}) };
  } catch (err) {
    return { url, ok: false, problem: errorText(err) };
  }
}

/**
 * Checks every distinct image URL of `tasks`. Resolves with the checks when all pass;
 * throws a ManifestError naming each task (file:line, `image_urls[i]`) whose image failed.
 */
export async function preflightImages(tasks: readonly TaskSpec[], o: PreflightOptions = {}): Promise<ImageCheck[]> {
  const urls = [...new Set(tasks.flatMap((t) => t.input.image_urls ?? []))];
  const results = new Map<string, ImageCheck>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < urls.length) {
      const url = urls[next++]!;
      results.set(url, await checkImage(url, o));
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.concurrency ?? 8, urls.length) }, worker));

  const issues: ManifestIssue[] = [];
  const reported = new Set<string>();
  for (const t of tasks) {
    (t.input.image_urls ?? []).forEach((url, i) => {
      const r = results.get(url);
      // Takes of one row share a source line: one issue per line and URL is enough.
      const id = `${t.source.file}:${t.source.line}:${url}`;
      if (!r || r.ok || reported.has(id)) return;
      reported.add(id);
      issues.push({ file: t.source.file, line: t.source.line, column: 0, field: `image_urls[${i}]`, message: `${url} ${r.problem ?? 'failed the check'} (--check-images)` });
    });
  }
  if (issues.length > 0) throw new ManifestError(issues);
  return urls.map((u) => results.get(u)!);
}
