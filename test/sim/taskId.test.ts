import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { DEFAULT_ID_SECRET, mintTaskId, readTaskId } from '../../src/sim/index.js';
import { FAIL_REASONS } from '../../src/sim/failures.js';
import { KEY, call, finished, sim, status, submit, t2v } from './helpers.js';

const facts = {
  createTime: 1_767_965_610_929,
  completeTime: 1_767_965_652_317,
  durationSec: 10 as const,
  aspectRatio: '9:16' as const,
  failure: FAIL_REASONS.CONTENT_VIOLATION,
  keyTag: '0a1b2c3d',
};

test('a task id carries its facts, sealed: any change or another secret makes it unknown', () => {
  const id = mintTaskId(facts, DEFAULT_ID_SECRET);
  assert.match(id, /^task_[0-9a-f]{58}$/);
  assert.deepEqual(readTaskId(id, DEFAULT_ID_SECRET), facts);
  assert.deepEqual(readTaskId(mintTaskId({ ...facts, failure: undefined, durationSec: 5, aspectRatio: '1:1' }, 's'), 's'), {
    ...facts, failure: undefined, durationSec: 5, aspectRatio: '1:1',
  });
  assert.equal(readTaskId(id, 'another secret'), undefined);
  for (let i = 5; i < id.length; i += 7) {
    const flipped = id.slice(0, i) + (id[i] === '0' ? '1' : '0') + id.slice(i + 1);
    assert.equal(readTaskId(flipped, DEFAULT_ID_SECRET), undefined, `flipped digit ${i}`);
  }
  for (const bad of ['task_12345678', 'task_0123456789abcdef', id.toUpperCase(), id + '0', '', 'task_' + 'z'.repeat(58)]) {
    assert.equal(readTaskId(bad, DEFAULT_ID_SECRET), undefined, bad);
  }
  assert.notEqual(mintTaskId(facts, DEFAULT_ID_SECRET), id, 'a random nonce: ids never repeat');
});

test('a restarted simulator answers status and serves the result of a task it never saw', async (t) => {
  const first = await sim(t);
  const taskId = await submit(first, t2v({ prompt: 'made before the restart', duration: 10, aspect_ratio: '9:16' }));
  const before = await finished(first, taskId);
  await first.close();

  const second = await sim(t, { seed: 123 });
  const after = (await status(second, taskId)).json.data;
  // Field for field the same answer; only the result URL's origin is the new simulator's.
  assert.deepEqual({ ...after, resultJson: after.resultJson.replace(second.url, first.url) }, before);
  const url = new URL(JSON.parse(after.resultJson).resultUrls[0]);
  const file = await call(second, 'GET', url.pathname);
  assert.equal(file.status, 200);
  assert.ok(file.body.length > 1000);
  assert.equal((await status(second, taskId, 'sk-someone-else')).status, 404, "another key's task stays invisible");

  const stranger = await sim(t, { idSecret: 'a different rehearsal' });
  assert.equal((await status(stranger, taskId)).status, 404, 'another secret does not know it');
});

test('a planned failure survives the restart too', async (t) => {
  const first = await sim(t);
  const taskId = await submit(first, t2v({ prompt: 'refused #violation' }));
  await first.close();
  const second = await sim(t);
  const data = await finished(second, taskId, KEY);
  assert.equal(data.state, 'failed');
  assert.equal(data.failCode, 'CONTENT_VIOLATION');
});
