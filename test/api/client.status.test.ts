import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { ERROR_CODES } from '../../src/core/errors.js';
import { KEY, MODEL, envelope, rejectsWith, scripted, send } from './server.js';

test('status: GETs statusTask with the taskId in the query and parses a success', async (t) => {
  const s = await scripted(t, (_req, res) =>
    send(
      res,
      200,
      envelope(200, 'success', {
        taskId: 'task 1/2',
        state: 'success',
        resultJson: '{"resultUrls":["https://r2.apixo.ai/video.mp4"]}',
        createTime: 1767965610929,
        completeTime: 1767965652317,
        costTime: 41388,
      }),
    ),
  );
  const st = await s.client.status(MODEL, 'task 1/2');
  assert.deepEqual(st, {
    taskId: 'task 1/2',
    state: 'success',
    resultUrls: ['https://r2.apixo.ai/video.mp4'],
    createTime: 1767965610929,
    completeTime: 1767965652317,
    costTime: 41388,
  });
  const [req] = s.requests;
  assert.ok(req);
  assert.equal(req.method, 'GET');
  assert.equal(req.url, '/api/v1/statusTask/kling-2-5-turbo-pro?taskId=task%201%2F2');
  assert.equal(req.headers['authorization'], `Bearer ${KEY}`);
  assert.equal(req.headers['accept'], 'application/json');
  assert.equal(req.body, '');
});

test('status: a failed task keeps failCode (open string) and failMsg', async (t) => {
  const s = await scripted(t, (_req, res) =>
    send(res, 200, envelope(200, 'success', { taskId: 't1', state: 'failed', failCode: 'SOMETHING_NEW', failMsg: 'Content does not meet safety guidelines' })),
  );
  assert.deepEqual(await s.client.status(MODEL, 't1'), {
    taskId: 't1',
    state: 'failed',
    failCode: 'SOMETHING_NEW',
    failMsg: 'Content does not meet safety guidelines',
  });
});

test('status: pending and processing carry no resultUrls; null fields are absent', async (t) => {
  let state = 'pending';
  const s = await scripted(t, (_req, res) =>
    send(res, 200, envelope(200, 'success', { taskId: 't1', state, resultJson: null, completeTime: null, createTime: 1767965610929 })),
  );
  assert.deepEqual(await s.client.status(MODEL, 't1'), { taskId: 't1', state: 'pending', createTime: 1767965610929 });
  state = 'processing';
  assert.deepEqual(await s.client.status(MODEL, 't1'), { taskId: 't1', state: 'processing', createTime: 1767965610929 });
});

test('status: a missing taskId in data is taken as the one asked about', async (t) => {
  const s = await scripted(t, (_req, res) => send(res, 200, envelope(200, 'success', { state: 'processing' })));
  assert.deepEqual(await s.client.status(MODEL, 't1'), { taskId: 't1', state: 'processing' });
});

const malformed: [string, unknown][] = [
  ['an unknown state', { taskId: 't1', state: 'done' }],
  ['no state', { taskId: 't1' }],
  ['another taskId', { taskId: 't2', state: 'pending' }],
  ['success without resultJson', { taskId: 't1', state: 'success' }],
  ['resultJson that is not JSON', { taskId: 't1', state: 'success', resultJson: '{resultUrls:' }],
  ['resultJson without resultUrls', { taskId: 't1', state: 'success', resultJson: '{"urls":["https://x/v.mp4"]}' }],
  ['resultUrls not strings', { taskId: 't1', state: 'success', resultJson: '{"resultUrls":[1]}' }],
  ['resultUrls empty', { taskId: 't1', state: 'success', resultJson: '{"resultUrls":[]}' }],
  ['resultJson as an object', { taskId: 't1', state: 'success', resultJson: { resultUrls: ['https://x/v.mp4'] } }],
  ['a string completeTime', { taskId: 't1', state: 'pending', completeTime: 'soon' }],
  ['data as an array', [{ taskId: 't1', state: 'pending' }]],
];
for (const [name, data] of malformed) {
  test(`status: a 200 with ${name} → E_PROTOCOL`, async (t) => {
    const s = await scripted(t, (_req, res) => send(res, 200, envelope(200, 'success', data)));
    const err = await rejectsWith(s.client.status(MODEL, 't1'), ERROR_CODES.PROTOCOL, { status: 200 });
    assert.match(err.message, /^apixo GET \/api\/v1\/statusTask\/kling-2-5-turbo-pro\?taskId=t1 answered 200 with /);
  });
}
