import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { request } from 'undici';
import { GENERATE, KEY, STATUS, call, finished, sim, status, submit, t2v } from './helpers.js';

test('credits run out with 402 when asked, with the envelope, creating nothing', async (t) => {
  const s = await sim(t, { credits: 1, creditsStatus: 402 });
  await submit(s);
  const r = await call(s, 'POST', GENERATE, { body: t2v({ prompt: 'one too many' }) });
  assert.equal(r.status, 402);
  assert.deepEqual(r.json, { code: 402, message: 'Insufficient credits', data: null });
  assert.equal(s.stats().created, 1);
});

test('slowResponse holds answers back; a POST is held after its task exists', async (t) => {
  const s = await sim(t, { faults: { slowResponse: 1, slowResponseMs: 300 } });
  const started = Date.now();
  const taskId = await submit(s);
  assert.ok(Date.now() - started >= 280);
  const polled = Date.now();
  assert.equal((await status(s, taskId)).status, 200);
  assert.ok(Date.now() - polled >= 280);
  assert.equal(s.stats().faults.slowResponse, 2);

  // A client that gives up waiting leaves a task it never saw: counted as ambiguous.
  await assert.rejects(
    request(s.url + GENERATE, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify(t2v({ prompt: 'given up on' })),
      signal: AbortSignal.timeout(50),
    }),
  );
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(s.stats().created, 2);
  assert.deepEqual([...s.stats().ambiguousByInput.keys()].map((k) => JSON.parse(k).prompt), ['given up on']);
});

test('502 after create and resets are counted as ambiguous; 500 before create is not', async (t) => {
  const after = await sim(t, { faults: { failAfterCreate: 1 } });
  await call(after, 'POST', GENERATE, { body: t2v({ prompt: 'a' }) });
  const before = await sim(t, { faults: { failBeforeCreate: 1 } });
  await call(before, 'POST', GENERATE, { body: t2v({ prompt: 'b' }) });
  assert.equal(after.stats().ambiguousByInput.size, 1);
  assert.equal(after.stats().faults.failAfterCreate, 1);
  assert.equal(before.stats().ambiguousByInput.size, 0);
  assert.equal(before.stats().faults.failBeforeCreate, 1);
});

async function resultUrl(s: Parameters<typeof status>[0], taskId: string): Promise<URL> {
  const data = await finished(s, taskId);
  return new URL(JSON.parse(data.resultJson).resultUrls[0]);
}

test('truncateDownload announces the whole length and sends less; each request is drawn afresh', async (t) => {
  const s = await sim(t, { faults: { truncateDownload: 1 } });
  const url = await resultUrl(s, await submit(s));
  const res = await request(url);
  const announced = Number(res.headers['content-length']);
  let got = 0;
  await assert.rejects(
    (async () => {
      for await (const chunk of res.body) got += (chunk as Buffer).length;
    })(),
  );
  assert.ok(got < announced, `${got} of ${announced}`);
  const ranged = await request(url, { headers: { range: `bytes=${got}-` } });
  assert.equal(ranged.statusCode, 206);
  await ranged.body.dump().catch(() => {});
  assert.equal(s.stats().faults.truncateDownload, 2);
});

test('expiredUrl: the first result URL answers 410, the next status hands out a working one', async (t) => {
  const s = await sim(t, { faults: { expiredUrl: 1 } });
  const taskId = await submit(s);
  const stale = await resultUrl(s, taskId);
  assert.ok(stale.searchParams.has('expires'));
  const gone = await call(s, 'GET', stale.pathname + stale.search);
  assert.equal(gone.status, 410);
  const fresh = await resultUrl(s, taskId);
  assert.equal(fresh.search, '');
  assert.equal((await call(s, 'GET', fresh.pathname)).status, 200);
  assert.equal(s.stats().faults.expiredUrl, 1);
  assert.equal((await call(s, 'GET', `${STATUS}?taskId=${taskId}`)).json.data.resultJson.includes('expires'), false);
});
