import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { call, finished, sim, sleep, status, submit, t2v, until } from './helpers.js';
import { parseRange } from '../../src/sim/index.js';

async function resultPath(s: Awaited<ReturnType<typeof sim>>, body = t2v()): Promise<{ taskId: string; path: string }> {
  const taskId = await submit(s, body);
  const data = await finished(s, taskId);
  assert.equal(data.state, 'success');
  return { taskId, path: new URL(JSON.parse(data.resultJson).resultUrls[0]).pathname };
}

test('Range requests answer 206 with Content-Range; the pieces make the whole file', async (t) => {
  const s = await sim(t);
  const { path } = await resultPath(s);
  const whole = await call(s, 'GET', path);
  const size = whole.body.length;

  const head = await call(s, 'GET', path, { headers: { range: 'bytes=0-99' } });
  assert.equal(head.status, 206);
  assert.equal(head.headers['content-range'], `bytes 0-99/${size}`);
  assert.equal(head.headers['content-length'], '100');
  assert.deepEqual(head.body, whole.body.subarray(0, 100));

  const rest = await call(s, 'GET', path, { headers: { range: 'bytes=100-' } });
  assert.equal(rest.status, 206);
  assert.equal(rest.headers['content-range'], `bytes 100-${size - 1}/${size}`);
  assert.deepEqual(Buffer.concat([head.body, rest.body]), whole.body);

  const tail = await call(s, 'GET', path, { headers: { range: 'bytes=-10' } });
  assert.equal(tail.status, 206);
  assert.deepEqual(tail.body, whole.body.subarray(size - 10));

  const past = await call(s, 'GET', path, { headers: { range: `bytes=${size - 5}-${size + 1000}` } });
  assert.equal(past.status, 206);
  assert.equal(past.body.length, 5);
});

test('an unsatisfiable Range answers 416 with bytes */size', async (t) => {
  const s = await sim(t);
  const { path } = await resultPath(s);
  const size = (await call(s, 'GET', path)).body.length;
  for (const range of [`bytes=${size}-`, `bytes=${size + 10}-${size + 20}`, 'bytes=-0']) {
    const r = await call(s, 'GET', path, { headers: { range } });
    assert.equal(r.status, 416, range);
    assert.equal(r.headers['content-range'], `bytes */${size}`);
  }
});

test('HEAD answers the headers only; a result needs no API key', async (t) => {
  const s = await sim(t);
  const { path } = await resultPath(s);
  const r = await call(s, 'HEAD', path, { key: null });
  assert.equal(r.status, 200);
  assert.ok(Number(r.headers['content-length']) > 1000);
  assert.equal(r.body.length, 0);
});

test('a result of an unknown, unfinished or failed task answers 404', async (t) => {
  const s = await sim(t);
  assert.equal((await call(s, 'GET', '/results/task_0123456789abcdef.mp4')).status, 404);
  const slow = await sim(t, { timeScale: 1 });
  const running = await submit(slow, t2v());
  assert.equal((await call(slow, 'GET', `/results/${running}.mp4`)).status, 404);
  const failed = await submit(s, t2v({ prompt: 'x #violation' }));
  assert.equal((await finished(s, failed)).state, 'failed');
  assert.equal((await call(s, 'GET', `/results/${failed}.mp4`)).status, 404);
});

test('a result answers 410 once resultTtlMs has passed since completeTime', async (t) => {
  const s = await sim(t, { resultTtlMs: 0 });
  const { path } = await resultPath(s);
  assert.equal((await call(s, 'GET', path)).status, 410);

  const s2 = await sim(t, { resultTtlMs: 1500 });
  const taskId = await submit(s2, t2v());
  const data = await finished(s2, taskId);
  const p = `/results/${taskId}.mp4`;
  const first = await call(s2, 'GET', p);
  // On a very slow machine the TTL may already be over; only then is 410 acceptable here.
  assert.equal(first.status, Date.now() < data.completeTime + 1500 - 50 ? 200 : first.status);
  await until('the result to expire', () => call(s2, 'GET', p), (r) => r.status === 410, 10_000, 100);
  assert.ok(Date.now() >= data.completeTime + 1500);
});

test('downloads do not count toward the request limit', async (t) => {
  const s = await sim(t, { requestsPerMinute: 2 });
  const taskId = await submit(s, t2v());
  // Completion is a function of the clock alone; waiting past the longest 5 s
  // generation (45 s × 0.005) spends no requests.
  await sleep(300);
  assert.equal((await status(s, taskId)).json.data.state, 'success');
  for (let i = 0; i < 5; i++) assert.equal((await call(s, 'GET', `/results/${taskId}.mp4`)).status, 200);
  assert.equal((await status(s, taskId)).status, 429);
});

test('parseRange', () => {
  assert.deepEqual(parseRange(undefined, 10), { kind: 'full' });
  assert.deepEqual(parseRange('bytes=2-4', 10), { kind: 'partial', start: 2, end: 4 });
  assert.deepEqual(parseRange('bytes=2-', 10), { kind: 'partial', start: 2, end: 9 });
  assert.deepEqual(parseRange('bytes=-3', 10), { kind: 'partial', start: 7, end: 9 });
  assert.deepEqual(parseRange('bytes=-30', 10), { kind: 'partial', start: 0, end: 9 });
  assert.deepEqual(parseRange('bytes=5-100', 10), { kind: 'partial', start: 5, end: 9 });
  assert.deepEqual(parseRange('bytes=10-', 10), { kind: 'unsatisfiable' });
  assert.deepEqual(parseRange('bytes=-0', 10), { kind: 'unsatisfiable' });
  // Unusable headers are ignored, as RFC 9110 allows.
  assert.deepEqual(parseRange('bytes=4-2', 10), { kind: 'full' });
  assert.deepEqual(parseRange('bytes=0-1,3-4', 10), { kind: 'full' });
  assert.deepEqual(parseRange('items=0-1', 10), { kind: 'full' });
});
