/**
 * Settings and variations → TaskSpecs, or every problem found. Nothing stops at the first
 * problem: the user fixes the sheet once, not once per error.
 *
 * Normalisation (also in README.md): the input sent is fully explicit so that the same
 * video always has the same key, whichever defaults the provider would apply.
 *  - defaults are merged under each task; a task's `field: null` (or empty) cancels a default;
 *  - mode: image-to-video when image_urls are present, else text-to-video;
 *  - duration: 5;
 *  - aspect_ratio: 16:9 for text-to-video; never for image-to-video (the image sets the
 *    frame), so a default or axis aspect_ratio is not applied to image-to-video tasks and
 *    an explicit one on such a task is an error;
 *  - prompts and negative prompts are kept byte-for-byte.
 */
import type * as z from 'zod';
import { DEFAULT_MODEL, type Provider, type TaskSource, type TaskSpec, type VideoInput } from '../core/types.js';
import { DEFAULT_MAX_TASKS, DEFAULT_WILDCARDS, documentSchema } from './document.js';
import { taskKey } from './key.js';
import type { Pos, RawManifest, RawValue } from './raw.js';
import { DEFAULT_ASPECT_RATIO, DEFAULT_DURATION, INPUT_FIELDS, TASK_SETTINGS, inputShape, videoInputSchema, type InputField } from './schema.js';
import { suggestionSuffix } from './suggest.js';

/** Report a problem; `file` defaults to the manifest. */
export type Problem = (pos: Pos, field: string, message: string, file?: string) => void;

export interface Settings {
  name: string | undefined;
  model: string;
  provider: Provider;
  takes: number;
  maxTasks: number;
  sample: number | undefined;
  seed: number | string;
  wildcards: string;
}

export interface Chosen {
  rv: RawValue;
  /** Inherited from `defaults:`; positions then point at the task, the message at the default. */
  fromDefaults: boolean;
  /** Set by this axis of `vars:`; dropped (with its label) where the field does not apply. */
  axis?: string;
}

/** One variation of a task or sheet row, every field chosen and rendered. */
export interface Variation {
  path: string;
  /** The file `start` is in (a sheet, or the manifest). */
  file: string;
  start: Pos;
  fields: Map<InputField, Chosen>;
  model: string;
  provider: Provider;
  takes: number;
  labels: Record<string, string>;
  source: TaskSource;
}

export const isInputField = (k: string): k is InputField => (INPUT_FIELDS as readonly string[]).includes(k);

/**
 * zod goes on checking after a failure (a string's length against an array's maximum);
 * the first issue for a value is the one that makes sense to the user.
 */
export function firstPerPath(issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue[] {
  const seen = new Set<string>();
  return issues.filter((iss) => {
    const key = iss.path.map(String).join('.');
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** A setting parsed with its schema; undefined when absent, null or invalid (then reported at the value). */
export function setting<T>(schema: z.ZodType<T>, rv: RawValue | undefined, field: string, problem: Problem): T | undefined {
  if (rv === undefined || rv.value === null) return undefined;
  const r = schema.safeParse(rv.value);
  if (r.success) return r.data;
  for (const iss of firstPerPath(r.error.issues)) problem(rv.pos, field, iss.message, rv.file);
  return undefined;
}

const shape = documentSchema.shape;

/** Top-level settings and `defaults:`, each checked once where it is written. */
export function resolveSettings(raw: RawManifest, problem: Problem): { settings: Settings; defaults: Map<InputField, RawValue> } {
  const settings: Settings = {
    name: setting(shape.name, raw.name, 'name', problem),
    model: setting(shape.model, raw.model, 'model', problem) ?? DEFAULT_MODEL,
    provider: setting(shape.provider, raw.provider, 'provider', problem) ?? 'auto',
    takes: setting(shape.takes, raw.takes, 'takes', problem) ?? 1,
    maxTasks: setting(shape.max_tasks, raw.maxTasks, 'max_tasks', problem) ?? DEFAULT_MAX_TASKS,
    sample: setting(shape.sample, raw.sample, 'sample', problem),
    seed: setting(shape.seed, raw.seed, 'seed', problem) ?? 0,
    wildcards: setting(shape.wildcards, raw.wildcards, 'wildcards', problem) ?? DEFAULT_WILDCARDS,
  };
  // Defaults are checked once, where they are written; only valid ones are merged, so a
  // bad default is one error, not one per task. Text fields may be templates: they are
  // checked once rendered.
  const defaults = new Map<InputField, RawValue>();
  for (const [key, rv] of raw.defaults) {
    const field = `defaults.${key}`;
    if (!isInputField(key)) {
      if ((TASK_SETTINGS as readonly string[]).includes(key)) problem(rv.keyPos, field, `'${key}' cannot be a default; set it at the top level or on a task`);
      else problem(rv.keyPos, field, `unknown field '${key}'${suggestionSuffix(key, INPUT_FIELDS) || `; expected one of: ${INPUT_FIELDS.join(', ')}`}`);
      continue;
    }
    if (rv.value === null) continue;
    if (key === 'prompt' || key === 'negative_prompt' || key === 'image_urls') {
      defaults.set(key, rv);
      continue;
    }
    const r = inputShape[key].safeParse(rv.value);
    if (r.success) defaults.set(key, rv);
    else for (const iss of firstPerPath(r.error.issues)) problem(rv.pos, field, iss.message);
  }
  return { settings, defaults };
}

/** One variation → its takes as TaskSpecs, or [] after reporting what is wrong. */
export function validateVariation(v: Variation, manifestFile: string, problem: Problem): TaskSpec[] {
  const chosen = v.fields;
  const modeChosen = chosen.get('mode');
  const mode = modeChosen ? modeChosen.rv.value : chosen.has('image_urls') ? 'image-to-video' : 'text-to-video';
  const aspect = chosen.get('aspect_ratio');
  if (mode === 'image-to-video' && aspect && (aspect.fromDefaults || aspect.axis !== undefined)) {
    chosen.delete('aspect_ratio');
    if (aspect.axis !== undefined) delete v.labels[aspect.axis];
  }

  const candidate: Record<string, unknown> = {};
  for (const [f, c] of chosen) candidate[f] = c.rv.value;
  candidate['mode'] = mode;
  candidate['duration'] ??= DEFAULT_DURATION;
  if (mode === 'text-to-video') candidate['aspect_ratio'] ??= DEFAULT_ASPECT_RATIO;

  const parsed = videoInputSchema.safeParse(candidate);
  const images = chosen.get('image_urls');
  const aspectLeft = chosen.get('aspect_ratio');
  const combined =
    !(mode === 'text-to-video' && images) &&
    !(mode === 'image-to-video' && !images) &&
    !(mode === 'image-to-video' && aspectLeft && !aspectLeft.fromDefaults && aspectLeft.axis === undefined);
  if (!parsed.success || !combined) {
    report(v, mode, parsed.success ? [] : parsed.error.issues, manifestFile, problem);
    return [];
  }
  const tasks: TaskSpec[] = [];
  for (let take = 1; take <= v.takes; take++) {
    // A fresh input per take: a later stage mutating one must not change its siblings.
    const input = explicitInput(parsed.data);
    const labels = take === 1 ? v.labels : { ...v.labels };
    tasks.push({ key: taskKey(v.model, v.provider, input, take), model: v.model, provider: v.provider, input, take, source: { ...v.source }, labels });
  }
  return tasks;
}

/** Every problem of a variation, each at the value it concerns (or at the task, for a default). */
function report(v: Variation, mode: unknown, issues: readonly z.core.$ZodIssue[], manifestFile: string, problem: Problem): void {
  const chosen = v.fields;
  const at = (f: string): string => (v.path ? `${v.path}.${f}` : f);
  const fileOf = (c: Chosen): string => (c.fromDefaults ? v.file : (c.rv.file ?? manifestFile));
  const where = (c: Chosen): Pos => (c.fromDefaults ? v.start : c.rv.pos);
  const note = (c: Chosen): string => {
    if (!c.fromDefaults) return '';
    return v.file === manifestFile ? ` (from defaults, line ${c.rv.pos.line})` : ` (from defaults, ${manifestFile} line ${c.rv.pos.line})`;
  };
  for (const iss of firstPerPath(issues)) {
    const f = iss.path[0];
    if (typeof f !== 'string' || !isInputField(f)) continue;
    const c = chosen.get(f);
    const index = typeof iss.path[1] === 'number' ? iss.path[1] : undefined;
    const field = at(f) + (index === undefined ? '' : `[${index}]`);
    if (!c) problem(v.start, field, iss.message, v.file);
    else problem((index !== undefined && !c.fromDefaults && c.rv.items?.[index]) || where(c), field, iss.message + note(c), fileOf(c));
  }
  // The rules that tie fields together, which a per-field schema cannot say.
  const modeChosen = chosen.get('mode');
  const images = chosen.get('image_urls');
  const aspect = chosen.get('aspect_ratio');
  if (mode === 'text-to-video' && images) {
    problem(where(images), at('image_urls'), `image_urls are only for image-to-video, but mode is text-to-video; remove them or set mode: image-to-video${note(images)}`, fileOf(images));
  }
  if (mode === 'image-to-video' && !images) {
    const direct = modeChosen && !modeChosen.fromDefaults;
    problem(direct ? modeChosen.rv.pos : v.start, at('image_urls'), `image-to-video needs image_urls: 1 or 2 image URLs (start frame, optional end frame)${modeChosen ? note(modeChosen) : ''}`, direct ? fileOf(modeChosen) : v.file);
  }
  if (mode === 'image-to-video' && aspect && !aspect.fromDefaults && aspect.axis === undefined) {
    problem(aspect.rv.pos, at('aspect_ratio'), 'aspect_ratio is only for text-to-video; an image-to-video takes its frame from the image', fileOf(aspect));
  }
}

/** Fields in request order, absent ones left out (not `undefined`), arrays copied. */
function explicitInput(data: z.infer<typeof videoInputSchema>): VideoInput {
  const input: VideoInput = { mode: data.mode, prompt: data.prompt };
  if (data.duration !== undefined) input.duration = data.duration;
  if (data.aspect_ratio !== undefined) input.aspect_ratio = data.aspect_ratio;
  if (data.image_urls !== undefined) input.image_urls = [...data.image_urls];
  if (data.negative_prompt !== undefined) input.negative_prompt = data.negative_prompt;
  if (data.cfg_scale !== undefined) input.cfg_scale = data.cfg_scale;
  return input;
}
