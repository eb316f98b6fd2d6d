/**
 * Raw rows → TaskSpecs, or every problem found. Nothing stops at the first problem: the
 * user fixes the sheet once, not once per error.
 *
 * Normalisation (also in README.md): the input sent is fully explicit so that the same
 * video always has the same key, whichever defaults the provider would apply.
 *  - defaults are merged under each task; a task's `field: null` (or empty) cancels a default;
 *  - mode: image-to-video when image_urls are present, else text-to-video;
 *  - duration: 5;
 *  - aspect_ratio: 16:9 for text-to-video; never for image-to-video (the image sets the
 *    frame), so a default aspect_ratio is not applied to image-to-video tasks and an
 *    explicit one on such a task is an error;
 *  - prompts and negative prompts are kept byte-for-byte.
 */
import type * as z from 'zod';
import { DEFAULT_MODEL, type Provider, type TaskSpec, type VideoInput } from '../core/types.js';
import type { ManifestIssue } from '../core/errors.js';
import { taskKey } from './key.js';
import { issueAt } from './raw.js';
import type { Pos, RawManifest, RawRow, RawValue } from './raw.js';
import {
  DEFAULT_ASPECT_RATIO,
  DEFAULT_DURATION,
  INPUT_FIELDS,
  TASK_FIELDS,
  TASK_SETTINGS,
  TOP_LEVEL_KEYS,
  inputShape,
  modelSchema,
  nameSchema,
  providerSchema,
  takesSchema,
  videoInputSchema,
  type InputField,
} from './schema.js';
import { suggestionSuffix } from './suggest.js';

export interface Validated {
  name: string | undefined;
  /** Every take of every row, in file order, not yet deduplicated. */
  tasks: TaskSpec[];
  issues: ManifestIssue[];
}

interface Chosen {
  rv: RawValue;
  /** Inherited from `defaults:`; positions then point at the task, the message at the default. */
  fromDefaults: boolean;
}

const isInputField = (k: string): k is InputField => (INPUT_FIELDS as readonly string[]).includes(k);

export function validateManifest(raw: RawManifest, rows: readonly RawRow[]): Validated {
  const { file } = raw;
  const issues: ManifestIssue[] = [...raw.issues];
  const problem = (pos: Pos, field: string, message: string): void => {
    issues.push(issueAt(file, pos, field, message));
  };
  /** Each zod issue at the value (or list item) it concerns. */
  const report = (fieldPath: string, chosen: Chosen | undefined, fallback: Pos, zodIssues: readonly z.core.$ZodIssue[], skip = 0): void => {
    for (const iss of firstPerPath(zodIssues)) {
      const sub = iss.path.slice(skip);
      const index = typeof sub[0] === 'number' ? sub[0] : undefined;
      const where = index === undefined ? '' : `[${index}]`;
      if (!chosen) problem(fallback, fieldPath + where, iss.message);
      else if (chosen.fromDefaults) problem(fallback, fieldPath + where, `${iss.message} (from defaults, line ${chosen.rv.pos.line})`);
      else problem((index !== undefined && chosen.rv.items?.[index]) || chosen.rv.pos, fieldPath + where, iss.message);
    }
  };
  /** A top-level or per-task setting, parsed with its schema; undefined when absent, null or invalid. */
  const setting = <T>(schema: z.ZodType<T>, rv: RawValue | undefined, field: string): T | undefined => {
    if (rv === undefined || rv.value === null) return undefined;
    const r = schema.safeParse(rv.value);
    if (r.success) return r.data;
    report(field, { rv, fromDefaults: false }, rv.pos, r.error.issues);
    return undefined;
  };
  const unknown = (rv: RawValue, field: string, what: string, known: readonly string[], name: string): void => {
    const hint = suggestionSuffix(name, known) || `; expected one of: ${known.join(', ')}`;
    problem(rv.keyPos, field, `unknown ${what} '${name}'${hint}`);
  };

  for (const [name, rv] of raw.unknownTop) unknown(rv, name, 'key', TOP_LEVEL_KEYS, name);
  const name = setting(nameSchema, raw.name, 'name');
  const topModel = setting(modelSchema, raw.model, 'model') ?? DEFAULT_MODEL;
  const topProvider: Provider = setting(providerSchema, raw.provider, 'provider') ?? 'auto';
  const topTakes = setting(takesSchema, raw.takes, 'takes') ?? 1;

  // Defaults are checked once, where they are written; only valid ones are merged, so a
  // bad default is one error, not one per task.
  const defaults = new Map<InputField, RawValue>();
  for (const [key, rv] of raw.defaults) {
    const field = `defaults.${key}`;
    if (!isInputField(key)) {
      if ((TASK_SETTINGS as readonly string[]).includes(key)) problem(rv.keyPos, field, `'${key}' cannot be a default; set it at the top level or on a task`);
      else unknown(rv, field, 'field', INPUT_FIELDS, key);
      continue;
    }
    if (rv.value === null) continue;
    const r = inputShape[key].safeParse(rv.value);
    if (r.success) defaults.set(key, rv);
    else report(field, { rv, fromDefaults: false }, rv.pos, r.error.issues);
  }

  const tasks: TaskSpec[] = [];
  for (const row of rows) {
    const before = issues.length;
    const at = (f: string): string => `${row.path}.${f}`;
    for (const [key, rv] of row.fields) {
      if (!TASK_FIELDS.includes(key)) unknown(rv, at(key), 'field', TASK_FIELDS, key);
    }
    const model = setting(modelSchema, row.fields.get('model'), at('model')) ?? topModel;
    const provider = setting(providerSchema, row.fields.get('provider'), at('provider')) ?? topProvider;
    const takes = setting(takesSchema, row.fields.get('takes'), at('takes')) ?? topTakes;

    const chosen = new Map<InputField, Chosen>();
    for (const f of INPUT_FIELDS) {
      const own = row.fields.get(f);
      if (own !== undefined) {
        if (own.value !== null) chosen.set(f, { rv: own, fromDefaults: false });
        continue; // an explicit null cancels the default
      }
      const d = defaults.get(f);
      if (d !== undefined) chosen.set(f, { rv: d, fromDefaults: true });
    }
    const modeChosen = chosen.get('mode');
    const mode = modeChosen ? modeChosen.rv.value : chosen.has('image_urls') ? 'image-to-video' : 'text-to-video';
    if (mode === 'image-to-video' && chosen.get('aspect_ratio')?.fromDefaults) chosen.delete('aspect_ratio');

    const candidate: Record<string, unknown> = {};
    for (const [f, c] of chosen) candidate[f] = c.rv.value;
    candidate['mode'] = mode;
    candidate['duration'] ??= DEFAULT_DURATION;
    if (mode === 'text-to-video') candidate['aspect_ratio'] ??= DEFAULT_ASPECT_RATIO;

    const parsed = videoInputSchema.safeParse(candidate);
    if (!parsed.success) {
      for (const iss of firstPerPath(parsed.error.issues)) {
        const f = iss.path[0];
        if (typeof f !== 'string' || !isInputField(f)) continue;
        report(at(f), chosen.get(f), row.start, [iss], 1);
      }
    }
    checkCombination(mode, chosen, row, at, problem);

    if (issues.length > before || !parsed.success) continue;
    for (let take = 1; take <= takes; take++) {
      // A fresh input per take: a later stage mutating one must not change its siblings.
      const input = explicitInput(parsed.data);
      tasks.push({
        key: taskKey(model, provider, input, take),
        model,
        provider,
        input,
        take,
        source: { file, line: row.start.line },
        labels: { ...row.labels },
      });
    }
  }
  return { name, tasks, issues };
}

/**
 * zod goes on checking after a failure (a string's length against an array's maximum);
 * the first issue for a value is the one that makes sense to the user.
 */
function firstPerPath(issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue[] {
  const seen = new Set<string>();
  return issues.filter((iss) => {
    const key = iss.path.map(String).join('.');
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The rules that tie fields together, which a per-field schema cannot say. */
function checkCombination(
  mode: unknown,
  chosen: ReadonlyMap<InputField, Chosen>,
  row: RawRow,
  at: (f: string) => string,
  problem: (pos: Pos, field: string, message: string) => void,
): void {
  const where = (c: Chosen): Pos => (c.fromDefaults ? row.start : c.rv.pos);
  const note = (c: Chosen): string => (c.fromDefaults ? ` (from defaults, line ${c.rv.pos.line})` : '');
  const images = chosen.get('image_urls');
  const modeChosen = chosen.get('mode');
  const aspect = chosen.get('aspect_ratio');
  if (mode === 'text-to-video' && images) {
    problem(where(images), at('image_urls'), `image_urls are only for image-to-video, but mode is text-to-video; remove them or set mode: image-to-video${note(images)}`);
  }
  if (mode === 'image-to-video' && !images) {
    const pos = modeChosen && !modeChosen.fromDefaults ? modeChosen.rv.pos : row.start;
    problem(pos, at('image_urls'), `image-to-video needs image_urls: 1 or 2 image URLs (start frame, optional end frame)${modeChosen ? note(modeChosen) : ''}`);
  }
  if (mode === 'image-to-video' && aspect && !aspect.fromDefaults) {
    problem(aspect.rv.pos, at('aspect_ratio'), 'aspect_ratio is only for text-to-video; an image-to-video takes its frame from the image');
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
