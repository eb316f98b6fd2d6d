import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { writeGallery } from '../../src/report/gallery.js';
import { Store } from '../../src/store/index.js';
import { buildRun, styleGrid, type FixtureTask } from '../report/fixtures.js';

/**
 * The gallery in a real headless Chromium (Debian's `chromium`, installed by .ci/run),
 * opened from file:// as a person opens it from disk.
 */
// The callbacks given to page.evaluate and page.waitForFunction run in the page, where these exist.
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const document: any;
declare const window: any;

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
// On CI a missing browser is a failure, not a skip: .ci/run installs it.
const skip = !existsSync(CHROMIUM) && !process.env.CI ? `no Chromium at ${CHROMIUM} (apt-get install -y chromium)` : false;

const HOSTILE: FixtureTask[] = [
  { prompt: '</script><script>window.__pwned = 1</script>', labels: { style: 'noir', subject: 'fox' }, take: 3, end: 'failed', failCode: 'CONTENT_VIOLATION', failMsg: 'Content does not meet safety guidelines' },
  { prompt: '"><img src=x onerror="window.__pwned = 2">', labels: { style: 'neon', subject: 'owl' }, take: 3, end: 'in_doubt' },
];

describe('gallery in headless Chromium', { skip }, () => {
  let root: string;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'vidbatch-browser-'));
    const f = buildRun(root, styleGrid(HOSTILE));
    const store = Store.open(f.db);
    const rows = store.listTasks(f.run);
    store.close();
    const g = await writeGallery(f.dir, f.run, rows);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    page = await browser.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('dialog', (d) => {
      problems.push(`dialog: ${d.message()}`);
      void d.dismiss();
    });
    await page.goto(pathToFileURL(g.file).href, { waitUntil: 'load' });
  });

  after(async () => {
    await browser?.close();
    if (root && !process.env.VIDBATCH_KEEP_TMP) rmSync(root, { recursive: true, force: true });
  });

  it('loads from file:// with no console error, one cell per style × subject, one card per task', async () => {
    await page.waitForSelector('td.cell');
    assert.deepEqual(await page.locator('thead th.col').allTextContents(), ['noir', 'pastel', 'neon']);
    assert.deepEqual(await page.locator('th.rowhead .value').allTextContents(), ['fox', 'owl']);
    assert.equal(await page.locator('td.cell').count(), 6);
    assert.equal(await page.locator('figure.item').count(), 14);
    assert.equal(await page.locator('figure.item video').count(), 12);
    assert.equal(await page.locator('#shown').textContent(), 'showing 14 of 14');
    // Every video's metadata loads from the relative path: its duration is known.
    await page.waitForFunction(() => [...document.querySelectorAll('video')].every((v) => v.readyState >= 1 && v.duration > 1));
    assert.deepEqual(problems, []);
  });

  it('shows hostile prompts as text and runs none of them; failures show their reason', async () => {
    assert.equal(await page.evaluate(() => window.__pwned), undefined);
    assert.equal(await page.locator('figure.item img').count(), 0);
    const prompts = await page.locator('p.prompt').allTextContents();
    assert.ok(prompts.includes(HOSTILE[0]!.prompt!) && prompts.includes(HOSTILE[1]!.prompt!));
    const failed = page.locator('figure.state-failed');
    assert.equal(await failed.count(), 1);
    assert.match((await failed.locator('.note').textContent())!, /^CONTENT_VIOLATION: Content does not meet safety guidelines$/);
    assert.match((await page.locator('figure.state-in_doubt .note').textContent())!, /in_doubt/);
    assert.deepEqual(problems, []);
  });

  it('filters by the other labels: take 2 leaves the 6 second takes, in the same 6 cells', async () => {
    const take = page.locator('select[data-filter="take"]');
    assert.deepEqual(await take.locator('option').allTextContents(), ['all 3', '1', '2', '3']);
    await take.selectOption({ label: '2' });
    assert.equal(await page.locator('figure.item').count(), 6);
    assert.equal(await page.locator('td.cell').count(), 6);
    assert.equal(await page.locator('#shown').textContent(), 'showing 6 of 14');
    assert.match(page.url(), /f\.take=2/);
    await page.locator('select[data-filter="state"]').selectOption({ label: 'archived' });
    assert.equal(await page.locator('figure.item').count(), 6);
    await take.selectOption({ label: 'all 3' });
    await page.locator('select[data-filter="state"]').selectOption({ label: 'failed' });
    assert.equal(await page.locator('figure.item').count(), 1);
    assert.equal(await page.locator('td.cell').count(), 1, 'empty rows and columns are dropped');
    await page.locator('select[data-filter="state"]').selectOption({ index: 0 });
    assert.equal(await page.locator('figure.item').count(), 14);
  });

  it('changes axes in the page: take × subject', async () => {
    await page.locator('#axis-x').selectOption('take');
    assert.deepEqual(await page.locator('thead th.col').allTextContents(), ['1', '2', '3']);
    assert.equal(await page.locator('td.cell').count(), 6);
    assert.ok(await page.locator('select[data-filter="style"]').count(), 'style became a filter');
    assert.equal(await page.locator('select[data-filter="take"]').count(), 0);
    await page.locator('#axis-x').selectOption('style');
    assert.equal(await page.locator('td.cell').count(), 6);
  });

  it('plays a whole row together, and pausing one video pauses its row', async () => {
    const row = page.locator('tr.row').first();
    await row.locator('button.play-row').click();
    await page.waitForFunction(() => {
      const vs = [...document.querySelectorAll('tr.row')[0]!.querySelectorAll('video')];
      return vs.length === 6 && vs.every((v) => !v.paused && v.currentTime > 0.2);
    }, undefined, { timeout: 10_000 });
    const otherRowPlaying = await page.evaluate(() => [...document.querySelectorAll('tr.row')[1]!.querySelectorAll('video')].some((v) => !v.paused));
    assert.equal(otherRowPlaying, false);
    await page.evaluate(() => document.querySelectorAll('tr.row')[0]!.querySelector('video')!.pause());
    await page.waitForFunction(() => [...document.querySelectorAll('tr.row')[0]!.querySelectorAll('video')].every((v) => v.paused));
    // Playing one video with its own control starts the others of its row.
    await page.evaluate(() => void document.querySelectorAll('tr.row')[1]!.querySelector('video')!.play());
    await page.waitForFunction(() => [...document.querySelectorAll('tr.row')[1]!.querySelectorAll('video')].every((v) => !v.paused));
    assert.deepEqual(problems, []);
  });
});

describe('a paged gallery in headless Chromium', { skip }, () => {
  let root: string;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'vidbatch-browser-'));
    // style × subject × take 1–3, one prompt each (18, more than an axis takes), 5 cards a page:
    // 1 noir fox 1–3, owl 1–2 | 2 noir owl 3, pastel fox 1–3, owl 1 | 3 pastel owl 2–3, neon fox 1–3 | 4 neon owl 1–3.
    const tasks: FixtureTask[] = [];
    for (const style of ['noir', 'pastel', 'neon']) {
      for (const subject of ['fox', 'owl']) for (const take of [1, 2, 3]) tasks.push({ prompt: `a ${subject} in ${style} style, take ${take}`, labels: { style, subject }, take });
    }
    const f = buildRun(root, tasks);
    const store = Store.open(f.db);
    let g;
    try {
      g = await writeGallery(f.dir, f.run, () => store.iterateTasks(f.run), { pageSize: 5, posters: false });
    } finally {
      store.close();
    }
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    await page.goto(pathToFileURL(g.file).href, { waitUntil: 'load' });
  });

  after(async () => {
    await browser?.close();
    if (root && !process.env.VIDBATCH_KEEP_TMP) rmSync(root, { recursive: true, force: true });
  });

  const next = () => Promise.all([page.waitForEvent('load'), page.locator('nav.pager a[rel="next"]').click()]);

  it('shows the first page and says where it is; its filters and axes apply to it', async () => {
    await page.waitForSelector('td.cell');
    assert.equal(await page.locator('#page').textContent(), 'page 1 of 4');
    assert.equal(await page.locator('figure.item').count(), 5);
    assert.equal(await page.locator('#shown').textContent(), 'showing 5 of 5 on this page');
    assert.deepEqual(await page.locator('thead th.col').allTextContents(), ['noir']);
    assert.equal(await page.locator('nav.pager a[rel="prev"]').count(), 0);
    // A filter of a few values offers the run's values on every page.
    assert.deepEqual(await page.locator('select[data-filter="take"] option').allTextContents(), ['all 3', '1', '2', '3']);
    assert.deepEqual(problems, []);
  });

  it('carries the view to the next page: third takes there too, in the same column order', async () => {
    await page.locator('select[data-filter="take"]').selectOption({ label: '3' });
    assert.equal(await page.locator('figure.item').count(), 1);
    assert.match((await page.locator('nav.pager a[rel="next"]').getAttribute('href'))!, /^index-2\.html#.*f\.take=3/);
    await next();
    await page.waitForSelector('figure.item');
    assert.equal(await page.locator('#page').textContent(), 'page 2 of 4');
    assert.equal(await page.locator('#shown').textContent(), 'showing 2 of 5 on this page');
    assert.deepEqual(await page.locator('thead th.col').allTextContents(), ['noir', 'pastel']);
    assert.deepEqual(problems, []);
  });

  it("keeps a filter on a value this page has none of (another page's prompt), and says so", async () => {
    await page.locator('select[data-filter="take"]').selectOption({ index: 0 });
    const prompt = page.locator('select[data-filter="prompt"]');
    assert.equal(await prompt.locator('option').count(), 6, 'all, and the 5 prompts of this page');
    await prompt.selectOption({ label: 'a fox in pastel style, take 1' });
    assert.equal(await page.locator('figure.item').count(), 1);
    await next();
    await page.waitForSelector('#grid p.empty');
    assert.equal(await page.locator('#page').textContent(), 'page 3 of 4');
    assert.equal(await page.locator('#grid p.empty').textContent(), 'No task of this page matches these filters.');
    const options = await page.locator('select[data-filter="prompt"] option').allTextContents();
    assert.equal(options.length, 7);
    assert.equal(options.at(-1), 'a fox in pastel style, take 1 (none on this page)');
    await page.locator('select[data-filter="prompt"]').selectOption({ index: 0 });
    assert.equal(await page.locator('figure.item').count(), 5);
    assert.equal(await page.locator('select[data-filter="prompt"] option').count(), 6, 'the other page\'s prompt is gone once another is chosen');
    assert.deepEqual(await page.locator('thead th.col').allTextContents(), ['pastel', 'neon']);
    assert.deepEqual(problems, []);
  });

  it('goes back through the list of all pages; without an X axis the cards wrap across the page', async () => {
    await page.locator('nav.pager summary').click();
    await Promise.all([page.waitForEvent('load'), page.locator('nav.pager li a', { hasText: /^1–5$/ }).click()]);
    await page.waitForSelector('figure.item');
    assert.equal(await page.locator('#page').textContent(), 'page 1 of 4');
    await page.locator('#axis-x').selectOption('');
    await page.locator('#axis-y').selectOption('');
    assert.equal(await page.locator('table.xy.flow td.cell').count(), 1);
    const tops = await page.evaluate(() => [...document.querySelectorAll('figure.item')].map((e) => Math.round(e.getBoundingClientRect().top)));
    assert.equal(tops.length, 5);
    assert.ok(new Set(tops).size < tops.length, `cards side by side, not one column: tops ${tops.join(', ')}`);
    assert.deepEqual(problems, []);
  });
});
