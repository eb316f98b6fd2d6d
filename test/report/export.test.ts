import { test } from 'node:test';
import assert from 'node:assert/strict';
import { csvCell, exportLines, formatExport, neutraliseCell } from '../../src/report/export.js';
import { Store } from '../../src/store/index.js';
import { tempDir } from '../helpers/tmp.js';
import { buildRun } from './fixtures.js';

/** A small RFC 4180 reader, enough to check what a spreadsheet would see. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (cell += '"'), i++;
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(cell), (cell = '');
    else if (c === '\r' && text[i + 1] === '\n') row.push(cell), rows.push(row), (row = []), (cell = ''), i++;
    else cell += c;
  }
  return rows;
}

test('neutraliseCell: = + - @ tab and CR at the start get an apostrophe; anything else is untouched', () => {
  for (const v of ['=HYPERLINK("http://x")', '+1+1', '-2+3', '@SUM(A1)', '\tx', '\rx']) assert.equal(neutraliseCell(v), `'${v}`);
  for (const v of ['a = b', '16:9', '0.6', '']) assert.equal(neutraliseCell(v), v);
  assert.equal(csvCell('=1+1,"x"'), `"'=1+1,""x"""`);
  assert.equal(csvCell(null), '');
  assert.equal(csvCell(5), '5');
});

test('export csv: one row per task with its labels, state, taskId, file and sha256; formula prompts neutralised', (t) => {
  const f = buildRun(tempDir(t), [
    { prompt: '=cmd|" /C calc"!A0', labels: { style: 'noir', take: 'x' } },
    { prompt: 'a fox, "quoted", on\ntwo lines', labels: { style: '@pastel' }, end: 'failed' },
    { prompt: 'plain', end: 'in_doubt' },
  ]);
  const store = Store.open(f.db);
  const rows = store.listTasks(f.run);
  store.close();
  const table = parseCsv(formatExport(rows, 'csv'));
  const [header, ...body] = table;
  assert.equal(body.length, 3);
  assert.deepEqual(header!.slice(0, 5), ['style', 'label.take', 'seq', 'key', 'state']);
  const col = (name: string) => header!.indexOf(name);
  for (const name of ['task_id', 'file', 'sha256', 'fail_code', 'fail_msg', 'prompt']) assert.ok(col(name) >= 0, name);
  const [a, b, c] = body;
  assert.equal(a![col('prompt')], `'=cmd|" /C calc"!A0`);
  assert.equal(a![col('state')], 'archived');
  assert.match(a![col('sha256')]!, /^[0-9a-f]{64}$/);
  assert.match(a![col('file')]!, /\.mp4$/);
  assert.match(a![col('task_id')]!, /^task_/);
  assert.equal(b![col('style')], `'@pastel`);
  assert.equal(b![col('prompt')], 'a fox, "quoted", on\ntwo lines');
  assert.equal(b![col('fail_code')], 'CONTENT_VIOLATION');
  assert.equal(c![col('state')], 'in_doubt');
  assert.equal(c![col('style')], '');
  for (const r of body) assert.equal(r.length, header!.length);
});

test('export jsonl: one JSON object per task, labels as an object, values unchanged', (t) => {
  const f = buildRun(tempDir(t), [{ prompt: '=1+1', labels: { style: 'noir' } }, { end: 'planned' }]);
  const store = Store.open(f.db);
  const rows = store.listTasks(f.run);
  store.close();
  const lines = formatExport(rows, 'jsonl').trimEnd().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, 2);
  assert.equal(lines[0].prompt, '=1+1');
  assert.deepEqual(lines[0].labels, { style: 'noir' });
  assert.equal(lines[0].state, 'archived');
  assert.equal(lines[1].state, 'planned');
  assert.equal(lines[1].task_id, null);
});

test('export read from the store a row at a time: the same text as from rows in memory; a label first seen on the last row still gets its column', (t) => {
  const f = buildRun(tempDir(t), [
    { prompt: 'one', labels: { style: 'noir' } },
    { prompt: 'two', labels: { style: 'anime' }, end: 'failed' },
    { prompt: 'three', labels: { style: 'clay', lens: '35mm' } },
  ]);
  const store = Store.open(f.db);
  t.after(() => store.close());
  const rows = store.listTasks(f.run);
  let reads = 0;
  const fromStore = () => {
    reads++;
    return store.iterateTasks(f.run);
  };
  for (const format of ['csv', 'jsonl'] as const) {
    const lines = [...exportLines(fromStore, format)];
    assert.equal(lines.join(''), formatExport(rows, format));
    assert.equal(lines.length, format === 'csv' ? 4 : 3);
  }
  assert.equal(reads, 3, 'csv reads the rows twice (header, then lines), jsonl once');
  const [header, , , last] = parseCsv(formatExport(fromStore, 'csv'));
  assert.equal(header![1], 'lens');
  assert.equal(last![1], '35mm');
});
