import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildGallery, chooseAxes } from '../../src/report/model.js';
import { Store } from '../../src/store/index.js';
import { tempDir } from '../helpers/tmp.js';
import { buildRun, styleGrid, type FixtureTask } from './fixtures.js';

function rowsOf(root: string, tasks: FixtureTask[]) {
  const f = buildRun(root, tasks);
  const store = Store.open(f.db);
  try {
    return { f, rows: store.listTasks(f.run) };
  } finally {
    store.close();
  }
}

test('buildGallery: labels from variations are the default axes, in manifest order; take and the rest are filters', (t) => {
  const { f, rows } = rowsOf(tempDir(t), styleGrid());
  const g = buildGallery(f.run, rows, { dir: f.dir });
  assert.equal(g.x, 'style');
  assert.equal(g.y, 'subject');
  const dim = (n: string) => g.dimensions.find((d) => d.name === n)!;
  assert.deepEqual(dim('style').values, ['noir', 'pastel', 'neon']);
  assert.deepEqual(dim('take').values, ['1', '2']);
  assert.equal(dim('style').kind, 'label');
  assert.equal(dim('aspect_ratio').kind, 'param');
  assert.equal(g.items.length, 12);
  assert.ok(g.items.every((i) => i.file !== null && i.note === null));
  assert.equal(g.counts.archived, 12);
});

test('buildGallery: without labels it falls back to aspect_ratio, then duration, then take', (t) => {
  const tasks: FixtureTask[] = [
    { input: { aspect_ratio: '16:9', duration: 5 } },
    { input: { aspect_ratio: '9:16', duration: 10 } },
    { input: { aspect_ratio: '1:1', duration: 5 }, take: 2 },
  ];
  const { f, rows } = rowsOf(tempDir(t), tasks);
  const g = buildGallery(f.run, rows, { dir: f.dir });
  assert.deepEqual([g.x, g.y], ['aspect_ratio', 'duration']);
  assert.deepEqual(g.dimensions.find((d) => d.name === 'duration')!.values, ['5', '10']);
});

test('buildGallery: one varying dimension gives one row; --x/--y may name any dimension; an unknown one lists the choices', (t) => {
  const { f, rows } = rowsOf(tempDir(t), [{ take: 1, prompt: 'same' }, { take: 2, prompt: 'same' }]);
  const g = buildGallery(f.run, rows, { dir: f.dir });
  assert.deepEqual([g.x, g.y], ['take', null]);
  const h = buildGallery(f.run, rows, { dir: f.dir, x: 'state', y: 'take' });
  assert.deepEqual([h.x, h.y], ['state', 'take']);
  assert.throws(() => buildGallery(f.run, rows, { dir: f.dir, x: 'style' }), (e: Error) => /--x 'style' is not a dimension.*take/.test(e.message));
});

test('buildGallery: a label with one value per task (an id column) is not a default axis; one with few values is', (t) => {
  const tasks: FixtureTask[] = ['16:9', '9:16', '16:9', '9:16', '1:1', '1:1'].map((ar, i) => ({
    prompt: 'same',
    labels: { id: `row-${i}`, camera: i % 2 ? 'dolly' : 'static' },
    input: { aspect_ratio: ar as '16:9' },
  }));
  const { f, rows } = rowsOf(tempDir(t), tasks);
  const g = buildGallery(f.run, rows, { dir: f.dir });
  assert.deepEqual([g.x, g.y], ['camera', 'aspect_ratio']);
  assert.ok(g.dimensions.some((d) => d.name === 'id' && d.values.length === 6), 'still a filter and a possible axis');
});

test('chooseAxes never puts one dimension on both axes', () => {
  const dims = [
    { name: 'style', kind: 'label' as const, values: ['a', 'b'] },
    { name: 'take', kind: 'param' as const, values: ['1', '2'] },
  ];
  assert.deepEqual(chooseAxes(dims, { y: 'style' }), { x: 'take', y: 'style' });
  assert.deepEqual(chooseAxes(dims, { x: 'take' }), { x: 'take', y: 'style' });
});

test('buildGallery: failures carry their code and message, in_doubt and waiting tasks say so, a deleted file is not linked', (t) => {
  const { f, rows } = rowsOf(tempDir(t), [
    { end: 'failed', failCode: 'CONTENT_VIOLATION', failMsg: 'Content does not meet safety guidelines' },
    { end: 'in_doubt' },
    { end: 'submitted' },
    { noFile: true },
    { input: { mode: 'image-to-video', aspect_ratio: undefined, image_urls: ['https://example.com/a.jpg'] } },
  ]);
  const g = buildGallery(f.run, rows, { dir: f.dir });
  const [failed, doubt, submitted, missing, i2v] = g.items;
  assert.equal(failed!.note, 'CONTENT_VIOLATION: Content does not meet safety guidelines');
  assert.equal(failed!.file, null);
  assert.match(doubt!.note!, /^in_doubt: .*check with the provider/);
  assert.match(submitted!.note!, /^submitted as task_/);
  assert.equal(missing!.file, null);
  assert.match(missing!.note!, /not in this folder/);
  assert.equal(i2v!.dims.aspect_ratio, '');
  assert.deepEqual(i2v!.params.find(([k]) => k === 'image 1'), ['image 1', 'https://example.com/a.jpg']);
  assert.ok(i2v!.file?.endsWith('.mp4'));
});

test('buildGallery: a dimension with more than 12 values (a prompt per task) is no default axis; it stays a filter', (t) => {
  const tasks: FixtureTask[] = Array.from({ length: 14 }, (_, i) => ({ prompt: `shot ${i}`, input: { duration: i % 2 ? 10 : 5 } }));
  const { f, rows } = rowsOf(tempDir(t), tasks);
  const g = buildGallery(f.run, rows, { dir: f.dir });
  assert.deepEqual([g.x, g.y], ['duration', null]);
  assert.equal(g.dimensions.find((d) => d.name === 'prompt')!.values.length, 14);
  assert.deepEqual([buildGallery(f.run, rows, { dir: f.dir, x: 'prompt' }).x], ['prompt'], 'it can still be chosen');
  const same = rowsOf(tempDir(t), tasks.map((x) => ({ ...x, input: {} })));
  assert.deepEqual(Object.values(buildGallery(same.f.run, same.rows, { dir: same.f.dir })).slice(2, 4), [null, null]);
});

test('buildGallery: a label that only later tasks have is empty on the earlier ones, first in its values', (t) => {
  const { f, rows } = rowsOf(tempDir(t), [{ take: 1 }, { labels: { style: 'noir' } }, { labels: { style: 'neon' } }]);
  const g = buildGallery(f.run, rows, { dir: f.dir });
  assert.deepEqual(g.dimensions.find((d) => d.name === 'style')!.values, ['', 'noir', 'neon']);
  assert.deepEqual(g.items.map((i) => i.dims.style), ['', 'noir', 'neon']);
  assert.equal(g.x, 'style');
});
