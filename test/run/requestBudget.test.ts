import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestBudget } from '../../src/run/requestBudget.js';

/** A clock and a sleep the test moves by hand: a Retry-After block lasts until we say so. */
function manualTime(start = 1_000_000) {
  let now = start;
  const sleepers: { until: number; resolve: () => void }[] = [];
  return {
    now: () => now,
    sleep: (ms: number) => new Promise<void>((resolve) => sleepers.push({ until: now + ms, resolve })),
    advance(ms: number) {
      now += ms;
      for (const s of sleepers.splice(0)) {
        if (s.until <= now) s.resolve();
        else sleepers.push(s);
      }
    },
    get sleeping() {
      return sleepers.length;
    },
  };
}

const tick = () => new Promise((r) => setImmediate(r));
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !cond(); i++) await new Promise((r) => setTimeout(r, 2));
  assert.ok(cond(), 'condition not reached');
}

test('polls go before submits that were queued earlier', async () => {
  const time = manualTime();
  const budget = new RequestBudget({ rpm: 600_000, now: time.now, sleep: time.sleep });
  const order: string[] = [];
  // A 429 blocks everything: the requests queue up meanwhile.
  budget.limited(5000);
  const done = [budget.schedule('submit', async () => order.push('s0'))];
  assert.equal(time.sleeping, 1);
  for (let i = 1; i <= 5; i++) done.push(budget.schedule('submit', async () => order.push(`s${i}`)));
  for (let i = 1; i <= 3; i++) done.push(budget.schedule('poll', async () => order.push(`p${i}`)));
  assert.equal(budget.queued(), 9);
  assert.equal(budget.queued('poll'), 3);
  await tick();
  assert.deepEqual(order, [], 'nothing leaves before Retry-After');
  time.advance(5000);
  await Promise.all(done);
  assert.deepEqual(order, ['p1', 'p2', 'p3', 's0', 's1', 's2', 's3', 's4', 's5']);
  await budget.stop();
});

test('polls do not starve submits: while both wait, every 4th slot is a submit', async () => {
  const time = manualTime();
  const budget = new RequestBudget({ rpm: 600_000, now: time.now, sleep: time.sleep });
  const order: string[] = [];
  budget.limited(1000);
  const done: Promise<unknown>[] = [];
  for (let i = 0; i < 3; i++) done.push(budget.schedule('submit', async () => order.push('s')));
  for (let i = 0; i < 9; i++) done.push(budget.schedule('poll', async () => order.push('p')));
  time.advance(1000);
  await Promise.all(done);
  assert.equal(order.join(''), 'pppspppspppsp'.slice(0, 12));
  await budget.stop();
});

test('a poll arriving while submits stream out waits behind at most 3 of them', async () => {
  const budget = new RequestBudget({ rpm: 6000 });
  const order: string[] = [];
  const jobs = Array.from({ length: 20 }, (_, i) => budget.schedule('submit', async () => order.push(`s${i}`)));
  await until(() => order.length >= 2);
  const before = order.length;
  jobs.push(budget.schedule('poll', async () => order.push('p')));
  await Promise.all(jobs);
  assert.ok(order.indexOf('p') <= before + 3, `poll at ${order.indexOf('p')}, ${before} submits had left when it came`);
  await budget.stop();
});

test('a 429 cuts the rate once per burst and quiet time brings it back, never above --rpm', async () => {
  const time = manualTime();
  const changes: [number, string][] = [];
  const budget = new RequestBudget({
    rpm: 9500, now: time.now, sleep: time.sleep,
    aimd: { decrease: 0.5, increaseFraction: 0.1, increaseEveryMs: 10_000, cooldownMs: 2000 },
    onRate: (rpm, cause) => changes.push([rpm, cause]),
  });
  budget.limited(undefined);
  budget.limited(undefined);
  assert.equal(budget.rpm, 4750);
  assert.deepEqual(changes, [[4750, 'limited']]);
  assert.equal(budget.limitedCount, 2);
  // Recovery is checked as requests are granted.
  time.advance(10_000);
  await budget.schedule('poll', async () => {});
  assert.equal(budget.rpm, 4750 + 950);
  time.advance(100_000);
  await budget.schedule('poll', async () => {});
  assert.equal(budget.rpm, 9500);
  assert.deepEqual(changes.at(-1), [9500, 'recovered']);
  await budget.stop();
});

test('changing the rate at run time never stalls the queue (bottleneck#185 is about exactly that)', async () => {
  const time = manualTime();
  const budget = new RequestBudget({ rpm: 120_000, now: time.now, sleep: time.sleep, aimd: { decrease: 0.8, increaseFraction: 0.2, increaseEveryMs: 1, cooldownMs: 0 } });
  let ran = 0;
  const jobs: Promise<unknown>[] = [];
  for (let i = 0; i < 300; i++) {
    jobs.push(budget.schedule(i % 3 === 0 ? 'poll' : 'submit', async () => ran++));
    // Cut and recover over and over while the queue is full.
    if (i % 10 === 0) budget.limited(undefined);
    if (i % 10 === 5) time.advance(5);
  }
  await Promise.all(jobs);
  assert.equal(ran, 300);
  assert.ok(budget.limitedCount >= 30);
  await budget.stop();
});

test('after a cut, requests are spaced by the new rate (a lower bound: a slow machine only adds time)', async () => {
  const time = manualTime();
  const budget = new RequestBudget({ rpm: 60_000, now: time.now, sleep: time.sleep, aimd: { decrease: 0.1, cooldownMs: 0 } });
  await budget.schedule('poll', async () => {});
  budget.limited(undefined); // 60,000 → 6,000 a minute: 10 ms apart
  assert.equal(budget.rpm, 6000);
  await budget.schedule('poll', async () => {}); // the one already timed by the old rate
  const t0 = performance.now();
  const starts: number[] = [];
  await Promise.all(Array.from({ length: 12 }, () => budget.schedule('submit', async () => starts.push(performance.now()))));
  // Each start is at or after its slot; the slots are 10 ms apart from the first one.
  assert.ok(starts.at(-1)! - t0 >= 10 * 10, `12 requests in ${(starts.at(-1)! - t0).toFixed(1)} ms`);
  await budget.stop();
});

test('stop drops what waits and answers undefined; later calls too', async () => {
  const time = manualTime();
  const budget = new RequestBudget({ rpm: 600_000, now: time.now, sleep: time.sleep });
  budget.limited(60_000);
  let ran = 0;
  const a = budget.schedule('submit', async () => ran++);
  const b = budget.schedule('poll', async () => ran++);
  await until(() => time.sleeping === 1);
  const stopped = budget.stop();
  time.advance(60_000);
  await stopped;
  assert.deepEqual(await Promise.all([a, b]), [undefined, undefined]);
  assert.equal(await budget.schedule('poll', async () => ran++), undefined);
  assert.equal(ran, 0);
});
