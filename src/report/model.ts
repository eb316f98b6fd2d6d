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

export interface GalleryData {
  run: string;
  generatedAt: string;
  x: string | null;
  y: string | null;
  dimensions: GalleryDimension[];
  counts: StateCounts;
  items: GalleryItem[];
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
 * only makes a list) and have at most 12 values.
 */
export function chooseAxes(dimensions: readonly GalleryDimension[], wanted: { x?: string; y?: string } = {}, itemCount = Infinity): { x: string | null; y: string | null } {
  const names = dimensions.map((d) => d.name);
  for (const [axis, name] of Object.entries(wanted)) {
    if (name !== undefined && !names.includes(name)) {
      throw new UsageError(`--${axis} '${name}' is not a dimension of this run; choose one of: ${names.join(', ')}`);
    }
  }
  const varying = dimensions.filter((d) => d.kind !== 'state' && d.values.length > 1);
  const groups = (d: GalleryDimension): boolean => d.values.length <= AXIS_MAX_VALUES && (d.values.length < itemCount || itemCount <= 4);
  const ranked = [...varying.filter(groups), ...varying.filter((d) => !groups(d))].map((d) => d.name);
  const x = wanted.x ?? ranked.find((n) => n !== wanted.y) ?? null;
  const y = wanted.y ?? ranked.find((n) => n !== x) ?? null;
  return { x, y: y === x ? null : y };
}

/**
 * Build the gallery's data from the run's rows. `dir` is the run's folder (where index.html
 * goes): a video is linked only if its file is there.
 */
export function buildGallery(
  run: string,
  rows: readonly TaskRow[],
  options: { dir: string; x?: string; y?: string; posters?: ReadonlyMap<string, string>; now?: Date },
): GalleryData {
  const labelNames: string[] = [];
  for (const r of rows) for (const k of Object.keys(r.labels)) if (!labelNames.includes(k)) labelNames.push(k);
  const params = PARAM_DIMS.filter((p) => !labelNames.includes(p));

  const items = rows.map((r): GalleryItem => {
    const present = r.state === 'archived' && r.file !== null && existsSync(join(options.dir, r.file));
    const dims: Record<string, string> = {};
    for (const n of labelNames) dims[n] = r.labels[n] ?? '';
    for (const p of params) dims[p] = paramValue(r, p);
    if (!labelNames.includes('state')) dims.state = r.state;
    return {
      key: r.key,
      seq: r.seq,
      state: r.state,
      file: present ? r.file : null,
      poster: present ? (options.posters?.get(r.key) ?? null) : null,
      prompt: r.input.prompt,
      params: paramsOf(r),
      labels: { ...r.labels },
      dims,
      taskId: r.taskId,
      note: noteOf(r, r.state === 'archived' && !present),
      source: `${r.source.file}:${r.source.line}`,
    };
  });

  const dimension = (name: string, kind: GalleryDimension['kind']): GalleryDimension => {
    const values: string[] = [];
    for (const it of items) {
      const v = it.dims[name] ?? '';
      if (!values.includes(v)) values.push(v);
    }
    return { name, kind, values: sortValues(name, values) };
  };
  const dimensions = [
    ...labelNames.map((n) => dimension(n, 'label')),
    ...params.map((n) => dimension(n, 'param')),
    ...(labelNames.includes('state') ? [] : [dimension('state', 'state')]),
  ];
  const counts = Object.fromEntries(ALL_STATES.map((s) => [s, 0])) as StateCounts;
  for (const it of items) counts[it.state]++;
  const wanted = { ...(options.x !== undefined ? { x: options.x } : {}), ...(options.y !== undefined ? { y: options.y } : {}) };
  const { x, y } = chooseAxes(dimensions, wanted, items.length);
  return { run, generatedAt: (options.now ?? new Date()).toISOString(), x, y, dimensions, counts, items };
}
