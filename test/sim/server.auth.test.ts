import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { GENERATE, STATUS, call, sim, t2v } from './helpers.js';

const UNAUTHORIZED = { code: 401, message: 'Invalid or missing API Key', data: null };

test('a request without Authorization answers 401 with the envelope and creates nothing', async (t) => {
  const s = await sim(t);
  const post = await call(s, 'POST', GENERATE, { key: null, body: t2v() });
  assert.equal(post.status, 401);
  assert.deepEqual(post.json, UNAUTHORIZED);
  const get = await call(s, 'GET', `${STATUS}?taskId=task_0000000000000000`, { key: null });
  assert.equal(get.status, 401);
  assert.deepEqual(get.json, UNAUTHORIZED);
  assert.equal(s.stats().created, 0);
});

test('a key that is not in apiKeys answers 401; a listed key is accepted', async (t) => {
  const s = await sim(t, { apiKeys: ['good-key-123'] });
  const bad = await call(s, 'POST', GENERATE, { key: 'wrong-key-456', body: t2v() });
  assert.equal(bad.status, 401);
  assert.deepEqual(bad.json, UNAUTHORIZED);
  const good = await call(s, 'POST', GENERATE, { key: 'good-key-123', body: t2v() });
  assert.equal(good.status, 200);
  assert.equal(s.stats().created, 1);
});

test('a scheme other than Bearer, or an empty key, answers 401', async (t) => {
  const s = await sim(t);
  for (const authorization of ['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer   ', 'sk-test-key-0001']) {
    const r = await call(s, 'POST', GENERATE, { key: null, body: t2v(), headers: { authorization } });
    assert.equal(r.status, 401, authorization);
  }
});

test('without apiKeys any non-empty Bearer key is accepted', async (t) => {
  const s = await sim(t);
  const r = await call(s, 'POST', GENERATE, { key: 'anything', body: t2v() });
  assert.equal(r.status, 200);
  assert.match(r.json.data.taskId, /^task_[0-9a-f]{58}$/);
  assert.deepEqual(Object.keys(r.json), ['code', 'message', 'data']);
  assert.equal(r.json.code, 200);
  assert.equal(r.json.message, 'success');
});

test('unknown paths answer 404 and wrong methods 405, both with the envelope', async (t) => {
  const s = await sim(t);
  const nf = await call(s, 'GET', '/api/v2/whatever');
  assert.equal(nf.status, 404);
  assert.deepEqual(nf.json, { code: 404, message: 'Not found', data: null });
  const wrong = await call(s, 'GET', GENERATE);
  assert.equal(wrong.status, 405);
  assert.equal(wrong.headers.allow, 'POST');
  assert.equal(wrong.json.code, 405);
});
