import type { TaskRow } from '../store/index.js';

export const EXPORT_FORMATS = ['csv', 'jsonl'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** One task as exported: labels, state, taskId, file, sha256 and the input that was sent. */
export interface ExportRecord {
  run: string;
  seq: number;
  key: string;
  state: TaskRow['state'];
  labels: Record<string, string>;
  take: number;
  prompt: string;
  mode: string;
  duration: number | null;
  aspect_ratio: string | null;
  cfg_scale: number | null;
  negative_prompt: string | null;
  image_urls: string[];
  task_id: string | null;
  file: string | null;
  sha256: string | null;
  bytes: number | null;
  submits: number;
  fail_code: string | null;
  fail_msg: string | null;
  complete_time: string | null;
  expires_at: string | null;
  source: string;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function exportRecord(r: TaskRow): ExportRecord {
  return {
    run: r.run,
    seq: r.seq,
    key: r.key,
    state: r.state,
    labels: { ...r.labels },
    take: r.take,
    prompt: r.input.prompt,
    mode: r.input.mode,
    duration: r.input.duration ?? null,
    aspect_ratio: r.input.aspect_ratio ?? null,
    cfg_scale: r.input.cfg_scale ?? null,
    negative_prompt: r.input.negative_prompt ?? null,
    image_urls: r.input.image_urls ?? [],
    task_id: r.taskId,
    file: r.file,
    sha256: r.sha256,
    bytes: r.bytes,
    submits: r.submits,
    fail_code: r.failCode,
    fail_msg: r.failMsg,
    complete_time: iso(r.completeTime),
    expires_at: iso(r.expiresAt),
    source: `${r.source.file}:${r.source.line}`,
  };
}

/**
 * The rows to export: held in memory, or read from the store on each call (a CSV reads
 * them twice: its header names every label first), so a 100,000-task run is never held.
 */
export type ExportRows = readonly TaskRow[] | (() => Iterable<TaskRow>);

const passes = (rows: ExportRows): (() => Iterable<TaskRow>) => (typeof rows === 'function' ? rows : () => rows);

export function* jsonlLines(rows: ExportRows): Generator<string> {
  for (const r of passes(rows)()) yield JSON.stringify(exportRecord(r)) + '\n';
}

export function toJsonl(rows: ExportRows): string {
  return formatExport(rows, 'jsonl');
}

/**
 * A spreadsheet opens a cell that starts with = + - @ (or a tab or carriage return) as a
 * formula: such cells get a leading apostrophe (OWASP's advice), so a prompt cannot run
 * anything in Excel, LibreOffice or Google Sheets.
 */
export function neutraliseCell(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

/** RFC 4180: quoted when it holds a comma, a quote or a line break; quotes doubled. */
export function csvCell(value: string | number | null): string {
  if (value === null) return '';
  const text = neutraliseCell(String(value));
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

const FIXED = [
  'seq', 'key', 'state', 'take', 'prompt', 'mode', 'duration', 'aspect_ratio', 'cfg_scale', 'negative_prompt',
  'image_urls', 'task_id', 'file', 'sha256', 'bytes', 'submits', 'fail_code', 'fail_msg', 'complete_time', 'expires_at', 'source',
] as const;

/**
 * One header line, one line per task. Label columns come first, named after the label
 * (`label.<name>` when a label has the name of a fixed column); image URLs are joined by `|`.
 */
export function* csvLines(rows: ExportRows): Generator<string> {
  const pass = passes(rows);
  const labelNames = new Set<string>();
  for (const r of pass()) for (const k of Object.keys(r.labels)) labelNames.add(k);
  const fixed: readonly string[] = FIXED;
  const header = [...[...labelNames].map((n) => (fixed.includes(n) ? `label.${n}` : n)), ...FIXED];
  yield header.map(csvCell).join(',') + '\r\n';
  for (const r of pass()) {
    const e = exportRecord(r);
    const cells: (string | number | null)[] = [];
    for (const n of labelNames) cells.push(e.labels[n] ?? null);
    for (const f of FIXED) {
      const v = e[f];
      cells.push(Array.isArray(v) ? v.join('|') : v);
    }
    yield cells.map(csvCell).join(',') + '\r\n';
  }
}

export function toCsv(rows: ExportRows): string {
  return formatExport(rows, 'csv');
}

/** The export a line at a time, each ending in its line break. */
export function exportLines(rows: ExportRows, format: ExportFormat): Generator<string> {
  switch (format) {
    case 'csv':
      return csvLines(rows);
    case 'jsonl':
      return jsonlLines(rows);
    default: {
      const never: never = format;
      throw new Error(`unknown export format ${String(never)}`);
    }
  }
}

export function formatExport(rows: ExportRows, format: ExportFormat): string {
  return [...exportLines(rows, format)].join('');
}
