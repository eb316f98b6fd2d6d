/**
 * CSV manifest → RawManifest. csv-parse decides what the values are; a small scanner
 * over the same bytes finds where each record and cell starts, because csv-parse only
 * reports where a record *ends* (info.lines / info.bytes) and nothing about cells.
 * The scanner follows csv-parse's default grammar (RFC 4180 quoting; CRLF, LF or CR
 * between records), and each record's cell count is cross-checked against csv-parse's.
 *
 * Cells are typed here, because typing is a CSV matter: numbers for duration, cfg_scale
 * and takes; `a|b` for image_urls; empty cell = field absent. A cell that does not look
 * like a number stays text, so validation can say "expected 5 or 10, got 'ten'".
 */
import { parse } from 'csv-parse/sync';
import type { CsvError } from 'csv-parse/sync';
import { TASK_FIELDS } from './schema.js';
import { FILE_POS, issueAt } from './raw.js';
import type { Pos, RawManifest, RawRow, RawValue } from './raw.js';
import { didYouMean, suggestionSuffix } from './suggest.js';

const QUOTE = 0x22;
const COMMA = 0x2c;
const CR = 0x0d;
const LF = 0x0a;

const NUMBER_COLUMNS = new Set(['duration', 'cfg_scale', 'takes']);
/** Kept byte-for-byte: prose, where leading or trailing spaces may be intended. */
const TEXT_COLUMNS = new Set(['prompt', 'negative_prompt']);
const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

interface Scanned {
  /** Byte offset where each cell starts (at its opening quote when quoted). */
  cells: number[];
  /** Byte offset just past the record's line break. */
  next: number;
}
interface ScanError {
  error: 'unclosed' | 'after-quote' | 'quote-in-field';
  at: number;
}

/** One CSV record with where it and each of its cells start. */
export interface CsvRecord {
  cells: string[];
  start: Pos;
  /** Where each cell starts (at its opening quote when quoted); undefined if the scanner disagreed with csv-parse. */
  cellPos: Pos[] | undefined;
  quoted: boolean[];
}

export interface CsvRecords {
  records: CsvRecord[];
  /** Malformed CSV stops the reading; the records before it are still returned. */
  failure?: { pos: Pos; message: string };
}

/** The record layer, shared by the manifest reader and (next) sheets with their own columns. */
export function readCsvRecords(text: string): CsvRecords {
  const buf = Buffer.from(text, 'utf8');
  const posAt = bytePositions(buf);
  const cells: string[][] = [];
  let failure: CsvError | undefined;
  try {
    parse(buf, {
      record_delimiter: ['\r\n', '\n', '\r'],
      relax_column_count: true, // we check the count ourselves, to report every bad row
      skip_empty_lines: true,
      on_record: (record: string[]) => {
        cells.push(record);
        return null;
      },
    });
  } catch (e) {
    if (!(e instanceof Error) || !('code' in e)) throw e;
    failure = e as CsvError;
  }

  // Walk the same bytes to find where each accepted record and its cells start.
  const records: CsvRecord[] = [];
  let cursor = 0;
  let inStep = true;
  for (const record of cells) {
    cursor = skipBlankLines(buf, cursor);
    const s = inStep ? scanRecord(buf, cursor) : undefined;
    // Disagreement cannot happen for a record csv-parse accepted (same grammar; tested on
    // csv-spectrum and MovieGenBench). Should it ever, we stop trusting the scanner: later
    // records keep their values but point at the last position known to be right.
    if (!s || 'error' in s || s.cells.length !== record.length) inStep = false;
    const ok = s && !('error' in s) && s.cells.length === record.length ? s : undefined;
    records.push({
      cells: record,
      start: posAt(ok ? cursor : Math.min(cursor, buf.length)),
      cellPos: ok?.cells.map(posAt),
      quoted: ok ? ok.cells.map((o) => buf[o] === QUOTE) : record.map(() => false),
    });
    if (ok) cursor = ok.next;
  }
  if (!failure) return { records };
  const from = skipBlankLines(buf, cursor);
  const s = inStep ? scanRecord(buf, from) : undefined;
  const at = s && 'error' in s ? s.at : from;
  return { records, failure: { pos: posAt(at), message: csvErrorMessage(failure, s && 'error' in s ? s.error : undefined) } };
}

export function readCsv(file: string, text: string): RawManifest {
  const raw: RawManifest = { file, defaults: new Map(), unknownTop: new Map(), rows: [], issues: [] };
  const problem = (pos: Pos, field: string, message: string): void => {
    raw.issues.push(issueAt(file, pos, field, message));
  };
  const { records, failure } = readCsvRecords(text);
  if (failure) problem(failure.pos, '', failure.message);

  const header = records[0];
  if (header === undefined) {
    if (!failure) problem(FILE_POS, '', 'the sheet is empty; it needs a header row (e.g. `prompt,duration`) and one row per task');
    return raw;
  }
  const headerPos = (j: number): Pos => header.cellPos?.[j] ?? header.start;

  // The header: which column is which field; problems reported at the header cell.
  const columns: (string | undefined)[] = [];
  const seen = new Map<string, number>();
  header.cells.forEach((cell, j) => {
    const name = cell.trim();
    const pos = headerPos(j);
    columns.push(undefined);
    if (name === '') return problem(pos, '', `column ${j + 1} has no name in the header; name it or remove it`);
    const before = seen.get(name);
    if (before !== undefined) return problem(pos, name, `column '${name}' appears twice in the header (columns ${before + 1} and ${j + 1})`);
    seen.set(name, j);
    if (!TASK_FIELDS.includes(name)) {
      const delimiter = header.cells.length === 1 && /[;\t]/.test(name) ? `; the file seems to use '${name.includes(';') ? ';' : '\\t'}' between columns, but vidbatch reads comma-separated files` : '';
      const hint = delimiter || suggestionSuffix(name, TASK_FIELDS) || `; the columns are: ${TASK_FIELDS.join(', ')}`;
      return problem(pos, name, `unknown column '${name}'${hint}`);
    }
    columns[j] = name;
  });
  if (!seen.has('prompt')) {
    // Every row would say "prompt is required"; once, at the header, is the useful form
    // (and not at all when "unknown column 'promt'; did you mean 'prompt'?" said it).
    const misspelt = [...seen.keys()].some((n) => n !== 'prompt' && didYouMean(n, TASK_FIELDS) === 'prompt');
    const wrongDelimiter = header.cells.length === 1 && /[;\t]/.test(header.cells[0] ?? '');
    if (!misspelt && !wrongDelimiter) problem(header.start, 'prompt', 'the sheet has no `prompt` column');
    return raw;
  }
  if (records.length === 1 && !failure) {
    problem(FILE_POS, '', 'the sheet has a header but no rows; add one row per task');
    return raw;
  }

  records.slice(1).forEach((record, i) => {
    const { cells, start } = record;
    const path = `rows[${i}]`;
    // Spreadsheets export blank rows as ",,,": not a task, not an error.
    if (cells.every((c) => c.trim() === '')) return;
    if (cells.length !== header.cells.length) {
      const n = cells.length;
      problem(start, path, `the row has ${n} cell${n === 1 ? '' : 's'}; the header has ${header.cells.length} (a comma inside a value needs quotes: "a, b")`);
      return;
    }
    const row: RawRow = { path, start, fields: new Map(), labels: {} };
    cells.forEach((cell, j) => {
      const name = columns[j];
      if (name === undefined) return;
      const rv = typeCell(name, cell, record.cellPos?.[j] ?? start, headerPos(j), record.quoted[j] ?? false);
      if (rv) row.fields.set(name, rv);
    });
    raw.rows.push(row);
  });
  return raw;
}

/** A cell as a typed value, or undefined when the cell is empty (= field absent). */
function typeCell(name: string, cell: string, pos: Pos, keyPos: Pos, quoted: boolean): RawValue | undefined {
  if (TEXT_COLUMNS.has(name)) return cell === '' ? undefined : { value: cell, pos, keyPos };
  const trimmed = cell.trim();
  if (trimmed === '') return undefined;
  if (NUMBER_COLUMNS.has(name)) return { value: NUMBER.test(trimmed) ? Number(trimmed) : trimmed, pos, keyPos };
  if (name === 'image_urls') {
    const value: string[] = [];
    const items: Pos[] = [];
    let offset = 0;
    for (const part of cell.split('|')) {
      const lead = part.length - part.trimStart().length;
      value.push(part.trim());
      // Exact while the cell has no line break or doubled quote before this part; close enough otherwise.
      items.push({ line: pos.line, column: pos.column + (quoted ? 1 : 0) + offset + lead });
      offset += part.length + 1;
    }
    return { value, pos, keyPos, items };
  }
  return { value: trimmed, pos, keyPos };
}

function skipBlankLines(buf: Buffer, i: number): number {
  while (i < buf.length && (buf[i] === CR || buf[i] === LF)) i++;
  return i;
}

/** Past the line break at i (CRLF, LF or CR), if any. */
function pastBreak(buf: Buffer, i: number): number {
  if (buf[i] === CR) return buf[i + 1] === LF ? i + 2 : i + 1;
  return buf[i] === LF ? i + 1 : i;
}

/** Cell starts of the record at `start`, or where and how it breaks the quoting rules. */
export function scanRecord(buf: Buffer, start: number): Scanned | ScanError {
  const cells = [start];
  let i = start;
  for (;;) {
    if (buf[i] === QUOTE) {
      const open = i;
      i++;
      for (;;) {
        if (i >= buf.length) return { error: 'unclosed', at: open };
        if (buf[i] === QUOTE) {
          if (buf[i + 1] === QUOTE) i += 2;
          else {
            i++;
            break;
          }
        } else i++;
      }
      if (i < buf.length && buf[i] !== COMMA && buf[i] !== CR && buf[i] !== LF) return { error: 'after-quote', at: i };
    } else {
      while (i < buf.length && buf[i] !== COMMA && buf[i] !== CR && buf[i] !== LF) {
        if (buf[i] === QUOTE) return { error: 'quote-in-field', at: i };
        i++;
      }
    }
    if (buf[i] === COMMA) {
      i++;
      cells.push(i);
      continue;
    }
    return { cells, next: pastBreak(buf, i) };
  }
}

function csvErrorMessage(e: CsvError, kind: ScanError['error'] | undefined): string {
  if (kind === 'unclosed' || e.code === 'CSV_QUOTE_NOT_CLOSED') {
    return 'malformed CSV: a quoted value starts here but never ends (a quote inside a quoted value is written twice: "")';
  }
  if (kind === 'after-quote' || e.code === 'CSV_INVALID_CLOSING_QUOTE') {
    return 'malformed CSV: unexpected text after a closing quote (a quote inside a quoted value is written twice: "")';
  }
  if (kind === 'quote-in-field' || e.code === 'INVALID_OPENING_QUOTE') {
    return 'malformed CSV: a quote inside an unquoted value; put the whole value in quotes and write the inner quote twice: ""';
  }
  return `malformed CSV: ${e.message}`;
}

/** Byte offset → 1-based line and column (UTF-16 units), lines ending at CRLF, LF or CR. */
function bytePositions(buf: Buffer): (offset: number) => Pos {
  const lineStarts = [0];
  for (let i = 0; i < buf.length; i++) {
    if (buf[i] === LF || (buf[i] === CR && buf[i + 1] !== LF)) lineStarts.push(i + 1);
  }
  return (offset) => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((lineStarts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    const lineStart = lineStarts[lo] ?? 0;
    return { line: lo + 1, column: buf.toString('utf8', lineStart, offset).length + 1 };
  };
}
