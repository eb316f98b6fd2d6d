import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkTemplate, countTemplate, parseTemplate, renderTemplate, type Scope, type Template } from '../../src/manifest/template.js';

const scope = (vars: Record<string, string | Template> = {}, wild: Record<string, string[]> = {}): Scope => ({
  variable: (name) => vars[name],
  wildcard: (name) => wild[name]?.map((line) => parse(line)),
});

function parse(source: string, syntax: 'full' | 'vars' = 'full'): Template {
  const t = parseTemplate(source, syntax);
  assert.ok(!('message' in t), `${source}: ${'message' in t ? t.message : ''}`);
  return t;
}

/** Every variation, in order, with its labels. */
function all(source: string, s: Scope = scope()): [string, Record<string, string>][] {
  const t = parse(source);
  return Array.from({ length: countTemplate(t, s) }, (_, i) => {
    const labels: Record<string, string> = {};
    return [renderTemplate(t, i, s, labels), labels];
  });
}
const texts = (source: string, s?: Scope): string[] => all(source, s).map(([x]) => x);

test('alternatives expand combinatorially, the first group slowest, each choice a label', () => {
  assert.deepEqual(texts('a {red|blue} {car|bike}'), ['a red car', 'a red bike', 'a blue car', 'a blue bike']);
  assert.deepEqual(all('{x|y}')[1], ['y', { '{x|y}': 'y' }]);
  // The same group written twice is two choices: #2 tells them apart.
  assert.deepEqual(all('{a|b} and {a|b}')[1], ['a and b', { '{a|b}': 'a', '{a|b}#2': 'b' }]);
});

test('nested groups, empty options, one-option groups', () => {
  assert.deepEqual(texts('{a|{b|c}}!'), ['a!', 'b!', 'c!']);
  assert.deepEqual(texts('x{ y|}'), ['x y', 'x']);
  assert.deepEqual(texts('{solo}'), ['solo']);
  assert.equal(countTemplate(parse('{a|b|c} {d|{e|f|g}}'), scope()), 12);
});

test('escapes make { } | _ \\ literal; other backslashes stay', () => {
  assert.deepEqual(texts('\\{OPEN\\} a\\|b \\_\\_x\\_\\_ \\\\'), ['{OPEN} a|b __x__ \\']);
  assert.deepEqual(texts('C:\\films\\n'), ['C:\\films\\n']);
  // A bar outside a group is text.
  assert.deepEqual(texts('a | b'), ['a | b']);
});

test('{{var}} takes a value; a template-valued variable expands in place', () => {
  assert.deepEqual(texts('{{ subject }} in {{place}}', scope({ subject: 'a fox', place: 'the snow' })), ['a fox in the snow']);
  const cell = parse('a {red|blue} car');
  assert.deepEqual(texts('{{prompt}}, at night', scope({ prompt: cell })), ['a red car, at night', 'a blue car, at night']);
});

test('__wildcards__ read options that may hold alternatives and other wildcards', () => {
  const s = scope({ style: 'noir' }, { animal: ['a fox', 'an {owl|eagle}'], sky: ['__weather__ sky'], weather: ['grey', 'clear'] });
  assert.deepEqual(texts('__animal__, {{style}}', s), ['a fox, noir', 'an owl, noir', 'an eagle, noir']);
  assert.deepEqual(all('__animal__', s)[2]![1], { '{owl|eagle}': 'eagle', __animal__: 'an eagle' });
  assert.deepEqual(texts('a __sky__', s), ['a grey sky', 'a clear sky']);
  assert.deepEqual(texts('snake__case and __init__ly', scope({}, { init: ['X'] })), ['snake__case and Xly']);
});

test('syntax errors say where and what; unsupported dynamicprompts forms are refused', () => {
  const cases: [string, number, RegExp][] = [
    ['a {b|c', 2, /'\{' is never closed/],
    ['a } b', 2, /'\}' closes no '\{'; write \\\} for a literal brace/],
    ['{2$$a|b|c}', 0, /several options at once/],
    ['{0.5::a|b}', 1, /weights/],
    ['{a|0.5::b}', 3, /weights/],
    ['__col*__', 0, /globs/],
  ];
  for (const [source, at, message] of cases) {
    const t = parseTemplate(source);
    assert.ok('message' in t, source);
    assert.equal(t.at, at, source);
    assert.match(t.message, message, source);
  }
});

test('in URLs only {{var}} is special', () => {
  const t = parse('https://x.io/{a|b}/__raw__/{{name}}', 'vars');
  assert.deepEqual(t.parts.map((p) => p.kind), ['text', 'var']);
  const bad = parseTemplate('https://x.io/{{oops', 'vars');
  assert.ok('message' in bad && /no `}}` closes/.test(bad.message));
});

test('checkTemplate names missing variables, missing wildcards and cycles, and what is used', () => {
  const used = new Set<string>();
  const s = scope({ style: 'x' }, { loop: ['__loop__'], ok: ['{{style}} ok'] });
  const problems = checkTemplate(parse('{{style}} {{stlye}} __nope__ __loop__ __ok__'), s, used);
  assert.deepEqual(
    problems.map((p) => [p.kind, p.name, p.at]),
    [
      ['var', 'stlye', 10],
      ['wild', 'nope', 20],
      ['cycle', 'loop', 29],
    ],
  );
  assert.deepEqual([...used], ['style', 'stlye']);
});

test('counts beyond 2^53 are Infinity, never a wrong number', () => {
  const big = Array.from({ length: 60 }, () => '{a|b}').join('');
  assert.equal(countTemplate(parse(big), scope()), Infinity);
  assert.equal(countTemplate(parse(Array.from({ length: 40 }, () => '{a|b}').join('')), scope()), 2 ** 40);
});

test('plain text is a constant template and renders to itself', () => {
  const t = parse('A slow aerial drone shot, 16:9');
  assert.equal(t.constant, true);
  assert.equal(renderTemplate(t, 0, scope()), 'A slow aerial drone shot, 16:9');
  assert.equal(renderTemplate(parse(''), 0, scope()), '');
});
