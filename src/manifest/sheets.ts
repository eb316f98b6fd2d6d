/**
 * Sheet files → records of named cells with positions, one record at a time.
 *
 *   .csv / .tsv  a header row of column names (or `header: false`: columns 1, 2, 3…)
 *   .jsonl       one JSON object a line
 *   .json        a list of objects, or an object of objects (its keys become column `id`)
 *   .txt         one prompt a line (column `prompt`); blank lines skipped
 *
 * Nested objects in JSON are flattened to dotted columns (`attributes.count`). CSV and TXT
 * cells are text; what they become (a number for duration, a list for image_urls) depends
 * on the field they are mapped to, which is decided by the caller.
 *
 * CSV, TSV, JSONL and TXT can also be read in chunks (a large sheet: memory does not grow
 * with its size), with the same records, values and positions as when read whole.
 */
import { LineCounter, isMap, isScalar, isSeq, parseDocument } from 'yaml';
import type { Node } from 'yaml';
import { ChunkWindow, plain, scanCsv } from './csv.js';
import type { ByteChunks } from './csv.js';
import { FILE_POS, describe } from './raw.js';
import type { Pos, RawValue } from './raw.js';
import type { SheetFormat } from './document.js';
import { cleanYamlMessage } from './yaml.js';

export interface SheetRecord {
  /** 0-based among data records (the header is not one). */
  index: number;
  start: Pos;
  cells: Map<string, RawValue>;
  /** CSV and TXT: every value is text as written; JSON: typed. */
  textual: boolean;
}

export interface SheetColumn {
  name: string;
  pos: Pos;
}

export interface SheetSink {
  /** CSV: the header, before any record (JSON formats have no fixed header). */
  header?(columns: SheetColumn[]): boolean;
  record(r: SheetRecord): void;
  problem(pos: Pos, field: string, message: string): void;
}

export interface SheetOptions {
  format: SheetFormat;
  delimiter?: string;
  comment?: string;
  header?: boolean;
  /** Issue field prefix for rows: `rows` (a CSV manifest) or `sheets[0].rows`. */
  rowsPath: string;
}

export function formatFromName(file: string): SheetFormat | undefined {
  const m = /\.([A-Za-z0-9]+)$/.exec(file);
  const ext = m?.[1]?.toLowerCase();
  return ext === 'csv' || ext === 'tsv' || ext === 'jsonl' || ext === 'json' || ext === 'txt' ? ext : ext === 'ndjson' ? 'jsonl' : undefined;
}

/**
 * Read the records of a sheet: `input` is its UTF-8 bytes (and `text` the same as text),
 * or its bytes in chunks — any format but .json (read whole).
 */
export function readSheet(input: Buffer | ByteChunks, text: () => string, o: SheetOptions, sink: SheetSink): void {
  const whole = Buffer.isBuffer(input);
  switch (o.format) {
    case 'csv':
    case 'tsv':
      return readCsvSheet(input, o, sink);
    case 'jsonl':
      return readJsonl(whole ? text() : input, o, sink);
    case 'json':
      return readJson(text(), o, sink);
    case 'txt':
      return readTxt(whole ? text() : input, sink);
    default: {
      const never: never = o.format;
      return never;
    }
  }
}

function readCsvSheet(input: Buffer | ByteChunks, o: SheetOptions, sink: SheetSink): void {
  const delimiter = o.delimiter ?? (o.format === 'tsv' ? '\t' : ',');
  let columns: SheetColumn[] | undefined;
  let width = 0;
  let index = 0;
  let stop = false;
  let sawRecord = false;
  const failure = scanCsv(input, { delimiter, ...(o.comment !== undefined ? { comment: o.comment } : {}) }, (r) => {
    sawRecord = true;
    if (stop) return;
    if (columns === undefined) {
      const headerRow = o.header !== false;
      // Plain positions: kept to the end, they would keep the header's chunk of the file.
      columns = r.cells.map((c, j) => ({ name: headerRow ? c.trim() : String(j + 1), pos: plain(r.cellPos?.[j] ?? r.start) }));
      width = columns.length;
      stop = sink.header ? !sink.header(columns) : false;
      if (headerRow || stop) return;
    }
    const i = index++;
    // Spreadsheets export blank rows as ",,,": not a task, not an error.
    if (isBlank(r.cells)) return;
    if (r.cells.length !== width) {
      const n = r.cells.length;
      const hint = delimiter === ',' ? ' (a comma inside a value needs quotes: "a, b")' : '';
      sink.problem(r.start, `${o.rowsPath}[${i}]`, `the row has ${n} cell${n === 1 ? '' : 's'}; the header has ${width}${hint}`);
      return;
    }
    const cells = new Map<string, RawValue>();
    for (let j = 0; j < r.cells.length; j++) {
      const cell = r.cells[j]!;
      const col = columns[j]!;
      const pos = r.cellPos?.[j] ?? r.start;
      const rv: RawValue = { value: cell, pos, keyPos: col.pos };
      // Exact while the cell is on one line with no doubled quote; templates use it for errors.
      if (!ONE_LINE_BREAK_OR_QUOTE.test(cell)) rv.text = { at: pos, shift: r.quoted[j] ? 1 : 0 };
      cells.set(col.name, rv);
    }
    sink.record({ index: i, start: r.start, cells, textual: true });
  });
  if (failure) sink.problem(failure.pos, '', failure.message);
  else if (!sawRecord) sink.problem(FILE_POS, '', 'the sheet is empty; it needs a header row (e.g. `prompt,duration`) and one row per task');
  else if (index === 0 && !stop && o.header !== false) sink.problem(FILE_POS, '', 'the sheet has a header but no rows; add one row per task');
}

const ONE_LINE_BREAK_OR_QUOTE = /["\r\n]/;

function isBlank(cells: readonly string[]): boolean {
  for (const c of cells) if (c.trim() !== '') return false;
  return true;
}

/** `{a: {b: 1}}` → `a.b: 1`; lists and scalars stay as they are. */
function flatten(prefix: string, value: unknown, pos: Pos, keyPos: Pos, out: Map<string, RawValue>): void {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(prefix ? `${prefix}.${k}` : k, v, pos, keyPos, out);
    return;
  }
  out.set(prefix, { value, pos, keyPos });
}

/** Each line of the text (ends: CRLF, LF or CR) with its 0-based number, as `text.split(/\r\n|\n|\r/)` gives them. */
function forEachLine(input: string | ByteChunks, onLine: (line: string, n: number) => void): void {
  if (typeof input === 'string') {
    input.split(/\r\n|\n|\r/).forEach(onLine);
    return;
  }
  const window = new ChunkWindow();
  let start = 0; // of the current line, in the window
  let n = 0;
  for (;;) {
    const end = window.advance(input, start, false) < 0;
    if (!end) start = 0;
    const b = window.bytes;
    for (let i = start; i < b.length; i++) {
      const c = b[i];
      if (c !== 0x0a && c !== 0x0d) continue;
      // A CR at the end of the window may be the first half of a CRLF: wait for the next chunk.
      if (c === 0x0d && i + 1 === b.length && !end) break;
      onLine(b.toString('utf8', start, i), n++);
      if (c === 0x0d && b[i + 1] === 0x0a) i++;
      start = i + 1;
    }
    if (end) {
      onLine(b.toString('utf8', start), n);
      return;
    }
  }
}

function readJsonl(input: string | ByteChunks, o: SheetOptions, sink: SheetSink): void {
  let index = 0;
  forEachLine(input, (line, n) => {
    if (line.trim() === '') return;
    const i = index++;
    const lineNo = n + 1;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      // V8 says where ("… at position 12") for most errors; the end of the line otherwise.
      const m = /at position (\d+)/.exec((e as Error).message);
      const at = m ? Number(m[1]) : line.length;
      sink.problem({ line: lineNo, column: at + 1 }, `${o.rowsPath}[${i}]`, `invalid JSON: ${(e as Error).message.replace(/ in JSON at position \d+.*$/, '').replace(/^SyntaxError: /, '')}`);
      return;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      sink.problem({ line: lineNo, column: 1 + line.length - line.trimStart().length }, `${o.rowsPath}[${i}]`, `expected a JSON object (one task a line, e.g. {"prompt": "..."}), got ${describe(value)}`);
      return;
    }
    const spans = topLevelSpans(line);
    const cells = new Map<string, RawValue>();
    for (const [k, v] of Object.entries(value)) {
      const span = spans.get(k);
      const keyPos = { line: lineNo, column: (span?.key ?? 0) + 1 };
      const pos = { line: lineNo, column: (span?.value ?? 0) + 1 };
      const before = cells.size;
      flatten(k, v, pos, keyPos, cells);
      // A JSON string without escapes is written as is between its quotes.
      if (cells.size > before && typeof v === 'string' && span && line.slice(span.value + 1, span.value + 1 + v.length) === v) {
        cells.get(k)!.text = { at: pos, shift: 1 };
      }
    }
    sink.record({ index: i, start: { line: lineNo, column: 1 + line.length - line.trimStart().length }, cells, textual: false });
  });
}

/** Where each top-level key and its value start in a one-line JSON object (0-based). */
function topLevelSpans(line: string): Map<string, { key: number; value: number }> {
  const out = new Map<string, { key: number; value: number }>();
  let depth = 0;
  let i = 0;
  let pendingKey: { name: string; at: number } | undefined;
  let expectKey = false;
  while (i < line.length) {
    const c = line[i]!;
    if (c === '"') {
      const start = i;
      i++;
      while (i < line.length && line[i] !== '"') i += line[i] === '\\' ? 2 : 1;
      i++;
      if (depth === 1 && expectKey) {
        try {
          pendingKey = { name: JSON.parse(line.slice(start, i)) as string, at: start };
        } catch {
          pendingKey = undefined;
        }
        expectKey = false;
      } else if (depth === 1 && pendingKey) {
        out.set(pendingKey.name, { key: pendingKey.at, value: start });
        pendingKey = undefined;
      }
      continue;
    }
    if (c === '{' || c === '[') {
      if (depth === 1 && pendingKey) {
        out.set(pendingKey.name, { key: pendingKey.at, value: i });
        pendingKey = undefined;
      }
      depth++;
      if (depth === 1) expectKey = true;
    } else if (c === '}' || c === ']') depth--;
    else if (c === ',' && depth === 1) expectKey = true;
    else if (depth === 1 && pendingKey && c !== ':' && c !== ' ' && c !== '\t') {
      out.set(pendingKey.name, { key: pendingKey.at, value: i });
      pendingKey = undefined;
    }
    i++;
  }
  return out;
}

function readJson(text: string, o: SheetOptions, sink: SheetSink): void {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, logLevel: 'error' });
  const at = (node: unknown, fallback: Pos): Pos => {
    const range = (node as { range?: [number, number, number] } | null)?.range;
    if (!range) return fallback;
    const p = lineCounter.linePos(range[0]);
    return { line: p.line, column: p.col };
  };
  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      const p = lineCounter.linePos(e.pos[0]);
      sink.problem({ line: p.line, column: p.col }, '', `invalid JSON: ${cleanYamlMessage(e.message)}`);
    }
    return;
  }
  const top = doc.contents;
  const items: { node: Node; id?: string; keyPos?: Pos }[] = [];
  if (isSeq(top)) for (const n of top.items) items.push({ node: n as Node });
  else if (isMap(top)) {
    for (const pair of top.items) {
      const k = isScalar(pair.key) ? String(pair.key.value) : '';
      items.push({ node: pair.value as Node, id: k, keyPos: at(pair.key, FILE_POS) });
    }
  } else {
    sink.problem(at(top, FILE_POS), '', `expected a list of objects (one per task), got ${describe(isScalar(top) ? top.value : top)}`);
    return;
  }
  if (items.length === 0) sink.problem(at(top, FILE_POS), '', 'the sheet has no records; add one object per task');
  items.forEach(({ node, id, keyPos }, i) => {
    const start = at(node, keyPos ?? FILE_POS);
    if (!isMap(node)) {
      sink.problem(start, `${o.rowsPath}[${i}]`, `expected an object (one task), got ${describe(isScalar(node) ? node.value : node)}`);
      return;
    }
    const cells = new Map<string, RawValue>();
    if (id !== undefined && !node.has('id')) cells.set('id', { value: id, pos: keyPos ?? start, keyPos: keyPos ?? start });
    for (const pair of node.items) {
      if (!isScalar(pair.key)) continue;
      const k = String(pair.key.value);
      const kp = at(pair.key, start);
      const vp = at(pair.value, kp);
      flatten(k, (pair.value as Node | null)?.toJSON?.() ?? null, vp, kp, cells);
    }
    sink.record({ index: i, start, cells, textual: false });
  });
}

function readTxt(input: string | ByteChunks, sink: SheetSink): void {
  let index = 0;
  forEachLine(input, (line, n) => {
    if (line.trim() === '') return;
    const pos = { line: n + 1, column: 1 };
    const rv: RawValue = { value: line, pos, keyPos: pos, text: { at: pos, shift: 0 } };
    sink.record({ index: index++, start: pos, cells: new Map([['prompt', rv]]), textual: true });
  });
  if (index === 0) sink.problem(FILE_POS, '', 'the file has no prompts; write one prompt a line');
}
