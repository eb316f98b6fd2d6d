/**
 * Bytes → text, refusing anything we would otherwise turn into mojibake. A prompt sent
 * with `Ã§` where the user wrote `ç` is a paid video of the wrong thing, so an encoding
 * we cannot be sure of is an error that names the byte, never a guess.
 *
 * Accepted: UTF-8 with or without a BOM; UTF-16 LE/BE *with* a BOM (Excel's "Unicode
 * text" and Windows tools write it). Refused: anything else, notably Latin-1 /
 * Windows-1252 (which has no reliable signature), UTF-32, and UTF-16 without a BOM.
 */
import { isUtf8 } from 'node:buffer';
import type { ManifestIssue } from '../core/errors.js';
import { issueAt } from './raw.js';

export type Encoding = 'utf-8' | 'utf-16le' | 'utf-16be';

export type Decoded = { ok: true; text: string; encoding: Encoding; bom: boolean } | { ok: false; issue: ManifestIssue };

export function decodeManifest(file: string, bytes: Uint8Array): Decoded {
  const b0 = bytes[0];
  const b1 = bytes[1];
  const fail = (line: number, column: number, message: string): Decoded => ({ ok: false, issue: issueAt(file, { line, column }, '', message) });

  if ((b0 === 0xff && b1 === 0xfe && bytes[2] === 0 && bytes[3] === 0) || (b0 === 0 && b1 === 0 && bytes[2] === 0xfe && bytes[3] === 0xff)) {
    return fail(0, 0, 'the file is UTF-32, which is not supported; save it as UTF-8');
  }
  if ((b0 === 0xff && b1 === 0xfe) || (b0 === 0xfe && b1 === 0xff)) {
    const encoding: Encoding = b0 === 0xff ? 'utf-16le' : 'utf-16be';
    const body = bytes.subarray(2);
    if (body.length % 2 !== 0) return fail(0, 0, `the file starts with a ${encoding.toUpperCase()} byte-order mark but has an odd number of bytes; it is truncated or not ${encoding.toUpperCase()}`);
    // Node's TextDecoder has utf-16le everywhere but utf-16be only with full ICU: swap instead.
    const le = encoding === 'utf-16le' ? body : Buffer.from(body).swap16();
    let text: string;
    try {
      text = new TextDecoder('utf-16le', { fatal: true }).decode(le);
    } catch {
      return fail(0, 0, `the file starts with a ${encoding.toUpperCase()} byte-order mark but is not valid ${encoding.toUpperCase()} (unpaired surrogate)`);
    }
    return checkNul(file, text, encoding, true);
  }

  const bom = b0 === 0xef && b1 === 0xbb && bytes[2] === 0xbf;
  const body = bom ? bytes.subarray(3) : bytes;
  try {
    // ignoreBOM: we strip it ourselves above, and a second BOM would be content.
    const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(body);
    return checkNul(file, text, 'utf-8', bom);
  } catch {
    const at = firstInvalidUtf8(body) + (bom ? 3 : 0);
    const { line, column } = bytePos(bytes, at);
    const byte = (bytes[at] ?? 0).toString(16).toUpperCase().padStart(2, '0');
    return fail(
      line,
      column,
      `the file is not valid UTF-8: byte 0x${byte} at byte offset ${at} (line ${line}, byte ${column} of the line) ` +
        'is not part of a UTF-8 character; it is probably Latin-1 or Windows-1252 — save it as UTF-8 (Excel: "CSV UTF-8")',
    );
  }
}

/** NUL is valid UTF-8 but never valid in a prompt sheet: most likely UTF-16 without a BOM. */
function checkNul(file: string, text: string, encoding: Encoding, bom: boolean): Decoded {
  const at = text.indexOf('\u0000');
  if (at < 0) return { ok: true, text, encoding, bom };
  const before = text.slice(0, at);
  const line = before.split('\n').length;
  const column = at - before.lastIndexOf('\n');
  const hint = encoding === 'utf-8' ? '; the file is probably UTF-16 without a byte-order mark — save it as UTF-8' : '';
  return { ok: false, issue: issueAt(file, { line, column }, '', `the file contains a NUL character at line ${line}, column ${column}${hint}`) };
}

/** 1-based line and byte column of a byte offset (lines end at LF; a CR before it is content here). */
function bytePos(bytes: Uint8Array, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < bytes.length; i++) {
    if (bytes[i] === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/**
 * Offset of the first byte that is not part of a well-formed UTF-8 sequence (RFC 3629:
 * no overlongs, no surrogates, nothing above U+10FFFF), or -1. Only run after
 * TextDecoder has said the input is invalid, to say where.
 */
export function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i] ?? 0;
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      if (c === 0xe0) lo = 0xa0;
      if (c === 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      if (c === 0xf0) lo = 0x90;
      if (c === 0xf4) hi = 0x8f;
    } else return i;
    for (let k = 1; k <= need; k++) {
      const d = b[i + k];
      if (d === undefined) return i;
      const min = k === 1 ? lo : 0x80;
      const max = k === 1 ? hi : 0xbf;
      if (d < min || d > max) return i;
    }
    i += need + 1;
  }
  return -1;
}

/**
 * A sheet as UTF-8 bytes (what csv-parse and the position scanner read) and, on demand,
 * as text. Valid UTF-8 is passed through without a copy: a 100 MB sheet stays 100 MB.
 */
export function decodeSheet(file: string, bytes: Buffer): { ok: true; bytes: Buffer; text: () => string } | { ok: false; issue: ManifestIssue } {
  const bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
  const body = bom ? bytes.subarray(3) : bytes;
  const utf16 = (bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff);
  if (!utf16 && isUtf8(body) && body.indexOf(0) < 0) return { ok: true, bytes: body, text: () => body.toString('utf8') };
  const decoded = decodeManifest(file, bytes);
  if (!decoded.ok) return decoded;
  const utf8 = Buffer.from(decoded.text, 'utf8');
  return { ok: true, bytes: utf8, text: () => decoded.text };
}

/**
 * `decodeSheet`'s test for passing bytes through as they are — UTF-8, no NUL, not UTF-16 —
 * made on a file read in pieces: `read` fills buf from `offset` with the next bytes and
 * says how many (0 at the end); every byte read also goes to `onBytes` (the hash). Returns
 * where the text is (after a UTF-8 byte-order mark) — or undefined, and the file is to be
 * read whole: decoded as UTF-16, or refused with the error decodeSheet gives.
 */
export function checkPlainUtf8(read: (buf: Buffer, offset: number, length: number) => number, chunkSize: number, onBytes?: (bytes: Buffer) => void): { start: number; end: number } | undefined {
  const size = Math.max(chunkSize, 4); // the first piece holds any byte-order mark
  const buf = Buffer.allocUnsafe(size + 3);
  let carry = 0; // the start of a character that goes on in the next piece
  let total = 0;
  let start = -1;
  for (;;) {
    const n = readFull(read, buf, carry, size);
    if (n > 0) onBytes?.(buf.subarray(carry, carry + n));
    total += n;
    let from = 0;
    if (start < 0) {
      if (n >= 2 && ((buf[0] === 0xff && buf[1] === 0xfe) || (buf[0] === 0xfe && buf[1] === 0xff))) return undefined;
      start = n >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0;
      from = start;
    }
    const end = carry + n;
    const cut = n === 0 ? end : end - unfinishedTail(buf, from, end);
    const piece = buf.subarray(from, cut);
    if (!isUtf8(piece) || piece.indexOf(0) >= 0) return undefined;
    if (n === 0) return { start, end: total };
    buf.copyWithin(0, cut, end);
    carry = end - cut;
  }
}

function readFull(read: (buf: Buffer, offset: number, length: number) => number, buf: Buffer, offset: number, length: number): number {
  let n = 0;
  while (n < length) {
    const got = read(buf, offset + n, length - n);
    if (got <= 0) break;
    n += got;
  }
  return n;
}

/** How many bytes at the end of b[from, end) begin a UTF-8 character that the next bytes finish (0–3). */
function unfinishedTail(b: Uint8Array, from: number, end: number): number {
  for (let k = 1; k <= 3 && end - k >= from; k++) {
    const c = b[end - k]!;
    if (c < 0x80) return 0;
    if (c >= 0xc0) return k < (c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2) ? k : 0;
  }
  return 0;
}
