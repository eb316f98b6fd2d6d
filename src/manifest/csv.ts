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
 *
 * A large sheet is read in chunks (ByteChunks): csv-parse is fed each chunk as it comes
 * (it carries a record cut by a chunk's end over to the next), and the scanner reads a
 * window of the file — the bytes from the start of the line of the record it is at, plus
 * the new chunk — so that every record csv-parse hands over is whole in it. In a window
 * that is all ASCII, columns are known at once and the window's buffer is used again for
 * a later one; any other window is left to the positions that point into it, which still
 * say the right column whenever they are read.
 */
import { isAscii } from 'node:buffer';
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

/**
 * A position whose column (UTF-16 units from the line start) is worked out when read. With
 * no buffer, the bytes before it on its line are ASCII: one unit each (and nothing kept).
 */
class LazyPos implements Pos {
  readonly line: number;
  readonly #buf: Buffer | undefined;
  readonly #lineStart: number;
  readonly #offset: number;
  constructor(buf: Buffer | undefined, line: number, lineStart: number, offset: number) {
    this.#buf = buf;
    this.line = line;
    this.#lineStart = lineStart;
    this.#offset = offset;
  }
  get column(): number {
    const b = this.#buf;
    return (b === undefined ? this.#offset - this.#lineStart : b.toString('utf8', this.#lineStart, this.#offset).length) + 1;
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

/** A file's bytes (UTF-8), read in order, a chunk at a time. */
export interface ByteChunks {
  /** How many bytes to read at a time. */
  readonly chunkSize: number;
  /** The next bytes into buf[offset, offset + length): how many (fewer only at the end; 0 there). */
  read(buf: Buffer, offset: number, length: number): number;
}

/** Chunks of bytes in memory (tests). */
export function bufferChunks(bytes: Buffer, chunkSize: number): ByteChunks {
  let at = 0;
  return {
    chunkSize,
    read(buf, offset, length) {
      const n = bytes.copy(buf, offset, at, Math.min(bytes.length, at + length));
      at += n;
      return n;
    },
  };
}

const EMPTY = Buffer.alloc(0);

/**
 * A window over chunks of a file: the bytes kept from the previous window (a record or a
 * line not finished yet), then the next chunk. Two buffers take turns, so that memory stays
 * at about four chunks and makes no garbage; a buffer something may still point into
 * (`pinned`: positions to be read later) is left to them and a new one taken instead.
 */
export class ChunkWindow {
  #bytes: Buffer = EMPTY;
  #buf: Buffer | undefined;
  #spare: Buffer | undefined;

  get bytes(): Buffer {
    return this.#bytes;
  }

  /**
   * Moves on: keeps the bytes from `keepFrom` and reads the next chunk after them (more,
   * when more is kept: a record longer than many chunks is copied a few times, not once
   * per chunk). Returns how many bytes were kept — the new ones follow — or -1 at the end.
   */
  advance(chunks: ByteChunks, keepFrom: number, pinned: boolean): number {
    const old = this.#bytes;
    const keep = old.length - keepFrom;
    const want = Math.max(chunks.chunkSize, keep, 1);
    let next = this.#spare;
    if (next === undefined || next.length < keep + want) next = Buffer.allocUnsafeSlow(Math.max(keep + want, 2 * chunks.chunkSize));
    old.copy(next, 0, keepFrom);
    let n = 0;
    while (n < want) {
      const got = chunks.read(next, keep + n, want - n);
      if (got <= 0) break;
      n += got;
    }
    if (n === 0) {
      this.#spare = next;
      return -1;
    }
    this.#spare = pinned ? undefined : this.#buf;
    this.#buf = next;
    this.#bytes = next.subarray(0, keep + n);
    return keep;
  }
}

/**
 * What csv-parse is given at a time. It copies each piece (after the few bytes it held
 * back): pieces this small are copied into Node's shared 8 KiB pool and die young, where
 * 1 MiB copies would pile up in the old generation until a full collection.
 */
const FEED_BYTES = 4000;
const noop = (): void => {};

/**
 * Read every record of `input` (UTF-8: a buffer, or chunks read as they are needed),
 * calling `onRecord` for each in order. Malformed CSV stops the reading; the records
 * before it have been delivered, and the failure is returned.
 */
export function scanCsv(input: Buffer | ByteChunks, options: CsvOptions, onRecord: (r: CsvRecord) => void): CsvFailure | undefined {
  const delimiter = (options.delimiter ?? ',').charCodeAt(0);
  const comment = options.comment === undefined ? -1 : options.comment.charCodeAt(0);
  const chunks = Buffer.isBuffer(input) ? undefined : input;
  const scanner = new Scanner(chunks ? EMPTY : (input as Buffer), delimiter, comment);
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
    if (chunks) {
      const error = api ? feed(chunks, api, scanner, () => inStep, record) : undefined;
      if (error !== undefined) throw error;
      if (!api) {
        while (scanner.extend(chunks, 0));
        parse(scanner.bytes, { ...parseOptions, on_record: (cells: string[]) => (record(cells), null) });
      }
    } else if (api) {
      const error = api.parse(input as Buffer, true, record, noop);
      if (error !== undefined) throw error;
    } else {
      parse(input as Buffer, {
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
  // The scanner goes on from the record csv-parse stopped at: over the rest of the file,
  // as it would over a file read whole.
  if (chunks && inStep) while (scanner.extend(chunks, scanner.lineStart));
  const s = inStep ? scanner.record() : undefined;
  const at = s && 'error' in s ? s.at : inStep ? scanner.here() : last;
  return { pos: plain(at), message: csvErrorMessage(failure, s && 'error' in s ? s.error : undefined) };
}

/**
 * Chunk after chunk to csv-parse (as its stream parser does: end=false, then once with
 * end=true and no bytes), each read into the scanner's window first. Returns csv-parse's
 * error, if any.
 */
function feed(chunks: ByteChunks, api: ParserApi, scanner: Scanner, inStep: () => boolean, record: (cells: string[]) => void): Error | undefined {
  quickLookAhead(api);
  for (;;) {
    // Once the scanner is out of step it reads nothing more: keep nothing for it.
    const fresh = scanner.extend(chunks, inStep() ? scanner.lineStart : scanner.bytes.length);
    if (!fresh) return api.parse(undefined, true, record, noop);
    for (let at = 0; at < fresh.length; at += FEED_BYTES) {
      const error = api.parse(fresh.subarray(at, at + FEED_BYTES), false, record, noop);
      if (error !== undefined) return error;
    }
  }
}

/**
 * Fed a chunk at a time, csv-parse asks before every byte whether it must wait for more
 * (`__needMoreData`: the few bytes of look-ahead a CRLF or a doubled quote takes) — a
 * quarter of a second over a 100 MB sheet. Further from the chunk's end than it could
 * ever ask for, the answer is no: given at once there, and by csv-parse itself near the
 * end. Left as it is if this csv-parse is built differently.
 */
function quickLookAhead(api: ParserApi): void {
  const p = api as unknown as {
    __needMoreData?: unknown;
    state?: { needMoreDataSize?: unknown; recordDelimiterMaxLength?: unknown };
    options?: { quote?: { length: number } | null; escape?: { length: number } | null };
  };
  const original = p.__needMoreData;
  const state = p.state;
  if (typeof original !== 'function' || typeof state?.needMoreDataSize !== 'number' || typeof state.recordDelimiterMaxLength !== 'number') return;
  // More than the largest of what it takes the max of (sizes fixed by the options we pass).
  const most = state.needMoreDataSize + state.recordDelimiterMaxLength + (p.options?.quote?.length ?? 0) + (p.options?.escape?.length ?? 0) + 2;
  p.__needMoreData = function (this: unknown, i: number, bufLen: number, end: boolean): boolean {
    return !end && bufLen - i - 1 < most ? (original as (i: number, n: number, e: boolean) => boolean).call(this, i, bufLen, end) : false;
  };
}

/** The parse function of csv-parse's stream parser (csv-parse ≥ 5: `new Parser(options).api`), if this version has it. */
interface ParserApi {
  parse(buf: Buffer | undefined, end: boolean, push: (cells: string[]) => void, close: () => void): Error | undefined;
}
function parserApi(options: Options): ParserApi | undefined {
  const api = (new Parser(options) as unknown as { api?: Partial<ParserApi> }).api;
  return api && typeof api.parse === 'function' ? (api as ParserApi) : undefined;
}

/** All records at once, positions made plain: for tests and small files (read in chunks of `chunkSize` bytes if given). */
export function readCsvRecords(text: string, options: CsvOptions = {}, chunkSize?: number): { records: CsvRecord[]; failure?: CsvFailure } {
  const records: CsvRecord[] = [];
  const bytes = Buffer.from(text, 'utf8');
  const failure = scanCsv(chunkSize === undefined ? bytes : bufferChunks(bytes, chunkSize), options, (r) => {
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
  #buf: Buffer;
  /** Reading chunks: the window, and whether it is all ASCII (columns are then known at once). */
  #window: ChunkWindow | undefined;
  #ascii = false;
  readonly #delimiter: number;
  readonly #comment: number;
  constructor(buf: Buffer, delimiter: number, comment: number) {
    this.#buf = buf;
    this.#delimiter = delimiter;
    this.#comment = comment;
  }

  /** The bytes read so far (from the window's start). */
  get bytes(): Buffer {
    return this.#buf;
  }

  /** Where the line of the cursor starts (at or before it). */
  get lineStart(): number {
    return this.#lineStart;
  }

  /**
   * Moves on to the next window of `chunks`, which keeps the bytes from `keepFrom` (at or
   * before the line start, unless the scanner is no longer used); returns the new bytes, or
   * undefined at the end.
   */
  extend(chunks: ByteChunks, keepFrom: number): Buffer | undefined {
    const window = (this.#window ??= new ChunkWindow());
    // Positions made in a window that is not all ASCII read its bytes later: keep it for them.
    const kept = window.advance(chunks, keepFrom, !this.#ascii);
    if (kept < 0) return undefined;
    this.#buf = window.bytes;
    this.#ascii = isAscii(this.#buf);
    this.#i -= keepFrom;
    this.#lineStart -= keepFrom;
    return this.#buf.subarray(kept);
  }

  here(): Pos {
    return new LazyPos(this.#ascii ? undefined : this.#buf, this.#line, this.#lineStart, this.#i);
  }

  /** The record at the cursor: where it and its cells start, or where it breaks the quoting rules. */
  record(): { start: Pos; cells: Pos[]; quoted: boolean[] } | ScanError {
    const b = this.#buf;
    const end = b.length;
    const delimiter = this.#delimiter;
    const lazy = this.#ascii ? undefined : b;
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
    const start = new LazyPos(lazy, line, lineStart, i);
    const cells: Pos[] = [];
    const quoted: boolean[] = [];
    for (;;) {
      // The first cell starts where the record does: the same (immutable) position.
      cells.push(cells.length === 0 ? start : new LazyPos(lazy, line, lineStart, i));
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
            return { error: 'unclosed', at: new LazyPos(lazy, openLine, openLineStart, open) };
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
          return { error: 'after-quote', at: new LazyPos(lazy, line, lineStart, i) };
        }
      } else {
        quoted.push(false);
        for (;;) {
          const c = b[i];
          if (i >= end || c === delimiter || c === CR || c === LF) break;
          if (c === QUOTE) {
            this.#save(i, line, lineStart);
            return { error: 'quote-in-field', at: new LazyPos(lazy, line, lineStart, i) };
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
