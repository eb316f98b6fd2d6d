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
