/**
 * The files a manifest pulls in — sheets and wildcard files — read relative to the
 * manifest, decoded with the same rules as the manifest itself, and folded into the
 * manifest's hash so that a run notices when any of them changed.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, isAbsolute, join } from 'node:path';

/** How files are read: the real file system by default, a map in tests. */
export interface FileSource {
  read(path: string): Buffer;
  /** File names in a folder, for "did you mean" on a missing file; [] when unreadable. */
  list(dir: string): string[];
}

export const diskFiles: FileSource = {
  read: (path) => readFileSync(path),
  list: (dir) => {
    try {
      return readdirSync(dir);
    } catch {
      return [];
    }
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
