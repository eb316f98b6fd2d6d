import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { GENERATE, KEY, call, finished, sim, sleep, status, submit, t2v } from './helpers.js';
import { stateAt, type SimTask } from '../../src/sim/tasks.js';

const ORDER = ['pending', 'processing', 'success'];

test('a task goes pending → processing → success, and its result is a real MP4', async (t) => {
  // 0.05 makes a 5 s video take 1.5–2.25 s, with 150–225 ms of pending.
  const s = await sim(t, { timeScale: 0.05 });
  const before = Date.now();
  const taskId = await submit(s, t2v({ duration: 5, aspect_ratio: '9:16' }));
  const seen: { state: string; sentAt: number }[] = [];
  let last: any;
  for (const end = Date.now() + 15_000; Date.now() < end; await sleep(15)) {
    const sentAt = Date.now();
    const r = await status(s, taskId);
    assert.equal(r.status, 200);
    last = r.json.data;
    seen.push({ state: last.state, sentAt });
    if (last.state === 'success') break;
  }
  assert.equal(last.state, 'success');
  const indexes = seen.map((x) => ORDER.indexOf(x.state));
  assert.ok(indexes.every((i, n) => i >= 0 && (n === 0 || i >= (indexes[n - 1] as number))), `states went backwards: ${seen.map((x) => x.state)}`);
  assert.ok(seen.some((x) => x.state === 'processing'), 'processing was never seen');
  // Pending lasts 10% of the generation time; a poll sent inside it must have seen it.
  const pendingUntil = last.createTime + Math.round(last.costTime * 0.1);
  const first = seen[0]!;
  if (first.sentAt < pendingUntil - 5) assert.equal(first.state, 'pending');

  assert.equal(last.taskId, taskId);
  assert.ok(last.createTime >= before - 1 && last.createTime <= Date.now());
  assert.equal(last.costTime, last.completeTime - last.createTime);
  assert.ok(last.costTime >= 1500 && last.costTime <= 2250, `costTime ${last.costTime}`);
  assert.equal(typeof last.resultJson, 'string');
  const { resultUrls } = JSON.parse(last.resultJson);
  assert.deepEqual(resultUrls, [`${s.url}/results/${taskId}.mp4`]);
  assert.equal(last.failCode, undefined);

  const file = await call(s, 'GET', new URL(resultUrls[0]!).pathname, { key: null });
  assert.equal(file.status, 200);
  assert.equal(file.headers['content-type'], 'video/mp4');
  assert.equal(file.headers['accept-ranges'], 'bytes');
  assert.equal(Number(file.headers['content-length']), file.body.length);
  assert.equal(file.body.toString('latin1', 4, 8), 'ftyp');
  assert.ok(file.body.includes(taskId), 'the trailer names the task');
  assert.equal(s.stats().downloads, 1);
});

test('a status before completion carries only taskId, state and createTime', async (t) => {
  const s = await sim(t, { timeScale: 1 });
  const taskId = await submit(s, t2v({ duration: 10 }));
  const r = await status(s, taskId);
  assert.deepEqual(Object.keys(r.json.data), ['taskId', 'state', 'createTime']);
  assert.ok(['pending', 'processing'].includes(r.json.data.state));
});

test('10 s videos take 45–60 s and 5 s videos 30–45 s, times timeScale', async (t) => {
  const s = await sim(t, { timeScale: 0.002 });
  const five = await Promise.all([1, 2, 3, 4].map(() => submit(s, t2v({ duration: 5 }))));
  const ten = await Promise.all([1, 2, 3, 4].map(() => submit(s, t2v({ duration: 10 }))));
  for (const id of five) {
    const d = await finished(s, id);
    assert.ok(d.costTime >= 60 && d.costTime <= 90, `5 s: ${d.costTime}`);
  }
  for (const id of ten) {
    const d = await finished(s, id);
    assert.ok(d.costTime >= 90 && d.costTime <= 120, `10 s: ${d.costTime}`);
  }
});

test('the same seed gives the same generation times', async (t) => {
  const costs = async (seed: number): Promise<number[]> => {
    const s = await sim(t, { seed, timeScale: 0.002 });
    const out: number[] = [];
    for (const duration of [5, 10, 5, 10, 5]) out.push((await finished(s, await submit(s, t2v({ duration })))).costTime);
    return out;
  };
  assert.deepEqual(await costs(42), await costs(42));
});

test('an unknown taskId, or another key’s task, answers 404 Task not found', async (t) => {
  const s = await sim(t);
  const unknown = await status(s, 'task_0123456789abcdef');
  assert.equal(unknown.status, 404);
  assert.deepEqual(unknown.json, { code: 404, message: 'Task not found', data: null });
  const taskId = await submit(s, t2v(), KEY);
  const other = await status(s, taskId, 'someone-else');
  assert.equal(other.status, 404);
  assert.equal((await status(s, taskId, KEY)).status, 200);
});

test('stats count requests per endpoint and inputs by canonical JSON', async (t) => {
  const s = await sim(t);
  const body = { input: { prompt: 'same', mode: 'text-to-video', duration: 5 } };
  const a = await submit(s, body);
  await submit(s, { input: { duration: 5, mode: 'text-to-video', prompt: 'same' } });
  await status(s, a);
  await call(s, 'POST', GENERATE, { body: t2v({ duration: 3 }) });
  const st = s.stats();
  assert.equal(st.requests, 4);
  assert.equal(st.submits, 3);
  assert.equal(st.statusPolls, 1);
  assert.equal(st.created, 2);
  assert.deepEqual([...st.submissionsByInput], [['{"duration":5,"mode":"text-to-video","prompt":"same"}', 2]]);
});

test('stateAt follows the clock: pending for 10%, then processing, then done', () => {
  const task: SimTask = {
    taskId: 'task_0000000000000001',
    keyTag: '00000000',
    createTime: 1000,
    pendingUntil: 1100,
    completeTime: 2000,
    durationSec: 5,
    aspectRatio: '16:9',
    failure: undefined,
    callbackUrl: undefined,
  };
  assert.equal(stateAt(task, 1000), 'pending');
  assert.equal(stateAt(task, 1099), 'pending');
  assert.equal(stateAt(task, 1100), 'processing');
  assert.equal(stateAt(task, 1999), 'processing');
  assert.equal(stateAt(task, 2000), 'success');
  assert.equal(stateAt({ ...task, failure: { failCode: 'X', failMsg: 'y' } }, 2000), 'failed');
});
