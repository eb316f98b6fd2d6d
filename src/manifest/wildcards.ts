/**
 * `__name__` wildcards: the file `<wildcards>/name.txt` next to the manifest (`wildcards:`
 * sets the folder; default `wildcards`), one option a line. Blank lines and lines starting
 * with `#` are skipped and each option is trimmed; an option is itself a template, so it
 * may hold `{a|b}`, `{{var}}` and other wildcards. Each file is read and parsed once.
 */
import { posix } from 'node:path';
import { decodeManifest } from './decode.js';
import { Includes, whyUnreadable } from './includes.js';
import type { Pos } from './raw.js';
import { didYouMean } from './suggest.js';
import { parseTemplate, type Template } from './template.js';

type Loaded = { options: Template[] } | { problem: string };

export class Wildcards {
  readonly #dir: string;
  readonly #includes: Includes;
  readonly #problem: (pos: Pos, field: string, message: string, file?: string) => void;
  readonly #cache = new Map<string, Loaded>();

  constructor(dir: string, includes: Includes, problem: (pos: Pos, field: string, message: string, file?: string) => void) {
    this.#dir = dir;
    this.#includes = includes;
    this.#problem = problem;
  }

  options(name: string): readonly Template[] | undefined {
    const loaded = this.#load(name);
    return 'options' in loaded ? loaded.options : undefined;
  }

  /** Why `__name__` cannot be used, for the error at the reference. */
  why(name: string): string {
    const loaded = this.#load(name);
    return 'problem' in loaded ? loaded.problem : '';
  }

  #load(name: string): Loaded {
    let loaded = this.#cache.get(name);
    if (loaded === undefined) {
      loaded = this.#read(name);
      this.#cache.set(name, loaded);
    }
    return loaded;
  }

  #read(name: string): Loaded {
    const written = posix.join(this.#dir, `${name}.txt`);
    let path: string;
    let bytes: Buffer;
    try {
      ({ path, bytes } = this.#includes.read(written));
    } catch (e) {
      const dir = posix.dirname(written);
      const names = this.#includes.list(dir).filter((f) => f.endsWith('.txt')).map((f) => f.slice(0, -4));
      const base = posix.basename(name);
      const guess = didYouMean(base, names);
      const hint = guess ? `; did you mean __${posix.join(posix.dirname(name), guess).replace(/^\.\//, '')}__?` : names.length ? `; there: ${names.slice(0, 8).join(', ')}` : '';
      return { problem: `wildcard __${name}__: cannot read ${written} (${whyUnreadable(e)})${hint}` };
    }
    const decoded = decodeManifest(path, bytes);
    if (!decoded.ok) {
      this.#problem(decoded.issue, '', decoded.issue.message, path);
      return { problem: `wildcard __${name}__: ${written} cannot be read as text (see the error there)` };
    }
    const options: Template[] = [];
    decoded.text.split(/\r\n|\n|\r/).forEach((line, n) => {
      const text = line.trim();
      if (text === '' || text.startsWith('#')) return;
      const t = parseTemplate(text, 'full');
      if ('message' in t) {
        const lead = line.length - line.trimStart().length;
        this.#problem({ line: n + 1, column: lead + t.at + 1 }, '', t.message, path);
        return;
      }
      options.push(t);
    });
    if (options.length === 0) return { problem: `wildcard __${name}__: ${written} has no options (one a line; blank lines and # comments are skipped)` };
    return { options };
  }
}
