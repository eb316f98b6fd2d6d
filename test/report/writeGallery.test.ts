import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeGallery } from '../../src/report/gallery.js';
import { hasFfmpeg } from '../../src/report/posters.js';
import { Store } from '../../src/store/index.js';
import { tempDir } from '../helpers/tmp.js';
import { buildRun, styleGrid } from './fixtures.js';

function rows(db: string, run: string) {
  const store = Store.open(db);
  try {
    return store.listTasks(run);
  } finally {
    store.close();
  }
}

test('writeGallery: index.html beside the videos, every link relative, no .part left behind', async (t) => {
  const f = buildRun(tempDir(t), styleGrid([{ end: 'failed' }]));
  const g = await writeGallery(f.dir, f.run, rows(f.db, f.run), { posters: false });
  assert.equal(g.file, join(f.dir, 'index.html'));
  assert.deepEqual([g.items, g.videos, g.posters], [13, 12, 0]);
  const html = readFileSync(g.file, 'utf8');
  const island = JSON.parse(/id="gallery-data">([\s\S]*?)<\/script>/.exec(html)![1]!);
  for (const item of island.items) {
    if (item.file === null) continue;
    assert.ok(!item.file.includes('/') && existsSync(join(f.dir, item.file)), item.file);
  }
  assert.ok(!html.includes(f.dir), 'no absolute path of the output folder in the page');
  assert.deepEqual(readdirSync(f.dir).filter((n) => n.endsWith('.part')), []);
});

test('writeGallery: without ffmpeg there are no posters and the page is still written', async (t) => {
  const f = buildRun(tempDir(t), styleGrid().slice(0, 2));
  const g = await writeGallery(f.dir, f.run, rows(f.db, f.run), { poster: { ffmpeg: join(f.dir, 'no-such-ffmpeg') } });
  assert.equal(g.posters, 0);
  assert.ok(existsSync(g.file));
});

test('writeGallery: with ffmpeg, one JPEG poster per video, made once and reused', { skip: !(await hasFfmpeg()) && 'ffmpeg is not on PATH' }, async (t) => {
  const f = buildRun(tempDir(t), styleGrid().slice(0, 3).concat([{ end: 'failed' }]));
  const first = await writeGallery(f.dir, f.run, rows(f.db, f.run));
  assert.equal(first.posters, 3);
  const posters = readdirSync(join(f.dir, 'posters'));
  assert.equal(posters.length, 3);
  for (const p of posters) assert.deepEqual([...readFileSync(join(f.dir, 'posters', p)).subarray(0, 2)], [0xff, 0xd8]);
  const mtimes = posters.map((p) => statSync(join(f.dir, 'posters', p)).mtimeMs);
  const second = await writeGallery(f.dir, f.run, rows(f.db, f.run));
  assert.equal(second.posters, 3);
  assert.deepEqual(posters.map((p) => statSync(join(f.dir, 'posters', p)).mtimeMs), mtimes);
  const island = JSON.parse(/id="gallery-data">([\s\S]*?)<\/script>/.exec(readFileSync(second.file, 'utf8'))![1]!);
  assert.equal(island.items.filter((i: { poster: string | null }) => i.poster?.startsWith('posters/')).length, 3);
});
