import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { GENERATE, call, sim, submit, t2v } from './helpers.js';

test('after `credits` tasks a POST answers 400 Insufficient credits', async (t) => {
  const s = await sim(t, { credits: 2 });
  await submit(s, t2v());
  // A refused request costs no credit.
  assert.equal((await call(s, 'POST', GENERATE, { body: t2v({ duration: 7 }) })).status, 400);
  await submit(s, t2v());
  for (let i = 0; i < 2; i++) {
    const r = await call(s, 'POST', GENERATE, { body: t2v() });
    assert.equal(r.status, 400);
    assert.deepEqual(r.json, { code: 400, message: 'Insufficient credits', data: null });
  }
  assert.equal(s.stats().created, 2);
});

test('credits: 0 refuses the first task', async (t) => {
  const s = await sim(t, { credits: 0 });
  const r = await call(s, 'POST', GENERATE, { body: t2v() });
  assert.equal(r.status, 400);
  assert.equal(r.json.message, 'Insufficient credits');
});
