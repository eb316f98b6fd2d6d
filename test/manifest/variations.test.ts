import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tempDir } from '../helpers/tmp.js';
import { expectIssue, issuesIn, issuesOf, manifestIn, parseText, promptsOf } from './helpers.js';

test('vars: the cartesian product, first axis slowest, values recorded as labels', () => {
  const m = parseText(
    'v.yaml',
    [
      'vars:',
      '  style: {noir: film noir look, anime: anime look}',
      '  subject: [a fox, an owl]',
      'tasks:',
      '  - prompt: "{{subject}}, {{style}}"',
      '    takes: 2',
      '',
    ].join('\n'),
  );
  assert.deepEqual(
    m.tasks.filter((t) => t.take === 1).map((t) => [t.input.prompt, t.labels]),
    [
      ['a fox, film noir look', { style: 'noir', subject: 'a fox' }],
      ['an owl, film noir look', { style: 'noir', subject: 'an owl' }],
      ['a fox, anime look', { style: 'anime', subject: 'a fox' }],
      ['an owl, anime look', { style: 'anime', subject: 'an owl' }],
    ],
  );
  assert.equal(m.count, 8, '2 styles × 2 subjects × 2 takes');
  assert.deepEqual(m.tasks.slice(0, 2).map((t) => t.take), [1, 2], 'takes of a variation are consecutive');
  assert.ok(m.tasks.every((t) => t.source.line === 5 && t.source.file === 'v.yaml'));
});

test('an axis applies only where it is used or sets a field; an axis nobody uses is an error', () => {
  const m = parseText('u.yaml', 'vars:\n  style: [a, b]\ntasks:\n  - prompt: "x {{style}}"\n  - prompt: plain\n');
  assert.deepEqual(promptsOf(m), ['x a', 'x b', 'plain']);
  assert.deepEqual(m.tasks[2]!.labels, {}, 'no style label on a task that does not use it');
  assert.equal(m.duplicates, 0);
  const issues = issuesOf('n.yaml', 'vars:\n  stlye: [a, b]\ntasks:\n  - prompt: x\n');
  expectIssue(issues, 'vars.stlye', 2, 3, /no task uses the axis 'stlye': write \{\{stlye\}\} in a prompt, or remove it/);
});

test('axes named like input fields set them; a task may replace a top-level axis', () => {
  const m = parseText(
    'f.yaml',
    [
      'vars:',
      '  duration: [5, 10]',
      '  cfg_scale: [0.2, 0.8]',
      '  aspect_ratio: ["16:9", "1:1"]',
      'tasks:',
      '  - prompt: a',
      '  - prompt: b',
      '    vars: {duration: [10]}',
      '  - prompt: c',
      '    image_urls: [https://a.io/1.png]',
      '',
    ].join('\n'),
  );
  const of = (p: string) => m.tasks.filter((t) => t.input.prompt === p);
  assert.equal(of('a').length, 8);
  assert.deepEqual(of('a')[7]!.input, { mode: 'text-to-video', prompt: 'a', duration: 10, aspect_ratio: '1:1', cfg_scale: 0.8 });
  assert.deepEqual(of('a')[7]!.labels, { duration: '10', cfg_scale: '0.8', aspect_ratio: '1:1' });
  assert.deepEqual([...new Set(of('b').map((t) => t.input.duration))], [10]);
  assert.equal(of('b').length, 4);
  // image-to-video takes no aspect ratio: the axis is dropped there, with its label; the
  // two variations that differed only by it are one task.
  assert.equal(of('c').length, 4);
  assert.ok(of('c').every((t) => t.input.aspect_ratio === undefined && !('aspect_ratio' in t.labels)));
  assert.equal(m.duplicates, 4);
});

test('field axes are checked value by value where written; takes is no axis; a field set twice is an error', () => {
  const issues = issuesOf(
    'bad.yaml',
    [
      'vars:',
      '  duration: [5, 7]', // 2
      '  aspect_ratio: ["16:9", 4:3]', // 3
      '  takes: [1, 2]', // 4
      '  style: [a, a]', // 5
      'tasks:',
      '  - prompt: "{{style}}"',
      '    cfg_scale: 0.5',
      '    vars:',
      '      cfg_scale: [0.1, 1.5]', // 10
      '',
    ].join('\n'),
  );
  expectIssue(issues, 'vars.duration[1]', 2, 17, /expected 5 or 10 \(seconds\), got 7/);
  expectIssue(issues, 'vars.aspect_ratio[1]', 3, 26, /got '4:3'/);
  expectIssue(issues, 'vars.takes', 4, 3, /takes cannot be an axis/);
  expectIssue(issues, 'vars.style[1]', 5, 14, /'a' is already value 1 of 'style'/);
  expectIssue(issues, 'tasks[0].vars.cfg_scale[1]', 10, 24, /from 0 to 1, got 1.5/);
  const twice = issuesOf('twice.yaml', 'vars:\n  duration: [5, 10]\ntasks:\n  - prompt: a\n    duration: 10\n');
  expectIssue(twice, 'tasks[0].duration', 5, 5, /duration is set here and by the axis vars\.duration \(line 2\)/);
});

test('templates in prompts, negative prompts and defaults; unknown variables with a did-you-mean', async (t) => {
  const dir = tempDir(t);
  const m = await manifestIn(dir, {
    'm.yaml': [
      'defaults:',
      '  negative_prompt: "blurry, {{style}}"',
      'vars:',
      '  style: [flat, grainy]',
      'tasks:',
      '  - prompt: "A {calm|stormy} sea, __light__"',
      '    negative_prompt: "no {{style}} look"',
      '  - prompt: "{{style}} harbour"',
      '',
    ].join('\n'),
    'wildcards/light.txt': '# a comment\n\n  dawn light  \nnoon\n',
  });
  assert.deepEqual(promptsOf(m).slice(0, 4), ['A calm sea, dawn light', 'A calm sea, noon', 'A stormy sea, dawn light', 'A stormy sea, noon']);
  assert.deepEqual(m.tasks.slice(0, 4).map((x) => x.input.negative_prompt), ['no flat look', 'no flat look', 'no flat look', 'no flat look']);
  assert.deepEqual(m.tasks[4]!.labels, { style: 'grainy', '{calm|stormy}': 'calm', __light__: 'dawn light' });
  assert.deepEqual(m.tasks.slice(8).map((x) => [x.input.prompt, x.input.negative_prompt]), [
    ['flat harbour', 'blurry, flat'],
    ['grainy harbour', 'blurry, grainy'],
  ]);

  const issues = await issuesIn(dir, { 'm.yaml': 'vars:\n  style: [a]\ntasks:\n  - prompt: "x {{stlye}} {y|z"\n  - prompt: "{{style}} __lihgt__"\n' });
  expectIssue(issues, 'tasks[0].prompt', 4, 26, /'\{' is never closed/);
  expectIssue(issues, 'tasks[1].prompt', 5, 24, /wildcard __lihgt__: cannot read wildcards\/lihgt\.txt \(no such file\); did you mean __light__\?/);
  const unknown = await issuesIn(dir, { 'm.yaml': 'vars:\n  style: [a]\ntasks:\n  - prompt: "x {{stlye}}"\n' });
  expectIssue(unknown, 'tasks[0].prompt', 4, 16, /unknown variable \{\{stlye\}\}; did you mean \{\{style\}\}\?/);
});

test('wildcard files: positioned errors in the file, cycles, and `wildcards:` choosing the folder', async (t) => {
  const dir = tempDir(t);
  const issues = await issuesIn(dir, {
    'm.yaml': 'wildcards: words\ntasks:\n  - prompt: "__bad__ and __loop__"\n',
    'words/bad.txt': 'fine\n  broken {a|b\n',
    'words/loop.txt': 'again __loop__\n',
  });
  expectIssue(issues, '', 2, 10, /'\{' is never closed/);
  assert.equal(issues.find((i) => i.line === 2)!.file, `${dir}/words/bad.txt`);
  expectIssue(issues, 'tasks[0].prompt', 3, 26, /__loop__ includes itself/);
});

test('image URLs take {{var}}, percent-encoded inside a URL, as is when the whole URL', () => {
  const m = parseText(
    'u.yaml',
    [
      'vars:',
      '  img: ["a b#1.jpg", "é%20.png"]',
      '  url: [https://x.io/full.png]',
      'tasks:',
      '  - prompt: p',
      '    image_urls: ["https://cdn.io/{{img}}?w=1", "{{url}}"]',
      '',
    ].join('\n'),
  );
  assert.deepEqual(m.tasks.map((x) => x.input.image_urls), [
    ['https://cdn.io/a%20b%231.jpg?w=1', 'https://x.io/full.png'],
    ['https://cdn.io/%C3%A9%20.png?w=1', 'https://x.io/full.png'],
  ]);
});

test('sample: N of a product, reproducible by seed, in product order; per task and top level', () => {
  const yaml = (sample: string) =>
    `${sample}vars:\n  a: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n  b: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\ntasks:\n  - prompt: "{{a}}-{{b}}"\n`;
  const first = promptsOf(parseText('s.yaml', yaml('sample: 7\nseed: 3\n')));
  assert.equal(first.length, 7);
  assert.deepEqual(promptsOf(parseText('s.yaml', yaml('sample: 7\nseed: 3\n'))), first, 'same seed, same subset');
  assert.notDeepEqual(promptsOf(parseText('s.yaml', yaml('sample: 7\nseed: 4\n'))), first);
  const order = first.map((p) => p.split('-').map(Number)).map(([a, b]) => a! * 100 + b!);
  assert.deepEqual(order, [...order].sort((x, y) => x - y), 'listed in product order');
  assert.equal(parseText('s.yaml', yaml('sample: 500\n')).count, 100, 'a sample larger than the product is all of it');
  // Per task, then a top-level sample over everything.
  const both = parseText('b.yaml', 'sample: 3\ntasks:\n  - prompt: "{a|b|c|d|e|f}"\n    sample: 4\n    seed: x\n  - prompt: "{g|h}"\n');
  assert.equal(both.count, 3);
  assert.equal(both.sampledFrom, 8);
});

test('sample draws from products far too large to list, without listing them', () => {
  const axis = `[${Array.from({ length: 100 }, (_, i) => i).join(', ')}]`;
  const yaml = `sample: 5\nmax_tasks: 10\nvars:\n${['a', 'b', 'c', 'd', 'e', 'f'].map((n) => `  ${n}: ${axis}`).join('\n')}\ntasks:\n  - prompt: "{{a}} {{b}} {{c}} {{d}} {{e}} {{f}}"\n`;
  const started = Date.now();
  const m = parseText('huge.yaml', yaml);
  assert.equal(m.count, 5);
  assert.equal(m.sampledFrom, 1e12);
  assert.ok(Date.now() - started < 2000);
});

test('max_tasks: a product above the cap is refused with its count, before anything is expanded', () => {
  const started = Date.now();
  const issues = issuesOf('cap.yaml', `vars:\n  n: [${Array.from({ length: 1000 }, (_, i) => i).join(',')}]\ntasks:\n  - prompt: "{{n}} {a|b|c|d|e|f|g|h|i|j}{a|b|c|d|e|f|g|h|i|j}{a|b|c|d|e|f|g|h|i|j}"\n    takes: 2\n`);
  assert.ok(Date.now() - started < 2000);
  expectIssue(issues, 'max_tasks', 4, 5, /the manifest expands to 2,000,000 tasks \(tasks\[0\]: 2,000,000\), more than max_tasks \(10,000\); raise max_tasks, or draw a subset with sample: N/);
  const written = issuesOf('cap2.yaml', 'max_tasks: 3\ntasks:\n  - prompt: "{a|b}"\n  - prompt: "{c|d}"\n');
  expectIssue(written, 'max_tasks', 1, 12, /expands to 4 tasks \(tasks\[0\]: 2, tasks\[1\]: 2\), more than max_tasks \(3\)/);
});

test('seed without sample, bad sample and labels: are errors where written; labels: are recorded', () => {
  const issues = issuesOf('s.yaml', 'seed: 1\nsample: 0\ntasks:\n  - prompt: a\n    labels: {set: [1]}\n');
  expectIssue(issues, 'sample', 2, 9, /expected a sample size \(a whole number from 1 up\), got 0/);
  expectIssue(issues, 'tasks[0].labels.set', 5, 19, /expected a text or number/);
  const seedOnly = issuesOf('s2.yaml', 'seed: 1\ntasks:\n  - prompt: a\n');
  expectIssue(seedOnly, 'seed', 1, 1, /only chooses what `sample:` draws.*provider takes no seed/);
  const m = parseText('l.yaml', 'tasks:\n  - prompt: "{{set}} a"\n    labels: {set: A, n: 3}\n');
  assert.deepEqual(m.tasks.map((x) => [x.input.prompt, x.labels]), [['A a', { set: 'A', n: '3' }]]);
});
