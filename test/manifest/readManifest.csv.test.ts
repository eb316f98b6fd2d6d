import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { readManifest } from '../../src/manifest/index.js';
import { readCsvRecords } from '../../src/manifest/csv.js';
import { DATA, MANIFESTS, expectIssue, issuesOf, parseText } from './helpers.js';

test('manifests/example.csv: quoted commas, | between image URLs, empty cells absent', async () => {
  const file = path.join(MANIFESTS, 'example.csv');
  const m = await readManifest(file);
  assert.equal(m.name, undefined);
  assert.equal(m.duplicates, 0);
  assert.deepEqual(
    m.tasks.map((t) => t.input),
    [
      {
        mode: 'text-to-video',
        prompt: 'A paper boat drifting down a rain-filled gutter in a city street',
        duration: 5,
        aspect_ratio: '16:9',
        negative_prompt: 'blurry, low quality',
        cfg_scale: 0.5,
      },
      { mode: 'text-to-video', prompt: 'A chef tosses vegetables in a flaming wok, sparks flying, close-up', duration: 10, aspect_ratio: '9:16' },
      { mode: 'text-to-video', prompt: 'A time-lapse of clouds rolling over a mountain ridge at golden hour', duration: 5, aspect_ratio: '1:1', cfg_scale: 0.7 },
      {
        mode: 'image-to-video',
        prompt: 'Morph from a bud to a fully open rose, soft studio light',
        duration: 5,
        image_urls: ['https://picsum.photos/id/152/1024/1024', 'https://picsum.photos/id/106/1024/1024'],
        negative_prompt: 'jitter, harsh shadows',
        cfg_scale: 0.6,
      },
    ],
  );
  assert.deepEqual(
    m.tasks.map((t) => [t.source.line, t.take, t.model, t.provider]),
    [
      [2, 1, 'kling-2-5-turbo-pro', 'auto'],
      [3, 1, 'kling-2-5-turbo-pro', 'auto'],
      [4, 1, 'kling-2-5-turbo-pro', 'auto'],
      [5, 1, 'kling-2-5-turbo-pro', 'auto'],
    ],
  );
});

test('BOM, CRLF, blank lines and ",,," rows; multi-line prompts kept byte-for-byte; source = record start', () => {
  const text = '\ufeffprompt,duration,takes\r\n\r\n"first\r\nsecond line",10,\r\n,,\r\n  spaced  ,,2\r\n';
  const m = parseText('bom.csv', text);
  assert.deepEqual(
    m.tasks.map((t) => [t.input.prompt, t.input.duration, t.take, t.source.line]),
    [
      ['first\r\nsecond line', 10, 1, 3],
      ['  spaced  ', 5, 1, 6],
      ['  spaced  ', 5, 2, 6],
    ],
  );
});

test('mode, model, provider and takes columns; numbers and enum cells are trimmed', () => {
  const m = parseText(
    'cols.csv',
    'prompt,mode,duration,cfg_scale,model,provider,takes,image_urls\n' +
      'a, text-to-video , 10 ,.25,kling-2-5-turbo-pro,value,2,\n' +
      'b,,,,,official,,https://picsum.photos/id/5/640/360\n',
  );
  assert.deepEqual(
    m.tasks.map((t) => [t.input, t.provider, t.take]),
    [
      [{ mode: 'text-to-video', prompt: 'a', duration: 10, aspect_ratio: '16:9', cfg_scale: 0.25 }, 'value', 1],
      [{ mode: 'text-to-video', prompt: 'a', duration: 10, aspect_ratio: '16:9', cfg_scale: 0.25 }, 'value', 2],
      [{ mode: 'image-to-video', prompt: 'b', duration: 5, image_urls: ['https://picsum.photos/id/5/640/360'] }, 'official', 1],
    ],
  );
});

test('duplicate rows are dropped and counted', () => {
  const m = parseText('dup.csv', 'prompt,duration\nx,5\ny,5\nx,\n"x",5\nx,10\n');
  assert.deepEqual(
    m.tasks.map((t) => [t.input.prompt, t.input.duration, t.source.line]),
    [['x', 5, 2], ['y', 5, 3], ['x', 10, 6]],
  );
  assert.equal(m.duplicates, 2);
});

// Real sheets: csv-spectrum's edge cases, checked against the expected JSON that ships with
// them, and that every cell position we compute really points at that cell in the file.
const SPECTRUM = path.join(DATA, 'csv_spectrum');
const spectrumCases = ['comma_in_quotes', 'empty', 'empty_crlf', 'escaped_quotes', 'json', 'newlines', 'newlines_crlf', 'quotes_and_newlines', 'simple', 'simple_crlf', 'utf8'];
// The *_crlf files are stored with LF in the repository; its .gitattributes makes them CRLF on checkout.
const spectrumCsv = (name: string): string => path.join(SPECTRUM, name.endsWith('_crlf') ? 'csvs_checkout_crlf' : 'csvs', `${name}.csv`);

for (const name of spectrumCases) {
  test(`csv-spectrum ${name}.csv: records as expected, every cell position exact`, () => {
    const text = readFileSync(spectrumCsv(name), 'utf8');
    const expected = JSON.parse(readFileSync(path.join(SPECTRUM, 'json', `${name}.json`), 'utf8')) as Record<string, string>[];
    const { records, failure } = readCsvRecords(text);
    assert.equal(failure, undefined);
    const [header, ...rows] = records;
    const columns = Object.keys(expected[0]!);
    assert.deepEqual(header!.cells, columns);
    assert.deepEqual(
      rows.map((r) => Object.fromEntries(r.cells.map((c, j) => [columns[j], c]))),
      expected,
    );
    const lines = text.split(/\r\n|\n|\r/);
    for (const r of records) {
      assert.ok(r.cellPos, 'scanner agreed with csv-parse');
      r.cells.forEach((cell, j) => {
        const { line, column } = r.cellPos![j]!;
        const at = (lines[line - 1] ?? '').slice(column - 1);
        const firstLine = cell.split(/\r\n|\n|\r/)[0]!;
        if (r.quoted[j]) assert.ok(at.startsWith('"' + firstLine.replace(/"/g, '""')), `${name} ${line}:${column}`);
        else assert.ok(at.startsWith(firstLine), `${name} ${line}:${column}`);
      });
    }
  });
}

test('csv-spectrum CRLF checkouts read the same records as their LF originals', () => {
  for (const name of ['empty_crlf', 'simple_crlf']) {
    const crlf = readCsvRecords(readFileSync(path.join(SPECTRUM, 'csvs_checkout_crlf', `${name}.csv`), 'utf8'));
    const lf = readCsvRecords(readFileSync(path.join(SPECTRUM, 'csvs', `${name}.csv`), 'utf8'));
    assert.deepEqual(crlf.records.map((r) => [r.cells, r.start]), lf.records.map((r) => [r.cells, r.start]));
  }
  const nl = readCsvRecords(readFileSync(path.join(SPECTRUM, 'csvs_checkout_crlf', 'newlines_crlf.csv'), 'utf8'));
  assert.deepEqual(nl.records.map((r) => r.start.line), [1, 2, 3, 5]);
  assert.equal(nl.records[2]!.cells[0], 'Once upon \r\na time');
});

test('csv-spectrum location_coordinates.csv (a bare quote for inches): refused, pointing at that quote', () => {
  // csv-spectrum expects a relaxed parse; we refuse rather than guess what the quote means.
  const file = path.join(SPECTRUM, 'csvs', 'location_coordinates.csv');
  const { records, failure } = readCsvRecords(readFileSync(file, 'utf8'));
  assert.equal(records.length, 1);
  assert.deepEqual(failure?.pos, { line: 2, column: 22 });
  assert.match(failure?.message ?? '', /quote inside an unquoted value/);
});

test('MovieGenBench (1,003 real prompts, quoted, with escaped quotes): only its two extra columns are refused', () => {
  // Its header is prompt-shaped (prompt,concept,motion_level); mapping extra columns to
  // labels comes with `columns:` in the next issue. Until then: exactly these two problems,
  // and no spurious one from any of the 1,003 rows.
  const file = path.join(DATA, 'moviegenbench', 'MovieGenVideoBenchWithTag.csv');
  const issues = issuesOf(file, readFileSync(file));
  assert.equal(issues.length, 2);
  expectIssue(issues, 'concept', 1, 8, /unknown column 'concept'/);
  expectIssue(issues, 'motion_level', 1, 16, /unknown column 'motion_level'/);
  const { records } = readCsvRecords(readFileSync(file, 'utf8'));
  assert.equal(records.length, 1004);
  assert.ok(records.every((r) => r.cells.length === 3 && r.cellPos !== undefined));
});

test('Open-Sora sheets use a `text` column, not `prompt`: refused with the header positioned', () => {
  // Checked: open_sora/*.csv have `text` (and `ref`) headers, so they are not manifests yet.
  const file = path.join(DATA, 'open_sora', 'i2v.csv');
  const issues = issuesOf(file, readFileSync(file));
  expectIssue(issues, 'text', 1, 1, /unknown column 'text'/);
  expectIssue(issues, 'ref', 1, 6, /unknown column 'ref'/);
  expectIssue(issues, 'prompt', 1, 1, /no `prompt` column/);
});
