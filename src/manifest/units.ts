/**
 * Units: a YAML task, or one row of a sheet, with everything it takes from around it —
 * its fields by priority, the axes it is crossed with, the variables its templates may
 * use, its static labels — and the number of variations it stands for. A unit is rendered
 * one variation at a time by number (`renderUnit`), never expanded as a whole.
 *
 * Where a field comes from, first match wins:
 *   task:       the task's own value → an axis of the same name → defaults
 *   sheet row:  the sheet entry's value (a template that may use {{field}}, the row's cell)
 *               → the row's cell → an axis → defaults
 * A field set both by an axis and by the task or row is an error: the product would
 * silently lose the axis. `field: null` on a task cancels a default.
 */
import type { Provider, TaskSource } from '../core/types.js';
import type { Pos, RawAxis, RawAxisValue, RawValue } from './raw.js';
import { textPos } from './raw.js';
import { INPUT_FIELDS, type InputField } from './schema.js';
import { checkTemplate, countTemplate, parseTemplate, renderTemplate, type Scope, type Template } from './template.js';
import type { Chosen, Problem, Variation } from './validate.js';
import type { Wildcards } from './wildcards.js';
import { didYouMean } from './suggest.js';

export type TextField = 'prompt' | 'negative_prompt';
const TEXT_FIELDS: readonly TextField[] = ['prompt', 'negative_prompt'];

export interface Unit {
  path: string;
  file: string;
  start: Pos;
  source: TaskSource;
  /** Fields that do not vary (own, cell, default), not yet rendered. */
  fixed: Map<InputField, Chosen>;
  axes: readonly RawAxis[];
  /** Axes that set an input field (or model / provider) rather than only a variable. */
  fieldAxes: ReadonlyMap<string, RawAxis>;
  vars: Map<string, string | Template>;
  labels: Record<string, string>;
  model: string;
  provider: Provider;
  takes: number;
}

export interface Prepared {
  unit: Unit;
  /** The unit's axes that matter to it: those that set a field, and those its templates use. */
  axes: readonly RawAxis[];
  templates: { field: TextField; chosen: Chosen; template: Template }[];
  urls: { chosen: Chosen; items: Template[] } | undefined;
  /** Variation count of the templates alone (the axes multiply it). */
  templateCount: number;
  count: number;
  scope: UnitScope;
}

/** The scope of one unit: its variables, plus the value each axis takes in the current variation. */
export class UnitScope implements Scope {
  readonly choice = new Map<string, string>();
  constructor(
    private readonly unit: Unit,
    private readonly wildcards: Wildcards,
  ) {}
  variable(name: string): string | Template | undefined {
    return this.choice.get(name) ?? this.unit.vars.get(name);
  }
  wildcard(name: string): readonly Template[] | undefined {
    return this.wildcards.options(name);
  }
  names(): string[] {
    return [...new Set([...this.unit.axes.map((a) => a.name), ...this.unit.vars.keys()])];
  }
}

const templateCache = new WeakMap<RawValue, Template | null>();

/** A text field's value as a template, parsed once per written value; null after reporting a syntax error. */
export function templateOf(rv: RawValue, syntax: 'full' | 'vars' | 'literal', field: string, problem: Problem, manifestFile: string): Template | null {
  // Values written in the manifest are parsed once however many rows use them; a sheet's
  // cells are parsed once anyway, and caching them would only keep them alive.
  const cacheable = syntax !== 'literal' && rv.file === undefined;
  const cached = cacheable ? templateCache.get(rv) : undefined;
  if (cached !== undefined) return cached;
  if (typeof rv.value !== 'string') return null; // not text: the schema says so once rendered
  const t = parseTemplate(rv.value, syntax);
  let result: Template | null = null;
  if ('message' in t) problem(textPos(rv, t.at), field, t.message, rv.file ?? manifestFile);
  else result = t;
  if (cacheable) templateCache.set(rv, result);
  return result;
}

/**
 * Check the unit's templates against its scope and count its variations; undefined when
 * something is wrong (already reported).
 */
export function prepareUnit(unit: Unit, wildcards: Wildcards, problem: Problem, manifestFile: string): Prepared | undefined {
  const scope = new UnitScope(unit, wildcards);
  for (const a of unit.axes) scope.choice.set(a.name, ''); // placeholders while checking
  let ok = true;
  const at = unit.path ? `${unit.path}.` : '';
  const templates: Prepared['templates'] = [];
  // What the templates use; made when one is not constant (most prompts are plain text).
  let check: CheckContext | undefined;
  const checking = (): CheckContext => (check ??= { unit, scope, used: new Set<string>(), wildcards, problem, manifestFile });
  for (const f of TEXT_FIELDS) {
    const c = unit.fixed.get(f);
    if (!c) continue;
    const t = templateOf(c.rv, c.rv.literal ? 'literal' : 'full', c.fromDefaults ? `defaults.${f}` : at + f, problem, manifestFile);
    if (t === null) {
      if (typeof c.rv.value === 'string') ok = false;
      continue;
    }
    if (!t.constant && !checkOne(checking(), t, c, at + f)) ok = false;
    templates.push({ field: f, chosen: c, template: t });
  }
  let urls: Prepared['urls'];
  const images = unit.fixed.get('image_urls');
  if (images && Array.isArray(images.rv.value) && images.rv.value.every((u) => typeof u === 'string')) {
    const items: Template[] = [];
    (images.rv.value as string[]).forEach((u, i) => {
      const itemRv: RawValue = { ...images.rv, value: u, pos: images.rv.items?.[i] ?? images.rv.pos };
      delete itemRv.text;
      const t = parseTemplate(u, 'vars');
      if ('message' in t) {
        ok = false;
        problem(itemRv.pos, `${at}image_urls[${i}]`, t.message, images.rv.file ?? manifestFile);
      } else {
        if (!checkOne(checking(), t, { ...images, rv: itemRv }, `${at}image_urls[${i}]`)) ok = false;
        items.push(t);
      }
    });
    if (items.some((t) => !t.constant)) urls = { chosen: images, items };
  }
  if (!ok) return undefined;
  // An axis the unit neither uses nor is set by would only repeat the same task.
  const used = check?.used;
  const applies = (a: RawAxis): boolean => unit.fieldAxes.get(a.name) === a || used?.has(a.name) === true;
  // (All of them, commonly: the unit's own list, shared with its entry's other units, is not copied.)
  const axes = unit.axes.every(applies) ? unit.axes : unit.axes.filter(applies);
  let templateCount = 1;
  for (const t of templates) templateCount *= countTemplate(t.template, scope);
  let count = templateCount;
  for (const a of axes) count *= a.values.length;
  if (!(count <= Number.MAX_SAFE_INTEGER)) {
    problem(unit.start, unit.path, 'this task stands for more than 2^53 variations; cut some axes or alternatives', unit.file);
    return undefined;
  }
  return { unit, axes, templates, urls, templateCount, count, scope };
}

interface CheckContext {
  unit: Unit;
  scope: UnitScope;
  used: Set<string>;
  wildcards: Wildcards;
  problem: Problem;
  manifestFile: string;
}

/** Report what `t` refers to and the scope lacks; false when anything was. */
function checkOne(
  ctx: CheckContext,
  t: Template,
  c: Chosen,
  field: string,
): boolean {
  const { unit, scope, wildcards, problem } = ctx;
  const unresolved = checkTemplate(t, scope, ctx.used);
  for (const u of unresolved) {
    const pos = c.fromDefaults ? unit.start : textPos(c.rv, u.at);
    const file = c.fromDefaults ? unit.file : (c.rv.file ?? ctx.manifestFile);
    if (u.kind === 'var') {
      const names = scope.names();
      const guess = didYouMean(u.name, names);
      const hint = guess ? `; did you mean {{${guess}}}?` : names.length ? `; the variables here are: ${names.join(', ')}` : '; define it under `vars:`';
      problem(pos, field, `unknown variable {{${u.name}}}${hint}`, file);
    } else if (u.kind === 'wild') problem(pos, field, wildcards.why(u.name), file);
    else problem(pos, field, `${u.name.startsWith('{') ? u.name : `__${u.name}__`} includes itself`, file);
  }
  return unresolved.length === 0;
}

/** URL-safe text for a `{{var}}` inside a URL: spaces, #, ? and non-ASCII encoded; % kept (already encoded). */
export function encodeUrlPart(text: string): string {
  return text.replace(/[^A-Za-z0-9\-._~/!$&'()*+,;=:@%]/gu, (c) => encodeURIComponent(c));
}

export function renderUrl(t: Template, scope: Scope): string {
  if (t.constant) return t.source;
  const whole = t.parts.length === 1;
  return t.parts
    .map((p) => {
      if (p.kind === 'text') return p.text;
      if (p.kind !== 'var') return '';
      const v = scope.variable(p.name);
      const text = v === undefined ? '' : typeof v === 'string' ? v : renderTemplate(v, 0, scope);
      return whole ? text : encodeUrlPart(text);
    })
    .join('');
}

/**
 * A copy of a labels object, to add labels to. The same as `{ ...labels }` for these
 * objects (own data properties, never `__proto__`: they are only ever assigned to), but
 * V8 gives an object made by spreading a map of its own, so adding a label to it makes
 * yet another map — about a microsecond a task on a million-row sheet.
 */
export function labelsCopy(labels: Readonly<Record<string, string>>): Record<string, string> {
  return Object.assign({}, labels);
}

/** Variation `index` of a prepared unit: the axes vary slowest, then the templates in field order. */
export function renderUnit(p: Prepared, index: number): Variation {
  const { unit, scope } = p;
  const labels = labelsCopy(unit.labels);
  const fields = new Map(unit.fixed);
  let model = unit.model;
  let provider = unit.provider;

  let rest = Math.floor(index / p.templateCount);
  let templateIndex = index % p.templateCount;
  const picked = new Array<number>(p.axes.length);
  for (let k = p.axes.length - 1; k >= 0; k--) {
    const n = p.axes[k]!.values.length;
    picked[k] = rest % n;
    rest = Math.floor(rest / n);
  }
  for (let k = 0; k < p.axes.length; k++) {
    const axis = p.axes[k]!;
    const value = axis.values[picked[k]!]!;
    const made = axisValue(axis, value);
    scope.choice.set(axis.name, made.text);
    labels[axis.name] = value.label;
    if (unit.fieldAxes.get(axis.name) !== axis) continue;
    if (axis.name === 'model') model = value.value as string;
    else if (axis.name === 'provider') provider = value.value as Provider;
    else {
      const own = fields.get(axis.name as InputField);
      if (own && !own.fromDefaults) continue; // reported as a conflict when the unit was built
      fields.set(axis.name as InputField, made.chosen);
    }
  }
  // Templates: the last varies fastest, as the digits of a number.
  const digits = new Array<number>(p.templates.length);
  for (let k = p.templates.length - 1; k >= 0; k--) {
    const c = countTemplate(p.templates[k]!.template, scope);
    digits[k] = templateIndex % c;
    templateIndex = Math.floor(templateIndex / c);
  }
  for (let k = 0; k < p.templates.length; k++) {
    const t = p.templates[k]!;
    const text = renderTemplate(t.template, digits[k]!, scope, labels);
    // A constant template renders its own value: the chosen value can be used as it is.
    fields.set(t.field, t.template.constant && text === t.chosen.rv.value ? t.chosen : { ...t.chosen, rv: { ...t.chosen.rv, value: text } });
  }
  if (p.urls) {
    const value = p.urls.items.map((t) => renderUrl(t, scope));
    fields.set('image_urls', { ...p.urls.chosen, rv: { ...p.urls.chosen.rv, value } });
  }
  return { path: unit.path, file: unit.file, start: unit.start, fields, model, provider, takes: unit.takes, labels, source: unit.source };
}

const axisValues = new WeakMap<RawAxisValue, { text: string; chosen: Chosen }>();

/** An axis value as a variable and as a field value: made once, used by every variation. */
export function axisValue(axis: RawAxis, value: RawAxisValue): { text: string; chosen: Chosen } {
  let made = axisValues.get(value);
  if (!made) {
    const v = axis.name === 'image_urls' && typeof value.value === 'string' ? [value.value] : value.value;
    const rv: RawValue = { value: v, pos: value.pos, keyPos: axis.namePos };
    if (value.items) rv.items = value.items;
    made = { text: asVariable(value.value), chosen: { rv, fromDefaults: false, axis: axis.name } };
    axisValues.set(value, made);
  }
  return made;
}

function asVariable(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.join(' ');
  return String(value);
}

/**
 * The fixed fields of a unit from its sources in priority order, reporting fields that an
 * axis sets too. `sources` are tried in order; `null` in a source cancels the defaults.
 */
export function chooseFields(
  sources: readonly ReadonlyMap<string, RawValue>[],
  defaults: ReadonlyMap<InputField, RawValue>,
  fieldAxes: ReadonlyMap<string, RawAxis>,
  path: string,
  problem: Problem,
  manifestFile: string,
): { fixed: Map<InputField, Chosen>; ok: boolean } {
  const fixed = new Map<InputField, Chosen>();
  let ok = true;
  for (const f of INPUT_FIELDS) {
    let own: RawValue | undefined;
    for (const s of sources) {
      own = s.get(f);
      if (own !== undefined) break;
    }
    const axis = fieldAxes.get(f);
    if (own !== undefined && own.value !== null) {
      if (axis) {
        ok = false;
        problem(own.keyPos, path ? `${path}.${f}` : f, `${f} is set here and by the axis ${axis.path} (line ${axis.namePos.line}); remove one, or give this task its own vars`, own.file ?? manifestFile);
      }
      fixed.set(f, { rv: own, fromDefaults: false });
      continue;
    }
    if (own !== undefined || axis) continue; // null cancels the default; an axis replaces it
    const d = defaults.get(f);
    if (d !== undefined) fixed.set(f, { rv: d, fromDefaults: true });
  }
  return { fixed, ok };
}
