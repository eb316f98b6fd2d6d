import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InFlightTracker } from '../../src/run/tracker.js';
import type { VideoInput } from '../../src/core/types.js';

const input: VideoInput = { mode: 'text-to-video', prompt: 'p', duration: 5 };
const task = (n: number) => ({ key: `k${n}`, model: 'm', taskId: `task_${n}`, input, submittedAt: 0, deadline: 1e9 });

test('tasks come due in order and count as polling after their first answer', () => {
  const t = new InFlightTracker({ earlyHintTtlMs: 1000 });
  t.add(task(1), 300, 0);
  t.add(task(2), 100, 0);
  assert.equal(t.size, 2);
  assert.equal(t.nextDueAt(), 100);
  const a = t.popDue(200)!;
  assert.equal(a.key, 'k2');
  assert.equal(t.popDue(200), undefined);
  t.markPolling(a);
  t.markPolling(a);
  assert.equal(t.polling, 1);
  t.remove('k2');
  assert.equal(t.polling, 0);
  assert.equal(t.size, 1);
});

test('a callback moves the task due now; a second one while it is due is a duplicate', () => {
  const t = new InFlightTracker({ earlyHintTtlMs: 1000 });
  t.add(task(1), 50_000, 0);
  assert.equal(t.hint('task_1', 10, false), 'verify');
  assert.equal(t.nextDueAt(), 10);
  assert.equal(t.hint('task_1', 11, false), 'duplicate');
  assert.equal(t.popDue(11)?.key, 'k1');
});

test('a callback during a GET asks again once the GET answers', () => {
  const t = new InFlightTracker({ earlyHintTtlMs: 1000 });
  t.add(task(1), 0, 0);
  const a = t.popDue(0)!;
  a.inRequest = true;
  assert.equal(t.hint('task_1', 5, false), 'verify');
  assert.equal(a.rehint, true);
  assert.equal(t.hint('task_1', 6, false), 'duplicate');
});

test('a callback that overtakes its POST answer is kept and applied when the taskId arrives', () => {
  const t = new InFlightTracker({ earlyHintTtlMs: 1000 });
  assert.equal(t.hint('task_9', 100, true), 'early');
  assert.equal(t.add(task(9), 60_000, 150), true, 'the early hint was found');
  assert.equal(t.nextDueAt(), 150, 'due at once, not at its first poll');
});

test('early hints expire, and without a POST in flight an unknown taskId is just unknown', () => {
  const t = new InFlightTracker({ earlyHintTtlMs: 1000 });
  assert.equal(t.hint('task_forged', 0, false), 'unknown');
  assert.equal(t.hint('task_7', 0, true), 'early');
  assert.equal(t.add(task(7), 60_000, 5000), false, 'too old to trust');
  assert.equal(t.nextDueAt(), 60_000);
  // A removed (finished) task: its late duplicate callbacks are unknown.
  t.remove('k7');
  assert.equal(t.hint('task_7', 6000, false), 'unknown');
});
