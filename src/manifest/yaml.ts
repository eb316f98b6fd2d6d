/**
 * YAML manifest → RawManifest. Walks the document's nodes rather than its JS value so
 * every key and value keeps its position. Syntax errors stop the walk (the tree after a
 * syntax error is a guess), but all of them are reported, each where the parser saw it.
 * Which keys exist where comes from the document schema (document.ts).
 */
import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument } from 'yaml';
import type { Document, Node, Pair, Scalar } from 'yaml';
import { SHEET_KEYS, SHEET_SOURCE_KEYS, TASK_KEYS, TOP_LEVEL_KEYS } from './document.js';
import { FILE_POS, asText, describe, emptyManifest, issueAt } from './raw.js';
import type { Pos, RawAxis, RawEntry, RawManifest, RawSheet, RawValue } from './raw.js';
import { suggestionSuffix } from './suggest.js';

type AnyNode = Node | Pair | null | undefined | unknown;

const SETTINGS = { name: 'name', model: 'model', provider: 'provider', takes: 'takes', max_tasks: 'maxTasks', sample: 'sample', seed: 'seed', wildcards: 'wildcards' } as const;

export function readYaml(file: string, text: string): RawManifest {
  const lineCounter = new LineCounter();
  // YAML counts a lone CR (old Mac files) as a line break; the yaml package does not.
  // CR → LF keeps every offset, so positions are unchanged.
  const source = text.replace(/\r(?!\n)/g, '\n');
  const doc = parseDocument(source, { lineCounter, prettyErrors: true, uniqueKeys: true, logLevel: 'error' });
  const raw = emptyManifest(file);
  const at = (offset: number): Pos => {
    const p = lineCounter.linePos(offset);
    return { line: p.line, column: p.col };
  };
  const posOf = (node: AnyNode, fallback: Pos): Pos => {
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    return range ? at(range[0]) : fallback;
  };
  const problem = (pos: Pos, field: string, message: string): void => {
    raw.issues.push(issueAt(file, pos, field, message));
  };

  if (doc.errors.length > 0) {
    for (const e of doc.errors) problem(at(e.pos[0]), '', cleanYamlMessage(e.message));
    return raw;
  }

  /** Follow an alias to what it names, so `*base` works wherever a value may stand. */
  const deref = (node: AnyNode): AnyNode => (isAlias(node) ? node.resolve(doc as Document.Parsed) : node);

  /** For a one-line scalar without escapes: the position of each character (template errors). */
  const textOf = (node: Scalar): RawValue['text'] => {
    const range = node.range;
    if (!range || typeof node.value !== 'string') return undefined;
    const written = source.slice(range[0], range[1]);
    if (written.includes('\n')) return undefined;
    const shift = node.type === 'PLAIN' ? 0 : node.type === 'QUOTE_SINGLE' || node.type === 'QUOTE_DOUBLE' ? 1 : -1;
    if (shift < 0 || written.slice(shift, written.length - shift) !== node.value) return undefined;
    return { at: at(range[0]), shift };
  };

  const valueOf = (valueNode: AnyNode, keyPos: Pos, field: string): RawValue | undefined => {
    if (valueNode === null || valueNode === undefined) return { value: null, pos: keyPos, keyPos };
    const pos = posOf(valueNode, keyPos);
    const target = deref(valueNode);
    let value: unknown;
    try {
      value = isScalar(target) ? target.value : (target as Node).toJS(doc);
    } catch (e) {
      // Alias loops and alias bombs (maxAliasCount) end up here.
      problem(pos, field, `cannot read this value: ${(e as Error).message}`);
      return undefined;
    }
    const rv: RawValue = { value, pos, keyPos };
    if (isSeq(target)) rv.items = target.items.map((item) => posOf(item, pos));
    if (isScalar(target) && target === valueNode) {
      const text = textOf(target);
      if (text) rv.text = text;
    }
    return rv;
  };

  interface Entry {
    name: string;
    keyPos: Pos;
    node: AnyNode;
    rv: RawValue;
  }
  /** The pairs of a mapping in order; non-text keys are reported and skipped. */
  const entriesOf = (node: AnyNode, path: string): Entry[] => {
    const out: Entry[] = [];
    const target = deref(node);
    if (!isMap(target)) return out;
    for (const pair of target.items) {
      const keyNode = pair.key as AnyNode;
      const keyPos = posOf(keyNode, posOf(target, FILE_POS));
      const name = isScalar(keyNode) ? keyNode.value : undefined;
      if (typeof name !== 'string') {
        problem(keyPos, path, `expected a field name as key, got ${describe(isScalar(keyNode) ? keyNode.value : keyNode)}`);
        continue;
      }
      const field = path ? `${path}.${name}` : name;
      const rv = valueOf(pair.value, keyPos, field);
      if (rv) out.push({ name, keyPos, node: deref(pair.value), rv });
    }
    return out;
  };
  const fieldsOf = (node: AnyNode, path: string): Map<string, RawValue> => new Map(entriesOf(node, path).map((e) => [e.name, e.rv]));

  const mapping = (e: Entry, field: string, what: string): boolean => {
    if (e.rv.value === null || isMap(e.node)) return true;
    problem(e.rv.pos, field, `expected ${what}, got ${describe(e.rv.value)}`);
    return false;
  };

  const readVars = (e: Entry, path: string): RawAxis[] => {
    if (!mapping(e, path, 'a mapping of axis names to their values')) return [];
    const axes: RawAxis[] = [];
    for (const a of entriesOf(e.node, path)) {
      const field = `${path}.${a.name}`;
      if (a.name.trim() === '' || /[{}|]/.test(a.name)) {
        problem(a.keyPos, field, "an axis name cannot be empty or contain '{', '}' or '|' (it is written {{name}} in templates)");
        continue;
      }
      const axis: RawAxis = { name: a.name, path: field, namePos: a.keyPos, values: [] };
      const node = a.node;
      if (isSeq(node)) {
        node.items.forEach((item, i) => {
          const rv = valueOf(item, a.rv.pos, `${field}[${i}]`);
          if (rv) axis.values.push({ label: asText(rv.value), value: rv.value, pos: rv.pos, ...(rv.items ? { items: rv.items } : {}) });
        });
      } else if (isMap(node)) {
        for (const v of entriesOf(node, field)) axis.values.push({ label: v.name, value: v.rv.value, pos: v.rv.pos, ...(v.rv.items ? { items: v.rv.items } : {}) });
      } else {
        problem(a.rv.pos, field, `expected a list of values, or a mapping of label: value, got ${describe(a.rv.value)}`);
        continue;
      }
      if (axis.values.length === 0) problem(a.rv.pos, field, `the axis '${a.name}' has no values`);
      const seen = new Map<string, number>();
      axis.values.forEach((v, i) => {
        const bad = v.value === null || (typeof v.value === 'object' && !(Array.isArray(v.value) && v.value.every((x) => typeof x === 'string')));
        if (bad) problem(v.pos, `${field}[${i}]`, `expected a value (text, number, true/false), got ${describe(v.value)}`);
        const key = JSON.stringify(v.value);
        if (seen.has(key)) problem(v.pos, `${field}[${i}]`, `${describe(v.value)} is already value ${(seen.get(key) ?? 0) + 1} of '${a.name}'; each would be the same task`);
        seen.set(key, i);
      });
      axes.push(axis);
    }
    return axes;
  };

  const readEntry = (kind: 'task' | 'sheet', item: AnyNode, path: string, start: Pos): RawEntry | undefined => {
    const target = deref(item);
    if (!isMap(target)) {
      const shown = isScalar(target) ? target.value : target;
      const example = kind === 'task' ? '`- prompt: ...`' : '`- file: prompts.csv`';
      problem(start, path, `expected a ${kind} (a mapping of fields, e.g. ${example}), got ${describe(shown)}`);
      return undefined;
    }
    const entry: RawEntry = { kind, path, start, fields: new Map(), vars: [], labels: new Map() };
    const known = kind === 'task' ? TASK_KEYS : SHEET_KEYS;
    const sheet: Partial<RawSheet> & { columns: RawSheet['columns'] } = { columns: new Map() };
    for (const e of entriesOf(target, path)) {
      const field = `${path}.${e.name}`;
      if (!known.includes(e.name)) {
        const hint = suggestionSuffix(e.name, known) || `; expected one of: ${known.join(', ')}`;
        problem(e.keyPos, field, `unknown field '${e.name}'${hint}`);
        continue;
      }
      switch (e.name) {
        case 'vars':
          entry.vars = readVars(e, field);
          break;
        case 'labels':
          if (mapping(e, field, 'a mapping of label names to values')) {
            for (const l of entriesOf(e.node, field)) {
              if (l.rv.value !== null && typeof l.rv.value === 'object') problem(l.rv.pos, `${field}.${l.name}`, `expected a text or number, got ${describe(l.rv.value)}`);
              else entry.labels.set(l.name, l.rv);
            }
          }
          break;
        case 'sample':
          entry.sample = e.rv;
          break;
        case 'seed':
          entry.seed = e.rv;
          break;
        case 'columns':
          if (mapping(e, field, 'a mapping of column names to fields or label names')) {
            for (const c of entriesOf(e.node, field)) {
              const t = c.rv.value;
              if (t !== null && (typeof t !== 'string' || t.trim() === '')) problem(c.rv.pos, `${field}.${c.name}`, `expected a field or label name (or nothing, to drop the column), got ${describe(t)}`);
              else sheet.columns.set(c.name, { target: t === null ? null : t.trim(), pos: c.rv.pos, keyPos: c.keyPos });
            }
          }
          break;
        default:
          if (SHEET_SOURCE_KEYS.includes(e.name)) (sheet as Record<string, unknown>)[e.name] = e.rv;
          else entry.fields.set(e.name, e.rv);
      }
    }
    if (kind === 'sheet') {
      if (!sheet.file) {
        problem(start, `${path}.file`, 'a sheet needs `file:`, the CSV, TSV, JSONL, JSON or TXT file to read rows from');
        return undefined;
      }
      entry.sheet = sheet as RawSheet;
    }
    return entry;
  };

  const readEntries = (kind: 'task' | 'sheet', e: Entry): void => {
    const key = kind === 'task' ? 'tasks' : 'sheets';
    const node = e.node;
    if (!isSeq(node) || node.items.length === 0) {
      const empty = e.rv.value === null || (isSeq(node) && node.items.length === 0);
      problem(e.rv.pos, key, empty ? `the \`${key}:\` list is empty; add at least one ${kind}` : `expected a list of ${key}, got ${describe(e.rv.value)}`);
      return;
    }
    node.items.forEach((item, i) => {
      const entry = readEntry(kind, item, `${key}[${i}]`, posOf(item, e.rv.pos));
      if (entry) raw.entries.push(entry);
    });
  };

  const top = doc.contents as AnyNode;
  if (top === null || top === undefined || (isScalar(top) && top.value === null)) {
    // An empty document after directives (`%YAML 1.2` / `---`) is pointed at; an empty file cannot be.
    problem(posOf(top, FILE_POS), '', 'the manifest is empty; it needs a `tasks:` list (or `sheets:`)');
    return raw;
  }
  if (!isMap(top)) {
    const hint = isSeq(top) ? 'the top level is a list; put the tasks under `tasks:`' : `expected a mapping with a \`tasks:\` list at the top level, got ${describe(isScalar(top) ? top.value : top)}`;
    problem(posOf(top, FILE_POS), '', hint);
    return raw;
  }

  let sawEntries = false;
  for (const e of entriesOf(top, '')) {
    if (Object.hasOwn(SETTINGS, e.name)) {
      raw[SETTINGS[e.name as keyof typeof SETTINGS]] = e.rv;
      continue;
    }
    switch (e.name) {
      case 'defaults':
        if (mapping(e, 'defaults', 'a mapping of input fields')) raw.defaults = fieldsOf(e.node, 'defaults');
        break;
      case 'vars':
        raw.vars = readVars(e, 'vars');
        break;
      case 'tasks':
      case 'sheets':
        sawEntries = true;
        readEntries(e.name === 'tasks' ? 'task' : 'sheet', e);
        break;
      default: {
        const hint = suggestionSuffix(e.name, TOP_LEVEL_KEYS) || `; expected one of: ${TOP_LEVEL_KEYS.join(', ')}`;
        problem(e.keyPos, e.name, `unknown key '${e.name}'${hint}`);
      }
    }
  }
  if (!sawEntries) problem(posOf(top, FILE_POS), 'tasks', 'the manifest has no `tasks:` list (or `sheets:`); add at least one task');
  return raw;
}

/** The parser's message without its "at line L, column C:" tail and code excerpt: we give the position. */
export function cleanYamlMessage(message: string): string {
  const first = message.split('\n')[0] ?? message;
  return first.replace(/ at line \d+, column \d+:?\s*$/, '');
}
