/**
 * The shape between reading and expanding: what the files say, with where they say it.
 * The YAML reader produces a RawManifest (settings, defaults, vars, entries); a CSV or
 * JSONL manifest is a RawManifest with one sheet entry, its own file. Sheet rows are read
 * later, one at a time (sheets.ts), so a million-row sheet is never held whole.
 * Keeping positions on every value is what lets an error in an expanded or defaulted
 * field still point at the line the user wrote.
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
  /** As the format typed it: YAML's and JSON's own types; CSV cells already converted (numbers, `|` lists). */
  value: unknown;
  /** Where the value starts (for value errors). */
  pos: Pos;
  /** Where the key (YAML, JSONL) or the column header (CSV) is (for unknown-key errors). */
  keyPos: Pos;
  /** For lists: where each item starts, so `image_urls[1]` can be pointed at. */
  items?: Pos[];
  /**
   * For text written on one line without escapes: character `i` of the value is at
   * `at.column + shift + i` (template errors point inside the prompt).
   */
  text?: { at: Pos; shift: number };
  /** The file the value is in, when it is not the manifest (a sheet row, a wildcard file). */
  file?: string;
  /** Text taken as written: no template syntax (a sheet read with `literal: true`). */
  literal?: boolean;
}

/** One value of an axis (`vars:`): its label in the task's labels and the value used. */
export interface RawAxisValue {
  label: string;
  value: unknown;
  pos: Pos;
  items?: Pos[];
}

export interface RawAxis {
  name: string;
  /** `vars.style` or `tasks[2].vars.style`, for issue fields. */
  path: string;
  namePos: Pos;
  values: RawAxisValue[];
}

/** Where a sheet entry's rows come from (the keys of SHEET_SOURCE_KEYS). */
export interface RawSheet {
  /** The sheet's path as written (relative to the manifest), with its position. */
  file: RawValue;
  format?: RawValue;
  /** Column → target (input field, label name) or null (dropped). */
  columns: Map<string, { target: string | null; pos: Pos; keyPos: Pos }>;
  delimiter?: RawValue;
  comment?: RawValue;
  header?: RawValue;
  literal?: RawValue;
  /**
   * A CSV or JSONL file given as the manifest itself: every column must be a task field
   * (a typo is an error with a did-you-mean, not a silent label), and its bytes are here.
   */
  self?: { bytes: Buffer };
}

/** A YAML task, or a sheet entry whose fields apply to each of its rows. */
export interface RawEntry {
  kind: 'task' | 'sheet';
  /** `tasks[3]` or `sheets[0]`, for issue fields. */
  path: string;
  start: Pos;
  /** Input fields and task settings (takes, model, provider) as written. */
  fields: Map<string, RawValue>;
  vars: RawAxis[];
  labels: Map<string, RawValue>;
  sample?: RawValue;
  seed?: RawValue;
  sheet?: RawSheet;
}

export interface RawManifest {
  file: string;
  /** Top-level settings (YAML only); absent when not written. */
  name?: RawValue;
  model?: RawValue;
  provider?: RawValue;
  takes?: RawValue;
  maxTasks?: RawValue;
  sample?: RawValue;
  seed?: RawValue;
  wildcards?: RawValue;
  defaults: Map<string, RawValue>;
  vars: RawAxis[];
  entries: RawEntry[];
  /** Problems found while reading (syntax, structure). Reading goes on where it can. */
  issues: ManifestIssue[];
}

/** Where character `i` of a text value is, as exactly as the file allows. */
export function textPos(rv: RawValue, i: number): Pos {
  return rv.text ? { line: rv.text.at.line, column: rv.text.at.column + rv.text.shift + i } : rv.pos;
}

export function emptyManifest(file: string): RawManifest {
  return { file, defaults: new Map(), vars: [], entries: [], issues: [] };
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

/** Text of a scalar for labels and `{{var}}`: numbers and booleans as written, lists joined. */
export function asText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value) && value.every((v) => v === null || typeof v !== 'object')) return value.map(asText).join(', ');
  return JSON.stringify(value);
}
