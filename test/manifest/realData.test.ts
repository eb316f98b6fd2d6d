/**
 * Real, public prompt sheets and parser edge cases from ../shared/data, read in place.
 * Expected counts are worked out here from the raw files with the plainest tools
 * (JSON.parse, a Set, split), independently of the code under test.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parse as parseCsv } from 'csv-parse/sync';
import { ManifestError } from '../../src/core/errors.js';
import type { Manifest } from '../../src/manifest/index.js';
import { parseManifest } from '../../src/manifest/index.js';
import { readSheet } from '../../src/manifest/sheets.js';
import { tempDir } from '../helpers/tmp.js';
import { DATA, issuesIn, manifestIn } from './helpers.js';

const data = (...p: string[]): string => path.join(DATA, ...p);
const unique = (xs: readonly string[]): number => new Set(xs).size;
/** A manifest in a temp dir whose sheets point at the data in place. */
const plan = (dir: string, yaml: string): Promise<Manifest> => manifestIn(dir, { 'm.yaml': yaml });
const json = <T>(...p: string[]): T => JSON.parse(readFileSync(data(...p), 'utf8')) as T;

test('VBench: 946 prompts → one task per distinct prompt, labelled with their dimensions', async (t) => {
  const rows = json<{ prompt_en: string; dimension: string[] }[]>('vbench', 'VBench_full_info.json');
  assert.equal(rows.length, 946);
  const m = await plan(tempDir(t), `sheets:\n  - file: ${data('vbench', 'VBench_full_info.json')}\n    columns: {prompt_en: prompt}\n`);
  assert.equal(m.count, unique(rows.map((r) => r.prompt_en)));
  assert.equal(m.duplicates, 946 - m.count);
  assert.deepEqual(m.tasks[0]!.labels, { dimension: rows[0]!.dimension.join(', ') });
  assert.equal(m.tasks[0]!.source.line, 2, 'the line of the object in the JSON file');
});

test('MovieGenBench: 1,003 quoted CSV rows with escaped quotes; concept and motion_level become labels', async (t) => {
  const file = data('moviegenbench', 'MovieGenVideoBenchWithTag.csv');
  const rows = parseCsv(readFileSync(file), { columns: true }) as { prompt: string; concept: string; motion_level: string }[];
  assert.equal(rows.length, 1003);
  const m = await plan(tempDir(t), `sheets:\n  - file: ${file}\n`);
  assert.equal(m.count, unique(rows.map((r) => r.prompt)));
  assert.equal(m.duplicates, 1003 - m.count);
  assert.ok(m.count < 1003, 'the sheet has duplicate prompts');
  assert.deepEqual(m.tasks[0]!.labels, { concept: rows[0]!.concept, motion_level: rows[0]!.motion_level });
  assert.ok(m.tasks.every((x) => !x.input.prompt.includes('""')), 'doubled quotes are one quote');
  // The JSONL audio bench: one object a line, its extra keys as labels.
  const sfx = await plan(tempDir(t), `sheets:\n  - file: ${data('moviegenbench', 'MovieGenAudioBenchSfx.jsonl')}\n    columns: {video_prompt: prompt}\n`);
  assert.equal(sfx.count + sfx.duplicates, 527);
  assert.deepEqual(Object.keys(sfx.tasks[0]!.labels), ['id', 'audio_prompt']);
});

test('EvalCrafter: 700 prompts as an object of objects (ids, nested attributes) and as CRLF text', async (t) => {
  const meta = json<Record<string, { prompt: string; attributes: Record<string, string> }>>('evalcrafter', 'metadata.json');
  const ids = Object.keys(meta);
  assert.equal(ids.length, 700);
  const m = await plan(tempDir(t), `sheets:\n  - file: ${data('evalcrafter', 'metadata.json')}\n`);
  assert.equal(m.count, unique(ids.map((id) => meta[id]!.prompt)));
  assert.deepEqual(m.tasks[0]!.labels, { id: '0000', 'attributes.count': '2 dog' });

  const lines = readFileSync(data('evalcrafter', 'prompt700.txt'), 'utf8').split('\r\n').filter((l) => l.trim() !== '');
  assert.equal(lines.length, 700);
  const txt = await plan(tempDir(t), `sheets:\n  - file: ${data('evalcrafter', 'prompt700.txt')}\n`);
  assert.equal(txt.count, unique(lines));
  assert.ok(txt.tasks.every((x) => !x.input.prompt.includes('\r')), 'CRLF is a line end, not part of a prompt');
  assert.equal(txt.tasks.at(-1)!.source.line, 700, 'the last line has no line end and is still read');
});

test('T2V-CompBench: 7 categories × 100 prompts, one sheet entry each with its category label', async (t) => {
  const dir = data('t2v_compbench', 'prompts');
  const files = readdirSync(dir).sort();
  assert.equal(files.length, 7);
  const yaml = 'sheets:\n' + files.map((f) => `  - file: ${path.join(dir, f)}\n    labels: {category: ${f.replace(/^\d_|\.txt$/g, '')}}\n`).join('');
  const m = await plan(tempDir(t), yaml);
  const all = files.flatMap((f) => readFileSync(path.join(dir, f), 'utf8').split(/\r?\n/).filter((l) => l.trim() !== ''));
  assert.equal(all.length, 700);
  assert.equal(m.count, unique(all));
  const perCategory = new Map<string, number>();
  for (const x of m.tasks) perCategory.set(x.labels['category']!, (perCategory.get(x.labels['category']!) ?? 0) + 1);
  assert.equal(perCategory.size, 7);
  assert.equal(perCategory.get('consistent_attr'), 100);
});

test('Open-Sora: a `text` column mapped to prompt; image rows with their reference as a URL', async (t) => {
  const sora = await plan(tempDir(t), `sheets:\n  - file: ${data('open_sora', 'sora.csv')}\n    columns: {text: prompt}\n`);
  const rows = parseCsv(readFileSync(data('open_sora', 'sora.csv')), { columns: true }) as { text: string }[];
  assert.equal(sora.count, unique(rows.map((r) => r.text)));
  const i2v = await plan(tempDir(t), `sheets:\n  - file: ${data('open_sora', 'i2v.csv')}\n    columns: {text: prompt}\n    image_urls: ["https://cdn.example.com/open-sora/{{ref}}"]\n`);
  assert.deepEqual(i2v.tasks.map((x) => [x.input.mode, x.input.image_urls, x.labels]), [
    ['image-to-video', ['https://cdn.example.com/open-sora/assets/texts/i2v.png'], { ref: 'assets/texts/i2v.png' }],
  ]);
});

test('VBench-I2V: 1,118 image-to-video rows; image names with spaces and commas become valid URLs', async (t) => {
  const rows = json<{ prompt_en: string; image_name: string; image_type: string }[]>('vbench_i2v', 'vbench2_i2v_full_info.json');
  assert.equal(rows.length, 1118);
  const m = await plan(
    tempDir(t),
    `max_tasks: 2000\nsheets:\n  - file: ${data('vbench_i2v', 'vbench2_i2v_full_info.json')}\n    columns: {prompt_en: prompt}\n    image_urls: ["https://cdn.example.com/vbench-i2v/{{image_name}}"]\n`,
  );
  const expected = unique(rows.map((r) => `${r.prompt_en}\0${r.image_name}`));
  assert.equal(m.count, expected);
  assert.ok(m.tasks.every((x) => x.input.mode === 'image-to-video' && x.input.aspect_ratio === undefined));
  const withComma = m.tasks.find((x) => x.labels['image_name']!.includes(','))!;
  assert.ok(withComma, 'some image names have commas');
  const url = new URL(withComma.input.image_urls![0]!);
  assert.equal(decodeURIComponent(url.pathname.split('/').pop()!), withComma.labels['image_name']);
  assert.ok(!withComma.input.image_urls![0]!.includes(' '));
  assert.deepEqual(Object.keys(m.tasks[0]!.labels), ['dimension', 'image_type', 'image_name']);
});

test('csv-spectrum, read as sheets: every record as its expected JSON', () => {
  const dir = data('csv_spectrum');
  for (const name of readdirSync(path.join(dir, 'json')).map((f) => f.replace(/\.json$/, ''))) {
    if (name === 'location_coordinates') continue; // a bare quote for inches: refused (see readManifest.csv.test.ts)
    const file = path.join(dir, name.endsWith('_crlf') ? 'csvs_checkout_crlf' : 'csvs', `${name}.csv`);
    const expected = json<Record<string, string>[]>('csv_spectrum', 'json', `${name}.json`);
    const got: Record<string, string>[] = [];
    const bytes = readFileSync(file);
    readSheet(bytes, () => bytes.toString('utf8'), { format: 'csv', rowsPath: 'rows' }, {
      record: (r) => got.push(Object.fromEntries([...r.cells].map(([k, v]) => [k, v.value as string]))),
      problem: (pos, field, message) => assert.fail(`${name}: ${pos.line}:${pos.column} ${field} ${message}`),
    });
    assert.deepEqual(got, expected, name);
  }
});

test('node-csv bug-report files: BOM, UTF-16, delimiters, comments read; Latin-1 and broken rows refused clearly', async (t) => {
  const dir = tempDir(t);
  const f = (name: string) => data('node_csv_issues', name);
  const read = async (sheet: string) => (await plan(dir, `max_tasks: 50000\nsheets:\n  - ${sheet}\n`)).tasks;
  assert.deepEqual((await read(`{file: ${f('365-utf16le-bom-windows.csv')}, columns: {a: prompt}}`)).map((x) => [x.input.prompt, x.labels]), [['1', { b: '2', c: '3' }]]);
  assert.deepEqual((await read(`{file: ${f('365-utf8-bom-windows.csv')}, columns: {a: prompt}}`)).map((x) => x.labels), [{ b: '2', c: '3' }]);
  assert.deepEqual((await read(`{file: ${f('327.cws.buf.csv')}, columns: {field1: prompt}}`)).map((x) => [x.input.prompt, x.labels]), [['Acentuação1', { field2: 'acentuação2' }]]);
  assert.deepEqual((await read(`{file: ${f('fs_read.csv')}, delimiter: ";", columns: {abc: prompt}}`)).map((x) => [x.input.prompt, x.labels]), [['def', { '123': '456' }], ['ghi', { '123': '789' }]]);
  assert.equal((await read(`{file: ${f('303.csv')}, prompt: "person {{Index}} of height {{Height}}"}`)).length, 25000);
  const countries = await read(`{file: ${f('415.csv')}, delimiter: "\\t", comment: "#", header: false, columns: {"5": prompt}}`);
  assert.equal(countries[0]!.input.prompt, 'Andorra');
  assert.equal(countries[0]!.labels['14'], 'AD###', 'a # inside a line is data, not a comment');
  assert.equal(countries[0]!.source.line, 51);
  assert.equal((await read(`{file: ${f('columns-discovery.in')}, format: csv, columns: {Foo: prompt}}`)).length, 2);
  assert.ok((await read(`{file: ${f('265.tubs.csv')}, columns: {Description: prompt}, prompt: "{{prompt}} tub"}`)).length > 50);

  const latin1 = await issuesIn(dir, { 'm.yaml': `sheets:\n  - {file: ${f('327.cws.csv')}, columns: {field1: prompt}}\n` });
  assert.deepEqual([latin1[0]!.file, latin1[0]!.line, latin1[0]!.column], [f('327.cws.csv'), 2, 8]);
  assert.match(latin1[0]!.message, /not valid UTF-8: byte 0xE7 .* probably Latin-1 or Windows-1252/);
  const ragged = await issuesIn(dir, { 'm.yaml': `sheets:\n  - {file: ${f('411.csv')}, columns: {first_name: prompt}}\n` });
  assert.deepEqual(ragged.map((i) => [i.line, i.field]), [[3, 'sheets[0].rows[1]']]);
  assert.match(ragged[0]!.message, /the row has 6 cells; the header has 5/);
  const unnamed = await issuesIn(dir, { 'm.yaml': `sheets:\n  - {file: ${f('399.csv')}, prompt: x}\n` });
  assert.match(unnamed[0]!.message, /column 1 has no name/);
  const empty = await issuesIn(dir, { 'm.yaml': `sheets:\n  - {file: ${f('265.tubs.csv')}, columns: {Description: prompt}}\n` });
  assert.ok(empty.every((i) => /the prompt is required/.test(i.message) && i.line > 1), 'rows with an empty description, each at its row');
  // As the manifest itself: ';' is explained, not misread.
  const semi = issuesOf(f('fs_read.csv'));
  assert.match(semi[0]!.message, /seems to use ';' between columns/);
});

function issuesOf(file: string): readonly import('../../src/core/errors.js').ManifestIssue[] {
  try {
    parseManifest(file, readFileSync(file));
  } catch (e) {
    assert.ok(e instanceof ManifestError);
    return e.issues;
  }
  return assert.fail(`${file} was accepted`);
}

test('the YAML test suite: every case marked as an error gives positioned problems, never a crash', () => {
  const root = data('yaml_test_suite');
  const cases: string[] = [];
  for (const d of readdirSync(root)) {
    const p = path.join(root, d);
    if (!statSync(p).isDirectory()) continue;
    if (existsSync(path.join(p, 'in.yaml'))) cases.push(p);
    else for (const s of readdirSync(p)) if (existsSync(path.join(p, s, 'in.yaml'))) cases.push(path.join(p, s));
  }
  const errors = cases.filter((c) => existsSync(path.join(c, 'error')));
  assert.equal(errors.length, 94);
  for (const c of errors) {
    let issues: readonly { line: number; column: number }[] = [];
    try {
      parseManifest('in.yaml', readFileSync(path.join(c, 'in.yaml')));
      assert.fail(`${c}: accepted`);
    } catch (e) {
      assert.ok(e instanceof ManifestError, `${c}: ${String(e)}`);
      issues = e.issues;
    }
    assert.ok(issues.length > 0 && issues.every((i) => i.line > 0 && i.column > 0), `${c}: ${JSON.stringify(issues)}`);
  }
  // And the valid cases never crash: a manifest or a ManifestError, nothing else.
  for (const c of cases.filter((x) => !errors.includes(x))) {
    try {
      parseManifest('in.yaml', readFileSync(path.join(c, 'in.yaml')));
    } catch (e) {
      assert.ok(e instanceof ManifestError, `${c}: ${String(e)}`);
    }
  }
});
