import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { ERROR_CODES } from '../../src/core/errors.js';
import { MAX_RETRY_AFTER_MS } from '../../src/api/index.js';
import { KEY, MODEL, REQUEST, envelope, rejectsWith, scripted, send } from './server.js';

const PATH = '/api/v1/generateTask/kling-2-5-turbo-pro';

test('400 "Insufficient credits" → E_CREDITS, matched case-insensitively', async (t) => {
  for (const message of ['Insufficient credits', 'INSUFFICIENT CREDIT: top up']) {
    const s = await scripted(t, (_req, res) => send(res, 400, envelope(400, message)));
    await rejectsWith(s.client.submit(MODEL, REQUEST), ERROR_CODES.CREDITS, { status: 400, providerMessage: message, envelope: true });
  }
});

test('other 400 → E_INVALID_INPUT with the provider message', async (t) => {
  const s = await scripted(t, (_req, res) => send(res, 400, envelope(400, 'duration must be 5 or 10')));
  const err = await rejectsWith(s.client.submit(MODEL, REQUEST), ERROR_CODES.INVALID_INPUT, {
    status: 400,
    providerMessage: 'duration must be 5 or 10',
    envelope: true,
  });
  assert.equal(err.message, `apixo POST ${PATH} answered 400: duration must be 5 or 10`);
});

test('402 → E_CREDITS whatever the text', async (t) => {
  const s = await scripted(t, (_req, res) => send(res, 402, 'Payment Required'));
  await rejectsWith(s.client.submit(MODEL, REQUEST), ERROR_CODES.CREDITS, { status: 402, envelope: false });
});

test('401 and 403 → E_AUTH', async (t) => {
  for (const status of [401, 403]) {
    const s = await scripted(t, (_req, res) => send(res, status, envelope(status, 'Invalid or missing API Key')));
    await rejectsWith(s.client.status(MODEL, 't1'), ERROR_CODES.AUTH, { status, providerMessage: 'Invalid or missing API Key' });
  }
});

test('429 → E_RATE_LIMITED with Retry-After in seconds', async (t) => {
  const s = await scripted(t, (_req, res) => send(res, 429, envelope(429, 'Rate limit exceeded'), { 'retry-after': '7' }));
  await rejectsWith(s.client.submit(MODEL, REQUEST), ERROR_CODES.RATE_LIMITED, { status: 429, retryAfterMs: 7000, envelope: true });
});

test('429 → E_RATE_LIMITED with Retry-After as an HTTP-date, against the injected clock', async (t) => {
  const now = Date.parse('2026-01-09T12:00:00Z');
  const s = await scripted(t, (_req, res) => send(res, 429, envelope(429, 'Rate limit exceeded'), { 'retry-after': 'Fri, 09 Jan 2026 12:00:12 GMT' }), {
    now: () => now,
  });
  await rejectsWith(s.client.submit(MODEL, REQUEST), ERROR_CODES.RATE_LIMITED, { retryAfterMs: 12_000 });
});

test('429 without or with a garbage Retry-After → retryAfterMs undefined; huge ones are capped', async (t) => {
  let header: Record<string, string> = {};
  const s = await scripted(t, (_req, res) => send(res, 429, envelope(429, 'Rate limit exceeded'), header));
  await rejectsWith(s.client.submit(MODEL, REQUEST), ERROR_CODES.RATE_LIMITED, { retryAfterMs: undefined });
  header = { 'retry-after': 'soon' };
  await rejectsWith(s.client.submit(MODEL, REQUEST), ERROR_CODES.RATE_LIMITED, { retryAfterMs: undefined });
  header = { 'retry-after': '86400' };
  await rejectsWith(s.client.submit(MODEL, REQUEST), ERROR_CODES.RATE_LIMITED, { retryAfterMs: MAX_RETRY_AFTER_MS });
});

test('500 with the API envelope → E_SERVER, envelope true', async (t) => {
  const s = await scripted(t, (_req, res) => send(res, 500, envelope(500, 'internal error')));
  await rejectsWith(s.client.submit(MODEL, REQUEST), ERROR_CODES.SERVER, { status: 500, envelope: true, providerMessage: 'internal error' });
});

test("502 with a gateway's HTML → E_SERVER, envelope false, body excerpt in the message", async (t) => {
  const html = `<html>\n<head><title>502 Bad Gateway</title></head>\n<body>${'x'.repeat(500)}</body></html>`;
  const s = await scripted(t, (_req, res) => send(res, 502, html));
  const err = await rejectsWith(s.client.submit(MODEL, REQUEST), ERROR_CODES.SERVER, { status: 502, envelope: false, providerMessage: undefined });
  assert.ok(err.message.startsWith(`apixo POST ${PATH} answered 502: <html> <head><title>502 Bad Gateway</title>`), err.message);
  assert.ok(err.message.length < `apixo POST ${PATH} answered 502: `.length + 205, 'excerpt is bounded');
});

test('JSON that is not the envelope (no numeric code) counts as envelope false', async (t) => {
  const s = await scripted(t, (_req, res) => send(res, 503, { error: 'upstream unavailable' }));
  await rejectsWith(s.client.status(MODEL, 't1'), ERROR_CODES.SERVER, { status: 503, envelope: false });
});

test('an undocumented status → E_PROTOCOL naming method, path, status and body', async (t) => {
  const s = await scripted(t, (_req, res) => send(res, 418, "I'm a teapot"));
  const err = await rejectsWith(s.client.submit(MODEL, REQUEST), ERROR_CODES.PROTOCOL, { status: 418 });
  assert.equal(err.message, `apixo POST ${PATH} answered 418: I'm a teapot`);
});

test('HTTP 200 with an error envelope: the envelope code decides', async (t) => {
  const cases: [number, string, string][] = [
    [400, 'Insufficient credits', ERROR_CODES.CREDITS],
    [400, 'prompt is required', ERROR_CODES.INVALID_INPUT],
    [401, 'Invalid API Key', ERROR_CODES.AUTH],
    [429, 'Rate limit exceeded', ERROR_CODES.RATE_LIMITED],
    [500, 'internal error', ERROR_CODES.SERVER],
    [201, 'created?', ERROR_CODES.PROTOCOL],
  ];
  for (const [code, message, expected] of cases) {
    const s = await scripted(t, (_req, res) => send(res, 200, envelope(code, message)));
    const err = await rejectsWith(s.client.submit(MODEL, REQUEST), expected as (typeof ERROR_CODES)[keyof typeof ERROR_CODES], {
      status: 200,
      envelope: true,
      providerMessage: message,
    });
    assert.equal(err.message, `apixo POST ${PATH} answered HTTP 200 with envelope code ${code}: ${message}`);
  }
});

function expectedFor(status: number): (typeof ERROR_CODES)[keyof typeof ERROR_CODES] {
  return status === 400 ? ERROR_CODES.INVALID_INPUT : status === 401 ? ERROR_CODES.AUTH : status === 418 || status === 200 ? ERROR_CODES.PROTOCOL : ERROR_CODES.SERVER;
}

test('a server that echoes the Authorization header: the key never reaches the error', async (t) => {
  for (const status of [200, 400, 401, 418, 502]) {
    for (const asEnvelope of [true, false]) {
      const s = await scripted(t, (req, res) => {
        const echoed = `you sent ${String(req.headers['authorization'])} and key=${KEY}`;
        send(res, status, asEnvelope ? envelope(status, echoed) : echoed);
      });
      // rejectsWith checks the message; the provider message and the excerpt are checked here.
      const err = await rejectsWith(s.client.submit(MODEL, REQUEST), expectedFor(status));
      assert.ok(!(err.providerMessage ?? '').includes(KEY), err.providerMessage);
      assert.match(err.message, /you sent Bearer \[REDACTED\] and key=\[REDACTED\]/);
    }
  }
});
