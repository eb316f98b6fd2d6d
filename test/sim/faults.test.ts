import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { GENERATE, call, sim, status } from './helpers.js';
import { t2v } from './helpers.js';
import type { Simulator } from '../../src/sim/index.js';

test('failBeforeCreate answers 500 with the envelope and creates nothing', async (t) => {
  const s = await sim(t, { faults: { failBeforeCreate: 1 } });
  const r = await call(s, 'POST', GENERATE, { body: t2v() });
  assert.equal(r.status, 500);
  assert.deepEqual(r.json, { code: 500, message: 'Internal server error', data: null });
  assert.equal(s.stats().created, 0);
});

test('failAfterCreate creates the task and answers 502 in plain text', async (t) => {
  const s = await sim(t, { faults: { failAfterCreate: 1 } });
  const r = await call(s, 'POST', GENERATE, { body: t2v({ prompt: 'lost answer' }) });
  assert.equal(r.status, 502);
  assert.match(String(r.headers['content-type']), /^text\/plain/);
  assert.equal(r.json, undefined);
  assert.equal(s.stats().created, 1);
  assert.equal([...s.stats().submissionsByInput.keys()].some((k) => k.includes('lost answer')), true);
});

test('resetAfterCreate creates the task and drops the connection', async (t) => {
  const s = await sim(t, { faults: { resetAfterCreate: 1 } });
  await assert.rejects(call(s, 'POST', GENERATE, { body: t2v() }), (e: Error & { code?: string }) => {
    assert.ok(['UND_ERR_SOCKET', 'ECONNRESET', 'UND_ERR_CLOSED'].includes(String(e.code)), String(e.code));
    return true;
  });
  assert.equal(s.stats().created, 1);
});

test('faults leave status polls alone', async (t) => {
  const s = await sim(t, { faults: { failBeforeCreate: 1, failAfterCreate: 1, resetAfterCreate: 1 } });
  assert.equal((await status(s, 'task_0123456789abcdef')).status, 404);
});

async function outcomes(s: Simulator, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    try {
      out.push(String((await call(s, 'POST', GENERATE, { body: t2v() })).status));
    } catch {
      out.push('reset');
    }
  }
  return out;
}

test('faults are drawn from the seed: the same seed gives the same sequence', async (t) => {
  const faults = { failBeforeCreate: 0.3, failAfterCreate: 0.3, resetAfterCreate: 0.3 };
  const a = await outcomes(await sim(t, { seed: 99, faults }), 30);
  const b = await outcomes(await sim(t, { seed: 99, faults }), 30);
  assert.deepEqual(a, b);
  for (const kind of ['200', '500', '502', 'reset']) assert.ok(a.includes(kind), `${kind} in ${a.join(' ')}`);
});
