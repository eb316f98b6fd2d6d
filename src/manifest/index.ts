/**
 * The manifest stage: files in, validated TaskSpecs out. Pure apart from reading the
 * manifest and the sheets and wildcard files it names — no network, no database, no
 * environment — so the same bytes always give the same tasks with the same keys.
 *
 *   bytes ─ decode ─► text ─ read (yaml.ts | a CSV/JSONL file as one sheet) ─► RawManifest
 *         ─ expand (expand.ts: units, axes, templates, sample, cap) ─► variations
 *         ─ validate (validate.ts) ─► TaskSpecs ─ dedupe (first kept) ─► onTask
 *
 * Every problem from every step is collected into one ManifestError, thrown once the
 * whole manifest has been read: a caller that stores tasks as they come (the 1M-row
 * path) does so inside a transaction it rolls back on that error.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { ManifestError } from '../core/errors.js';
import type { ManifestIssue } from '../core/errors.js';
import type { TaskSpec } from '../core/types.js';
import { decodeManifest } from './decode.js';
import type { TaskSink } from './emit.js';
import { expandManifest } from './expand.js';
import { Includes, diskFiles, whyUnreadable, type FileSource } from './includes.js';
import { KeySet } from './keyset.js';
import { FILE_POS, emptyManifest, issueAt } from './raw.js';
import type { Pos, RawManifest } from './raw.js';
import { readYaml } from './yaml.js';

export { taskKey, canonicalJson } from './key.js';
export { videoInputSchema, INPUT_FIELDS } from './schema.js';
export { documentSchema, manifestJsonSchema, DEFAULT_MAX_TASKS } from './document.js';
export type { FileSource } from './includes.js';

export interface ManifestSummary {
  /** The path as given. */
  file: string;
  /** YAML `name`, else undefined (the CLI derives a run name from the file name). */
  name: string | undefined;
  /**
   * sha256 hex of the file's bytes — and of every sheet and wildcard file it reads, when
   * it reads any — so a run can tell that its manifest changed.
   */
  hash: string;
  /** Tasks handed over (after duplicates were removed). */
  count: number;
  /** How many tasks (after takes) were dropped because an earlier one had the same key. */
  duplicates: number;
  /** Tasks before duplicates were removed. */
  expanded: number;
  /** With `sample:`: how many variations there were to draw from. */
  sampledFrom: number | undefined;
  /** The cap in force (`max_tasks`). */
  maxTasks: number;
}

export interface Manifest extends ManifestSummary {
  /** Deduplicated by key (first kept), in file order; takes of a variation are consecutive. */
  tasks: TaskSpec[];
}

export interface ReadOptions {
  /** Where sheets and wildcard files are read from (default: the disk). */
  files?: FileSource;
  /** Stop collecting problems after this many (default 1000); the rest are counted. */
  maxIssues?: number;
  /**
   * Called once, before the first task, with the YAML `name` as written (undefined when
   * absent or not text; a wrong one is still reported at the end): a caller that stores
   * tasks as they come needs the run's name first.
   */
  onName?: (name: string | undefined) => void;
  /**
   * false: every task made is handed over, repeats included, for a caller that removes
   * them itself (the first of each kept); the summary's `count` then counts them all and
   * its `duplicates` is 0. The manifest worker does this to take the deduplication, a
   * tenth of the stage's work, off its own thread (see worker.ts).
   */
  dedupe?: boolean;
}

const FORMATS = { '.yaml': 'yaml', '.yml': 'yaml', '.csv': 'csv', '.tsv': 'tsv', '.jsonl': 'jsonl', '.ndjson': 'jsonl' } as const;
type Format = (typeof FORMATS)[keyof typeof FORMATS];
export const SUPPORTED_EXTENSIONS = Object.keys(FORMATS);

function formatOf(file: string): Format | undefined {
  const ext = extname(file).toLowerCase();
  return Object.hasOwn(FORMATS, ext) ? FORMATS[ext as keyof typeof FORMATS] : undefined;
}

function unsupported(file: string): ManifestError {
  const ext = extname(file);
  const sheetOnly = ext.toLowerCase() === '.json' || ext.toLowerCase() === '.txt';
  const what = ext ? `'${ext}' files are not manifests` : 'the file name has no extension';
  const hint = sheetOnly ? `; read it from a YAML manifest: sheets: [{file: ${file}}]` : '';
  return new ManifestError([issueAt(file, FILE_POS, '', `${what}; supported: ${SUPPORTED_EXTENSIONS.join(', ')}${hint}`)]);
}

/** Throws the ManifestError for a file whose name says it is no manifest (check before reading it). */
export function checkManifestName(file: string): void {
  if (formatOf(file) === undefined) throw unsupported(file);
}

/** A manifest file's bytes, or the ManifestError that says why there are none. */
export function readManifestBytes(file: string): Buffer {
  // Check the name first: no point reading a 2 GB .mp4 passed by mistake.
  if (formatOf(file) === undefined) throw unsupported(file);
  try {
    return readFileSync(file);
  } catch (e) {
    throw new ManifestError([issueAt(file, FILE_POS, '', `cannot read the manifest: ${whyUnreadable(e)}`)]);
  }
}

/** Read and validate a manifest file. Throws ManifestError listing every problem. */
export async function readManifest(file: string, options: ReadOptions = {}): Promise<Manifest> {
  return parseManifest(file, readManifestBytes(file), options);
}

/** The whole manifest in memory: for manifests of a size a person writes (see max_tasks). */
export function parseManifest(file: string, bytes: Buffer, options: ReadOptions = {}): Manifest {
  const tasks: TaskSpec[] = [];
  const summary = streamManifest(file, bytes, (t) => tasks.push(t), options);
  return { ...summary, tasks };
}

/**
 * Every unique task, handed to `onTask` as soon as it is made, in order; then throws a
 * ManifestError if anything anywhere was wrong. Memory stays flat whatever the size.
 */
export function streamManifest(file: string, bytes: Buffer, onTask: TaskSink, options: ReadOptions = {}): ManifestSummary {
  const format = formatOf(file);
  if (format === undefined) throw unsupported(file);
  const issues = new IssueList(file, options.maxIssues ?? 1000);
  const includes = new Includes(file, options.files ?? diskFiles);

  let raw: RawManifest;
  if (format === 'yaml') {
    const decoded = decodeManifest(file, bytes);
    if (!decoded.ok) throw new ManifestError([decoded.issue]);
    raw = readYaml(file, decoded.text);
  } else {
    // A CSV or JSONL file given as the manifest is one sheet, itself, with strict columns.
    raw = emptyManifest(file);
    const at = { value: file, pos: FILE_POS, keyPos: FILE_POS };
    raw.entries.push({ kind: 'sheet', path: '', start: FILE_POS, fields: new Map(), vars: [], labels: new Map(), sheet: { file: at, columns: new Map(), self: { bytes } } });
  }
  for (const i of raw.issues) issues.add(i.file, i, i.field, i.message);
  options.onName?.(typeof raw.name?.value === 'string' ? raw.name.value : undefined);

  const seen = options.dedupe === false ? undefined : new KeySet();
  let count = 0;
  const expansion = expandManifest(raw, includes, (pos, field, message, f) => issues.add(f ?? file, pos, field, message), (task, inputJson, labelsJson) => {
    if (seen && !seen.add(task.key)) return;
    count++;
    if (issues.empty) onTask(task, inputJson, labelsJson); // once something is wrong, the tasks are no use to anyone
  });
  if (!issues.empty) throw new ManifestError(issues.sorted());
  return {
    file,
    name: expansion.name,
    hash: includes.hash(bytes),
    count,
    duplicates: expansion.expanded - count,
    expanded: expansion.expanded,
    sampledFrom: expansion.sampledFrom,
    maxTasks: expansion.settings.maxTasks,
  };
}

/** Problems, each once (an error in a sheet entry's template is one error, not one per row). */
class IssueList {
  readonly #manifest: string;
  readonly #max: number;
  readonly #list: ManifestIssue[] = [];
  readonly #seen = new Set<string>();
  #dropped = 0;

  constructor(manifest: string, max: number) {
    this.#manifest = manifest;
    this.#max = max;
  }

  get empty(): boolean {
    return this.#list.length === 0;
  }

  add(file: string, pos: Pos, field: string, message: string): void {
    const key = `${file}\0${pos.line}\0${pos.column}\0${message}`;
    if (this.#seen.has(key)) return;
    this.#seen.add(key);
    if (this.#list.length >= this.#max) this.#dropped++;
    else this.#list.push(issueAt(file, { line: pos.line, column: pos.column }, field, message));
  }

  /** The manifest first, then each other file in the order met; in each, top to bottom. */
  sorted(): ManifestIssue[] {
    const order = new Map<string, number>([[this.#manifest, 0]]);
    for (const i of this.#list) if (!order.has(i.file)) order.set(i.file, order.size);
    const out = this.#list
      .map((issue, i) => ({ issue, i }))
      .sort((a, b) => order.get(a.issue.file)! - order.get(b.issue.file)! || a.issue.line - b.issue.line || a.issue.column - b.issue.column || a.i - b.i)
      .map(({ issue }) => issue);
    if (this.#dropped > 0) out.push(issueAt(this.#manifest, FILE_POS, '', `… and ${this.#dropped} more problem(s) not listed; fix these first`));
    return out;
  }
}
