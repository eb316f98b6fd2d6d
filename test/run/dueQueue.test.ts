import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DueQueue } from '../../src/run/dueQueue.js';

test('keys come out soonest first, only when due', () => {
  const q = new DueQueue();
  q.set('c', 30);
  q.set('a', 10);
  q.set('b', 20);
  assert.equal(q.peekAt(), 10);
  assert.equal(q.popDue(5), undefined);
  assert.equal(q.popDue(25), 'a');
  assert.equal(q.popDue(25), 'b');
  assert.equal(q.popDue(25), undefined);
  assert.equal(q.size, 1);
  assert.equal(q.popDue(Infinity), 'c');
  assert.equal(q.peekAt(), undefined);
});

test('rescheduling a key replaces its earlier time; deleting removes it', () => {
  const q = new DueQueue();
  q.set('a', 10);
  q.set('b', 20);
  q.set('a', 30);
  assert.equal(q.dueAt('a'), 30);
  assert.equal(q.size, 2);
  assert.equal(q.popDue(25), 'b', 'the stale entry for a at 10 is skipped');
  q.delete('a');
  assert.equal(q.popDue(Infinity), undefined);
  assert.equal(q.has('a'), false);
});

test('equal times keep insertion order', () => {
  const q = new DueQueue();
  for (const k of ['x', 'y', 'z']) q.set(k, 5);
  assert.deepEqual([q.popDue(5), q.popDue(5), q.popDue(5)], ['x', 'y', 'z']);
});

test('many reschedules stay correct through compaction', () => {
  const q = new DueQueue();
  const want = new Map<string, number>();
  let seed = 1;
  const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  for (let i = 0; i < 20_000; i++) {
    const k = `k${Math.floor(rnd() * 300)}`;
    const at = Math.floor(rnd() * 1e6);
    q.set(k, at);
    want.set(k, at);
  }
  assert.equal(q.size, want.size);
  const out: [string, number][] = [];
  for (let k = q.popDue(Infinity); k !== undefined; k = q.popDue(Infinity)) out.push([k, want.get(k)!]);
  assert.equal(out.length, want.size);
  for (let i = 1; i < out.length; i++) assert.ok(out[i - 1]![1] <= out[i]![1]);
});
