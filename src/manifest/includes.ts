/**
 * The files a manifest pulls in — sheets and wildcard files — read relative to the
 * manifest, decoded with the same rules as the manifest itself, and folded into the
 * manifest's hash so that a run notices when any of them changed.
 */
import { closeSync, fstatSync, openSync, readFileSync, readSync, readdirSync } from 'node:fs';
import type { BigIntStats } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, isAbsolute, join } from 'node:path';
import type { ByteChunks } from './csv.js';
import { checkPlainUtf8 } from './decode.js';

/** How files are read: the real file system by default, a map in tests. */
export interface FileSource {
  read(path: string): Buffer;
  /** File names in a folder, for "did you mean" on a missing file; [] when unreadable. */
  list(dir: string): string[];
  /**
   * A file to read in pieces (a large sheet): undefined, or no `open`, reads files whole.
   * Throws what the file system throws.
   */
  open?(path: string): OpenFile | undefined;
  /** How many bytes of a large sheet are read at a time (default SHEET_CHUNK_BYTES); a sheet no larger is read whole. */
  chunkSize?: number;
}

/** An open file, read by position. */
export interface OpenFile {
  /** Its size when opened. */
  readonly size: number;
  /** Bytes from `position` into buf[offset, offset + length): how many (fewer only at the end of the file). */
  read(buf: Buffer, offset: number, length: number, position: number): number;
  /** False if the file was written to since it was opened (its size, modification or change time moved). */
  unchanged(): boolean;
  close(): void;
}

/** 1 MiB: large enough that a read costs nothing per row, small enough not to count in the memory used. */
export const SHEET_CHUNK_BYTES = 1 << 20;

export const diskFiles: FileSource = {
  read: (path) => readFileSync(path),
  list: (dir) => {
    try {
      return readdirSync(dir);
    } catch {
      return [];
    }
  },
  open: (path) => {
    const fd = openSync(path, 'r');
    let stat: BigIntStats;
    try {
      stat = fstatSync(fd, { bigint: true });
    } catch (e) {
      closeSync(fd);
      throw e;
    }
    // A directory, a pipe, a device: read whole, as before (and failing as before).
    if (!stat.isFile()) {
      closeSync(fd);
      return undefined;
    }
    return {
      size: Number(stat.size),
      read: (buf, offset, length, position) => readSync(fd, buf, offset, length, position),
      unchanged: () => {
        const now = fstatSync(fd, { bigint: true });
        return now.size === stat.size && now.mtimeNs === stat.mtimeNs && now.ctimeNs === stat.ctimeNs;
      },
      close: () => closeSync(fd),
    };
  },
};

export function whyUnreadable(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
}

export class Includes {
  readonly #dir: string;
  readonly #files: FileSource;
  /** Path as resolved → sha256 of its bytes, in the order first read. */
  readonly #hashes = new Map<string, string>();

  constructor(manifestFile: string, files: FileSource) {
    this.#dir = dirname(manifestFile);
    this.#files = files;
  }

  /** A path written in the manifest, as a path the process can open. */
  resolve(written: string): string {
    return isAbsolute(written) ? written : join(this.#dir, written);
  }

  /** The bytes of an included file; throws what the file system throws. */
  read(written: string): { path: string; bytes: Buffer } {
    const path = this.resolve(written);
    const bytes = this.#files.read(path);
    if (!this.#hashes.has(path)) this.#hashes.set(path, createHash('sha256').update(bytes).digest('hex'));
    return { path, bytes };
  }

  /**
   * A sheet: its bytes, or — when it is larger than a chunk, plain UTF-8 (what decodeSheet
   * passes through as it is) and the file source can open it — its bytes to be read in
   * pieces: checked and hashed here, a chunk at a time, so that memory does not grow with
   * its size. Close the pieces when done. Throws what the file system throws.
   */
  openSheet(written: string): { path: string; bytes: Buffer; chunks?: undefined } | { path: string; chunks: SheetChunks; bytes?: undefined } {
    const path = this.resolve(written);
    const file = this.#files.open?.(path);
    if (!file) return this.read(written);
    const chunkSize = Math.max(1, this.#files.chunkSize ?? SHEET_CHUNK_BYTES);
    let chunks: SheetChunks | undefined;
    try {
      if (file.size > chunkSize) {
        const hash = this.#hashes.has(path) ? undefined : createHash('sha256');
        let position = 0;
        const read = (buf: Buffer, offset: number, length: number): number => {
          const n = readFully(file, buf, offset, length, position);
          position += n;
          return n;
        };
        const check = checkPlainUtf8(read, chunkSize, hash && ((b) => hash.update(b)));
        if (check) {
          if (hash) this.#hashes.set(path, hash.digest('hex'));
          chunks = new SheetChunks(file, check.start, check.end, chunkSize);
          return { path, chunks };
        }
      }
    } finally {
      if (!chunks) file.close();
    }
    // Small, UTF-16, or not UTF-8 at all: whole, decoded (or refused) as it always was.
    return this.read(written);
  }

  list(writtenDir: string): string[] {
    return this.#files.list(this.resolve(writtenDir));
  }

  /**
   * sha256 of the manifest's bytes alone when it includes nothing (so the hash of a plain
   * manifest is the hash of its file), else of the manifest and each included file.
   */
  hash(manifestBytes: Uint8Array): string {
    const h = createHash('sha256').update(manifestBytes);
    if (this.#hashes.size === 0) return h.digest('hex');
    for (const [path, digest] of this.#hashes) h.update(`\0${path}\0${digest}`);
    return h.digest('hex');
  }
}

function readFully(file: OpenFile, buf: Buffer, offset: number, length: number, position: number): number {
  let n = 0;
  while (n < length) {
    const got = file.read(buf, offset + n, length - n, position + n);
    if (got <= 0) break;
    n += got;
  }
  return n;
}

/**
 * The bytes of a sheet checked by `openSheet`, from after its byte-order mark, in order.
 * Reads no further than what was checked and hashed; `intact` says whether what was read
 * is what was checked.
 */
export class SheetChunks implements ByteChunks {
  readonly chunkSize: number;
  readonly #file: OpenFile;
  readonly #end: number;
  #position: number;
  #short = false;

  constructor(file: OpenFile, start: number, end: number, chunkSize: number) {
    this.#file = file;
    this.#position = start;
    this.#end = end;
    this.chunkSize = chunkSize;
  }

  read(buf: Buffer, offset: number, length: number): number {
    const want = Math.min(length, this.#end - this.#position);
    if (want <= 0) return 0;
    const n = readFully(this.#file, buf, offset, want, this.#position);
    if (n < want) this.#short = true;
    this.#position += n;
    return n;
  }

  /** The rest, at once (a .json sheet, read whole). */
  readAll(): Buffer {
    const buf = Buffer.allocUnsafe(Math.max(0, this.#end - this.#position));
    return buf.subarray(0, this.read(buf, 0, buf.length));
  }

  /** False if the file changed since it was checked: what was read may not be what was checked. */
  intact(): boolean {
    return !this.#short && this.#file.unchanged();
  }

  close(): void {
    this.#file.close();
  }
}
