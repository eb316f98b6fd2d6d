import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { GENERATE, call, sim, status, submit, t2v } from './helpers.js';
import { RollingWindow, retryAfterSeconds } from '../../src/sim/limits.js';

test('past requestsPerMinute the key gets 429 with Retry-After, and the 429 creates nothing', async (t) => {
  const s = await sim(t, { requestsPerMinute: 5 });
  const ids: string[] = [];
  for (let i = 0; i < 4; i++) ids.push(await submit(s, t2v()));
  // Status polls share the budget with submits.
  assert.equal((await status(s, ids[0]!)).status, 200);
  const r = await call(s, 'POST', GENERATE, { body: t2v() });
  assert.equal(r.status, 429);
  assert.deepEqual(r.json, { code: 429, message: 'Rate limit exceeded', data: null });
  const retryAfter = Number(r.headers['retry-after']);
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After ${String(r.headers['retry-after'])}`);
  assert.equal((await status(s, ids[0]!)).status, 429);
  const st = s.stats();
  assert.equal(st.created, 4);
  assert.equal(st.rateLimited, 2);
  assert.equal(st.requests, 7);
});

test('each key has its own window', async (t) => {
  const s = await sim(t, { requestsPerMinute: 2 });
  await submit(s, t2v(), 'key-a');
  await submit(s, t2v(), 'key-a');
  assert.equal((await call(s, 'POST', GENERATE, { body: t2v(), key: 'key-a' })).status, 429);
  await submit(s, t2v(), 'key-b');
});

test('a 401 does not spend the budget', async (t) => {
  const s = await sim(t, { requestsPerMinute: 1, apiKeys: ['real-key-1'] });
  for (let i = 0; i < 3; i++) assert.equal((await call(s, 'POST', GENERATE, { body: t2v(), key: 'nope' })).status, 401);
  await submit(s, t2v(), 'real-key-1');
});

test('RollingWindow: refused requests are not counted; Retry-After is when the oldest leaves', () => {
  const w = new RollingWindow(3, 60_000);
  assert.deepEqual(w.admit('k', 0), { ok: true });
  assert.deepEqual(w.admit('k', 10_000), { ok: true });
  assert.deepEqual(w.admit('k', 20_000), { ok: true });
  assert.deepEqual(w.admit('k', 30_000), { ok: false, retryAfterMs: 30_000 });
  assert.deepEqual(w.admit('k', 59_999), { ok: false, retryAfterMs: 1 });
  // At 60 000 the request made at 0 has left the window.
  assert.deepEqual(w.admit('k', 60_000), { ok: true });
  assert.deepEqual(w.admit('k', 60_001), { ok: false, retryAfterMs: 9_999 });
  assert.deepEqual(w.admit('other', 60_001), { ok: true });
  assert.equal(retryAfterSeconds(9_999), 10);
  assert.equal(retryAfterSeconds(1), 1);
});

test('RollingWindow stays exact over many requests', () => {
  const w = new RollingWindow(100, 1000);
  let admitted = 0;
  for (let now = 0; now < 10_000; now++) if (w.admit('k', now).ok) admitted++;
  // 100 per rolling second over 10 s.
  assert.equal(admitted, 1000);
});
