/**
 * A sheet entry's rows → units. Decides once per column what it is — an input field, a
 * task setting, a label (kept, and usable as {{column}}), or dropped — and reports
 * problems with columns once, at the header cell or the `columns:` entry.
 */
import { basename } from 'node:path';
import * as z from 'zod';
import type { Provider } from '../core/types.js';
import { decodeSheet } from './decode.js';
import type { Includes, SheetChunks } from './includes.js';
import { whyUnreadable } from './includes.js';
import type { Pos, RawAxis, RawEntry, RawValue } from './raw.js';
import { FILE_POS, asText, textPos } from './raw.js';
import { TASK_FIELDS, modelSchema, providerSchema, takesSchema, type InputField } from './schema.js';
import { formatFromName, readSheet, type SheetColumn } from './sheets.js';
import { SHEET_FORMATS, type SheetFormat } from './document.js';
import { didYouMean, suggestionSuffix } from './suggest.js';
import { parseTemplate, type Template } from './template.js';
import { chooseFields, labelsCopy, type Unit } from './units.js';
import { setting, type Problem } from './validate.js';

/** An entry with its own settings checked and its axes merged with the top-level ones. */
export interface Entry {
  raw: RawEntry;
  axes: RawAxis[];
  fieldAxes: Map<string, RawAxis>;
  model: string | undefined;
  provider: Provider | undefined;
  takes: number | undefined;
  labels: Record<string, string>;
  sample: number | undefined;
  seed: number | string;
  ok: boolean;
}

export interface SheetContext {
  manifestFile: string;
  includes: Includes;
  defaults: ReadonlyMap<InputField, RawValue>;
  top: { model: string; provider: Provider; takes: number };
  problem: Problem;
}

type Target = { kind: 'field'; name: string } | { kind: 'label'; name: string } | { kind: 'drop' };

const NUMBER_FIELDS = new Set(['duration', 'cfg_scale', 'takes']);
const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

/** A CSV or TXT cell as the value of `field`: numbers for numbers, `a|b` lists for image_urls; empty = absent. */
export function typeTextCell(field: string, rv: RawValue): RawValue | undefined {
  const cell = rv.value as string;
  // Prose is kept byte-for-byte: leading or trailing spaces may be intended.
  if (field === 'prompt' || field === 'negative_prompt') return cell === '' ? undefined : rv;
  const trimmed = cell.trim();
  if (trimmed === '') return undefined;
  if (NUMBER_FIELDS.has(field)) return { ...rv, value: NUMBER.test(trimmed) ? Number(trimmed) : trimmed };
  if (field === 'image_urls') {
    const value: string[] = [];
    const items: Pos[] = [];
    let offset = 0;
    for (const part of cell.split('|')) {
      const lead = part.length - part.trimStart().length;
      value.push(part.trim());
      items.push(textPos(rv, offset + lead));
      offset += part.length + 1;
    }
    return { ...rv, value, items };
  }
  return { ...rv, value: trimmed };
}

/** Read the entry's sheet and hand each row over as a unit. */
export function walkSheet(entry: Entry, ctx: SheetContext, visit: (unit: Unit) => void): void {
  const raw = entry.raw;
  const sheet = raw.sheet!;
  const { problem } = ctx;
  const written = typeof sheet.file.value === 'string' ? sheet.file.value : '';
  const fileField = `${raw.path}.file`;

  let path = ctx.manifestFile;
  let bytes: Buffer | undefined;
  let chunks: SheetChunks | undefined;
  if (sheet.self) bytes = sheet.self.bytes;
  else {
    try {
      // A large sheet comes in chunks, already checked to be UTF-8 and hashed.
      ({ path, bytes, chunks } = ctx.includes.openSheet(written));
    } catch (e) {
      const dir = written.includes('/') ? written.slice(0, written.lastIndexOf('/')) : '.';
      const guess = didYouMean(basename(written), ctx.includes.list(dir));
      problem(sheet.file.pos, fileField, `cannot read the sheet ${written}: ${whyUnreadable(e)}${guess ? `; did you mean '${guess}'?` : ''}`);
      return;
    }
  }
  try {
    readRows(entry, ctx, visit, path, bytes, chunks);
  } finally {
    chunks?.close();
  }
}

function readRows(entry: Entry, ctx: SheetContext, visit: (unit: Unit) => void, path: string, bytes: Buffer | undefined, chunks: SheetChunks | undefined): void {
  const raw = entry.raw;
  const sheet = raw.sheet!;
  const { problem, manifestFile } = ctx;
  const strict = sheet.self !== undefined;
  const written = typeof sheet.file.value === 'string' ? sheet.file.value : '';
  const rowsPath = strict ? 'rows' : `${raw.path}.rows`;
  const fileField = `${raw.path}.file`;
  const format = setting<SheetFormat>(sheetFormat, sheet.format, `${raw.path}.format`, problem) ?? formatFromName(strict ? manifestFile : written);
  if (format === undefined) {
    problem(sheet.file.pos, fileField, `cannot tell the format of ${written} from its name; add format: ${SHEET_FORMATS.join(' | ')}`);
    return;
  }
  let input: Buffer | SheetChunks;
  let text: () => string;
  if (chunks && format !== 'json') {
    input = chunks;
    text = () => chunks.readAll().toString('utf8');
  } else if (chunks) {
    // Checked already (UTF-8, after its byte-order mark): what decodeSheet would pass through.
    const body = chunks.readAll();
    input = body;
    text = () => body.toString('utf8');
  } else {
    const decoded = decodeSheet(path, bytes!);
    if (!decoded.ok) {
      problem(decoded.issue, decoded.issue.field, decoded.issue.message, path);
      return;
    }
    input = decoded.bytes;
    text = decoded.text;
  }
  const literal = sheet.literal?.value === true;
  const axisNames = new Set(entry.axes.map((a) => a.name));

  // What each column is, decided at its first sight and reported once.
  const targets = new Map<string, Target>();
  const takenBy = new Map<string, string>();
  const mappingSeen = new Set<string>();
  let sawPrompt = false;
  const classify = (column: string, pos: Pos): Target => {
    let t = targets.get(column);
    if (t) return t;
    const mapped = sheet.columns.get(column);
    if (mapped) mappingSeen.add(column);
    const name = mapped ? mapped.target : column;
    const where = mapped ? mapped.pos : pos;
    const file = mapped ? manifestFile : path;
    const field = mapped ? `${raw.path}.columns.${column}` : column;
    if (name === null) t = { kind: 'drop' };
    else if (TASK_FIELDS.includes(name)) {
      t = { kind: 'field', name };
      const other = takenBy.get(name);
      const axis = entry.fieldAxes.get(name);
      if (other !== undefined) {
        problem(where, field, `columns '${other}' and '${column}' both give ${name}; drop one (columns: {${column}: null})`, file);
        t = { kind: 'drop' };
      } else if (axis && !raw.fields.has(name)) {
        problem(where, field, `${name} is set by this column and by the axis ${axis.path} (line ${axis.namePos.line}); drop the column (columns: {${column}: null}) or the axis`, file);
        entry.ok = false;
      }
      takenBy.set(name, column);
      if (name === 'prompt') sawPrompt = true;
    } else if (strict) {
      const hint = suggestionSuffix(name, TASK_FIELDS) || `; the columns are: ${TASK_FIELDS.join(', ')}`;
      problem(pos, name, `unknown column '${name}'${hint}`, path);
      t = { kind: 'drop' };
    } else {
      t = { kind: 'label', name };
      if (axisNames.has(name)) {
        problem(where, field, `column '${column}' has the same name as an axis of vars; rename it (columns: {${column}: sheet_${name}}) or the axis`, file);
        entry.ok = false;
      }
    }
    targets.set(column, t);
    return t;
  };
  const promptElsewhere = raw.fields.has('prompt') || ctx.defaults.has('prompt') || entry.fieldAxes.has('prompt');

  const header = (columns: SheetColumn[]): boolean => {
    const seen = new Map<string, number>();
    let fatal = false;
    columns.forEach((c, j) => {
      if (c.name === '') {
        problem(c.pos, '', `column ${j + 1} has no name in the header; name it or remove it`, path);
        targets.set('', { kind: 'drop' });
        return;
      }
      const before = seen.get(c.name);
      if (before !== undefined) {
        problem(c.pos, c.name, `column '${c.name}' appears twice in the header (columns ${before + 1} and ${j + 1})`, path);
        targets.set(c.name, { kind: 'drop' });
        return;
      }
      seen.set(c.name, j);
      if (strict && columns.length === 1 && /[;\t]/.test(c.name)) {
        problem(c.pos, c.name, `unknown column '${c.name}'; the file seems to use '${c.name.includes(';') ? ';' : '\\t'}' between columns, but vidbatch reads comma-separated files (in a YAML manifest, a sheet can set delimiter:)`, path);
        fatal = true;
        return;
      }
      classify(c.name, c.pos);
    });
    for (const [column, m] of sheet.columns) {
      if (!seen.has(column)) {
        const guess = didYouMean(column, [...seen.keys()]);
        problem(m.keyPos, `${raw.path}.columns.${column}`, `the sheet has no column '${column}'${guess ? `; did you mean '${guess}'?` : `; its columns are: ${[...seen.keys()].join(', ')}`}`);
        fatal = true;
      }
    }
    if (!sawPrompt && !promptElsewhere && !fatal) {
      // Once, at the header, rather than "prompt is required" on every row (and not at all
      // when "unknown column 'promt'; did you mean 'prompt'?" said it already).
      const misspelt = strict && [...seen.keys()].some((n) => n !== 'prompt' && didYouMean(n, TASK_FIELDS) === 'prompt');
      const hint = strict ? '' : `; map one: columns: {${[...seen.keys()][0] ?? 'text'}: prompt}`;
      // A CSV manifest is told at its header; a YAML sheet at its entry, where `columns:` goes.
      if (!misspelt && strict) problem(columns[0]?.pos ?? FILE_POS, 'prompt', 'the sheet has no `prompt` column', path);
      else if (!misspelt) problem(sheet.file.pos, `${raw.path}.columns`, `the sheet has no \`prompt\` column${hint}`);
      fatal = true;
    }
    return !fatal;
  };

  const entryLabels = Object.entries(entry.labels);
  let first = true;
  readSheet(input, text, { format, rowsPath, ...optionsOf(entry, ctx) }, {
    header,
    problem: (pos, field, message) => problem(pos, field, message, path),
    record: (rec) => {
      const unitPath = `${rowsPath}[${rec.index}]`;
      const cellFields = new Map<string, RawValue>();
      const vars = new Map<string, string | Template>(entryLabels);
      const labels = labelsCopy(entry.labels);
      for (const [column, rv] of rec.cells) {
        const t = classify(column, rv.keyPos);
        if (t.kind === 'drop') continue;
        rv.file = path;
        if (literal) rv.literal = true;
        if (t.kind === 'label') {
          labels[t.name] = asText(rv.value);
          vars.set(t.name, labels[t.name]!);
          continue;
        }
        const typed = rec.textual ? typeTextCell(t.name, rv) : rv.value === null ? undefined : rv;
        if (typed === undefined) {
          vars.set(t.name, ''); // an empty cell: no field, but {{column}} is still the column
          continue;
        }
        cellFields.set(t.name, typed);
        if (t.name !== 'prompt' && t.name !== 'negative_prompt') vars.set(t.name, asText(typed.value));
      }
      if (first && !rec.textual && !sawPrompt && !promptElsewhere) {
        const keys = [...rec.cells.keys()];
        problem(sheet.file.pos, `${raw.path}.columns`, `the records have no \`prompt\` (the first, line ${rec.start.line}, has ${keys.join(', ')}); map one: columns: {${didYouMean('prompt', keys) ?? keys[0] ?? 'text'}: prompt}`);
      }
      first = false;
      if (!entry.ok) return;
      const { fixed, ok } = chooseFields([raw.fields, cellFields], ctx.defaults, entry.fieldAxes, unitPath, problem, manifestFile);
      // {{prompt}} in the entry's own template is the row's cell, itself a template.
      for (const f of ['prompt', 'negative_prompt'] as const) {
        const cell = cellFields.get(f);
        if (cell && typeof cell.value === 'string') vars.set(f, cell.literal ? cell.value : templateVar(cell));
      }
      // A row's own takes, model or provider, unless the entry sets them for every row.
      // A bad one is reported and the row still checked, so that all its problems show.
      const model = entry.model ?? rowSetting(modelSchema, raw, cellFields, 'model', unitPath, problem) ?? ctx.top.model;
      const provider = entry.provider ?? rowSetting(providerSchema, raw, cellFields, 'provider', unitPath, problem) ?? ctx.top.provider;
      const takes = entry.takes ?? rowSetting(takesSchema, raw, cellFields, 'takes', unitPath, problem) ?? ctx.top.takes;
      if (!ok) return;
      visit({
        path: unitPath,
        file: path,
        start: rec.start,
        source: { file: path, line: rec.start.line },
        fixed,
        axes: entry.axes,
        fieldAxes: entry.fieldAxes,
        vars,
        labels,
        model,
        provider,
        takes,
      });
    },
  });
  // Read in two passes (checked and hashed, then parsed): say so if it changed in between.
  if (chunks && !chunks.intact()) problem(FILE_POS, '', 'the file changed while it was being read; read it again once it is saved', path);
  for (const [column, m] of sheet.columns) {
    if (format !== 'csv' && format !== 'tsv' && !mappingSeen.has(column)) {
      problem(m.keyPos, `${raw.path}.columns.${column}`, `no record of the sheet has a column '${column}'`);
    }
  }
}

function rowSetting<T>(schema: z.ZodType<T>, raw: RawEntry, cells: ReadonlyMap<string, RawValue>, key: string, unitPath: string, problem: Problem): T | undefined {
  const rv = raw.fields.has(key) ? undefined : cells.get(key);
  return rv === undefined ? undefined : setting(schema, rv, `${unitPath}.${key}`, problem);
}

const sheetFormat = z.enum(SHEET_FORMATS, { error: (iss) => `expected one of ${SHEET_FORMATS.join(', ')}, got ${String(iss.input)}` });

/** A cell used as {{prompt}} inside the entry's template: parsed (errors are reported when the cell is checked as a field). */
function templateVar(cell: RawValue): Template | string {
  const t = parseTemplate(cell.value as string, 'full');
  return 'message' in t ? (cell.value as string) : t;
}

function optionsOf(entry: Entry, ctx: SheetContext): { delimiter?: string; comment?: string; header?: boolean } {
  const s = entry.raw.sheet!;
  const out: { delimiter?: string; comment?: string; header?: boolean } = {};
  const one = z.string().length(1, { error: 'expected one character' });
  const d = setting(one, s.delimiter, `${entry.raw.path}.delimiter`, ctx.problem);
  const c = setting(one, s.comment, `${entry.raw.path}.comment`, ctx.problem);
  const h = setting(z.boolean({ error: 'expected true or false' }), s.header, `${entry.raw.path}.header`, ctx.problem);
  if (d !== undefined) out.delimiter = d;
  if (c !== undefined) out.comment = c;
  if (h !== undefined) out.header = h;
  return out;
}
