import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { run } from '../../src/run/run.js';
import { Store } from '../../src/store/index.js';
import type { RunEvent } from '../../src/run/events.js';
import { tempDir } from '../helpers/tmp.js';
import { runOptions, simulator, submissionsPerInput, writeManifest } from '../helpers/fixtures.js';
import { faultProxy, rateLimited } from './helpers.js';

test('the in-flight cap is never exceeded: 16 tasks through a cap of 4, no 429, each submitted once', async (t) => {
  const dir = tempDir(t);
  const sim = await simulator(t, { concurrentTasks: 4 });
  const events: RunEvent[] = [];
  const result = await run(runOptions(sim, dir, writeManifest(dir, 16), events, { concurrency: 4 }));
  assert.equal(result.outcome, 'complete');
  assert.equal(result.counts.archived, 16);
  const s = sim.stats();
  assert.equal(s.rateLimited, 0, 'the simulator never had to refuse a request');
  assert.deepEqual(submissionsPerInput(sim), Array(16).fill(1));
  assert.equal(events.filter((e) => e.type === 'rate-limited').length, 0);
  // Polls are planned, not sprayed: well under the doc's "every 5 s" cost even at this compressed scale.
  assert.ok(s.statusPolls / 16 < 8, `${(s.statusPolls / 16).toFixed(1)} polls a task`);
});

test('a 429 on a poll blocks every request until Retry-After and cuts the rate; the run still completes', async (t) => {
  const dir = tempDir(t);
  const sim = await simulator(t);
  let polls = 0;
  const proxy = await faultProxy(t, sim.url, (r) => (r.method === 'GET' && ++polls === 2 ? rateLimited : undefined));
  const events: RunEvent[] = [];
  const result = await run({ ...runOptions(sim, dir, writeManifest(dir, 4), events), baseUrl: proxy.url });
  assert.equal(result.outcome, 'complete');
  const limited = events.filter((e) => e.type === 'rate-limited');
  assert.equal(limited.length, 1);
  assert.ok(events.some((e) => e.type === 'rate-changed' && e.cause === 'limited' && e.rpm < 9500), 'AIMD cut the rate');
  const i = proxy.log.findIndex((l) => l.status === 429);
  const next = proxy.log[i + 1];
  assert.ok(next, 'requests went on after the 429');
  assert.ok(next.at - proxy.log[i]!.at >= 950, `next request ${next.at - proxy.log[i]!.at} ms after a Retry-After of 1 s`);
});

test('a 429 on a submit puts the task back to planned and it is submitted once, later', async (t) => {
  const dir = tempDir(t);
  const sim = await simulator(t);
  let posts = 0;
  const proxy = await faultProxy(t, sim.url, (r) => (r.method === 'POST' && ++posts === 1 ? rateLimited : undefined));
  const events: RunEvent[] = [];
  const result = await run({ ...runOptions(sim, dir, writeManifest(dir, 3), events), baseUrl: proxy.url });
  assert.equal(result.outcome, 'complete');
  assert.deepEqual(submissionsPerInput(sim), [1, 1, 1]);
  assert.ok(events.some((e) => e.type === 'transition' && e.from === 'submitting' && e.to === 'planned'));
});

test('a task past its deadline is reported stuck, no longer polled, and finished by the next run', async (t) => {
  const dir = tempDir(t);
  const sim = await simulator(t, { timeScale: 0.02 }); // 600–900 ms a 5 s video
  const manifest = writeManifest(dir, 3);
  const events: RunEvent[] = [];
  const first = await run(runOptions(sim, dir, manifest, events, { stuckAfterMs: 100, firstPollMs: 50 }));
  assert.equal(first.outcome, 'incomplete');
  const stuck = events.filter((e) => e.type === 'stuck');
  assert.equal(stuck.length, 3);
  for (const e of stuck) assert.ok(e.type === 'stuck' && e.ageMs >= 100);
  assert.equal(first.counts.submitted, 3, 'left submitted, not failed: the next run asks again');
  const pollsAtEnd = sim.stats().statusPolls;
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(sim.stats().statusPolls, pollsAtEnd, 'nothing polls a stuck task after the run');

  const second = await run(runOptions(sim, dir, manifest, [], { firstPollMs: 600 }));
  assert.equal(second.outcome, 'complete');
  assert.deepEqual(submissionsPerInput(sim), [1, 1, 1], 'resumed, never resubmitted');
  const store = Store.open(join(dir, 'out', 'vidbatch.db'));
  t.after(() => store.close());
  assert.ok(store.listTasks('e2e').every((r) => r.submits === 1));
});
