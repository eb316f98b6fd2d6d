/**
 * Runs against a simulator that misbehaves in every way that must never cost a duplicate:
 * 500s before creating, 429s from the concurrency limit, slow answers, downloads cut
 * part-way, result URLs handed out already expired. Everything ends archived, once.
 * Then the ambiguous faults (502 after create, resets): in_doubt comes from those alone,
 * and only `vidbatch retry --in-doubt` sends them again.
 */
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { canonicalJson } from '../../src/sim/index.js';
import { run } from '../../src/run/run.js';
import { Store } from '../../src/store/index.js';
import { applyRetry } from '../../src/cli/commands/retry.js';
import type { RunEvent } from '../../src/run/events.js';
import { tempDir } from '../helpers/tmp.js';
import { runOptions, simulator, submissionsPerInput, writeManifest } from '../helpers/fixtures.js';
import { assertArchiveIntact } from './helpers.js';

test('fault mix without ambiguity: every task archived, none created twice', async (t) => {
  const dir = tempDir(t);
  const sim = await simulator(t, {
    timeScale: 0.005,
    seed: 4242,
    concurrentTasks: 4,
    faults: { failBeforeCreate: 0.25, slowResponse: 0.15, slowResponseMs: 60, truncateDownload: 0.35, expiredUrl: 0.4 },
  });
  const events: RunEvent[] = [];
  const result = await run(runOptions(sim, dir, writeManifest(dir, 20), events, { concurrency: 8 }));
  const f = sim.stats().faults;
  t.diagnostic(`faults fired: ${JSON.stringify(f)}, 429s: ${sim.stats().rateLimited}`);
  assert.equal(result.outcome, 'complete', JSON.stringify(result.counts));
  assert.equal(result.counts.archived, 20);
  assert.deepEqual(submissionsPerInput(sim), Array(20).fill(1));
  for (const kind of ['failBeforeCreate', 'slowResponse', 'truncateDownload', 'expiredUrl'] as const) assert.ok(f[kind] > 0, `${kind} never fired`);
  assert.ok(sim.stats().rateLimited > 0, 'the concurrency limit was hit');
  assert.ok(events.some((e) => e.type === 'retry' && e.during === 'download' && /fresh result URL/.test(e.reason)), 'an expired URL was re-read');
  const store = Store.open(result.db);
  t.after(() => store.close());
  assertArchiveIntact(store, result.run, result.dir);
});

test('in_doubt comes from ambiguous POSTs only, and only retry --in-doubt sends them again', async (t) => {
  const dir = tempDir(t);
  const sim = await simulator(t, {
    timeScale: 0.005,
    seed: 777,
    faults: { failBeforeCreate: 0.2, failAfterCreate: 0.15, resetAfterCreate: 0.15 },
  });
  const manifest = writeManifest(dir, 30);
  const first = await run(runOptions(sim, dir, manifest, [], { concurrency: 6 }));
  const ambiguous = sim.stats().ambiguousByInput;
  const store = Store.open(first.db);
  t.after(() => store.close());
  const inDoubt = store.listByState(first.run, 'in_doubt');
  t.diagnostic(`faults fired: ${JSON.stringify(sim.stats().faults)}; in_doubt ${inDoubt.length}`);
  assert.ok(inDoubt.length > 0, 'the seed produced ambiguous POSTs');
  assert.equal(first.counts.archived + inDoubt.length, 30);
  // One in_doubt task per ambiguous answer, and each is one the simulator really created.
  assert.equal(inDoubt.length, [...ambiguous.values()].reduce((a, b) => a + b, 0));
  for (const r of inDoubt) assert.equal(ambiguous.get(canonicalJson(r.input)), 1, `${r.key} was not an ambiguous POST`);
  assert.ok(sim.stats().faults.failBeforeCreate > 0, 'and 500s before create made none of them');
  assert.deepEqual(submissionsPerInput(sim).filter((n) => n !== 1), []);

  // A second run leaves them alone.
  const again = await run(runOptions(sim, dir, manifest));
  assert.equal(again.counts.in_doubt, inDoubt.length);
  assert.deepEqual(submissionsPerInput(sim).filter((n) => n !== 1), []);

  // The user's word sends them again: exactly those, once more each (the price of in_doubt).
  store.close();
  const s2 = Store.open(first.db);
  const moved = applyRetry(s2, first.run, { inDoubt: true, failed: false, codes: [] });
  s2.close();
  assert.equal(moved, inDoubt.length);
  const calm = await simulator(t, { timeScale: 0.005 });
  const third = await run(runOptions(calm, dir, manifest));
  assert.equal(third.outcome, 'complete');
  assert.equal(calm.stats().created, inDoubt.length);
  const s3 = Store.open(join(dir, 'out', 'vidbatch.db'));
  t.after(() => s3.close());
  assertArchiveIntact(s3, first.run, first.dir);
});

test('credits run out (402) mid-run: submits stop at once, paid tasks finish and download, a later run continues', async (t) => {
  const dir = tempDir(t);
  const poor = await simulator(t, { timeScale: 0.005, credits: 5, creditsStatus: 402 });
  const manifest = writeManifest(dir, 12);
  const events: RunEvent[] = [];
  const first = await run(runOptions(poor, dir, manifest, events, { concurrency: 4 }));
  assert.equal(first.outcome, 'credits');
  assert.equal(first.counts.archived, 5, 'every task paid for was finished and downloaded');
  assert.equal(first.counts.planned, 7);
  assert.equal(first.counts.in_doubt + first.counts.failed, 0);
  assert.equal(poor.stats().created, 5);
  // "At once": after the first refusal, no other POST went out.
  const refusals = events.filter((e) => e.type === 'transition' && e.from === 'submitting' && e.to === 'planned').length;
  assert.ok(poor.stats().submits - 5 <= 4 && refusals === poor.stats().submits - 5, `${poor.stats().submits} POSTs for 5 credits`);

  const topped = await simulator(t, { timeScale: 0.005 });
  const second = await run(runOptions(topped, dir, manifest));
  assert.equal(second.outcome, 'complete');
  assert.equal(topped.stats().created, 7, 'only the tasks not yet made');
  assert.deepEqual([...poor.stats().submissionsByInput.keys(), ...topped.stats().submissionsByInput.keys()].length, 12);
});

test('a result that stays gone after re-reading the status fails EXPIRED, leaving no partial file', async (t) => {
  const dir = tempDir(t);
  const sim = await simulator(t, { timeScale: 0.005, resultTtlMs: 1 }); // every result URL answers 410
  const events: RunEvent[] = [];
  const result = await run(runOptions(sim, dir, writeManifest(dir, 3), events));
  assert.equal(result.outcome, 'incomplete');
  assert.equal(result.counts.failed, 3);
  const store = Store.open(result.db);
  t.after(() => store.close());
  for (const r of store.listByState(result.run, 'failed')) {
    assert.equal(r.failReason, 'expired');
    assert.equal(r.failCode, 'EXPIRED');
    assert.match(r.failMsg ?? '', /410.*also after re-reading the status/);
  }
  assert.equal(events.filter((e) => e.type === 'retry' && /fresh result URL/.test(e.reason)).length, 3, 'one re-read per task');
  assertArchiveIntact(store, result.run, result.dir);
});
