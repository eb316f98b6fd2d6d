import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { ERROR_CODES } from '../../src/core/errors.js';
import type { GenerateRequest } from '../../src/core/types.js';
import { ApixoClient } from '../../src/api/index.js';
import { KEY, MODEL, REQUEST, envelope, rejectsWith, scripted, send } from './server.js';

test('submit: POSTs the body exactly as given, with Bearer auth and JSON headers, and returns the taskId', async (t) => {
  const s = await scripted(t, (_req, res) => send(res, 200, envelope(200, 'success', { taskId: 'task_12345678' })));
  const body: GenerateRequest = {
    request_type: 'callback',
    callback_url: 'https://example.com/cb',
    provider: 'official',
    input: { mode: 'image-to-video', prompt: 'héad → tail "quoted"', duration: 5, image_urls: ['https://e.x/h.jpg', 'https://e.x/t.jpg'], cfg_scale: 0.4 },
  };
  assert.equal(await s.client.submit(MODEL, body), 'task_12345678');
  assert.equal(s.requests.length, 1);
  const [req] = s.requests;
  assert.ok(req);
  assert.equal(req.method, 'POST');
  assert.equal(req.url, '/api/v1/generateTask/kling-2-5-turbo-pro');
  assert.equal(req.headers['authorization'], `Bearer ${KEY}`);
  assert.equal(req.headers['content-type'], 'application/json');
  assert.equal(req.headers['accept'], 'application/json');
  assert.equal(req.body, JSON.stringify(body));
  assert.deepEqual(JSON.parse(req.body), body);
});

test('submit: the model id is encoded as one path segment', async (t) => {
  const s = await scripted(t, (_req, res) => send(res, 200, envelope(200, 'success', { taskId: 't1' })));
  await s.client.submit('a/b c?d', REQUEST);
  assert.equal(s.requests[0]?.url, '/api/v1/generateTask/a%2Fb%20c%3Fd');
});

test('submit: a base URL with a path prefix keeps it', async (t) => {
  const s = await scripted(t, (_req, res) => send(res, 200, envelope(200, 'success', { taskId: 't1' })));
  const prefixed = new ApixoClient({ baseUrl: `${s.baseUrl}/proxy/apixo/`, apiKey: KEY });
  t.after(() => prefixed.close());
  await prefixed.submit(MODEL, REQUEST);
  assert.equal(s.requests[0]?.url, '/proxy/apixo/api/v1/generateTask/kling-2-5-turbo-pro');
});

test('submit: redirects are not followed', async (t) => {
  const s = await scripted(t, (_req, res) => send(res, 302, '', { location: '/elsewhere' }));
  const err = await rejectsWith(s.client.submit(MODEL, REQUEST), ERROR_CODES.PROTOCOL, { status: 302 });
  assert.match(err.message, /^apixo POST \/api\/v1\/generateTask\/kling-2-5-turbo-pro answered 302/);
  assert.equal(s.requests.length, 1);
});

const malformed: [string, string | object][] = [
  ['no taskId', envelope(200, 'success', {})],
  ['empty taskId', envelope(200, 'success', { taskId: '' })],
  ['numeric taskId', envelope(200, 'success', { taskId: 42 })],
  ['data null', envelope(200, 'success', null)],
  ['not JSON', 'OK'],
  ['JSON without the envelope', { taskId: 't1' }],
  ['envelope with a string code', { code: '200', message: 'success', data: { taskId: 't1' } }],
];
for (const [name, body] of malformed) {
  test(`submit: a 200 with ${name} → E_PROTOCOL, sent`, async (t) => {
    const s = await scripted(t, (_req, res) => send(res, 200, body));
    await rejectsWith(s.client.submit(MODEL, REQUEST), ERROR_CODES.PROTOCOL, { status: 200, sent: true });
  });
}

test('submit: a 200 whose body exceeds 1 MiB → E_PROTOCOL', async (t) => {
  const big = JSON.stringify(envelope(200, 'success', { taskId: 't1', pad: 'x'.repeat(2 * 1024 * 1024) }));
  const s = await scripted(t, (_req, res) => send(res, 200, big, { 'content-type': 'application/json' }));
  const err = await rejectsWith(s.client.submit(MODEL, REQUEST), ERROR_CODES.PROTOCOL);
  assert.match(err.message, /body over 1048576 bytes/);
});

test('submit: an empty or dot model id is refused before sending', async (t) => {
  const s = await scripted(t, (_req, res) => send(res, 200, envelope(200, 'success', { taskId: 't1' })));
  await assert.rejects(s.client.submit('', REQUEST), { code: ERROR_CODES.USAGE });
  await assert.rejects(s.client.submit('..', REQUEST), { code: ERROR_CODES.USAGE });
  assert.equal(s.requests.length, 0);
});
