import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../core/errors.js';
import { ALL_STATES, type TaskState } from '../core/lifecycle.js';
import type { StateCounts, TaskRow } from '../store/index.js';

/**
 * The gallery's data: every task of a run as a card, and the dimensions a person can lay
 * them out on (X/Y) or filter by. Labels from the manifest's variations come first; the
 * input's own parameters (aspect ratio, duration, take…) are the fallback axes.
 */
export interface GalleryItem {
  key: string;
  seq: number;
  state: TaskState;
  /** The MP4, relative to index.html; null unless archived and on disk. */
  file: string | null;
  /** A JPEG frame, relative to index.html, when ffmpeg made one. */
  poster: string | null;
  prompt: string;
  /** Parameters as shown under the video, in a fixed order. */
  params: [string, string][];
  labels: Record<string, string>;
  /** The item's value on every dimension ('' when it has none). */
  dims: Record<string, string>;
  taskId: string | null;
  /** Why it failed, or what it waits for (in_doubt, missing file); null when archived. */
  note: string | null;
  source: string;
}

export interface GalleryDimension {
  name: string;
  kind: 'label' | 'param' | 'state';
  /** Distinct values in display order ('' = none). */
  values: string[];
}

/** Where a page stands in a gallery too big for one page (absent when one page holds it all). */
export interface GalleryPaging {
  /** This page, from 1, of `pages`. */
  page: number;
  pages: number;
  /** Its first and last task by position in the run (from 1), of `total`. */
  from: number;
  to: number;
  total: number;
}

export interface GalleryData {
  run: string;
  generatedAt: string;
  x: string | null;
  y: string | null;
  /** The run's dimensions; on a page of a paged gallery, with the values found on that page. */
  dimensions: GalleryDimension[];
  /** The whole run's, on every page. */
  counts: StateCounts;
  items: GalleryItem[];
  paging?: GalleryPaging;
}

/** Input parameters that can be axes, in the order they are preferred as default axes. */
const PARAM_DIMS = ['aspect_ratio', 'duration', 'take', 'cfg_scale', 'mode', 'negative_prompt', 'prompt'] as const;
const NUMERIC = new Set(['duration', 'take', 'cfg_scale']);

function paramValue(row: TaskRow, name: (typeof PARAM_DIMS)[number]): string {
  switch (name) {
    case 'take':
      return String(row.take);
    case 'aspect_ratio':
      return row.input.aspect_ratio ?? '';
    case 'duration':
      return row.input.duration === undefined ? '' : String(row.input.duration);
    case 'cfg_scale':
      return row.input.cfg_scale === undefined ? '' : String(row.input.cfg_scale);
    case 'mode':
      return row.input.mode;
    case 'negative_prompt':
      return row.input.negative_prompt ?? '';
    case 'prompt':
      return row.input.prompt;
    default: {
      const never: never = name;
      throw new Error(`unknown parameter ${String(never)}`);
    }
  }
}

function noteOf(row: TaskRow, fileMissing: boolean): string | null {
  switch (row.state) {
    case 'archived':
      return fileMissing ? `archived, but ${row.file ?? 'the file'} is not in this folder any more` : null;
    case 'failed': {
      const code = row.failCode ?? row.failReason ?? 'failed';
      return row.failMsg ? `${code}: ${row.failMsg}` : code;
    }
    case 'in_doubt':
      return 'in_doubt: the POST may have created a task whose id we never saw; check with the provider before retrying';
    case 'planned':
      return 'planned: not sent yet';
    case 'submitting':
      return 'submitting: the POST was in flight';
    case 'submitted':
      return `submitted${row.taskId ? ` as ${row.taskId}` : ''}: generating`;
    case 'succeeded':
      return 'succeeded: waiting for download';
    default: {
      const never: never = row.state;
      throw new Error(`unknown state ${String(never)}`);
    }
  }
}

function paramsOf(row: TaskRow): [string, string][] {
  const i = row.input;
  const out: [string, string][] = [['mode', i.mode]];
  if (i.duration !== undefined) out.push(['duration', `${i.duration} s`]);
  if (i.aspect_ratio !== undefined) out.push(['aspect_ratio', i.aspect_ratio]);
  if (i.cfg_scale !== undefined) out.push(['cfg_scale', String(i.cfg_scale)]);
  out.push(['take', String(row.take)]);
  if (i.negative_prompt) out.push(['negative_prompt', i.negative_prompt]);
  for (const [n, url] of (i.image_urls ?? []).entries()) out.push([`image ${n + 1}`, url]);
  return out;
}

function sortValues(name: string, values: string[]): string[] {
  if (name === 'state') return ALL_STATES.filter((s) => values.includes(s));
  if (!NUMERIC.has(name)) return values; // first appearance: the manifest's order
  return [...values].sort((a, b) => (a === '' ? 1 : b === '' ? -1 : Number(a) - Number(b)));
}

/** More columns or rows than this make a poor default axis (it can still be chosen). */
const AXIS_MAX_VALUES = 12;

/**
 * Default axes: the first two dimensions with more than one value, labels before
 * parameters, preferring those that group tasks (a column of ids, one value per task,
 * only makes a list) and have at most 12 values. A dimension with more values (a prompt
 * per task in a sheet of 10,000 rows) is never a default axis: 10,000 columns compare
 * nothing, and without an X axis the cards wrap across the page instead.
 */
export function chooseAxes(dimensions: readonly GalleryDimension[], wanted: { x?: string; y?: string } = {}, itemCount = Infinity): { x: string | null; y: string | null } {
  const names = dimensions.map((d) => d.name);
  for (const [axis, name] of Object.entries(wanted)) {
    if (name !== undefined && !names.includes(name)) {
      throw new UsageError(`--${axis} '${name}' is not a dimension of this run; choose one of: ${names.join(', ')}`);
    }
  }
  const varying = dimensions.filter((d) => d.kind !== 'state' && d.values.length > 1 && d.values.length <= AXIS_MAX_VALUES);
  const groups = (d: GalleryDimension): boolean => d.values.length < itemCount || itemCount <= 4;
  const ranked = [...varying.filter(groups), ...varying.filter((d) => !groups(d))].map((d) => d.name);
  const x = wanted.x ?? ranked.find((n) => n !== wanted.y) ?? null;
  const y = wanted.y ?? ranked.find((n) => n !== x) ?? null;
  return { x, y: y === x ? null : y };
}

/**
 * One pass over a run's rows that keeps only what the whole gallery needs before its
 * first card is written — the label names, the state counts, and for each dimension its
 * first values, enough to choose the axes — so a 100,000-task run is summed up without
 * holding it. Rows must come in the order the gallery shows them (the run's, by seq).
 */
export class GalleryScan {
  readonly labelNames: string[] = [];
  readonly counts = Object.fromEntries(ALL_STATES.map((s) => [s, 0])) as StateCounts;
  total = 0;
  /** Distinct values per dimension in order of first appearance, at most AXIS_MAX_VALUES + 1 of them. */
  readonly #values = new Map<string, Set<string>>();

  add(row: TaskRow): void {
    for (const k of Object.keys(row.labels)) {
      if (this.labelNames.includes(k)) continue;
      this.labelNames.push(k);
      // The rows before it had no such label: '' was its first value.
      this.#values.set(`label:${k}`, new Set(this.total > 0 ? [''] : []));
    }
    for (const n of this.labelNames) this.#see(`label:${n}`, row.labels[n] ?? '');
    for (const p of PARAM_DIMS) this.#see(`param:${p}`, paramValue(row, p));
    this.#see('state', row.state);
    this.counts[row.state]++;
    this.total++;
  }

  #see(name: string, value: string): void {
    let set = this.#values.get(name);
    if (!set) this.#values.set(name, (set = new Set()));
    if (set.size <= AXIS_MAX_VALUES) set.add(value);
  }

  /** Input parameters that are dimensions: those no label shadows. */
  get params(): (typeof PARAM_DIMS)[number][] {
    return PARAM_DIMS.filter((p) => !this.labelNames.includes(p));
  }

  /** The dimensions with their first values: all of them when there are at most 12, else 13 of them. */
  dimensions(): GalleryDimension[] {
    const values = (key: string, name: string) => sortValues(name, [...(this.#values.get(key) ?? [])]);
    return [
      ...this.labelNames.map((n): GalleryDimension => ({ name: n, kind: 'label', values: values(`label:${n}`, n) })),
      ...this.params.map((n): GalleryDimension => ({ name: n, kind: 'param', values: values(`param:${n}`, n) })),
      ...(this.labelNames.includes('state') ? [] : [{ name: 'state', kind: 'state' as const, values: values('state', 'state') }]),
    ];
  }

  axes(wanted: { x?: string; y?: string } = {}): { x: string | null; y: string | null } {
    return chooseAxes(this.dimensions(), wanted, this.total);
  }
}

/** What the file system says about a task's video: is it there, and its poster frame. */
export type MediaOf = (row: TaskRow) => { present: boolean; poster: string | null };

/** A card for a row, with its value on each of the scan's dimensions. */
export function galleryItem(row: TaskRow, scan: GalleryScan, media: MediaOf): GalleryItem {
  const archived = row.state === 'archived' && row.file !== null;
  const { present, poster } = archived ? media(row) : { present: false, poster: null };
  const dims: Record<string, string> = {};
  for (const n of scan.labelNames) dims[n] = row.labels[n] ?? '';
  for (const p of scan.params) dims[p] = paramValue(row, p);
  if (!scan.labelNames.includes('state')) dims.state = row.state;
  return {
    key: row.key,
    seq: row.seq,
    state: row.state,
    file: present ? row.file : null,
    poster: present ? poster : null,
    prompt: row.input.prompt,
    params: paramsOf(row),
    labels: { ...row.labels },
    dims,
    taskId: row.taskId,
    note: noteOf(row, row.state === 'archived' && !present),
    source: `${row.source.file}:${row.source.line}`,
  };
}

/**
 * The dimensions of a page of cards, as its cards are added. One with at most 12 values in
 * the run has all of them, in the run's order, on every page: its columns and filters are
 * the same from one page to the next. One with more (a prompt per task) has the values of
 * the page's cards only, in their order: a page of 500 cards does not carry the 100,000
 * prompts of the run.
 */
export class PageDimensions {
  readonly #dims: GalleryDimension[];
  readonly #seen = new Map<string, Set<string>>();

  constructor(scan: GalleryScan) {
    this.#dims = scan.dimensions();
    for (const d of this.#dims) if (d.values.length > AXIS_MAX_VALUES) this.#seen.set(d.name, new Set());
  }

  add(item: GalleryItem): void {
    for (const [name, values] of this.#seen) values.add(item.dims[name] ?? '');
  }

  dimensions(): GalleryDimension[] {
    return this.#dims.map((d) => {
      const seen = this.#seen.get(d.name);
      return seen ? { name: d.name, kind: d.kind, values: sortValues(d.name, [...seen]) } : d;
    });
  }
}

/**
 * Build the gallery's data from the run's rows, all on one page. `dir` is the run's folder
 * (where index.html goes): a video is linked only if its file is there.
 */
export function buildGallery(
  run: string,
  rows: readonly TaskRow[],
  options: { dir: string; x?: string; y?: string; posters?: ReadonlyMap<string, string>; now?: Date },
): GalleryData {
  const scan = new GalleryScan();
  for (const r of rows) scan.add(r);
  const wanted = { ...(options.x !== undefined ? { x: options.x } : {}), ...(options.y !== undefined ? { y: options.y } : {}) };
  const { x, y } = scan.axes(wanted);
  const media: MediaOf = (r) => ({ present: existsSync(join(options.dir, r.file!)), poster: options.posters?.get(r.key) ?? null });
  const page = new PageDimensions(scan);
  const items = rows.map((r) => galleryItem(r, scan, media));
  for (const it of items) page.add(it);
  return { run, generatedAt: (options.now ?? new Date()).toISOString(), x, y, dimensions: page.dimensions(), counts: scan.counts, items };
}
