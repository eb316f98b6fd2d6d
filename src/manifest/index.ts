/**
 * The manifest stage: files in, validated TaskSpecs out. Pure apart from reading the
 * file — no network, no database, no environment — so the same bytes always give the
 * same tasks with the same keys.
 *
 *   bytes ─ decode ─► text ─ read (yaml.ts | csv.ts) ─► RawManifest (values + positions)
 *         ─ expand (expand.ts) ─► rows ─ validate (validate.ts) ─► TaskSpec[] ─ dedupe
 *
 * Every problem from every step is collected into one ManifestError.
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { ManifestError } from '../core/errors.js';
import type { ManifestIssue } from '../core/errors.js';
import type { TaskSpec } from '../core/types.js';
import { readCsv } from './csv.js';
import { decodeManifest } from './decode.js';
import { expandRows } from './expand.js';
import { sha256Hex } from './key.js';
import { FILE_POS, issueAt } from './raw.js';
import { validateManifest } from './validate.js';
import { readYaml } from './yaml.js';

export { taskKey, canonicalJson } from './key.js';
export { videoInputSchema, INPUT_FIELDS } from './schema.js';

export interface Manifest {
  /** The path as given. */
  file: string;
  /** YAML `name`, else undefined (the CLI derives a run name from the file name). */
  name: string | undefined;
  /** sha256 hex of the file's bytes, so a run can tell that its manifest changed. */
  hash: string;
  /** Deduplicated by key (first kept), in file order; takes of a row are consecutive. */
  tasks: TaskSpec[];
  /** How many tasks (after takes) were dropped because an earlier one had the same key. */
  duplicates: number;
}

const FORMATS = { '.yaml': 'yaml', '.yml': 'yaml', '.csv': 'csv' } as const;
type Format = (typeof FORMATS)[keyof typeof FORMATS];
export const SUPPORTED_EXTENSIONS = Object.keys(FORMATS);

function formatOf(file: string): Format | undefined {
  const ext = extname(file).toLowerCase();
  return Object.hasOwn(FORMATS, ext) ? FORMATS[ext as keyof typeof FORMATS] : undefined;
}

function unsupported(file: string): ManifestError {
  const ext = extname(file);
  const what = ext ? `'${ext}' files are not manifests` : 'the file name has no extension';
  return new ManifestError([issueAt(file, FILE_POS, '', `${what}; supported: ${SUPPORTED_EXTENSIONS.join(', ')}`)]);
}

/** Read and validate a manifest file. Throws ManifestError listing every problem. */
export async function readManifest(file: string): Promise<Manifest> {
  // Check the name first: no point reading a 2 GB .mp4 passed by mistake.
  if (formatOf(file) === undefined) throw unsupported(file);
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
    throw new ManifestError([issueAt(file, FILE_POS, '', `cannot read the manifest: ${why}`)]);
  }
  return parseManifest(file, bytes);
}

/** The pure core: a file name (for its extension and for messages) and its bytes. */
export function parseManifest(file: string, bytes: Buffer): Manifest {
  const format = formatOf(file);
  if (format === undefined) throw unsupported(file);
  const decoded = decodeManifest(file, bytes);
  if (!decoded.ok) throw new ManifestError([decoded.issue]);

  const raw = format === 'csv' ? readCsv(file, decoded.text) : readYaml(file, decoded.text);
  const rows = expandRows(raw);
  const { name, tasks, issues } = validateManifest(raw, rows);
  if (issues.length > 0) throw new ManifestError(sortIssues(issues));

  const seen = new Set<string>();
  const unique: TaskSpec[] = [];
  for (const task of tasks) {
    if (seen.has(task.key)) continue;
    seen.add(task.key);
    unique.push(task);
  }
  return { file, name, hash: sha256Hex(bytes), tasks: unique, duplicates: tasks.length - unique.length };
}

/** In file order, so the list reads top to bottom alongside the file. */
function sortIssues(issues: readonly ManifestIssue[]): ManifestIssue[] {
  return issues
    .map((issue, i) => ({ issue, i }))
    .sort((a, b) => a.issue.line - b.issue.line || a.issue.column - b.issue.column || a.i - b.i)
    .map(({ issue }) => issue);
}
