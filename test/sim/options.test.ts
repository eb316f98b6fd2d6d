import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { DEFAULT_RESULT_TTL_MS, resolveOptions, startSimulator } from '../../src/sim/index.js';
import { UsageError } from '../../src/core/errors.js';

test('defaults follow the documentation', () => {
  const o = resolveOptions({ seed: 1 });
  assert.equal(o.host, '127.0.0.1');
  assert.equal(o.port, 0);
  assert.equal(o.apiKeys, undefined);
  assert.equal(o.timeScale, 1);
  assert.equal(o.requestsPerMinute, 10_000);
  assert.equal(o.concurrentTasks, 1_000);
  assert.equal(o.credits, undefined);
  assert.equal(o.resultTtlMs, DEFAULT_RESULT_TTL_MS);
  assert.equal(DEFAULT_RESULT_TTL_MS, 15 * 24 * 3600 * 1000);
  assert.equal(o.callbackTimeoutMs, 30_000);
  assert.equal(o.callbackRetries, 3);
  assert.equal(o.creditsStatus, 400);
  assert.deepEqual(o.faults, {
    failBeforeCreate: 0, failAfterCreate: 0, resetAfterCreate: 0, slowResponse: 0, slowResponseMs: 2000, truncateDownload: 0, expiredUrl: 0,
  });
});

test('invalid options are refused with a message naming the option', () => {
  const cases: [object, RegExp][] = [
    [{ timeScale: -1 }, /`timeScale`.*got `-1` \(number\)/],
    [{ requestsPerMinute: 0 }, /`requestsPerMinute`/],
    [{ concurrentTasks: 1.5 }, /`concurrentTasks`/],
    [{ port: 70000 }, /`port`/],
    [{ apiKeys: [] }, /`apiKeys`/],
    [{ faults: { failAfterCreate: 2 } }, /`faults.failAfterCreate`/],
    [{ faults: { truncateDownload: -0.1 } }, /`faults.truncateDownload`/],
    [{ creditsStatus: 403 }, /`creditsStatus`/],
    [{ idSecret: '' }, /`idSecret`/],
  ];
  for (const [opts, message] of cases) {
    assert.throws(() => resolveOptions(opts), (e: unknown) => e instanceof UsageError && message.test(e.message));
  }
});

test('a port already in use rejects startSimulator', async (t) => {
  const a = await startSimulator();
  t.after(() => a.close());
  const port = Number(new URL(a.url).port);
  await assert.rejects(startSimulator({ port }), /EADDRINUSE/);
});

test('close() is idempotent', async () => {
  const s = await startSimulator();
  await Promise.all([s.close(), s.close()]);
  await s.close();
});
