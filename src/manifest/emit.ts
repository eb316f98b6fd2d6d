/**
 * The fast path from a prepared unit to its tasks: what validateVariation(renderUnit(p, i))
 * makes of a variation that is valid, without the Variation in between — no copy of the
 * unit's fields, no candidate object, no zod parse of the whole input, no array of tasks.
 * A million-row sheet runs this two million times.
 *
 * Each field is checked with its own schema (the input schema is a strict object of
 * exactly these schemas, so it accepts an input if and only if each field passes), and a
 * value checked once is not checked again: a row's prompt is the same for each of its
 * durations, a sheet's negative prompt the same for every row, and durations or aspect
 * ratios take a handful of values.
 *
 * Anything that fails, or that this path does not know, goes the general way
 * (validateVariation(renderUnit(p, i))), which finds and words every problem: problems
 * are found and reported in one place only, and the fast path reports nothing.
 */
import type { Provider, TaskSpec, VideoInput } from '../core/types.js';
import { knownTaskKey } from './key.js';
import type { RawAxis, RawAxisValue } from './raw.js';
import { DEFAULT_ASPECT_RATIO, DEFAULT_DURATION, inputShape } from './schema.js';
import { countTemplate, renderTemplate } from './template.js';
import { axisValue, labelsCopy, renderUnit, renderUrl, type Prepared } from './units.js';
import { validateVariation, type Chosen, type Problem } from './validate.js';

/**
 * Where the manifest stage hands its tasks. `inputJson` and `labelsJson`, when given, are
 * the task's input (fields sorted) and labels as JSON, already written on the way: the
 * store keeps them as they are instead of writing them again.
 */
export type TaskSink = (t: TaskSpec, inputJson?: string, labelsJson?: string) => void;

/**
 * Variations `indices` of `p` (or all `count` of them, in order) → their takes, handed to
 * `emit`; problems reported as validateVariation(renderUnit(p, i)) reports them.
 */
export function emitVariations(p: Prepared, count: number, indices: readonly number[] | undefined, manifestFile: string, problem: Problem, emit: TaskSink): void {
  const work = new Work(p);
  for (let j = 0; j < count; j++) {
    const index = indices ? indices[j]! : j;
    if (fastVariation(p, work, index, emit)) continue;
    for (const t of validateVariation(renderUnit(p, index), manifestFile, problem)) emit(t);
  }
}

// Field slots, in INPUT_FIELDS order.
const MODE = 0;
const PROMPT = 1;
const DURATION = 2;
const ASPECT = 3;
const IMAGES = 4;
const NEGATIVE = 5;
const CFG = 6;
const FIELDS = 7;
const SLOT: Readonly<Record<string, number>> = { mode: MODE, prompt: PROMPT, duration: DURATION, aspect_ratio: ASPECT, image_urls: IMAGES, negative_prompt: NEGATIVE, cfg_scale: CFG };

/** A unit's fixed fields by slot, and room to choose a variation's fields in (one unit's variations are made one after another). */
class Work {
  readonly fixed: (Chosen | undefined)[];
  /** Each field of the variation: the Chosen it comes from (its origin)… */
  readonly chosen: (Chosen | undefined)[];
  /** …and its value (rendered, for templates and URLs). */
  readonly values: unknown[];
  readonly picked: number[];
  /**
   * The unit's labels as JSON without its closing brace, when a variation's labels are
   * always the unit's followed by one per axis: no template that could add its own, no
   * axis named as a unit label. Undefined otherwise (they are written whole).
   */
  readonly labelsHead: string | undefined;
  /** Whether the unit has labels of its own, that the first axis's must follow with a comma. */
  readonly labelsComma: boolean = false;
  constructor(p: Prepared) {
    const f = p.unit.fixed;
    this.fixed = [f.get('mode'), f.get('prompt'), f.get('duration'), f.get('aspect_ratio'), f.get('image_urls'), f.get('negative_prompt'), f.get('cfg_scale')];
    this.chosen = new Array<Chosen | undefined>(FIELDS);
    this.values = new Array<unknown>(FIELDS);
    this.picked = new Array<number>(p.axes.length);
    const own = p.unit.labels;
    if (p.axes.length > 0 && p.templates.every((t) => t.template.constant) && p.axes.every((a) => !Object.hasOwn(own, a.name))) {
      const json = JSON.stringify(own);
      this.labelsHead = json.slice(0, -1);
      this.labelsComma = json.length > 2;
    }
  }
}

/** `"axis":"label"` for an axis value, made once. */
const labelPieces = new WeakMap<RawAxisValue, string>();
function labelPiece(axis: RawAxis, value: RawAxisValue): string {
  let piece = labelPieces.get(value);
  if (piece === undefined) {
    piece = JSON.stringify(axis.name) + ':' + JSON.stringify(value.label);
    labelPieces.set(value, piece);
  }
  return piece;
}

/**
 * renderUnit and the success path of validateVariation, step for step; false (having
 * emitted nothing and reported nothing) when the variation is not valid.
 */
function fastVariation(p: Prepared, work: Work, index: number, emit: TaskSink): boolean {
  const { unit, scope } = p;
  const { chosen, values, picked } = work;
  for (let i = 0; i < FIELDS; i++) {
    const c = work.fixed[i];
    chosen[i] = c;
    values[i] = c?.rv.value;
  }
  const labels = labelsCopy(unit.labels);
  let model = unit.model;
  let provider = unit.provider;

  // Axes: the first varies slowest.
  const axes = p.axes;
  let labelsJson = work.labelsHead;
  let comma = work.labelsComma;
  let rest = Math.floor(index / p.templateCount);
  let templateIndex = index % p.templateCount;
  for (let k = axes.length - 1; k >= 0; k--) {
    const n = axes[k]!.values.length;
    picked[k] = rest % n;
    rest = Math.floor(rest / n);
  }
  for (let k = 0; k < axes.length; k++) {
    const axis = axes[k]!;
    const value = axis.values[picked[k]!]!;
    const made = axisValue(axis, value);
    scope.choice.set(axis.name, made.text);
    labels[axis.name] = value.label;
    if (labelsJson !== undefined) {
      labelsJson += (comma ? ',' : '') + labelPiece(axis, value);
      comma = true;
    }
    if (unit.fieldAxes.get(axis.name) !== axis) continue;
    if (axis.name === 'model') model = value.value as string;
    else if (axis.name === 'provider') provider = value.value as Provider;
    else {
      const slot = SLOT[axis.name];
      if (slot === undefined) return false;
      const own = chosen[slot];
      if (own && !own.fromDefaults) continue; // reported as a conflict when the unit was built
      chosen[slot] = made.chosen;
      values[slot] = made.chosen.rv.value;
    }
  }

  // Templates: the last varies fastest, as the digits of a number.
  const templates = p.templates;
  if (templates.length === 1) {
    const t = templates[0]!;
    const c = countTemplate(t.template, scope);
    setText(t, renderTemplate(t.template, templateIndex % c, scope, labels), chosen, values);
  } else if (templates.length > 1) {
    const digits = new Array<number>(templates.length);
    for (let k = templates.length - 1; k >= 0; k--) {
      const c = countTemplate(templates[k]!.template, scope);
      digits[k] = templateIndex % c;
      templateIndex = Math.floor(templateIndex / c);
    }
    for (let k = 0; k < templates.length; k++) {
      const t = templates[k]!;
      setText(t, renderTemplate(t.template, digits[k]!, scope, labels), chosen, values);
    }
  }
  if (p.urls) {
    chosen[IMAGES] = p.urls.chosen;
    values[IMAGES] = p.urls.items.map((t) => renderUrl(t, scope));
  }

  // validateVariation: mode, the aspect ratio an image-to-video does not take, defaults.
  const mode = chosen[MODE] ? values[MODE] : chosen[IMAGES] ? 'image-to-video' : 'text-to-video';
  let aspect = chosen[ASPECT];
  if (mode === 'image-to-video' && aspect && (aspect.fromDefaults || aspect.axis !== undefined)) {
    if (aspect.axis !== undefined) {
      delete labels[aspect.axis];
      labelsJson = undefined;
    }
    aspect = undefined;
  }
  const images = chosen[IMAGES];
  // The rules that tie fields together.
  if (mode === 'text-to-video' && images) return false;
  if (mode === 'image-to-video' && !images) return false;
  if (mode === 'image-to-video' && aspect && !aspect.fromDefaults && aspect.axis === undefined) return false;

  const prompt = chosen[PROMPT] ? values[PROMPT] : undefined;
  const duration = (chosen[DURATION] ? values[DURATION] : undefined) ?? DEFAULT_DURATION;
  let aspectRatio = aspect ? values[ASPECT] : undefined;
  if (mode === 'text-to-video') aspectRatio ??= DEFAULT_ASPECT_RATIO;
  const negative = chosen[NEGATIVE] ? values[NEGATIVE] : undefined;
  const cfg = chosen[CFG] ? values[CFG] : undefined;
  if (!modeCheck.ok(mode) || !promptCheck.ok(prompt) || !durationCheck.ok(duration) || !aspectCheck.ok(aspectRatio) || !negativeCheck.ok(negative) || !cfgCheck.ok(cfg)) return false;
  let urls: string[] | undefined;
  if (images) {
    urls = checkedUrls(values[IMAGES]);
    if (urls === undefined) return false;
  }

  // The takes, each with an input of its own (a later stage mutating one must not change
  // its siblings), in the order explicitInput writes the fields. Every take is made before
  // any is handed over, as validateVariation does.
  const takes = unit.takes;
  let first: TaskSpec | undefined;
  let firstJson: string | undefined;
  let more: TaskSpec[] | undefined;
  for (let take = 1; take <= takes; take++) {
    const input = { mode, prompt } as VideoInput;
    if (duration !== undefined) input.duration = duration as VideoInput['duration'];
    if (aspectRatio !== undefined) input.aspect_ratio = aspectRatio as VideoInput['aspect_ratio'];
    if (urls !== undefined) input.image_urls = [...urls];
    if (negative !== undefined) input.negative_prompt = negative as string;
    if (cfg !== undefined) input.cfg_scale = cfg as number;
    const key = knownTaskKey(model, provider, input, take, take === 1 ? written : undefined);
    const task: TaskSpec = { key, model, provider, input, take, source: { ...unit.source }, labels: take === 1 ? labels : { ...labels } };
    if (take === 1) {
      first = task;
      firstJson = written.inputJson;
    } else (more ??= []).push(task);
  }
  if (labelsJson !== undefined) labelsJson += '}';
  // Every take has the same input and labels.
  if (first) emit(first, firstJson, labelsJson);
  if (more) for (const t of more) emit(t, firstJson, labelsJson);
  return true;
}

const written: { inputJson?: string } = {};

function setText(t: Prepared['templates'][number], text: string, chosen: (Chosen | undefined)[], values: unknown[]): void {
  const slot = t.field === 'prompt' ? PROMPT : NEGATIVE;
  chosen[slot] = t.chosen;
  values[slot] = text;
}

/** A scalar field's schema, with its verdict on each value seen (a field takes a handful of values). */
class ScalarCheck {
  readonly #schema: { safeParse(value: unknown): { success: boolean } };
  readonly #seen = new Map<unknown, boolean>();
  constructor(schema: { safeParse(value: unknown): { success: boolean } }) {
    this.#schema = schema;
  }
  ok(value: unknown): boolean {
    const known = this.#seen.get(value);
    if (known !== undefined) return known;
    const ok = this.#schema.safeParse(value).success;
    const t = typeof value;
    if ((t === 'string' || t === 'number' || t === 'boolean' || t === 'undefined') && this.#seen.size < 1000) this.#seen.set(value, ok);
    return ok;
  }
}

/** A text field's schema, with its verdict on the last value (a prompt recurs row after row, not across the sheet). */
class TextCheck {
  readonly #schema: { safeParse(value: unknown): { success: boolean } };
  #last: string | undefined;
  #lastOk = false;
  constructor(schema: { safeParse(value: unknown): { success: boolean } }) {
    this.#schema = schema;
  }
  ok(value: unknown): boolean {
    if (value === undefined) return this.#schema.safeParse(value).success;
    if (typeof value === 'string' && value === this.#last) return this.#lastOk;
    const ok = this.#schema.safeParse(value).success;
    if (typeof value === 'string') {
      this.#last = value;
      this.#lastOk = ok;
    }
    return ok;
  }
}

// The schemas' outputs are their inputs for these fields (no transforms): only the verdict is kept.
const modeCheck = new ScalarCheck(inputShape.mode);
const durationCheck = new ScalarCheck(inputShape.duration);
const aspectCheck = new ScalarCheck(inputShape.aspect_ratio);
const cfgCheck = new ScalarCheck(inputShape.cfg_scale);
const promptCheck = new TextCheck(inputShape.prompt);
const negativeCheck = new TextCheck(inputShape.negative_prompt);

// image_urls: the URL schema returns the URLs trimmed, so its output is kept, for the last list seen.
let lastUrls: readonly string[] | undefined;
let lastChecked: string[] | undefined;

/** The image URLs as the schema returns them, or undefined when they are not valid. */
function checkedUrls(value: unknown): string[] | undefined {
  if (lastUrls !== undefined && Array.isArray(value) && value.length === lastUrls.length && value.every((u, i) => u === lastUrls![i])) return lastChecked;
  const r = inputShape.image_urls.safeParse(value);
  if (!r.success || r.data === undefined) return undefined;
  if (Array.isArray(value) && value.every((u) => typeof u === 'string')) {
    lastUrls = [...(value as string[])];
    lastChecked = r.data;
  }
  return r.data;
}
