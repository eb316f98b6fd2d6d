/**
 * Prompt templates: `{{var}}` substitutions, `{a|b|c}` alternatives (the dynamicprompts
 * syntax, expanded combinatorially) and `__name__` wildcards read from files.
 *
 * A template is parsed once into a tree; its variations are numbered 0..count-1 so that
 * any one of them can be rendered from its number alone. That is what lets `sample:` draw
 * 20 variations out of 10^12 without listing them, and the cap be checked before anything
 * is expanded. Numbering is lexicographic: the first choice in the text varies slowest.
 *
 * Escapes: a backslash before `{ } | \ _` makes that character literal; before anything
 * else it is kept as written (so `C:\films` and `\n` stay what they are).
 */

export type Part =
  | { kind: 'text'; text: string }
  /** `{{name}}`; `at` is the index of the first `{` in the source. */
  | { kind: 'var'; name: string; at: number }
  /** `{a|b}`; `label` is the group as written, which names the choice in the task's labels. */
  | { kind: 'alt'; options: Part[][]; at: number; label: string }
  /** `__name__` */
  | { kind: 'wild'; name: string; at: number; label: string };

export interface Template {
  source: string;
  parts: Part[];
  /** No variable, alternative or wildcard: renders to a constant (the common case; kept fast). */
  constant: boolean;
}

export interface TemplateError {
  /** Index in the source where the problem is. */
  at: number;
  message: string;
}

/** `full`: prompts. `vars`: only `{{var}}` is special (URLs may hold `{`, `|` and `__`). */
export type Syntax = 'full' | 'vars' | 'literal';

const SPECIAL = /[{}\\_|]/;
const VAR = /\{\{\s*([^{}|]+?)\s*\}\}/y;
const WILD = /__([A-Za-z0-9*][\w./*-]*?)__/y;
const ESCAPABLE = '{}|\\_';

export function literalTemplate(text: string): Template {
  return { source: text, parts: text === '' ? [] : [{ kind: 'text', text }], constant: true };
}

/**
 * The last text parsed and what it gave: a sheet's prompt cell is parsed as the row's
 * {{prompt}} and again as its prompt. Parsing is a function of the text and the syntax
 * alone, and templates are never changed once made, so the result can be handed out twice.
 */
let lastSource: string | undefined;
let lastSyntax: Syntax = 'full';
let lastResult: Template | TemplateError = literalTemplate('');

export function parseTemplate(source: string, syntax: Syntax = 'full'): Template | TemplateError {
  if (source === lastSource && syntax === lastSyntax) return lastResult;
  lastResult = parse(source, syntax);
  lastSource = source;
  lastSyntax = syntax;
  return lastResult;
}

function parse(source: string, syntax: Syntax): Template | TemplateError {
  if (syntax === 'literal' || !SPECIAL.test(source)) return literalTemplate(source);
  let i = 0;
  let constant = true;

  const parseSeq = (depth: number): Part[] | TemplateError => {
    const parts: Part[] = [];
    let text = '';
    const flush = (): void => {
      if (text !== '') parts.push({ kind: 'text', text });
      text = '';
    };
    while (i < source.length) {
      const c = source[i]!;
      if (c === '\\' && syntax === 'full' && ESCAPABLE.includes(source[i + 1] ?? '')) {
        text += source[i + 1];
        i += 2;
        continue;
      }
      if (c === '{' && source[i + 1] === '{') {
        VAR.lastIndex = i;
        const m = VAR.exec(source);
        if (m) {
          flush();
          parts.push({ kind: 'var', name: m[1]!, at: i });
          constant = false;
          i = VAR.lastIndex;
          continue;
        }
        if (syntax === 'vars') return { at: i, message: "'{{' starts a variable but no `}}` closes a name after it; write `{{name}}`" };
      }
      if (syntax === 'vars') {
        text += c;
        i++;
        continue;
      }
      if (c === '{') {
        flush();
        const group = parseGroup(depth);
        if ('message' in group) return group;
        parts.push(group);
        constant = false;
        continue;
      }
      if (c === '}' || c === '|') {
        if (depth > 0) break;
        if (c === '}') return { at: i, message: "'}' closes no '{'; write \\} for a literal brace" };
        text += c;
        i++;
        continue;
      }
      if (c === '_' && source[i + 1] === '_') {
        WILD.lastIndex = i;
        const m = WILD.exec(source);
        if (m) {
          const name = m[1]!;
          if (name.includes('*')) return { at: i, message: `wildcard globs (${m[0]}) are not supported; name one file: __name__` };
          flush();
          parts.push({ kind: 'wild', name, at: i, label: m[0] });
          constant = false;
          i = WILD.lastIndex;
          continue;
        }
      }
      text += c;
      i++;
    }
    flush();
    return parts;
  };

  const parseGroup = (depth: number): Part | TemplateError => {
    const at = i;
    i++; // past '{'
    const options: Part[][] = [];
    for (;;) {
      const optionStart = i;
      const seq = parseSeq(depth + 1);
      if ('message' in seq) return seq;
      if (options.length === 0) {
        const first = source.slice(optionStart, i);
        if (/^\s*\d+(-\d*)?\s*\$\$/.test(first)) return { at, message: 'choosing several options at once ({2$$a|b|c}) is not supported; list the combinations, or use vars' };
      }
      if (/^\s*\d*\.?\d+\s*::/.test(source.slice(optionStart, i))) {
        return { at: optionStart, message: 'option weights (0.5::a) are for random sampling; vidbatch expands every option (use `sample:` to draw a subset)' };
      }
      options.push(seq);
      if (i >= source.length) return { at, message: "'{' is never closed by '}'; write \\{ for a literal brace" };
      if (source[i] === '|') {
        i++;
        continue;
      }
      i++; // past '}'
      return { kind: 'alt', options, at, label: source.slice(at, i) };
    }
  };

  const parts = parseSeq(0);
  if ('message' in parts) return parts;
  return { source, parts, constant };
}

/** What a template's `{{var}}` and `__name__` refer to, for one task. */
export interface Scope {
  /** Text is inserted as is; a Template (a sheet cell mapped to a prompt) is expanded in place. */
  variable(name: string): string | Template | undefined;
  /** The options of a wildcard file, each a template; undefined when it cannot be read. */
  wildcard(name: string): readonly Template[] | undefined;
}

export const MAX_DEPTH = 16;

/** How many variations; Infinity beyond 2^53 (the caller refuses such a product). */
export function countTemplate(t: Template, scope: Scope): number {
  return t.constant ? 1 : countSeq(t.parts, scope, 0);
}

function countSeq(parts: readonly Part[], scope: Scope, depth: number): number {
  let n = 1;
  for (const p of parts) n *= countPart(p, scope, depth);
  return n > Number.MAX_SAFE_INTEGER ? Infinity : n;
}

function countPart(p: Part, scope: Scope, depth: number): number {
  if (depth > MAX_DEPTH) return 1; // reported by checkTemplate
  switch (p.kind) {
    case 'text':
      return 1;
    case 'var': {
      const v = scope.variable(p.name);
      return typeof v === 'object' ? countSeq(v.parts, scope, depth + 1) : 1;
    }
    case 'alt':
      return sum(p.options.map((o) => countSeq(o, scope, depth)));
    case 'wild':
      return sum((scope.wildcard(p.name) ?? []).map((o) => countSeq(o.parts, scope, depth + 1))) || 1;
    default: {
      const never: never = p;
      return never;
    }
  }
}

const sum = (xs: number[]): number => {
  const n = xs.reduce((a, b) => a + b, 0);
  return n > Number.MAX_SAFE_INTEGER ? Infinity : n;
};

/** Variation `index` (0-based, < countTemplate) as text; each choice made is added to `labels`. */
export function renderTemplate(t: Template, index: number, scope: Scope, labels?: Record<string, string>): string {
  if (t.constant) return t.source === '' ? '' : t.parts.length === 1 && t.parts[0]!.kind === 'text' ? t.parts[0]!.text : joinText(t.parts);
  return renderSeq(t.parts, index, scope, labels, 0);
}

function joinText(parts: readonly Part[]): string {
  let out = '';
  for (const p of parts) if (p.kind === 'text') out += p.text;
  return out;
}

function renderSeq(parts: readonly Part[], index: number, scope: Scope, labels: Record<string, string> | undefined, depth: number): string {
  if (parts.length === 1) return renderPart(parts[0]!, index, scope, labels, depth);
  // The digits of `index` first (the last part varies fastest), then the parts in order,
  // so that labels are recorded in the order the choices are written.
  const digits = new Array<number>(parts.length);
  for (let k = parts.length - 1; k >= 0; k--) {
    const c = countPart(parts[k]!, scope, depth);
    digits[k] = index % c;
    index = Math.floor(index / c);
  }
  let out = '';
  for (let k = 0; k < parts.length; k++) out += renderPart(parts[k]!, digits[k]!, scope, labels, depth);
  return out;
}

function renderPart(p: Part, index: number, scope: Scope, labels: Record<string, string> | undefined, depth: number): string {
  if (depth > MAX_DEPTH) return '';
  switch (p.kind) {
    case 'text':
      return p.text;
    case 'var': {
      const v = scope.variable(p.name);
      if (v === undefined) return '';
      return typeof v === 'string' ? v : renderSeq(v.parts, index, scope, labels, depth + 1);
    }
    case 'alt':
      return choose(p.options, index, scope, labels, depth, p.label);
    case 'wild':
      return choose((scope.wildcard(p.name) ?? []).map((o) => o.parts), index, scope, labels, depth + 1, p.label);
    default: {
      const never: never = p;
      return never;
    }
  }
}

function choose(
  options: readonly (readonly Part[])[],
  index: number,
  scope: Scope,
  labels: Record<string, string> | undefined,
  innerDepth: number,
  label: string,
): string {
  for (const o of options) {
    const c = countSeq(o, scope, innerDepth);
    if (index < c) {
      const text = renderSeq(o, index, scope, labels, innerDepth);
      if (labels) addLabel(labels, label, text);
      return text;
    }
    index -= c;
  }
  return '';
}

/** The same group written twice is two choices: `{a|b}`, then `{a|b}#2`. */
function addLabel(labels: Record<string, string>, key: string, value: string): void {
  let k = key;
  for (let n = 2; Object.hasOwn(labels, k); n++) k = `${key}#${n}`;
  labels[k] = value;
}

/** Where a template refers to something the scope lacks, or to itself through wildcards. */
export interface Unresolved {
  kind: 'var' | 'wild' | 'cycle';
  name: string;
  /** Index in this template's source; for problems inside a wildcard's option, the reference here. */
  at: number;
}

/** Problems of `t` in `scope`; the names of the variables it uses (through wildcards too) go to `used`. */
export function checkTemplate(t: Template, scope: Scope, used?: Set<string>): Unresolved[] {
  if (t.constant) return [];
  const out: Unresolved[] = [];
  const walk = (parts: readonly Part[], stack: readonly string[], at: number | undefined): void => {
    for (const p of parts) {
      const here = at ?? ('at' in p ? p.at : 0);
      if (p.kind === 'var') {
        used?.add(p.name);
        const v = scope.variable(p.name);
        if (v === undefined) out.push({ kind: 'var', name: p.name, at: here });
        else if (typeof v === 'object') {
          if (stack.includes(`{{${p.name}}}`)) out.push({ kind: 'cycle', name: p.name, at: here });
          else walk(v.parts, [...stack, `{{${p.name}}}`], here);
        }
      } else if (p.kind === 'alt') {
        for (const o of p.options) walk(o, stack, at);
      } else if (p.kind === 'wild') {
        if (stack.includes(p.name) || stack.length > MAX_DEPTH) {
          out.push({ kind: 'cycle', name: p.name, at: here });
          continue;
        }
        const options = scope.wildcard(p.name);
        if (options === undefined) out.push({ kind: 'wild', name: p.name, at: here });
        else for (const o of options) walk(o.parts, [...stack, p.name], here);
      }
    }
  };
  walk(t.parts, [], undefined);
  return out;
}
