import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManifestError, formatIssue } from '../../src/core/errors.js';
import { parseManifest, readManifest } from '../../src/manifest/index.js';
import { expectIssue, issuesOf } from './helpers.js';

/** A one-task YAML manifest with `lines` inside the task, which starts on line 2. */
const task = (...lines: string[]): string => 'tasks:\n  - ' + lines.join('\n    ') + '\n';

test('every input rule names the field and points at its value (YAML)', () => {
  const cases: [string, string[], string, number, number, RegExp][] = [
    // [what, task lines, field, line, column, message]
    ['mode', ['prompt: a', 'mode: video'], 'tasks[0].mode', 3, 11, /expected 'text-to-video' or 'image-to-video', got 'video'/],
    ['prompt missing', ['duration: 5'], 'tasks[0].prompt', 2, 5, /the prompt is required/],
    ['prompt empty', ['prompt: ""'], 'tasks[0].prompt', 2, 13, /the prompt is empty/],
    ['prompt blank', ['prompt: " \\t "'], 'tasks[0].prompt', 2, 13, /only whitespace/],
    ['prompt too long', [`prompt: ${'x'.repeat(2501)}`], 'tasks[0].prompt', 2, 13, /2501 characters long; the limit is 2500/],
    ['prompt not text', ['prompt: 1984'], 'tasks[0].prompt', 2, 13, /expected text, got 1984 \(write it in quotes/],
    ['negative_prompt too long', ['prompt: a', `negative_prompt: ${'n'.repeat(2501)}`], 'tasks[0].negative_prompt', 3, 22, /limit is 2500/],
    ['negative_prompt empty', ['prompt: a', "negative_prompt: ''"], 'tasks[0].negative_prompt', 3, 22, /negative prompt is empty/],
    ['duration', ['prompt: a', 'duration: 7'], 'tasks[0].duration', 3, 15, /expected 5 or 10 \(seconds\), got 7/],
    ['duration text', ['prompt: a', 'duration: 5s'], 'tasks[0].duration', 3, 15, /got '5s'/],
    ['aspect_ratio', ['prompt: a', 'aspect_ratio: 4:3'], 'tasks[0].aspect_ratio', 3, 19, /expected '16:9', '9:16' or '1:1', got '4:3'/],
    ['aspect_ratio typo', ['prompt: a', 'aspect_ratio: 16x9'], 'tasks[0].aspect_ratio', 3, 19, /did you mean '16:9'\?/],
    ['cfg_scale high', ['prompt: a', 'cfg_scale: 1.5'], 'tasks[0].cfg_scale', 3, 16, /expected a number from 0 to 1, got 1.5/],
    ['cfg_scale low', ['prompt: a', 'cfg_scale: -0.1'], 'tasks[0].cfg_scale', 3, 16, /from 0 to 1/],
    ['cfg_scale text', ['prompt: a', 'cfg_scale: high'], 'tasks[0].cfg_scale', 3, 16, /got 'high'/],
    ['image_urls empty', ['prompt: a', 'image_urls: []'], 'tasks[0].image_urls', 3, 17, /lists no image/],
    ['image_urls three', ['prompt: a', 'image_urls: [https://a.io/1.png, https://a.io/2.png, https://a.io/3.png]'], 'tasks[0].image_urls', 3, 17, /lists 3 images; at most 2/],
    ['image_urls not a list', ['prompt: a', 'image_urls: https://a.io/1.png'], 'tasks[0].image_urls', 3, 17, /expected a list of 1 or 2 image URLs/],
    ['image_urls item', ['prompt: a', 'image_urls: [https://a.io/1.png, ftp://a.io/2.png]'], 'tasks[0].image_urls[1]', 3, 38, /expected an http\(s\) URL/],
    ['image_urls for text-to-video', ['prompt: a', 'mode: text-to-video', 'image_urls: [https://a.io/1.png]'], 'tasks[0].image_urls', 4, 17, /only for image-to-video, but mode is text-to-video/],
    ['image-to-video without images', ['prompt: a', 'mode: image-to-video'], 'tasks[0].image_urls', 3, 11, /image-to-video needs image_urls/],
    ['aspect_ratio for image-to-video', ['prompt: a', 'image_urls: [https://a.io/1.png]', 'aspect_ratio: "1:1"'], 'tasks[0].aspect_ratio', 4, 19, /only for text-to-video/],
    ['takes', ['prompt: a', 'takes: 0'], 'tasks[0].takes', 3, 12, /expected a whole number from 1 up, got 0/],
    ['takes fraction', ['prompt: a', 'takes: 1.5'], 'tasks[0].takes', 3, 12, /whole number/],
    ['provider', ['prompt: a', 'provider: cheap'], 'tasks[0].provider', 3, 15, /expected 'auto', 'value' or 'official', got 'cheap'/],
    ['model', ['prompt: a', 'model: ../admin'], 'tasks[0].model', 3, 12, /expected a model name/],
    ['unknown field', ['prompt: a', 'promt: b'], 'tasks[0].promt', 3, 5, /^unknown field 'promt'; did you mean 'prompt'\?$/],
    ['unknown field, no suggestion', ['prompt: a', 'fps: 24'], 'tasks[0].fps', 3, 5, /unknown field 'fps'; expected one of: mode, prompt/],
    ['seed without sample', ['prompt: a', 'seed: 42'], 'tasks[0].seed', 3, 5, /`seed` only chooses what `sample:` draws.*the provider takes no seed/],
  ];
  for (const [what, lines, field, line, column, message] of cases) {
    const issues = issuesOf('rule.yaml', task(...lines));
    assert.equal(issues.length, 1, `${what}: ${JSON.stringify(issues)}`);
    const issue = expectIssue(issues, field, line, column, message);
    assert.equal(issue.file, 'rule.yaml', what);
  }
});

test('top-level keys and defaults are checked where they are written, once', () => {
  const issues = issuesOf(
    'top.yaml',
    [
      'naem: demo', // 1
      'name: "my run/../x"', // 2
      'model: ""', // 3
      'provider: oficial', // 4
      'takes: -1', // 5
      'defaults:', // 6
      '  duration: 15', // 7
      '  takes: 2', // 8
      '  negativ_prompt: blur', // 9
      'tasks:', // 10
      '  - prompt: a', // 11
      '  - prompt: b', // 12
      '',
    ].join('\n'),
  );
  expectIssue(issues, 'naem', 1, 1, /unknown key 'naem'; did you mean 'name'\?/);
  expectIssue(issues, 'name', 2, 7, /expected a run name/);
  expectIssue(issues, 'model', 3, 8, /expected a model name/);
  expectIssue(issues, 'provider', 4, 11, /did you mean 'official'\?/);
  expectIssue(issues, 'takes', 5, 8, /whole number/);
  expectIssue(issues, 'defaults.duration', 7, 13, /expected 5 or 10/);
  expectIssue(issues, 'defaults.takes', 8, 3, /cannot be a default/);
  expectIssue(issues, 'defaults.negativ_prompt', 9, 3, /did you mean 'negative_prompt'\?/);
  assert.equal(issues.length, 8, 'a bad default is reported once, not once per task');
  // In file order, each with file:line:column.
  assert.deepEqual(issues.map((i) => i.line), [1, 2, 3, 4, 5, 7, 8, 9]);
  assert.match(formatIssue(issues[0]!), /^top\.yaml:1:1: naem: unknown key/);
});

test('a rule broken by a default is reported at the task, naming the default', () => {
  const issues = issuesOf('d.yaml', 'defaults:\n  image_urls: [https://a.io/1.png]\ntasks:\n  - prompt: a\n    mode: text-to-video\n');
  expectIssue(issues, 'tasks[0].image_urls', 4, 5, /only for image-to-video.*\(from defaults, line 2\)/);
});

test('several problems in one file are all reported, in file order, in one ManifestError', () => {
  const yaml = [
    'tasks:',
    '  - prompt: a',
    '    duration: 7', // 3
    '  - prompt: ""', // 4
    '    cfg_scale: 2', // 5
    '  - promt: c', // 6: unknown, and prompt missing
    '  - just a string', // 7
    '',
  ].join('\n');
  let error: unknown;
  try {
    parseManifest('many.yaml', Buffer.from(yaml));
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof ManifestError);
  assert.deepEqual(
    error.issues.map((i) => [i.line, i.column, i.field]),
    [
      [3, 15, 'tasks[0].duration'],
      [4, 13, 'tasks[1].prompt'],
      [5, 16, 'tasks[1].cfg_scale'],
      [6, 5, 'tasks[2].promt'],
      [6, 5, 'tasks[2].prompt'],
      [7, 5, 'tasks[3]'],
    ],
  );
  assert.match(error.message, /^6 problems in the manifest; nothing was sent:\n {2}many\.yaml:3:15: tasks\[0\]\.duration: expected 5 or 10/);
});

test('YAML syntax errors are positioned, all of them, and stop before validation', () => {
  const unclosed = issuesOf('s.yaml', 'tasks:\n  - prompt: "a cat\n    duration: 5\n');
  assert.equal(unclosed.length, 1);
  assert.deepEqual([unclosed[0]!.line, unclosed[0]!.field], [4, '']);
  assert.match(unclosed[0]!.message, /^Missing closing "quote$/);

  const tabs = issuesOf('t.yaml', 'tasks:\n\t- prompt: a\n');
  assert.deepEqual([tabs[0]!.line, tabs[0]!.column], [2, 1]);
  assert.match(tabs[0]!.message, /[Tt]ab/);

  const dup = issuesOf('k.yaml', 'tasks:\n  - prompt: a\n    prompt: b\n');
  assert.deepEqual([dup[0]!.line, dup[0]!.column], [3, 5]);
  assert.match(dup[0]!.message, /unique/);

  const two = issuesOf('m.yaml', 'tasks: [{prompt: a]\nname: x: y\n');
  assert.ok(two.length >= 2, JSON.stringify(two));
  assert.ok(two.every((i) => i.line > 0 && i.column > 0));
});

test('YAML structure: empty file, top-level list, missing or empty tasks, a task that is not a mapping', () => {
  expectIssue(issuesOf('e.yaml', ''), '', 0, 0, /the manifest is empty/);
  expectIssue(issuesOf('c.yaml', '# nothing yet\n'), '', 0, 0, /the manifest is empty/);
  expectIssue(issuesOf('l.yaml', '- prompt: a\n'), '', 1, 1, /top level is a list; put the tasks under `tasks:`/);
  expectIssue(issuesOf('n.yaml', 'name: x\n'), 'tasks', 1, 1, /no `tasks:` list/);
  expectIssue(issuesOf('z.yaml', 'tasks:\n'), 'tasks', 1, 7, /list is empty/);
  expectIssue(issuesOf('y.yaml', 'tasks: []\n'), 'tasks', 1, 8, /list is empty/);
  expectIssue(issuesOf('s.yaml', 'tasks: a cat\n'), 'tasks', 1, 8, /expected a list of tasks/);
  expectIssue(issuesOf('d.yaml', 'defaults: [1]\ntasks:\n  - prompt: a\n'), 'defaults', 1, 11, /expected a mapping/);
});

test('CSV: every rule points at the cell, unknown columns at the header cell', () => {
  const issues = issuesOf(
    'r.csv',
    [
      'prompt,duration,aspect_ratio,image_urls,cfg_scale,takes,Mode', // 1
      'a,7,16:9,,,,', // 2
      '"b, quoted",5,4:3,,0.5,,', // 3
      'c,,,https://a.io/1.png|ftp://x,,,', // 4
      '   ,10,,,high,0,', // 5
      'd,5', // 6
      '',
    ].join('\n'),
  );
  expectIssue(issues, 'Mode', 1, 57, /unknown column 'Mode'; did you mean 'mode'\?/);
  expectIssue(issues, 'rows[0].duration', 2, 3, /expected 5 or 10 \(seconds\), got 7/);
  expectIssue(issues, 'rows[1].aspect_ratio', 3, 15, /got '4:3'/);
  expectIssue(issues, 'rows[2].image_urls[1]', 4, 24, /expected an http\(s\) URL of an image, got 'ftp:\/\/x'/);
  expectIssue(issues, 'rows[3].prompt', 5, 1, /only whitespace/);
  expectIssue(issues, 'rows[3].cfg_scale', 5, 10, /got 'high'/);
  expectIssue(issues, 'rows[3].takes', 5, 15, /whole number/);
  expectIssue(issues, 'rows[4]', 6, 1, /the row has 2 cells; the header has 7/);
  assert.equal(issues.length, 8);
});

test('CSV structure: malformed quoting positioned, never a crash', () => {
  const unclosed = issuesOf('u.csv', 'prompt,duration\nok,5\n"never closed,5\nmore,10\n');
  expectIssue(unclosed, '', 3, 1, /quoted value starts here but never ends/);

  const after = issuesOf('a.csv', 'prompt,duration\n"ok" then,5\n');
  expectIssue(after, '', 2, 5, /unexpected text after a closing quote/);

  const inner = issuesOf('i.csv', 'prompt,duration\nsay "hi",5\n');
  expectIssue(inner, '', 2, 5, /quote inside an unquoted value/);

  // Rows before the break are still checked.
  const both = issuesOf('b.csv', 'prompt,duration\nok,7\n"open,5\n');
  assert.deepEqual(both.map((i) => [i.line, i.column, i.field]), [[2, 4, 'rows[0].duration'], [3, 1, '']]);
});

test('CSV header problems: missing prompt, duplicate and unnamed columns, wrong delimiter, empty sheets', () => {
  expectIssue(issuesOf('h.csv', 'duration\n5\n'), 'prompt', 1, 1, /no `prompt` column/);
  const misspelt = issuesOf('p.csv', 'promt,duration\na,5\n');
  assert.equal(misspelt.length, 1, 'the did-you-mean already says it');
  expectIssue(misspelt, 'promt', 1, 1, /did you mean 'prompt'/);
  expectIssue(issuesOf('d.csv', 'prompt,duration,prompt\na,5,b\n'), 'prompt', 1, 17, /appears twice/);
  expectIssue(issuesOf('n.csv', 'prompt,,duration\na,,5\n'), '', 1, 8, /column 2 has no name/);
  const semi = issuesOf('s.csv', 'prompt;duration\na;5\n');
  assert.equal(semi.length, 1);
  assert.match(semi[0]!.message, /seems to use ';' between columns/);
  expectIssue(issuesOf('e.csv', ''), '', 0, 0, /the sheet is empty/);
  expectIssue(issuesOf('o.csv', 'prompt,duration\r\n'), '', 0, 0, /header but no rows/);
});

test('unsupported extensions and unreadable files are ManifestErrors naming what is supported', async () => {
  await assert.rejects(readManifest('prompts.json'), (e: unknown) => {
    assert.ok(e instanceof ManifestError);
    assert.match(e.issues[0]!.message, /'\.json' files are not manifests; supported: \.yaml, \.yml, \.csv/);
    return true;
  });
  await assert.rejects(readManifest('prompts'), /no extension; supported: \.yaml, \.yml, \.csv/);
  await assert.rejects(readManifest('does/not/exist.yaml'), (e: unknown) => {
    assert.ok(e instanceof ManifestError);
    assert.match(e.issues[0]!.message, /cannot read the manifest: no such file/);
    return true;
  });
  await assert.rejects(readManifest('manifests/../manifests.csv'), ManifestError);
});
