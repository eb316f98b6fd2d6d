import { test, type TestContext } from 'node:test';
import { strict as assert } from 'node:assert';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { finished, sim, sleep, status, submit, t2v, until } from './helpers.js';

interface Received {
  at: number;
  contentType: string | undefined;
  body: any;
}

/** A local webhook receiver; `answer` decides each reply from the attempt number (1-based). */
async function receiver(t: TestContext, answer: (n: number, res: ServerResponse) => void): Promise<{ url: string; got: Received[] }> {
  const got: Received[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      got.push({ at: Date.now(), contentType: req.headers['content-type'], body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      answer(got.length, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook?x=1`, got };
}

const ok = (_n: number, res: ServerResponse): void => {
  res.writeHead(200).end('ok');
};

test('at completion the callback_url receives the status envelope as JSON', async (t) => {
  const hook = await receiver(t, ok);
  const s = await sim(t);
  const taskId = await submit(s, { ...t2v(), request_type: 'callback', callback_url: hook.url });
  await until('the callback', async () => hook.got.length, (n) => n >= 1);
  const [first] = hook.got;
  assert.equal(first?.contentType, 'application/json');
  assert.equal(first?.body.code, 200);
  assert.equal(first?.body.message, 'success');
  assert.equal(first?.body.data.state, 'success');
  assert.ok(first!.at >= first!.body.data.completeTime, 'not sent before completion');
  assert.deepEqual(first?.body.data, (await status(s, taskId)).json.data);
  await until('the stats', async () => s.stats().callbacksSent, (n) => n === 1);
  assert.equal(s.stats().callbackAttempts, 1);
});

test('a failed task calls back with failCode and failMsg', async (t) => {
  const hook = await receiver(t, ok);
  const s = await sim(t);
  const taskId = await submit(s, { ...t2v({ prompt: '#violation' }), request_type: 'callback', callback_url: hook.url });
  await until('the callback', async () => hook.got.length, (n) => n >= 1);
  assert.deepEqual(hook.got[0]?.body.data, await finished(s, taskId));
  assert.equal(hook.got[0]?.body.data.failCode, 'CONTENT_VIOLATION');
});

test('a receiver answering 500 gets the same callback again', async (t) => {
  const hook = await receiver(t, (n, res) => res.writeHead(n === 1 ? 500 : 204).end());
  const s = await sim(t);
  await submit(s, { ...t2v(), request_type: 'callback', callback_url: hook.url });
  await until('the retry', async () => hook.got.length, (n) => n >= 2);
  assert.deepEqual(hook.got[1]?.body, hook.got[0]?.body);
  await until('the stats', async () => s.stats(), (st) => st.callbacksSent === 1 && st.callbackAttempts === 2);
  await sleep(100);
  assert.equal(hook.got.length, 2, 'no more attempts after a 2xx');
});

test('a receiver that does not answer within callbackTimeoutMs is retried', async (t) => {
  const hook = await receiver(t, (n, res) => {
    if (n > 1) res.writeHead(200).end();
    // The first attempt is left hanging.
  });
  const s = await sim(t, { callbackTimeoutMs: 200 });
  await submit(s, { ...t2v(), request_type: 'callback', callback_url: hook.url });
  await until('the retry', async () => s.stats().callbacksSent, (n) => n === 1);
  assert.equal(hook.got.length, 2);
  assert.ok(hook.got[1]!.at - hook.got[0]!.at >= 190, 'the retry waited for the timeout');
});

test('after callbackRetries failed retries the simulator gives up', async (t) => {
  const hook = await receiver(t, (_n, res) => res.writeHead(503).end());
  const s = await sim(t, { callbackRetries: 2 });
  await submit(s, { ...t2v(), request_type: 'callback', callback_url: hook.url });
  await until('giving up', async () => s.stats().callbacksFailed, (n) => n === 1);
  assert.equal(hook.got.length, 3);
  assert.equal(s.stats().callbacksSent, 0);
});

test('an unreachable callback_url does not disturb the task, and async tasks never call back', async (t) => {
  const hook = await receiver(t, ok);
  const s = await sim(t, { callbackRetries: 1 });
  const dead = await submit(s, { ...t2v(), request_type: 'callback', callback_url: 'http://127.0.0.1:1/nothing' });
  const quiet = await submit(s, { ...t2v(), callback_url: hook.url });
  assert.equal((await finished(s, dead)).state, 'success');
  await finished(s, quiet);
  await until('giving up', async () => s.stats().callbacksFailed, (n) => n === 1);
  assert.equal(hook.got.length, 0);
});

test('many callback tasks are all delivered', async (t) => {
  const hook = await receiver(t, ok);
  const s = await sim(t);
  const ids = await Promise.all(Array.from({ length: 50 }, () => submit(s, { ...t2v(), request_type: 'callback', callback_url: hook.url })));
  await until('50 callbacks', async () => hook.got.length, (n) => n >= 50);
  assert.deepEqual(new Set(hook.got.map((g) => g.body.data.taskId)), new Set(ids));
});
