/**
 * The CSV record layer. csv-parse decides what the values are; a small scanner over the
 * same bytes finds where each record and cell starts, because csv-parse only reports
 * where a record *ends* (info.lines / info.bytes) and nothing about cells. The scanner
 * follows csv-parse's grammar for the options we pass (RFC 4180 quoting; CRLF, LF or CR
 * between records; an optional delimiter and whole-line comments), and each record's
 * cell count is cross-checked against csv-parse's.
 *
 * Records are handed over one at a time and positions are computed only when asked for,
 * so a million-row sheet costs a callback per row, not a million arrays kept alive.
 */
import { Parser } from 'csv-parse';
import { CsvError, parse } from 'csv-parse/sync';
import type { Options } from 'csv-parse/sync';
import type { Pos } from './raw.js';

const QUOTE = 0x22;
const CR = 0x0d;
const LF = 0x0a;

export interface CsvOptions {
  /** One character; default ','. */
  delimiter?: string;
  /** One character: lines that start with it are skipped. */
  comment?: string;
}

/** A position whose column (UTF-16 units from the line start) is worked out when read. */
class LazyPos implements Pos {
  readonly line: number;
  readonly #buf: Buffer;
  readonly #lineStart: number;
  readonly #offset: number;
  constructor(buf: Buffer, line: number, lineStart: number, offset: number) {
    this.#buf = buf;
    this.line = line;
    this.#lineStart = lineStart;
    this.#offset = offset;
  }
  get column(): number {
    return this.#buf.toString('utf8', this.#lineStart, this.#offset).length + 1;
  }
}

/** One CSV record with where it and each of its cells start. */
export interface CsvRecord {
  cells: string[];
  start: Pos;
  /** Where each cell starts (at its opening quote when quoted); undefined if the scanner disagreed with csv-parse. */
  cellPos: Pos[] | undefined;
  quoted: boolean[];
}

export interface CsvFailure {
  pos: Pos;
  message: string;
}

/**
 * Read every record of `buf` (UTF-8), calling `onRecord` for each in order. Malformed CSV
 * stops the reading; the records before it have been delivered, and the failure is returned.
 */
export function scanCsv(buf: Buffer, options: CsvOptions, onRecord: (r: CsvRecord) => void): CsvFailure | undefined {
  const delimiter = (options.delimiter ?? ',').charCodeAt(0);
  const comment = options.comment === undefined ? -1 : options.comment.charCodeAt(0);
  const scanner = new Scanner(buf, delimiter, comment);
  let inStep = true;
  let last: Pos = { line: 1, column: 1 };
  let failure: CsvError | undefined;
  const record = (cells: string[]): void => {
    const s = inStep ? scanner.record() : undefined;
    // Disagreement cannot happen for a record csv-parse accepted (same grammar; tested on
    // csv-spectrum and MovieGenBench). Should it ever, we stop trusting the scanner: later
    // records keep their values but point at the last position known to be right.
    const ok = s && !('error' in s) && s.cells.length === cells.length ? s : undefined;
    if (!ok) inStep = false;
    if (ok) last = ok.start;
    onRecord({ cells, start: ok ? ok.start : last, cellPos: ok?.cells, quoted: ok ? ok.quoted : cells.map(() => false) });
  };
  const parseOptions: Options = {
    delimiter: options.delimiter ?? ',',
    record_delimiter: ['\r\n', '\n', '\r'],
    relax_column_count: true, // we check the count ourselves, to report every bad row
    skip_empty_lines: true,
    ...(options.comment !== undefined ? { comment: options.comment, comment_no_infix: true } : {}),
  };
  try {
    // csv-parse's own parser, as its sync parse() runs it, with each record handed to us
    // as it is made. Through on_record, csv-parse would build an info object per record
    // (a third of its time) and keep none of the records either.
    const api = parserApi(parseOptions);
    if (api) {
      const error = api.parse(buf, true, record, () => {});
      if (error !== undefined) throw error;
    } else {
      parse(buf, {
        ...parseOptions,
        on_record: (cells: string[]) => {
          record(cells);
          return null;
        },
      });
    }
  } catch (e) {
    // Only csv-parse's own errors are the sheet's fault; one from the record callback (a
    // database that could not take a task) is rethrown as it is.
    if (!(e instanceof CsvError)) throw e;
    failure = e;
  }
  if (!failure) return undefined;
  const s = inStep ? scanner.record() : undefined;
  const at = s && 'error' in s ? s.at : inStep ? scanner.here() : last;
  return { pos: plain(at), message: csvErrorMessage(failure, s && 'error' in s ? s.error : undefined) };
}

/** The parse function of csv-parse's stream parser (csv-parse ≥ 5: `new Parser(options).api`), if this version has it. */
interface ParserApi {
  parse(buf: Buffer, end: boolean, push: (cells: string[]) => void, close: () => void): Error | undefined;
}
function parserApi(options: Options): ParserApi | undefined {
  const api = (new Parser(options) as unknown as { api?: Partial<ParserApi> }).api;
  return api && typeof api.parse === 'function' ? (api as ParserApi) : undefined;
}

/** All records at once, positions made plain: for tests and small files. */
export function readCsvRecords(text: string, options: CsvOptions = {}): { records: CsvRecord[]; failure?: CsvFailure } {
  const records: CsvRecord[] = [];
  const failure = scanCsv(Buffer.from(text, 'utf8'), options, (r) => {
    records.push({ ...r, start: plain(r.start), cellPos: r.cellPos?.map(plain) });
  });
  return failure ? { records, failure } : { records };
}

export const plain = (p: Pos): Pos => ({ line: p.line, column: p.column });

type ScanError = { error: 'unclosed' | 'after-quote' | 'quote-in-field'; at: Pos };

/**
 * Walks the bytes alongside csv-parse, counting lines as it goes. The loops work on
 * locals, jump with indexOf and create no closures: this runs over every byte of a
 * million-row sheet.
 */
class Scanner {
  #i = 0;
  #line = 1;
  #lineStart = 0;
  readonly #buf: Buffer;
  readonly #delimiter: number;
  readonly #comment: number;
  constructor(buf: Buffer, delimiter: number, comment: number) {
    this.#buf = buf;
    this.#delimiter = delimiter;
    this.#comment = comment;
  }

  here(): Pos {
    return new LazyPos(this.#buf, this.#line, this.#lineStart, this.#i);
  }

  /** The record at the cursor: where it and its cells start, or where it breaks the quoting rules. */
  record(): { start: Pos; cells: Pos[]; quoted: boolean[] } | ScanError {
    const b = this.#buf;
    const end = b.length;
    const delimiter = this.#delimiter;
    let i = this.#i;
    let line = this.#line;
    let lineStart = this.#lineStart;
    // Blank lines and comment lines, which csv-parse skips too.
    for (;;) {
      const c = b[i];
      if (c === CR || c === LF) {
        i += c === CR && b[i + 1] === LF ? 2 : 1;
        line++;
        lineStart = i;
      } else if (this.#comment >= 0 && c === this.#comment) {
        while (i < end && b[i] !== CR && b[i] !== LF) i++;
      } else break;
    }
    const start = new LazyPos(b, line, lineStart, i);
    const cells: Pos[] = [];
    const quoted: boolean[] = [];
    for (;;) {
      // The first cell starts where the record does: the same (immutable) position.
      cells.push(cells.length === 0 ? start : new LazyPos(b, line, lineStart, i));
      if (b[i] === QUOTE) {
        quoted.push(true);
        const openLine = line;
        const openLineStart = lineStart;
        const open = i;
        i++;
        for (;;) {
          const q = b.indexOf(QUOTE, i);
          // Line breaks inside the quotes still count as lines.
          for (let k = i; k < (q < 0 ? end : q); k++) {
            const c = b[k];
            if (c === LF || (c === CR && b[k + 1] !== LF)) {
              line++;
              lineStart = k + 1;
            }
          }
          if (q < 0) {
            this.#save(end, line, lineStart);
            return { error: 'unclosed', at: new LazyPos(b, openLine, openLineStart, open) };
          }
          if (b[q + 1] === QUOTE) {
            i = q + 2;
            continue;
          }
          i = q + 1;
          break;
        }
        const c = b[i];
        if (i < end && c !== delimiter && c !== CR && c !== LF) {
          this.#save(i, line, lineStart);
          return { error: 'after-quote', at: new LazyPos(b, line, lineStart, i) };
        }
      } else {
        quoted.push(false);
        for (;;) {
          const c = b[i];
          if (i >= end || c === delimiter || c === CR || c === LF) break;
          if (c === QUOTE) {
            this.#save(i, line, lineStart);
            return { error: 'quote-in-field', at: new LazyPos(b, line, lineStart, i) };
          }
          i++;
        }
      }
      if (i < end && b[i] === delimiter) {
        i++;
        continue;
      }
      // Past the line break (CRLF, LF or CR), if any.
      if (b[i] === CR || b[i] === LF) {
        i += b[i] === CR && b[i + 1] === LF ? 2 : 1;
        line++;
        lineStart = i;
      }
      this.#save(i, line, lineStart);
      return { start, cells, quoted };
    }
  }

  #save(i: number, line: number, lineStart: number): void {
    this.#i = i;
    this.#line = line;
    this.#lineStart = lineStart;
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
