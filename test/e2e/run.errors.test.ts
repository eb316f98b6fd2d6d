import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../src/run/run.js';
import { Store } from '../../src/store/index.js';
import type { RunEvent } from '../../src/run/events.js';
import { tempDir } from '../helpers/tmp.js';
import { runOptions, simulator, submissionsPerInput, TEST_KEY, writeManifest } from '../helpers/fixtures.js';

test('401: a refused key stops at once, creates nothing, and never shows the key', async (t) => {
  const dir = tempDir(t);
  const sim = await simulator(t, { apiKeys: ['the-right-key-0000'] });
  const events: RunEvent[] = [];
  const result = await run(runOptions(sim, dir, writeManifest(dir, 5), events));
  assert.equal(result.outcome, 'auth');
  assert.equal(result.counts.planned, 5, 'every task is still planned, to run again with the right key');
  assert.equal(sim.stats().created, 0);
  assert.ok(!JSON.stringify(events).includes(TEST_KEY));
});

test('insufficient credits: new submits stop, tasks in flight finish, the rest waits for a later run', async (t) => {
  const dir = tempDir(t);
  const poor = await simulator(t, { credits: 2 });
  const manifest = writeManifest(dir, 5);
  const first = await run(runOptions(poor, dir, manifest, [], { concurrency: 1 }));
  assert.equal(first.outcome, 'credits');
  assert.equal(first.counts.archived, 2, 'the tasks paid for were finished and downloaded');
  assert.equal(first.counts.planned, 3);

  const topped = await simulator(t);
  const second = await run(runOptions(topped, dir, manifest, []));
  assert.equal(second.outcome, 'complete');
  assert.equal(second.counts.archived, 5);
  assert.equal(topped.stats().created, 3, 'only the three not yet made');
});

test('429 from the concurrency limit: retried with backoff, every task archived, none twice', async (t) => {
  const dir = tempDir(t);
  const sim = await simulator(t, { concurrentTasks: 2 });
  const events: RunEvent[] = [];
  const result = await run(runOptions(sim, dir, writeManifest(dir, 6), events, { concurrency: 6 }));
  assert.equal(result.outcome, 'complete');
  assert.ok(sim.stats().rateLimited > 0, 'the limit was hit');
  assert.ok(events.some((e) => e.type === 'rate-limited'));
  assert.deepEqual(submissionsPerInput(sim), [1, 1, 1, 1, 1, 1]);
});

test('400 invalid parameters: the task fails with the provider message; the others go on', async (t) => {
  const dir = tempDir(t);
  const sim = await simulator(t);
  const manifest = writeManifest(dir, 2, ['  - prompt: "a model the simulator does not know"', '    model: kling-9-imaginary']);
  const result = await run(runOptions(sim, dir, manifest));
  assert.equal(result.outcome, 'incomplete');
  assert.equal(result.counts.archived, 2);
  assert.equal(result.counts.failed, 1);
  const store = Store.open(result.db);
  t.after(() => store.close());
  const [failed] = store.listByState(result.run, 'failed');
  assert.equal(failed?.failReason, 'rejected');
  assert.match(failed?.failMsg ?? '', /model/i);
});

test('CONTENT_VIOLATION and INVALID_IMAGE_URL end as failed with the provider code', async (t) => {
  const dir = tempDir(t);
  const sim = await simulator(t);
  const manifest = writeManifest(dir, 1, [
    '  - prompt: "a scene the provider refuses #violation"',
    '  - prompt: "animate this photo"',
    '    image_urls: ["https://photos.example.invalid/a.jpg"]',
  ]);
  const events: RunEvent[] = [];
  const result = await run(runOptions(sim, dir, manifest, events));
  assert.equal(result.outcome, 'incomplete');
  const reasons = events.flatMap((e) => (e.type === 'transition' && e.to === 'failed' ? [e.detail ?? ''] : [])).sort();
  assert.match(reasons[0]!, /^CONTENT_VIOLATION: /, 'the failure event says why');
  assert.match(reasons[1]!, /^INVALID_IMAGE_URL: /);
  const store = Store.open(result.db);
  t.after(() => store.close());
  const codes = store.listByState(result.run, 'failed').map((r) => r.failCode).sort();
  assert.deepEqual(codes, ['CONTENT_VIOLATION', 'INVALID_IMAGE_URL']);
  assert.equal(result.counts.archived, 1);
  assert.equal(readdirSync(result.dir).filter((f) => f.endsWith('.mp4')).length, 1);
});

test('a broken manifest sends nothing and writes nothing', async (t) => {
  const dir = tempDir(t);
  const sim = await simulator(t);
  const manifest = writeManifest(dir, 2, ['  - prompt: "fine"', '    duration: 7', '  - prompt: ""']);
  await assert.rejects(run(runOptions(sim, dir, manifest)), (err: { code: string; issues: { line: number }[] }) => {
    assert.equal(err.code, 'E_MANIFEST_INVALID');
    assert.equal(err.issues.length, 2, 'all problems at once');
    assert.ok(err.issues.every((i) => i.line > 0));
    return true;
  });
  assert.equal(sim.stats().requests, 0);
  assert.equal(existsSync(join(dir, 'out')), false);
});
