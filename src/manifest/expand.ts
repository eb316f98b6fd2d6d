/**
 * Expansion: entries (YAML tasks, sheet entries) → units → variations → TaskSpecs, handed
 * to `emit` one at a time. Counts come first and cost nothing: a unit's variations are
 * numbered, so the cap is checked and `sample:` drawn before anything is rendered, and a
 * product of 10^12 is refused with its count instead of being listed.
 *
 * Order: entries in file order; within an entry, its units (rows) in order; within a
 * unit, its axes vary slowest (first axis slowest), then its alternatives; takes last.
 */
import type { Includes } from './includes.js';
import type { Pos, RawAxis, RawEntry, RawManifest, RawValue } from './raw.js';
import { FILE_POS, asText } from './raw.js';
import { sampleIndices } from './sample.js';
import { inputShape, modelSchema, providerSchema, takesSchema, type InputField } from './schema.js';
import { walkSheet, type Entry, type SheetContext } from './sheetUnits.js';
import { UnitScope, chooseFields, prepareUnit, renderUnit, type Prepared, type Unit } from './units.js';
import { firstPerPath, isInputField, resolveSettings, setting, validateVariation, type Problem, type Settings } from './validate.js';
import { Wildcards } from './wildcards.js';
import { documentSchema } from './document.js';
import { emitVariations, type TaskSink } from './emit.js';

export interface Expansion {
  name: string | undefined;
  settings: Settings;
  /** Tasks (variations × takes) before duplicates are removed; beyond the cap, still counted. */
  expanded: number;
  /** When `sample:` drew a subset: how many variations there were to draw from. */
  sampledFrom: number | undefined;
}

const FIELD_AXES = new Set<string>([...(Object.keys(inputShape) as InputField[]), 'model', 'provider']);
const fmt = (n: number): string => n.toLocaleString('en-US');

export function expandManifest(raw: RawManifest, includes: Includes, problem: Problem, emit: TaskSink): Expansion {
  const file = raw.file;
  const { settings, defaults } = resolveSettings(raw, problem);
  const wildcards = new Wildcards(settings.wildcards, includes, problem);
  const topAxes = raw.vars.filter((a) => checkAxis(a, problem));
  const entries = raw.entries.map((e) => prepareEntry(e, topAxes, settings, problem));
  const anySample = settings.sample !== undefined || entries.some((e) => e.sample !== undefined);
  if (raw.seed && !anySample) problem(raw.seed.keyPos, 'seed', '`seed` only chooses what `sample:` draws, and nothing here has a sample (the provider takes no seed)');
  const ctx: SheetContext = { manifestFile: file, includes, defaults, top: settings, problem };

  const usedAxes = new Set<RawAxis>();
  let allPrepared = true;
  const walk = (entry: Entry, visit: (p: Prepared) => void): void => {
    const prepare = (u: Unit): void => {
      const p = prepareUnit(u, wildcards, problem, file);
      if (!p) {
        allPrepared = false;
        checkUnprepared(u, file, problem);
      } else {
        for (const a of p.axes) usedAxes.add(a);
        visit(p);
      }
    };
    if (entry.raw.kind === 'sheet') walkSheet(entry, ctx, prepare);
    else if (entry.ok) {
      const unit = taskUnit(entry, defaults, settings, file, problem);
      if (unit) prepare(unit);
      else allPrepared = false;
    }
  };

  // Which variations of each entry are made: all of them, or the ones `sample:` draws.
  let picks: (number[] | undefined)[] = entries.map(() => undefined);
  let sampledFrom: number | undefined;
  if (anySample) {
    const sizes = entries.map((e) => {
      let n = 0;
      walk(e, (p) => (n += p.count));
      return n;
    });
    picks = entries.map((e, i) => (e.sample === undefined ? undefined : sampleIndices(e.sample, sizes[i]!, e.seed)));
    const effective = entries.map((_, i) => picks[i]?.length ?? sizes[i]!);
    sampledFrom = sizes.reduce((a, b) => a + b, 0);
    if (settings.sample !== undefined) {
      const total = effective.reduce((a, b) => a + b, 0);
      const global = sampleIndices(settings.sample, total, settings.seed);
      const local: number[][] = entries.map(() => []);
      let e = 0;
      let base = 0;
      for (const g of global) {
        while (g >= base + effective[e]!) base += effective[e++]!;
        const j = g - base;
        local[e]!.push(picks[e]?.[j] ?? j);
      }
      picks = local;
    }
  }

  let expanded = 0;
  const perEntry: { path: string; start: Pos; n: number }[] = [];
  entries.forEach((entry, i) => {
    const chosen = picks[i];
    let offset = 0;
    let next = 0;
    const before = expanded;
    // A CSV or JSONL manifest has no entry to point at: its first row stands in.
    let start = entry.raw.start;
    walk(entry, (p) => {
      if (start.line === 0) start = p.unit.start;
      let indices: number[] | undefined;
      if (chosen) {
        const end = offset + p.count;
        const from = next;
        while (next < chosen.length && chosen[next]! < end) next++;
        indices = chosen.slice(from, next).map((g) => g - offset);
      }
      offset += p.count;
      const n = indices ? indices.length : p.count;
      expanded += n * p.unit.takes;
      if (expanded > settings.maxTasks) return; // counted, never rendered
      emitVariations(p, n, indices, file, problem, emit);
    });
    perEntry.push({ path: entry.raw.path || 'rows', start, n: expanded - before });
  });

  // An axis no task uses is a typo or a leftover; it would silently make nothing vary.
  if (allPrepared && entries.every((e) => e.ok)) {
    for (const a of [...topAxes, ...entries.flatMap((e) => e.axes)]) {
      if (usedAxes.has(a)) continue;
      usedAxes.add(a);
      problem(a.namePos, a.path, `no task uses the axis '${a.name}': write {{${a.name}}} in a prompt, or remove it`);
    }
  }
  if (expanded > settings.maxTasks) {
    const parts = perEntry.filter((e) => e.n > 0).sort((a, b) => b.n - a.n);
    const shown = parts.slice(0, 3).map((e) => `${e.path}: ${fmt(e.n)}`).join(', ') + (parts.length > 3 ? ', …' : '');
    const pos = raw.maxTasks?.pos ?? parts[0]?.start ?? FILE_POS;
    const how = raw.entries[0]?.sheet?.self
      ? 'a CSV or JSONL manifest cannot raise it: read the file as a sheet from a YAML manifest with max_tasks: N'
      : 'raise max_tasks, or draw a subset with sample: N';
    problem(pos, 'max_tasks', `the manifest expands to ${fmt(expanded)} tasks (${shown}), more than max_tasks (${fmt(settings.maxTasks)}); ${how}`);
  }
  return { name: settings.name, settings, expanded, sampledFrom };
}

/**
 * A unit whose templates are broken still has its other fields checked, so that all of
 * its problems show at once: its text fields as written, each field axis at its first value.
 */
function checkUnprepared(unit: Unit, file: string, problem: Problem): void {
  const axes = unit.axes.filter((a) => unit.fieldAxes.get(a.name) === a);
  const scope = new UnitScope(unit, { options: () => undefined } as unknown as Wildcards);
  const p: Prepared = { unit, axes, templates: [], urls: undefined, templateCount: 1, count: 1, scope };
  const v = renderUnit(p, 0);
  // The templates were reported; stand-ins keep the rules that tie fields together quiet.
  const stand = (value: unknown) => ({ rv: { value, pos: unit.start, keyPos: unit.start }, fromDefaults: false });
  v.fields.set('prompt', stand('unchecked'));
  v.fields.delete('negative_prompt');
  const images = v.fields.get('image_urls');
  if (images && JSON.stringify(images.rv.value).includes('{{')) v.fields.set('image_urls', stand(['https://unchecked.invalid/']));
  validateVariation(v, file, problem);
}

/** Field axes: every value checked once, where it is written, with the field's own schema. */
function checkAxis(axis: RawAxis, problem: Problem): boolean {
  if (axis.name === 'takes') {
    problem(axis.namePos, axis.path, 'takes cannot be an axis: two takes of a task are already two videos; set takes: N');
    return false;
  }
  if (!FIELD_AXES.has(axis.name) || axis.name === 'prompt' || axis.name === 'negative_prompt') return axis.values.length > 0;
  const schema = axis.name === 'model' ? modelSchema : axis.name === 'provider' ? providerSchema : inputShape[axis.name as InputField];
  let ok = axis.values.length > 0;
  axis.values.forEach((v, i) => {
    const value = axis.name === 'image_urls' && typeof v.value === 'string' ? [v.value] : v.value;
    const r = schema.safeParse(value);
    if (r.success) return;
    ok = false;
    for (const iss of firstPerPath(r.error.issues)) {
      const item = typeof iss.path[0] === 'number' ? iss.path[0] : undefined;
      problem((item !== undefined && v.items?.[item]) || v.pos, `${axis.path}[${i}]${item !== undefined ? `[${item}]` : ''}`, iss.message);
    }
  });
  return ok;
}

const checked = new WeakMap<RawAxis, boolean>();

function prepareEntry(raw: RawEntry, topAxes: readonly RawAxis[], settings: Settings, problem: Problem): Entry {
  const own = raw.vars.filter((a) => {
    let ok = checked.get(a);
    if (ok === undefined) checked.set(a, (ok = checkAxis(a, problem)));
    return ok;
  });
  // A task's axis replaces the top-level axis of the same name, in its place.
  const axes = topAxes.map((a) => own.find((o) => o.name === a.name) ?? a);
  for (const o of own) if (!axes.includes(o)) axes.push(o);
  const fieldAxes = new Map(axes.filter((a) => FIELD_AXES.has(a.name)).map((a) => [a.name, a]));
  const shape = documentSchema.shape;
  const at = (k: string): string => `${raw.path}.${k}`;
  let ok = true;
  // A bad setting is reported and the entry still checked, so that all its problems show.
  const checkedSetting = <T>(schema: Parameters<typeof setting<T>>[0], rv: RawValue | undefined, key: string): T | undefined => setting(schema, rv, at(key), problem);
  const model = checkedSetting(modelSchema, raw.fields.get('model'), 'model');
  const provider = checkedSetting(providerSchema, raw.fields.get('provider'), 'provider');
  const takes = checkedSetting(takesSchema, raw.fields.get('takes'), 'takes');
  const sample = checkedSetting(shape.sample, raw.sample, 'sample');
  const seed = checkedSetting(shape.seed, raw.seed, 'seed');
  if (raw.seed && sample === undefined && settings.sample === undefined && raw.sample === undefined) {
    problem(raw.seed.keyPos, at('seed'), '`seed` only chooses what `sample:` draws, and this entry has no sample (the provider takes no seed)');
  }
  for (const [name, a] of fieldAxes) {
    if (raw.kind === 'task' && raw.fields.has(name) && raw.fields.get(name)!.value !== null && (name === 'model' || name === 'provider')) {
      problem(raw.fields.get(name)!.keyPos, at(name), `${name} is set here and by the axis ${a.path} (line ${a.namePos.line}); remove one`);
      ok = false;
    }
  }
  const labels: Record<string, string> = {};
  for (const [k, rv] of raw.labels) labels[k] = asText(rv.value);
  return { raw, axes, fieldAxes, model, provider, takes, labels, sample, seed: seed ?? settings.seed, ok };
}

function taskUnit(entry: Entry, defaults: ReadonlyMap<InputField, RawValue>, settings: Settings, file: string, problem: Problem): Unit | undefined {
  const raw = entry.raw;
  const own = new Map([...raw.fields].filter(([k]) => isInputField(k)));
  const { fixed, ok } = chooseFields([own], defaults, entry.fieldAxes, raw.path, problem, file);
  if (!ok) return undefined;
  return {
    path: raw.path,
    file,
    start: raw.start,
    source: { file, line: raw.start.line },
    fixed,
    axes: entry.axes,
    fieldAxes: entry.fieldAxes,
    vars: new Map(Object.entries(entry.labels)),
    labels: { ...entry.labels },
    model: entry.model ?? settings.model,
    provider: entry.provider ?? settings.provider,
    takes: entry.takes ?? settings.takes,
  };
}
