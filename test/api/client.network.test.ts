import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { ApixoClient } from '../../src/api/index.js';
import { ERROR_CODES } from '../../src/core/errors.js';
import { KEY, MODEL, REQUEST, envelope, listen, rejectsWith, scripted, send } from './server.js';

test('connection refused → E_NETWORK, sent false, status 0', async (t) => {
  const dead = await listen(() => {});
  await dead.close(); // the port is now free and nothing listens on it
  const client = new ApixoClient({ baseUrl: dead.baseUrl, apiKey: KEY });
  t.after(() => client.close());
  const err = await rejectsWith(client.submit(MODEL, REQUEST), ERROR_CODES.NETWORK, { sent: false, status: 0 });
  assert.match(err.message, /failed before the request was sent \(ECONNREFUSED\)/);
});

test('socket destroyed after the body was read → E_NETWORK, sent true', async (t) => {
  const s = await scripted(t, (_req, _res, raw) => raw.socket.destroy());
  await rejectsWith(s.client.submit(MODEL, REQUEST), ERROR_CODES.NETWORK, { sent: true, status: 0 });
  assert.equal(s.requests.length, 1, 'the server did receive the POST');
});

test('no response headers in time → E_NETWORK, sent true', async (t) => {
  const s = await scripted(t, () => {}, { headersTimeoutMs: 100 });
  const err = await rejectsWith(s.client.submit(MODEL, REQUEST), ERROR_CODES.NETWORK, { sent: true });
  assert.equal((err.cause as { code?: string }).code, 'UND_ERR_HEADERS_TIMEOUT');
});

test('body stalls mid-way → E_NETWORK, sent true', async (t) => {
  const s = await scripted(
    t,
    (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('{"code":200,');
    },
    { bodyTimeoutMs: 100 },
  );
  const err = await rejectsWith(s.client.status(MODEL, 't1'), ERROR_CODES.NETWORK, { sent: true });
  assert.equal((err.cause as { code?: string }).code, 'UND_ERR_BODY_TIMEOUT');
});

test('an invalid HTTP answer → E_PROTOCOL', async (t) => {
  const s = await scripted(t, (_req, _res, raw) => {
    raw.socket.end('HTTP/1.1 abc nonsense\r\n\r\n');
  });
  await rejectsWith(s.client.status(MODEL, 't1'), ERROR_CODES.PROTOCOL, { sent: true });
});

test('an already aborted signal rejects with its reason, sending nothing', async (t) => {
  const s = await scripted(t, (_req, res) => send(res, 200, envelope(200, 'success', { taskId: 't1' })));
  const reason = new Error('stop');
  await assert.rejects(s.client.submit(MODEL, REQUEST, AbortSignal.abort(reason)), (e) => e === reason);
  await assert.rejects(s.client.status(MODEL, 't1', AbortSignal.abort()), { name: 'AbortError' });
  assert.equal(s.requests.length, 0);
});

test('aborting while waiting for the answer rejects with the AbortError itself, not an ApiError', async (t) => {
  const s = await scripted(t, () => {});
  const ac = new AbortController();
  const p = s.client.submit(MODEL, REQUEST, ac.signal);
  setTimeout(() => ac.abort(), 50);
  await assert.rejects(p, (e: unknown) => e === ac.signal.reason && (e as Error).name === 'AbortError');
});

test('aborting while the body streams rejects with the AbortError', async (t) => {
  const ac = new AbortController();
  const s = await scripted(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
    res.write('{"code":200,', () => setTimeout(() => ac.abort(), 20));
  });
  await assert.rejects(s.client.status(MODEL, 't1', ac.signal), (e: unknown) => e === ac.signal.reason);
});

test('close() twice is fine, and a request after close is refused as not sent', async (t) => {
  const s = await scripted(t, (_req, res) => send(res, 200, envelope(200, 'success', { taskId: 't1' })));
  await s.client.close();
  await s.client.close();
  await rejectsWith(s.client.submit(MODEL, REQUEST), ERROR_CODES.NETWORK, { sent: false });
  assert.equal(s.requests.length, 0);
});
