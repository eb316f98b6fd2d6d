import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { request } from 'undici';
import { startCallbackReceiver, taskIdOf, type CallbackReceiver, type RejectReason } from '../../src/callback/receiver.js';
import { callbackSecret, redactSecret, secretMatches, withSecret } from '../../src/callback/secret.js';

const SECRET = callbackSecret('sk-test-key', 'nightly');

async function receiver(t: TestContext, maxBodyBytes?: number): Promise<{ r: CallbackReceiver; hints: string[]; rejected: RejectReason[] }> {
  const hints: string[] = [];
  const rejected: RejectReason[] = [];
  const r = await startCallbackReceiver({ port: 0, secret: SECRET, onHint: (id) => hints.push(id), onRejected: (why) => rejected.push(why), ...(maxBodyBytes ? { maxBodyBytes } : {}) });
  t.after(() => r.close());
  return { r, hints, rejected };
}

const envelope = (taskId: string, state = 'success') => JSON.stringify({ code: 200, message: 'success', data: { taskId, state } });
const settle = () => new Promise((res) => setTimeout(res, 20));

async function post(url: string, body: string, method = 'POST'): Promise<number> {
  const res = await request(url, { method: method as 'POST', body: method === 'GET' ? undefined : body, headers: { 'content-type': 'application/json' } });
  await res.body.dump();
  return res.statusCode;
}

test('the secret is derived from the key and the run: stable across restarts, different per run and key', () => {
  assert.equal(callbackSecret('sk-test-key', 'nightly'), SECRET);
  assert.notEqual(callbackSecret('sk-test-key', 'other'), SECRET);
  assert.notEqual(callbackSecret('sk-other-key', 'nightly'), SECRET);
  assert.match(SECRET, /^[A-Za-z0-9_-]{43}$/, '256 bits, URL-safe');
  assert.ok(!SECRET.includes('sk-test-key'));
});

test('the secret is appended as the last path segment, the query kept; messages show it as …', () => {
  const url = withSecret('https://hooks.example.com/vidbatch/?team=a', SECRET);
  assert.equal(url, `https://hooks.example.com/vidbatch/${SECRET}?team=a`);
  assert.equal(redactSecret(url, SECRET), 'https://hooks.example.com/vidbatch/…?team=a');
  assert.equal(withSecret('http://127.0.0.1:8787', SECRET), `http://127.0.0.1:8787/${SECRET}`);
});

test('constant-time comparison: only the exact secret matches', () => {
  assert.equal(secretMatches(SECRET, SECRET), true);
  assert.equal(secretMatches(SECRET.slice(0, -1) + (SECRET.endsWith('A') ? 'B' : 'A'), SECRET), false);
  assert.equal(secretMatches(SECRET.slice(1), SECRET), false);
  assert.equal(secretMatches('', SECRET), false);
});

test('a callback on the secret path is answered 200 and handed on as a hint', async (t) => {
  const { r, hints } = await receiver(t);
  assert.equal(await post(`${r.origin}/hooks/${SECRET}`, envelope('task_abc')), 200);
  // Behind a proxy that strips the prefix, the path is just the secret.
  assert.equal(await post(`${r.origin}/${SECRET}?x=1`, envelope('task_def')), 200);
  await settle();
  assert.deepEqual(hints, ['task_abc', 'task_def']);
  assert.equal(r.stats().accepted, 2);
});

test('forged callbacks on another path are refused with 404 and never reach the loop', async (t) => {
  const { r, hints, rejected } = await receiver(t);
  assert.equal(await post(`${r.origin}/hooks/not-the-secret`, envelope('task_abc')), 404);
  assert.equal(await post(`${r.origin}/`, envelope('task_abc')), 404);
  assert.equal(await post(`${r.origin}/${SECRET}/extra`, envelope('task_abc')), 404);
  assert.equal(await post(`${r.origin}/${SECRET.slice(0, 20)}`, envelope('task_abc')), 404);
  await settle();
  assert.deepEqual(hints, []);
  assert.deepEqual(rejected, ['path', 'path', 'path', 'path']);
});

test('only POST; bodies must name a taskId', async (t) => {
  const { r, hints, rejected } = await receiver(t);
  assert.equal(await post(`${r.origin}/${SECRET}`, '', 'GET'), 405);
  assert.equal(await post(`${r.origin}/${SECRET}`, 'not json'), 400);
  assert.equal(await post(`${r.origin}/${SECRET}`, JSON.stringify({ code: 200, data: {} })), 400);
  assert.equal(await post(`${r.origin}/${SECRET}`, JSON.stringify({ taskId: 'task_bare' })), 200);
  await settle();
  assert.deepEqual(hints, ['task_bare']);
  assert.deepEqual(rejected, ['method', 'body', 'body']);
});

test('a body over the cap is refused with 413, announced or not', async (t) => {
  const { r, hints, rejected } = await receiver(t, 1024);
  const big = JSON.stringify({ taskId: 'task_big', pad: 'x'.repeat(4096) });
  assert.equal(await post(`${r.origin}/${SECRET}`, big), 413);
  // Chunked, without Content-Length: cut off once the cap is passed.
  const status = await new Promise<string>((resolve) => {
    const { port } = new URL(r.origin);
    const s = connect(Number(port), '127.0.0.1', () => {
      s.write(`POST /${SECRET} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n`);
      s.write(`1000\r\n${'y'.repeat(4096)}\r\n`);
    });
    let got = '';
    s.on('data', (d) => (got += d));
    s.on('close', () => resolve(got.split('\r\n')[0] ?? ''));
    s.on('error', () => resolve(got.split('\r\n')[0] ?? ''));
  });
  assert.match(status, /413/);
  await settle();
  assert.deepEqual(hints, []);
  assert.deepEqual(rejected, ['too-large', 'too-large']);
});

test('the answer does not wait for the hint to be handled', async (t) => {
  let release!: () => void;
  const handled = new Promise<void>((r) => (release = r));
  const r = await startCallbackReceiver({ port: 0, secret: SECRET, onHint: () => void handled });
  t.after(() => r.close());
  assert.equal(await post(`${r.origin}/${SECRET}`, envelope('task_slow')), 200);
  release();
});

test('taskIdOf reads the documented envelope and nothing else', () => {
  assert.equal(taskIdOf(envelope('task_1')), 'task_1');
  assert.equal(taskIdOf('{"taskId":"task_2"}'), 'task_2');
  assert.equal(taskIdOf('{"data":{"taskId":5}}'), undefined);
  assert.equal(taskIdOf('[1,2]'), undefined);
  assert.equal(taskIdOf('null'), undefined);
  assert.equal(taskIdOf(JSON.stringify({ taskId: 'x'.repeat(500) })), undefined);
});
