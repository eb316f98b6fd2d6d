/**
 * The shape between reading and validating: what the file says, with where it says it.
 * Each reader (YAML, CSV; later JSONL and sheets) produces a RawManifest; expansion
 * (variables, templates, wildcards — next) maps rows to rows; validation turns rows into
 * TaskSpecs. Keeping positions on every value is what lets an error in an expanded or
 * defaulted field still point at the line the user wrote.
 */
import type { ManifestIssue } from '../core/errors.js';

/** 1-based line and column (columns count UTF-16 code units, as editors such as VS Code do). */
export interface Pos {
  line: number;
  column: number;
}

/** The position used for problems that concern the whole file. */
export const FILE_POS: Pos = { line: 0, column: 0 };

export interface RawValue {
  /** As the format typed it: YAML's own types; CSV cells already converted (numbers, `|` lists). */
  value: unknown;
  /** Where the value starts (for value errors). */
  pos: Pos;
  /** Where the key (YAML) or the column header (CSV) is (for unknown-key errors). */
  keyPos: Pos;
  /** For lists: where each item starts, so `image_urls[1]` can be pointed at. */
  items?: Pos[];
}

export interface RawRow {
  /** Path prefix for issue fields: `tasks[3]` (YAML) or `rows[2]` (CSV), 0-based. */
  path: string;
  /** Where the list item or CSV record starts; becomes TaskSpec.source.line. */
  start: Pos;
  /** Every key as written, known or not: validation decides. */
  fields: Map<string, RawValue>;
  /** Variation values and extra columns (empty until the next issue adds them). */
  labels: Record<string, string>;
}

export interface RawManifest {
  file: string;
  /** Top-level settings (YAML only); absent when not written. */
  name?: RawValue;
  model?: RawValue;
  provider?: RawValue;
  takes?: RawValue;
  defaults: Map<string, RawValue>;
  /** Unknown top-level keys, kept for the did-you-mean check in validation. */
  unknownTop: Map<string, RawValue>;
  rows: RawRow[];
  /** Problems found while reading (syntax, structure). Reading goes on where it can. */
  issues: ManifestIssue[];
}

export function issueAt(file: string, pos: Pos, field: string, message: string): ManifestIssue {
  return { file, line: pos.line, column: pos.column, field, message };
}

/** A value as an error message shows it: short, typed, never a wall of text. */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'an empty value';
  if (typeof value === 'string') {
    if (value === '') return 'an empty text';
    const shown = value.length > 40 ? value.slice(0, 37) + '...' : value;
    return `'${shown.replace(/\r?\n/g, '\\n')}'`;
  }
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (typeof value === 'object') return 'a mapping';
  return typeof value;
}
