import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Aimd } from '../../src/run/aimd.js';

test('a 429 cuts the value multiplicatively, never below min', () => {
  const a = new Aimd({ max: 1000, min: 400, decrease: 0.5, cooldownMs: 0 }, 0);
  assert.equal(a.value, 1000);
  assert.equal(a.onLimited(1), true);
  assert.equal(a.value, 500);
  assert.equal(a.onLimited(2), true);
  assert.equal(a.value, 400, 'floored at min');
  assert.equal(a.onLimited(3), false, 'already at min: no change');
});

test('429s within the cooldown are one congestion event: one cut', () => {
  const a = new Aimd({ max: 1000, min: 1, decrease: 0.7, cooldownMs: 2000 }, 0);
  a.onLimited(10_000);
  for (let t = 10_001; t < 12_000; t += 100) assert.equal(a.onLimited(t), false);
  assert.equal(a.value, 700);
  a.onLimited(12_000);
  assert.ok(Math.abs(a.value - 490) < 1e-9);
});

test('recovery is additive and slow: one step per quiet period, never above max', () => {
  const a = new Aimd({ max: 1000, min: 1, decrease: 0.5, increaseFraction: 0.02, increaseEveryMs: 10_000, cooldownMs: 0 }, 0);
  a.onLimited(0);
  assert.equal(a.value, 500);
  assert.equal(a.tick(9_999), false, 'not a whole quiet period yet');
  assert.equal(a.tick(10_000), true);
  assert.equal(a.value, 520);
  // Two periods at once are credited as two steps.
  a.tick(30_000);
  assert.equal(a.value, 560);
  // 25 steps (250 s) to climb back from half.
  a.tick(30_000 + 22 * 10_000);
  assert.equal(a.value, 1000);
  a.tick(10_000_000);
  assert.equal(a.value, 1000, 'never above max');
});

test('a 429 restarts the quiet period', () => {
  const a = new Aimd({ max: 100, min: 1, decrease: 0.5, increaseFraction: 0.1, increaseEveryMs: 1000, cooldownMs: 5000 }, 0);
  a.onLimited(0);
  a.onLimited(900); // inside the cooldown: no cut, but not quiet either
  assert.equal(a.value, 50);
  a.tick(1500);
  assert.equal(a.value, 50, 'only 600 ms quiet since the last 429');
  a.tick(1900);
  assert.equal(a.value, 60);
});

test('min above max is refused', () => {
  assert.throws(() => new Aimd({ max: 1, min: 2 }, 0), /min <= max/);
});
