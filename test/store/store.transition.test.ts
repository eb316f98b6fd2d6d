import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Store } from '../../src/store/index.js';
import { tempDir } from '../helpers/tmp.js';
import { spec } from '../helpers/specs.js';

function openRun(t: Parameters<typeof tempDir>[0]): Store {
  const store = Store.open(join(tempDir(t), 'nested', 'run.db'));
  t.after(() => store.close());
  store.ensureRun('r1', 'm.yaml', 'h1');
  return store;
}

test('a task walks the whole happy path and every step is logged', (t) => {
  const store = openRun(t);
  const s = spec(1);
  store.addTasks('r1', [s]);
  store.transition('r1', s.key, 'planned', 'submitting', {}, { countSubmit: true, durable: true });
  store.transition('r1', s.key, 'submitting', 'submitted', { task_id: 'task_1', submitted_at: 5 }, { durable: true });
  store.transition('r1', s.key, 'submitted', 'succeeded', { result_urls_json: '["u"]', expires_at: 99 });
  store.transition('r1', s.key, 'succeeded', 'archived', { file: 'a.mp4', sha256: 'ab', bytes: 3 });
  const row = store.getTask('r1', s.key)!;
  assert.equal(row.state, 'archived');
  assert.equal(row.taskId, 'task_1');
  assert.equal(row.submits, 1);
  assert.deepEqual(row.resultUrls, ['u']);
  assert.deepEqual(row.input, s.input);
  assert.deepEqual(
    store.transitionLog('r1', s.key).map((l) => `${l.from}>${l.to}`),
    ['planned>submitting', 'submitting>submitted', 'submitted>succeeded', 'succeeded>archived'],
  );
});

test('a transition from the wrong current state is refused and changes nothing', (t) => {
  const store = openRun(t);
  const s = spec(1);
  store.addTasks('r1', [s]);
  assert.throws(() => store.transition('r1', s.key, 'submitting', 'submitted', { task_id: 'x' }), { code: 'E_ILLEGAL_TRANSITION' });
  assert.equal(store.getTask('r1', s.key)!.state, 'planned');
  assert.equal(store.getTask('r1', s.key)!.taskId, null);
});

test('transitions the lifecycle does not list are refused, and user-only ones need the user', (t) => {
  const store = openRun(t);
  const s = spec(1);
  store.addTasks('r1', [s]);
  assert.throws(() => store.transition('r1', s.key, 'planned', 'archived'), { code: 'E_ILLEGAL_TRANSITION' });
  store.transition('r1', s.key, 'planned', 'submitting');
  store.transition('r1', s.key, 'submitting', 'in_doubt');
  assert.throws(() => store.transition('r1', s.key, 'in_doubt', 'planned'), { code: 'E_ILLEGAL_TRANSITION' });
  store.transition('r1', s.key, 'in_doubt', 'planned', {}, { by: 'user' });
  assert.equal(store.getTask('r1', s.key)!.state, 'planned');
});

test('re-adding the same tasks keeps their state; new ones are appended in order', (t) => {
  const store = openRun(t);
  const [a, b, c] = [spec(1), spec(2), spec(3)];
  assert.deepEqual(store.addTasks('r1', [a, b]), { added: 2, existing: 0 });
  store.transition('r1', a.key, 'planned', 'submitting');
  assert.deepEqual(store.addTasks('r1', [a, b, c]), { added: 1, existing: 2 });
  assert.equal(store.getTask('r1', a.key)!.state, 'submitting');
  assert.deepEqual(store.listTasks('r1').map((r) => r.key), [a.key, b.key, c.key]);
  assert.equal(store.countNotIn('r1', new Set([a.key])), 2);
});

test('tasks left in submitting become in_doubt at start-up and are never planned again on their own', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'run.db');
  const first = Store.open(file);
  first.ensureRun('r1', 'm', 'h');
  const s = spec(1);
  first.addTasks('r1', [s]);
  first.transition('r1', s.key, 'planned', 'submitting', {}, { countSubmit: true, durable: true });
  first.close(); // the process "dies" here

  const second = Store.open(file);
  t.after(() => second.close());
  assert.equal(second.recoverInterrupted('r1'), 1);
  assert.equal(second.getTask('r1', s.key)!.state, 'in_doubt');
  assert.equal(second.listByState('r1', 'planned').length, 0);
  assert.equal(second.counts('r1').in_doubt, 1);
});

test('replan moves in_doubt or failed tasks back, filtered by fail code, and clears the old taskId', (t) => {
  const store = openRun(t);
  const [a, b, c] = [spec(1), spec(2), spec(3)];
  store.addTasks('r1', [a, b, c]);
  for (const [s, id, code] of [[a, 't1', 'CONTENT_VIOLATION'], [b, 't2', 'INVALID_IMAGE_URL']] as const) {
    store.transition('r1', s.key, 'planned', 'submitting');
    store.transition('r1', s.key, 'submitting', 'submitted', { task_id: id });
    store.transition('r1', s.key, 'submitted', 'failed', { fail_reason: 'provider', fail_code: code, fail_msg: 'm' });
  }
  assert.equal(store.replan('r1', 'failed', { failCode: 'INVALID_IMAGE_URL' }), 1);
  const replanned = store.getTask('r1', b.key)!;
  assert.equal(replanned.state, 'planned');
  assert.equal(replanned.taskId, null);
  assert.equal(replanned.failCode, null);
  assert.equal(store.getTask('r1', a.key)!.state, 'failed');
  assert.match(store.transitionLog('r1', b.key).at(-1)!.detail!, /previous taskId t2/);
});

test('one taskId can belong to one task only', (t) => {
  const store = openRun(t);
  const [a, b] = [spec(1), spec(2)];
  store.addTasks('r1', [a, b]);
  for (const s of [a, b]) store.transition('r1', s.key, 'planned', 'submitting');
  store.transition('r1', a.key, 'submitting', 'submitted', { task_id: 'same' });
  assert.throws(() => store.transition('r1', b.key, 'submitting', 'submitted', { task_id: 'same' }));
  assert.equal(store.getTask('r1', b.key)!.state, 'submitting');
});
