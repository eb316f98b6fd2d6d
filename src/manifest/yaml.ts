/**
 * YAML manifest → RawManifest. Walks the document's nodes rather than its JS value so
 * every key and value keeps its position. Syntax errors stop the walk (the tree after a
 * syntax error is a guess), but all of them are reported, each where the parser saw it.
 */
import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument } from 'yaml';
import type { Document, Node, Pair } from 'yaml';
import { FILE_POS, describe, issueAt } from './raw.js';
import type { Pos, RawManifest, RawRow, RawValue } from './raw.js';

type AnyNode = Node | Pair | null | undefined | unknown;

export function readYaml(file: string, text: string): RawManifest {
  const lineCounter = new LineCounter();
  // YAML counts a lone CR (old Mac files) as a line break; the yaml package does not.
  // CR → LF keeps every offset, so positions are unchanged.
  const source = text.replace(/\r(?!\n)/g, '\n');
  const doc = parseDocument(source, { lineCounter, prettyErrors: true, uniqueKeys: true });
  const raw: RawManifest = { file, defaults: new Map(), unknownTop: new Map(), rows: [], issues: [] };
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

  const valueOf = (pair: Pair, keyPos: Pos, field: string): RawValue | undefined => {
    const node = pair.value as AnyNode;
    if (node === null || node === undefined) return { value: null, pos: keyPos, keyPos };
    const pos = posOf(node, keyPos);
    const target = deref(node);
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
    return rv;
  };

  /** The pairs of a mapping as name → value; non-text keys are reported and skipped. */
  const fieldsOf = (node: AnyNode, path: string): Map<string, RawValue> => {
    const fields = new Map<string, RawValue>();
    const target = deref(node);
    if (!isMap(target)) return fields;
    for (const pair of target.items) {
      const keyNode = pair.key as AnyNode;
      const keyPos = posOf(keyNode, posOf(target, FILE_POS));
      const name = isScalar(keyNode) ? keyNode.value : undefined;
      if (typeof name !== 'string') {
        problem(keyPos, path, `expected a field name as key, got ${describe(isScalar(keyNode) ? keyNode.value : keyNode)}`);
        continue;
      }
      const field = path ? `${path}.${name}` : name;
      const rv = valueOf(pair, keyPos, field);
      if (rv) fields.set(name, rv);
    }
    return fields;
  };

  const top = doc.contents as AnyNode;
  if (top === null || top === undefined || (isScalar(top) && top.value === null)) {
    problem(FILE_POS, '', 'the manifest is empty; it needs a `tasks:` list');
    return raw;
  }
  if (!isMap(top)) {
    const hint = isSeq(top) ? 'the top level is a list; put the tasks under `tasks:`' : `expected a mapping with a \`tasks:\` list at the top level, got ${describe(isScalar(top) ? top.value : top)}`;
    problem(posOf(top, FILE_POS), '', hint);
    return raw;
  }

  let sawTasks = false;
  const topFields = fieldsOf(top, '');
  for (const pair of top.items) {
    const keyNode = pair.key as AnyNode;
    const name = isScalar(keyNode) ? keyNode.value : undefined;
    if (typeof name !== 'string') continue;
    const rv = topFields.get(name);
    if (!rv) continue;
    switch (name) {
      case 'name':
        raw.name = rv;
        break;
      case 'model':
        raw.model = rv;
        break;
      case 'provider':
        raw.provider = rv;
        break;
      case 'takes':
        raw.takes = rv;
        break;
      case 'defaults': {
        const node = deref(pair.value);
        if (rv.value !== null && !isMap(node)) problem(rv.pos, 'defaults', `expected a mapping of input fields, got ${describe(rv.value)}`);
        raw.defaults = fieldsOf(node, 'defaults');
        break;
      }
      case 'tasks':
        sawTasks = true;
        readTasks(deref(pair.value), rv);
        break;
      default:
        raw.unknownTop.set(name, rv);
    }
  }
  if (!sawTasks) problem(posOf(top, FILE_POS), 'tasks', 'the manifest has no `tasks:` list; add at least one task');
  return raw;

  function readTasks(node: AnyNode, rv: RawValue): void {
    if (!isSeq(node)) {
      const message = rv.value === null ? 'the `tasks:` list is empty; add at least one task' : `expected a list of tasks, got ${describe(rv.value)}`;
      problem(rv.pos, 'tasks', message);
      return;
    }
    if (node.items.length === 0) {
      problem(rv.pos, 'tasks', 'the `tasks:` list is empty; add at least one task');
      return;
    }
    node.items.forEach((item, i) => {
      const path = `tasks[${i}]`;
      const start = posOf(item, rv.pos);
      const target = deref(item);
      if (!isMap(target)) {
        const shown = isScalar(target) ? target.value : target;
        problem(start, path, `expected a task (a mapping of fields, e.g. \`- prompt: ...\`), got ${describe(shown)}`);
        return;
      }
      const row: RawRow = { path, start, fields: fieldsOf(target, path), labels: {} };
      raw.rows.push(row);
    });
  }
}

/** The parser's message without its "at line L, column C:" tail and code excerpt: we give the position. */
export function cleanYamlMessage(message: string): string {
  const first = message.split('\n')[0] ?? message;
  return first.replace(/ at line \d+, column \d+:?\s*$/, '');
}
