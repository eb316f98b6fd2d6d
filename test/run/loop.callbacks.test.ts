import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { request } from 'undici';
import { run } from '../../src/run/run.js';
import { Store } from '../../src/store/index.js';
import { callbackSecret } from '../../src/callback/secret.js';
import type { RunEvent } from '../../src/run/events.js';
import type { RunOptions } from '../../src/run/options.js';
import type { Simulator } from '../../src/sim/index.js';
import { tempDir } from '../helpers/tmp.js';
import { runOptions, simulator, submissionsPerInput, TEST_KEY, writeManifest } from '../helpers/fixtures.js';
import { callbackRelay, detectedOnceAfterCompletion } from './helpers.js';

type Ctx = Parameters<typeof tempDir>[0] & { after: (fn: () => Promise<void> | void) => void };

/** Callback mode through a relay that loses, repeats, delays or reorders what the simulator sends. */
async function callbackRun(t: Ctx, n: number, deliver: (i: number, taskId: string) => number[], extra: Partial<RunOptions> = {}) {
  const dir = tempDir(t);
  const sim = await simulator(t);
  const relay = await callbackRelay(t, deliver);
  const events: RunEvent[] = [];
  const onEvent = (e: RunEvent) => {
    events.push(e);
    if (e.type === 'callback-listening') relay.setTarget(e.listen);
    (extra.onEvent as ((e: RunEvent) => void) | undefined)?.(e);
  };
  const result = await run({ ...runOptions(sim, dir, writeManifest(dir, n), events), callbackUrl: relay.url, listen: { host: '127.0.0.1', port: 0 }, ...extra, onEvent });
  const store = Store.open(join(dir, 'out', 'vidbatch.db'));
  t.after(() => store.close());
  return { sim, relay, events, result, store };
}

const perTask = (sim: Simulator, n: number) => sim.stats().requests / n;

test('callbacks: every task detected by its callback and one verifying GET — 2 requests a task', async (t) => {
  const { sim, relay, events, result, store } = await callbackRun(t, 12, () => [0]);
  assert.equal(result.outcome, 'complete');
  assert.equal(result.counts.archived, 12);
  assert.equal(relay.seen.length, 12);
  assert.ok(relay.url.length > 0 && !events.some((e) => JSON.stringify(e).includes(callbackSecret(TEST_KEY, 'e2e'))), 'the secret never appears in an event');
  // On a loaded machine the background poll may come first: the callback then finds its GET
  // already due ('duplicate') or the task already done ('unknown').
  const outcomes = events.flatMap((e) => (e.type === 'callback' ? [e.outcome] : []));
  assert.equal(outcomes.length, 12, outcomes.join());
  assert.ok(outcomes.filter((o) => o === 'verify').length >= 6, outcomes.join());
  assert.ok(perTask(sim, 12) <= 2.25, `${perTask(sim, 12)} requests a task`);
  detectedOnceAfterCompletion(store, 'e2e');
  assert.deepEqual(submissionsPerInput(sim), Array(12).fill(1));
});

test('lost callbacks: the slow background poll finds those tasks anyway', async (t) => {
  const { sim, result, store } = await callbackRun(t, 8, (i) => (i % 2 === 0 ? [] : [0]));
  assert.equal(result.outcome, 'complete');
  assert.equal(result.counts.archived, 8);
  detectedOnceAfterCompletion(store, 'e2e');
  assert.ok(sim.stats().statusPolls >= 8);
});

test('duplicated, late and out-of-order callbacks change nothing: one detection each, bounded requests', async (t) => {
  // Every callback twice, every third one late (after the background poll found the task),
  // and the rest delivered in an order unrelated to completion.
  const { sim, events, result, store } = await callbackRun(t, 12, (i) => (i % 3 === 0 ? [600, 650] : [40 - (i % 4) * 10, 45]));
  assert.equal(result.outcome, 'complete');
  assert.equal(result.counts.archived, 12);
  detectedOnceAfterCompletion(store, 'e2e');
  const outcomes = events.flatMap((e) => (e.type === 'callback' ? [e.outcome] : []));
  assert.ok(outcomes.includes('duplicate') || outcomes.includes('unknown'), outcomes.join());
  assert.ok(perTask(sim, 12) <= 3, `${perTask(sim, 12)} requests a task`);
  assert.deepEqual(submissionsPerInput(sim), Array(12).fill(1));
});

test('forged callbacks: a wrong path is refused; a premature "success" on the right path is checked and ignored', async (t) => {
  let origin = '';
  const forged: Promise<unknown>[] = [];
  const secret = callbackSecret(TEST_KEY, 'e2e');
  const forge = (path: string, taskId: string) =>
    request(`${origin}${path}`, { method: 'POST', body: JSON.stringify({ code: 200, message: 'success', data: { taskId, state: 'success', resultJson: '{"resultUrls":["http://evil.invalid/x.mp4"]}' } }) }).then((r) => r.body.dump(), () => {});
  const { events, result, store } = await callbackRun(t, 6, () => [0], {
    onEvent: (e) => {
      if (e.type === 'callback-listening') origin = e.listen;
      if (e.type === 'transition' && e.to === 'submitted' && e.taskId) {
        forged.push(forge(`/hooks/${secret}`, e.taskId), forge('/hooks/guessed', e.taskId), forge(`/hooks/${secret}`, 'task_0000000000000000'));
      }
    },
  });
  await Promise.all(forged);
  assert.equal(result.outcome, 'complete');
  assert.equal(events.filter((e) => e.type === 'callback-rejected' && e.reason === 'path').length, 6);
  assert.ok(events.some((e) => e.type === 'callback' && e.outcome === 'unknown'));
  // The forged "success" came long before completion: recorded only once the provider said so, with its URL.
  detectedOnceAfterCompletion(store, 'e2e');
  assert.ok(store.listTasks('e2e').every((r) => !(r.resultUrls ?? []).some((u) => u.includes('evil'))));
});
