import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CompletionEstimate } from '../../src/run/completionEstimate.js';
import { PollPlanner } from '../../src/run/pollPlanner.js';
import type { VideoInput } from '../../src/core/types.js';

const five: VideoInput = { mode: 'text-to-video', prompt: 'p', duration: 5 };

function planner(mode: 'poll' | 'callback', random = () => 0.5, estimate = new CompletionEstimate({ 5: 30_000, 10: 45_000 })): PollPlanner {
  return new PollPlanner({ mode, minIntervalMs: 2000, stuckAfterMs: 600_000 }, estimate, random);
}

test('polling: the first poll comes near the earliest expected completion, not at the mean', () => {
  const p = planner('poll');
  const first = p.firstPollAt(five, 1_000_000) - 1_000_000;
  assert.ok(first >= 30_000 && first < 32_000, `first poll ${first} ms after submit`);
});

test('polling: the first poll follows what was learned', () => {
  const e = new CompletionEstimate({ 5: 30_000, 10: 45_000 });
  for (let i = 0; i < 100; i++) e.observe(five, 60_000 + i * 100);
  const first = planner('poll', () => 0.5, e).firstPollAt(five, 0);
  assert.ok(first >= 60_000 && first < 61_000, String(first));
});

test('callbacks: the background poll waits past the slowest expected completion', () => {
  const first = planner('callback').firstPollAt(five, 0);
  assert.ok(first > 45_000 * 1.2, String(first));
});

test('the interval is the floor while few tasks are polled', () => {
  const p = planner('poll');
  assert.equal(p.interval({ rpm: 9500, reservedRpm: 1500, polling: 3 }), 2000);
});

test('the interval widens with the tasks polled so their polls fit in the budget left by submits', () => {
  const p = planner('poll');
  for (const polling of [50, 200, 800, 1000, 5000]) {
    for (const reservedRpm of [0, 1500, 6000, 9000]) {
      const load = { rpm: 9500, reservedRpm, polling };
      const interval = p.interval(load);
      const pollsPerMinute = (polling * 60_000) / interval;
      const left = Math.max(load.rpm * 0.1, load.rpm - reservedRpm);
      assert.ok(pollsPerMinute <= left + 1e-6, `${polling} polling, ${reservedRpm} reserved: ${pollsPerMinute}/min > ${left}`);
      assert.ok(interval >= 2000);
    }
  }
  const few = p.interval({ rpm: 9500, reservedRpm: 1500, polling: 200 });
  const many = p.interval({ rpm: 9500, reservedRpm: 1500, polling: 800 });
  assert.ok(many > few, 'more tasks polled: wider spacing');
  const cut = p.interval({ rpm: 4750, reservedRpm: 1500, polling: 800 });
  assert.ok(cut > many, 'a budget cut by a 429 widens it too');
});

test('callbacks: background polls are spaced wider than polling mode', () => {
  assert.ok(planner('callback').interval({ rpm: 9500, reservedRpm: 0, polling: 1 }) >= 4 * 2000);
});

test('jitter stays within ±10 % of the interval', () => {
  const load = { rpm: 9500, reservedRpm: 0, polling: 1 };
  assert.equal(planner('poll', () => 0).nextInterval(load), 1800);
  assert.equal(planner('poll', () => 0.999999).nextInterval(load), 2200);
  assert.equal(planner('poll', () => 0.5).nextInterval(load), 2000);
});

test('the deadline is stuckAfterMs after the submit', () => {
  assert.equal(planner('poll').deadline(5000), 605_000);
});

test('tasks resumed all at once are spread over the time the budget needs for them', () => {
  const p = planner('poll', () => 0.999);
  const spread = p.resumeSpreadMs(1000, 9500);
  assert.ok(spread >= (1000 * 60_000) / 9500, String(spread));
  assert.ok(p.jitter(spread) <= spread);
});
