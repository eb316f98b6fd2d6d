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

const islandOf = (html: string) => JSON.parse(/id="gallery-data">([\s\S]*?)<\/script>/.exec(html)![1]!);
/** The pager's links of a page, by what they say: «first», «previous», «next», «last», and the list of every page. */
function pagerOf(html: string) {
  const nav = /<nav class="pager"[\s\S]*?<\/nav>/.exec(html)?.[0] ?? '';
  const links = [...nav.matchAll(/<a href="([^"]+)" data-page="([^"]+)"[^>]*>([^<]*)<\/a>/g)].map((m) => ({ href: m[1]!, text: m[3]! }));
  return { nav, links, to: (text: string) => links.find((l) => l.text.includes(text))?.href };
}

test('writeGallery: more tasks than a page gives linked pages, and every task is on exactly one of them', async (t) => {
  // 13 tasks, 5 a page: index.html (1–5), index-2.html (6–10), index-3.html (11–13, the failed one).
  const f = buildRun(tempDir(t), styleGrid([{ end: 'failed' }]));
  const g = await writeGallery(f.dir, f.run, rows(f.db, f.run), { posters: false, pageSize: 5 });
  assert.deepEqual([g.items, g.videos, g.pages], [13, 12, 3]);
  const files = ['index.html', 'index-2.html', 'index-3.html'];
  assert.deepEqual(readdirSync(f.dir).filter((n) => n.endsWith('.html')).sort(), [...files].sort());
  const pages = files.map((file) => readFileSync(join(f.dir, file), 'utf8'));

  const keys = pages.flatMap((html) => islandOf(html).items.map((i: { key: string }) => i.key));
  assert.deepEqual(keys.sort(), rows(f.db, f.run).map((r) => r.key).sort(), 'every task once, none twice');
  assert.deepEqual(pages.map((html) => islandOf(html).paging), [
    { page: 1, pages: 3, from: 1, to: 5, total: 13 },
    { page: 2, pages: 3, from: 6, to: 10, total: 13 },
    { page: 3, pages: 3, from: 11, to: 13, total: 13 },
  ]);
  for (const [i, html] of pages.entries()) {
    const island = islandOf(html);
    // The same axes, the run's counts and the same columns and filters on every page.
    assert.deepEqual([island.x, island.y], ['style', 'subject']);
    assert.deepEqual(island.dimensions.find((d: { name: string }) => d.name === 'style').values, ['noir', 'pastel', 'neon', '']);
    assert.deepEqual(island.dimensions.find((d: { name: string }) => d.name === 'state').values, ['archived', 'failed']);
    assert.equal(island.counts.archived, 12);
    assert.equal(island.counts.failed, 1);
    assert.match(html, new RegExp(`page ${i + 1} of 3`));
    const pager = pagerOf(html);
    assert.equal(pager.to('previous'), i === 0 ? undefined : files[i - 1]);
    assert.equal(pager.to('next'), i === 2 ? undefined : files[i + 1]);
    // The list of all pages links every other page; the page with the failed task says so.
    assert.deepEqual(pager.links.filter((l) => /^\d+–\d+$/.test(l.text)).map((l) => l.href), files.filter((_, j) => j !== i));
    assert.match(pager.nav, /11–13<\/(a|strong)><span class="failed">1 failed<\/span>/);
    assert.ok(!pager.nav.includes(f.dir), 'relative links only');
  }
  assert.deepEqual(readdirSync(f.dir).filter((n) => n.endsWith('.part')), []);

  // Written again with room for all: one page, no pager, and the pages of before are gone.
  const again = await writeGallery(f.dir, f.run, rows(f.db, f.run), { posters: false });
  assert.equal(again.pages, 1);
  assert.deepEqual(readdirSync(f.dir).filter((n) => n.endsWith('.html')), ['index.html']);
  const single = readFileSync(again.file, 'utf8');
  assert.equal(islandOf(single).paging, undefined);
  assert.equal(islandOf(single).items.length, 13);
  assert.ok(!single.includes('<nav class="pager"'));
});

test('writeGallery: streams from the store, reading the run twice and never holding it; a one-shot iterator works too', async (t) => {
  // 13 tasks, 4 a page; 13 prompts, one more than an axis takes.
  const f = buildRun(tempDir(t), styleGrid([{}]).map((task, i) => ({ ...task, prompt: `${task.prompt ?? 'a lighthouse'}, shot ${i}` })));
  const store = Store.open(f.db);
  t.after(() => store.close());
  let passes = 0;
  const streamed = await writeGallery(f.dir, f.run, () => (passes++, store.iterateTasks(f.run)), { posters: false, pageSize: 4 });
  assert.equal(passes, 2);
  assert.deepEqual([streamed.items, streamed.pages], [13, 4]);
  // The store is free again: the gallery leaves no cursor open.
  assert.equal(store.counts(f.run).archived, 13);
  const once = await writeGallery(f.dir, f.run, store.iterateTasks(f.run), { posters: false, pageSize: 4 });
  assert.deepEqual([once.items, once.pages], [13, 4]);
  const pages = ['index.html', 'index-2.html', 'index-3.html', 'index-4.html'].map((n) => islandOf(readFileSync(join(f.dir, n), 'utf8')));
  assert.deepEqual(pages.flatMap((p) => p.items.map((i: { seq: number }) => i.seq)), Array.from({ length: 13 }, (_, i) => i + 1), 'manifest order across the pages');
  // A page lists only its own prompts (a run's 100,000 would not fit on each of its pages).
  const prompts = pages.map((p) => p.dimensions.find((d: { name: string }) => d.name === 'prompt').values);
  assert.deepEqual(prompts, pages.map((p) => p.items.map((i: { prompt: string }) => i.prompt)));
  assert.deepEqual(prompts.map((v) => v.length), [4, 4, 4, 1]);
});

test('writeGallery: a run with no task still gets its page', async (t) => {
  const dir = join(tempDir(t), 'empty');
  const g = await writeGallery(dir, 'empty', [], { posters: false });
  assert.deepEqual([g.items, g.videos, g.pages], [0, 0, 1]);
  const island = islandOf(readFileSync(g.file, 'utf8'));
  assert.deepEqual([island.items, island.paging, island.run], [[], undefined, 'empty']);
});

test('writeGallery: an unknown --x is refused before any page is written', async (t) => {
  const f = buildRun(tempDir(t), styleGrid().slice(0, 3));
  await assert.rejects(writeGallery(f.dir, f.run, rows(f.db, f.run), { posters: false, x: 'colour' }), /--x 'colour' is not a dimension/);
  assert.deepEqual(readdirSync(f.dir).filter((n) => n.endsWith('.html') || n.endsWith('.part')), []);
});
