/**
 * The submit-safety policy, outcome by outcome, over a real socket: a scripted server
 * answers one way, the real client classifies it, and decideSubmit says what the task
 * becomes. The table is the README's "What a failed POST means".
 */
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { createServer, type AddressInfo } from 'node:net';
import { ApixoClient } from '../../src/api/index.js';
import { ApiError, DownloadError, ERROR_CODES } from '../../src/core/errors.js';
import { ResultDownloadError } from '../../src/fetch/download.js';
import { backoffDelay, decideDownload, decideSubmit, type BackoffPolicy } from '../../src/run/submitPolicy.js';
import { envelope, KEY, MODEL, REQUEST, scripted, send } from '../api/server.js';

const fixed: BackoffPolicy = { baseMs: 100, capMs: 10_000, random: () => 0.5 };

type Answer = Parameters<typeof scripted>[1];

async function outcomeOf(t: Parameters<typeof scripted>[0], answer: Answer) {
  const s = await scripted(t, answer, { headersTimeoutMs: 300 });
  try {
    await s.client.submit(MODEL, REQUEST);
  } catch (err) {
    return decideSubmit(err, 0, fixed);
  }
  throw new Error('the POST succeeded');
}

const cases: [string, Answer, string, string?][] = [
  ['429 with Retry-After', (_q, res) => send(res, 429, envelope(429, 'Rate limit exceeded'), { 'retry-after': '3' }), 'retry'],
  ['400 invalid parameters', (_q, res) => send(res, 400, envelope(400, 'input.duration must be 5 or 10')), 'reject'],
  ['400 Insufficient credits', (_q, res) => send(res, 400, envelope(400, 'Insufficient credits')), 'stop', 'credits'],
  ['402', (_q, res) => send(res, 402, envelope(402, 'Payment required')), 'stop', 'credits'],
  ['402 without envelope', (_q, res) => send(res, 402, 'Payment Required'), 'stop', 'credits'],
  ['401', (_q, res) => send(res, 401, envelope(401, 'Invalid or missing API Key')), 'stop', 'auth'],
  ['500 with the envelope', (_q, res) => send(res, 500, envelope(500, 'Internal server error')), 'retry'],
  ['503 with the envelope', (_q, res) => send(res, 503, envelope(503, 'busy'), { 'retry-after': '2' }), 'retry'],
  ['HTTP 200 carrying envelope code 500', (_q, res) => send(res, 200, envelope(500, 'Internal server error')), 'retry'],
  ['HTTP 200 carrying envelope code 402', (_q, res) => send(res, 200, envelope(402, 'Insufficient credits')), 'stop', 'credits'],
  ['502 from a gateway (HTML)', (_q, res) => send(res, 502, '<html>Bad Gateway</html>'), 'in_doubt'],
  ['504 from a gateway, empty', (_q, res) => send(res, 504, ''), 'in_doubt'],
  ['reset after the body was sent', (_q, _res, raw) => raw.socket.destroy(), 'in_doubt'],
  ['no answer in time', () => {}, 'in_doubt'],
  ['a 200 we cannot read', (_q, res) => send(res, 200, '{"code":200,"message":"success","data":{}}'), 'in_doubt'],
  ['a 200 that is not JSON', (_q, res) => send(res, 200, 'OK'), 'in_doubt'],
];

for (const [name, answer, action, stop] of cases) {
  test(`POST answered ${name} → ${action}${stop ? ` (${stop})` : ''}`, async (t) => {
    const d = await outcomeOf(t, answer);
    assert.equal(d.action, action, JSON.stringify(d));
    if (stop) assert.equal(d.action === 'stop' && d.stop, stop);
    assert.ok(!JSON.stringify(d).includes(KEY));
  });
}

test('a refused connection or an unknown host: nothing was sent → retry', async () => {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  await new Promise((r) => server.close(r));
  for (const baseUrl of [`http://127.0.0.1:${port}`, 'http://no-such-host.invalid']) {
    const client = new ApixoClient({ baseUrl, apiKey: KEY });
    const err = await client.submit(MODEL, REQUEST).catch((e: unknown) => e);
    await client.close();
    assert.ok(err instanceof ApiError && err.sent === false, String(err));
    assert.equal(decideSubmit(err, 0, fixed).action, 'retry', baseUrl);
  }
});

test('Retry-After wins over a shorter backoff; the backoff grows, is jittered and capped', () => {
  const limited = new ApiError(ERROR_CODES.RATE_LIMITED, '429', { status: 429, envelope: true, retryAfterMs: 7_000 });
  const d = decideSubmit(limited, 0, fixed);
  assert.equal(d.action === 'retry' && d.delayMs, 7_000);
  const delays = [0, 1, 2, 3, 4, 10, 30].map((a) => backoffDelay(a, fixed));
  assert.deepEqual(delays, [75, 150, 300, 600, 1200, 7500, 7500]);
  for (let i = 0; i < 200; i++) {
    const v = backoffDelay(3, { ...fixed, random: Math.random });
    assert.ok(v >= 400 && v <= 800, String(v));
  }
});

test('errors nobody classified are in doubt: we cannot tell what was sent', () => {
  assert.equal(decideSubmit(new Error('boom'), 0, fixed).action, 'in_doubt');
  assert.equal(decideSubmit(new ApiError(ERROR_CODES.PROTOCOL, 'odd', { status: 302 }), 0, fixed).action, 'in_doubt');
});

test('downloads: gone → re-read the status once, then expired; unreachable → re-read once, then retry', () => {
  const gone = new ResultDownloadError('410', { url: 'u', status: 410 });
  assert.equal(decideDownload(gone, { attempt: 0, refreshed: false }, fixed).action, 'refresh');
  assert.equal(decideDownload(gone, { attempt: 0, refreshed: true }, fixed).action, 'expired');
  for (const status of [403, 404]) {
    assert.equal(decideDownload(new DownloadError(ERROR_CODES.DOWNLOAD, 'x', { url: 'u', status }), { attempt: 0, refreshed: true }, fixed).action, 'expired');
  }
  const refused = new ResultDownloadError('refused', { url: 'u', networkCode: 'ECONNREFUSED' });
  assert.equal(decideDownload(refused, { attempt: 0, refreshed: false }, fixed).action, 'refresh');
  assert.equal(decideDownload(refused, { attempt: 2, refreshed: true }, fixed).action, 'retry');
  const busy = decideDownload(new ResultDownloadError('503', { url: 'u', status: 503, retryAfterMs: 9_000 }), { attempt: 0, refreshed: false }, fixed);
  assert.deepEqual(busy.action === 'retry' && busy.delayMs, 9_000);
  const cut = decideDownload(new ResultDownloadError('cut', { url: 'u', status: 200, networkCode: 'UND_ERR_SOCKET' }), { attempt: 1, refreshed: false }, fixed);
  assert.deepEqual(cut.action === 'retry' && cut.delayMs, 150);
  assert.equal(decideDownload(new DownloadError(ERROR_CODES.INVALID_MEDIA, 'bad', { url: 'u' }), { attempt: 0, refreshed: false }, fixed).action, 'retry');
  assert.equal(decideDownload(Object.assign(new Error('x'), { name: 'AbortError' }), { attempt: 0, refreshed: false }, fixed).action, 'abort');
});
