import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { GENERATE, call, finished, sim, submit, t2v } from './helpers.js';
import { ActiveTasks } from '../../src/sim/limits.js';

test('past concurrentTasks a POST gets 429 with Retry-After: 1 and creates nothing; a finished task frees its slot', async (t) => {
  // 0.05: each task runs 1.5–2.25 s, far longer than three POSTs take.
  const s = await sim(t, { concurrentTasks: 2, timeScale: 0.05 });
  const a = await submit(s, t2v());
  await submit(s, t2v());
  const r = await call(s, 'POST', GENERATE, { body: t2v({ prompt: 'third' }) });
  assert.equal(r.status, 429);
  assert.deepEqual(r.json, { code: 429, message: 'Rate limit exceeded', data: null });
  assert.equal(r.headers['retry-after'], '1');
  assert.equal(s.stats().created, 2);
  assert.equal([...s.stats().submissionsByInput.keys()].some((k) => k.includes('third')), false);
  // Another key has its own slots.
  await submit(s, t2v(), 'another-key');

  await finished(s, a);
  await submit(s, t2v({ prompt: 'third' }));
  assert.equal(s.stats().created, 4);
});

test('failed tasks hold a slot until they complete, like any other', async (t) => {
  const s = await sim(t, { concurrentTasks: 1, timeScale: 0.05 });
  const bad = await submit(s, t2v({ prompt: '#violation' }));
  assert.equal((await call(s, 'POST', GENERATE, { body: t2v() })).status, 429);
  assert.equal((await finished(s, bad)).state, 'failed');
  await submit(s, t2v());
});

test('ActiveTasks counts tasks until their completeTime', () => {
  const a = new ActiveTasks();
  a.add('k', 100);
  a.add('k', 50);
  a.add('k', 200);
  assert.equal(a.count('k', 0), 3);
  assert.equal(a.count('k', 50), 2);
  assert.equal(a.count('k', 150), 1);
  assert.equal(a.count('k', 200), 0);
  assert.equal(a.count('nobody', 0), 0);
});
