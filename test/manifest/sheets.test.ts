import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../helpers/tmp.js';
import { expectIssue, issuesIn, issuesOf, manifestIn, parseText, promptsOf } from './helpers.js';

test('a CSV sheet: columns mapped, renamed and dropped; the rest kept as labels; source = the row', async (t) => {
  const dir = tempDir(t);
  const m = await manifestIn(dir, {
    'm.yaml': 'sheets:\n  - file: data/shots.csv\n    columns: {text: prompt, len: duration, id: shot, notes: null}\n',
    'data/shots.csv': 'id,text,len,location,notes\n1,"A wok, flaming",10,kitchen,permit\n2,"Two\nlines",,street,\n',
  });
  assert.deepEqual(
    m.tasks.map((x) => [x.input.prompt, x.input.duration, x.labels, x.source]),
    [
      ['A wok, flaming', 10, { shot: '1', location: 'kitchen' }, { file: path.join(dir, 'data/shots.csv'), line: 2 }],
      ['Two\nlines', 5, { shot: '2', location: 'street' }, { file: path.join(dir, 'data/shots.csv'), line: 3 }],
    ],
  );
});

test('a sheet crossed with vars; fields on the entry win over cells and wrap them with {{prompt}}', async (t) => {
  const dir = tempDir(t);
  const m = await manifestIn(dir, {
    'm.yaml': [
      'vars:',
      '  grade: [warm, cool]',
      'sheets:',
      '  - file: s.csv',
      '    prompt: "{{prompt}}, {{grade}} grade, {{location}}"',
      '    cfg_scale: 0.4',
      '',
    ].join('\n'),
    's.csv': 'prompt,location,cfg_scale,takes\n"A {red|blue} car",city,0.9,\nA boat,sea,,2\n',
  });
  assert.deepEqual(
    m.tasks.map((x) => [x.input.prompt, x.input.cfg_scale, x.take, x.labels]),
    [
      ['A red car, warm grade, city', 0.4, 1, { location: 'city', grade: 'warm', '{red|blue}': 'red' }],
      ['A blue car, warm grade, city', 0.4, 1, { location: 'city', grade: 'warm', '{red|blue}': 'blue' }],
      ['A red car, cool grade, city', 0.4, 1, { location: 'city', grade: 'cool', '{red|blue}': 'red' }],
      ['A blue car, cool grade, city', 0.4, 1, { location: 'city', grade: 'cool', '{red|blue}': 'blue' }],
      ['A boat, warm grade, sea', 0.4, 1, { location: 'sea', grade: 'warm' }],
      ['A boat, warm grade, sea', 0.4, 2, { location: 'sea', grade: 'warm' }],
      ['A boat, cool grade, sea', 0.4, 1, { location: 'sea', grade: 'cool' }],
      ['A boat, cool grade, sea', 0.4, 2, { location: 'sea', grade: 'cool' }],
    ],
  );
});

test('JSONL, JSON (list or object of objects), TXT and TSV sheets; nested JSON becomes dotted labels', async (t) => {
  const dir = tempDir(t);
  const m = await manifestIn(dir, {
    'm.yaml': [
      'sheets:',
      '  - file: a.jsonl',
      '    columns: {caption: prompt}',
      '  - file: b.json',
      '  - file: c.json',
      '  - file: d.txt',
      '  - file: e.tsv',
      '',
    ].join('\n'),
    'a.jsonl': '{"caption": "jsonl one", "meta": {"tag": "x", "n": 2}, "dims": ["a", "b"]}\n\n{"caption": "jsonl two", "duration": 10}\n',
    'b.json': '[\n  {"prompt": "json list", "image_urls": ["https://a.io/1.png"]}\n]\n',
    'c.json': '{\n  "0007": {"prompt": "json object", "attributes": {"count": "2 dogs"}}\n}\n',
    'd.txt': 'txt one\r\n\r\ntxt two  \r\n',
    'e.tsv': 'prompt\tscene\ntsv, with comma\tbeach\n',
  });
  assert.deepEqual(
    m.tasks.map((x) => [x.input.prompt, x.input.mode, x.input.duration, x.labels, x.source.line]),
    [
      ['jsonl one', 'text-to-video', 5, { 'meta.tag': 'x', 'meta.n': '2', dims: 'a, b' }, 1],
      ['jsonl two', 'text-to-video', 10, {}, 3],
      ['json list', 'image-to-video', 5, {}, 2],
      ['json object', 'text-to-video', 5, { id: '0007', 'attributes.count': '2 dogs' }, 2],
      ['txt one', 'text-to-video', 5, {}, 1],
      ['txt two  ', 'text-to-video', 5, {}, 3],
      ['tsv, with comma', 'text-to-video', 5, { scene: 'beach' }, 2],
    ],
  );
});

test('sheet options: delimiter, comment lines, no header, literal cells', async (t) => {
  const dir = tempDir(t);
  const m = await manifestIn(dir, {
    'm.yaml': [
      'sheets:',
      '  - file: semi.csv',
      '    delimiter: ";"',
      '    comment: "#"',
      '  - file: bare.csv',
      '    header: false',
      '    columns: {"2": prompt, "1": code}',
      '  - file: lit.txt',
      '    literal: true',
      '',
    ].join('\n'),
    'semi.csv': '# exported by a spreadsheet\nprompt;place\na, b;c # not a comment\n#skipped;x\n',
    'bare.csv': 'AD,Andorra\nAE,United Arab Emirates\n',
    'lit.txt': 'a {literal} brace and __not_a_wildcard__\n',
  });
  assert.deepEqual(
    m.tasks.map((x) => [x.input.prompt, x.labels]),
    [
      ['a, b', { place: 'c # not a comment' }],
      ['Andorra', { code: 'AD' }],
      ['United Arab Emirates', { code: 'AE' }],
      ['a {literal} brace and __not_a_wildcard__', {}],
    ],
  );
});

test('sheet problems are reported in the sheet, at the cell, once per column', async (t) => {
  const dir = tempDir(t);
  const issues = await issuesIn(dir, {
    'm.yaml': 'sheets:\n  - file: s.csv\n    columns: {txt: prompt}\n',
    's.csv': 'txt,duration,aspect_ratio\nok,7,16:9\n"{open",5,4:3\n',
  });
  const sheet = path.join(dir, 's.csv');
  expectIssue(issues, 'sheets[0].rows[0].duration', 2, 4, /expected 5 or 10 \(seconds\), got 7/);
  expectIssue(issues, 'sheets[0].rows[1].prompt', 3, 2, /'\{' is never closed/);
  expectIssue(issues, 'sheets[0].rows[1].aspect_ratio', 3, 11, /got '4:3'/);
  assert.ok(issues.every((i) => i.file === sheet));

  const mapping = await issuesIn(dir, { 'm.yaml': 'sheets:\n  - file: s.csv\n    columns: {txet: prompt}\n', 's.csv': 'text\na\n' });
  expectIssue(mapping, 'sheets[0].columns.txet', 3, 15, /the sheet has no column 'txet'; did you mean 'text'\?/);
  const noPrompt = await issuesIn(dir, { 'm.yaml': 'sheets:\n  - file: s.csv\n', 's.csv': 'text,ref\na,b\n' });
  expectIssue(noPrompt, 'sheets[0].columns', 2, 11, /the sheet has no `prompt` column; map one: columns: \{text: prompt\}/);
  const missing = await issuesIn(dir, { 'm.yaml': 'sheets:\n  - file: s.cvs\n' });
  expectIssue(missing, 'sheets[0].file', 2, 11, /cannot read the sheet s\.cvs: no such file; did you mean 's\.csv'\?/);
  const format = await issuesIn(dir, { 'm.yaml': 'sheets:\n  - file: s.dat\n', 's.dat': 'x' });
  expectIssue(format, 'sheets[0].file', 2, 11, /cannot tell the format of s\.dat from its name; add format: csv \| tsv \| jsonl \| json \| txt/);
  const clash = await issuesIn(dir, { 'm.yaml': 'vars:\n  duration: [5, 10]\n  place: [a]\nsheets:\n  - file: s.csv\n    prompt: "{{place}}"\n', 's.csv': 'prompt,duration,place\na,5,x\n' });
  expectIssue(clash, 'duration', 1, 8, /duration is set by this column and by the axis vars\.duration \(line 2\)/);
  expectIssue(clash, 'place', 1, 17, /column 'place' has the same name as an axis of vars/);
  const noSheet = issuesOf('n.yaml', 'sheets:\n  - columns: {a: prompt}\n');
  expectIssue(noSheet, 'sheets[0].file', 2, 5, /a sheet needs `file:`/);
});

test('a JSONL manifest is one task a line, with strict keys and positioned errors', () => {
  const m = parseText('t.jsonl', '{"prompt": "a", "takes": 2}\n{"prompt": "b", "image_urls": ["https://a.io/1.png"], "model": "kling-2-5-turbo-pro"}\n');
  assert.deepEqual(m.tasks.map((x) => [x.input.prompt, x.take, x.input.mode]), [['a', 1, 'text-to-video'], ['a', 2, 'text-to-video'], ['b', 1, 'image-to-video']]);
  const issues = issuesOf(
    'bad.jsonl',
    ['{"prompt": "a", "duration": "5"}', '{"promt": "b"}', '{"prompt": "c",}', '[1, 2]', '{"prompt": "d", "cfg_scale": 3}', ''].join('\n'),
  );
  expectIssue(issues, 'rows[0].duration', 1, 29, /expected 5 or 10 \(seconds\), got '5'/);
  expectIssue(issues, 'promt', 2, 2, /unknown column 'promt'; did you mean 'prompt'\?/);
  expectIssue(issues, 'rows[2]', 3, 16, /invalid JSON/);
  expectIssue(issues, 'rows[3]', 4, 1, /expected a JSON object/);
  expectIssue(issues, 'rows[4].cfg_scale', 5, 30, /from 0 to 1, got 3/);
});

test('the manifest hash covers its sheets and wildcard files', async (t) => {
  const dir = tempDir(t);
  const one = await manifestIn(dir, { 'm.yaml': 'sheets:\n  - file: s.txt\n', 's.txt': 'a\n' });
  const same = await manifestIn(dir, {});
  const changed = await manifestIn(dir, { 's.txt': 'a\nb\n' });
  assert.equal(one.hash, same.hash);
  assert.notEqual(one.hash, changed.hash);
  assert.deepEqual(promptsOf(changed), ['a', 'b']);
  // A manifest that reads no other file keeps the hash of its own bytes.
  const plain = parseText('p.yaml', 'tasks:\n  - prompt: a\n');
  assert.equal(plain.hash, createHash('sha256').update('tasks:\n  - prompt: a\n').digest('hex'));
});

test('a CSV manifest is capped too, and told how to raise the cap', () => {
  const groups = '{a|b|c|d|e|f|g|h|i|j}'.repeat(4);
  const issues = issuesOf('big.csv', `prompt\n"x ${groups}"\n"y ${groups}"\n`);
  expectIssue(issues, 'max_tasks', 2, 1, /expands to 20,000 tasks \(rows: 20,000\), more than max_tasks \(10,000\); a CSV or JSONL manifest cannot raise it: read the file as a sheet from a YAML manifest/);
});

test('sheets and wildcard files are decoded like manifests: UTF-16 read, Latin-1 refused in that file', async (t) => {
  const dir = tempDir(t);
  const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('prompt\r\nçà va\r\n', 'utf16le')]);
  const m = await manifestIn(dir, { 'm.yaml': 'sheets:\n  - file: u.csv\n', 'u.csv': utf16 });
  assert.deepEqual(promptsOf(m), ['çà va']);
  const issues = await issuesIn(dir, { 'm.yaml': 'tasks:\n  - prompt: "__w__"\n', 'wildcards/w.txt': Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]) });
  expectIssue(issues, '', 1, 4, /not valid UTF-8: byte 0xE9/);
  assert.equal(issues.find((i) => i.field === '')!.file, path.join(dir, 'wildcards/w.txt'));
});
