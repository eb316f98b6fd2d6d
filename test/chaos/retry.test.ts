/** `vidbatch retry`: the only way in_doubt and failed tasks are sent again, and never by surprise. */
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { Store } from '../../src/store/index.js';
import { formatPlan, retryPlan } from '../../src/cli/commands/retry.js';
import { tempDir } from '../helpers/tmp.js';
import { spec } from '../helpers/specs.js';
import { cli } from './helpers.js';

/** A run with 2 in_doubt tasks, failed ones with 3 codes, and an archived-free rest. */
function seeded(dir: string): string {
  const db = join(dir, 'vidbatch.db');
  const store = Store.open(db);
  store.ensureRun('night', 'night.yaml', 'h');
  const specs = [spec(1), spec(2, { duration: 10 }), spec(3), spec(4, { duration: 10 }), spec(5), spec(6), spec(7)];
  store.addTasks('night', specs);
  const to = (i: number, state: 'in_doubt' | 'failed', code?: string, reason: 'provider' | 'expired' | 'rejected' = 'provider'): void => {
    const key = specs[i]!.key;
    store.transition('night', key, 'planned', 'submitting');
    if (state === 'in_doubt') store.transition('night', key, 'submitting', 'in_doubt');
    else if (reason === 'rejected') store.transition('night', key, 'submitting', 'failed', { fail_reason: 'rejected', fail_code: code });
    else {
      store.transition('night', key, 'submitting', 'submitted', { task_id: `task_${i}` });
      if (reason === 'expired') {
        store.transition('night', key, 'submitted', 'succeeded', { result_urls_json: '["https://x/y.mp4"]' });
        store.transition('night', key, 'succeeded', 'failed', { fail_reason: 'expired', fail_code: code });
      } else store.transition('night', key, 'submitted', 'failed', { fail_reason: 'provider', fail_code: code });
    }
  };
  to(0, 'in_doubt');
  to(1, 'in_doubt');
  to(2, 'failed', 'EXPIRED', 'expired');
  to(3, 'failed', 'CONTENT_VIOLATION');
  to(4, 'failed', 'INVALID_INPUT', 'rejected');
  store.close();
  return db;
}

test('the plan says how many, what it costs, and what may be paid twice', (t) => {
  const db = seeded(tempDir(t));
  const store = Store.open(db);
  t.after(() => store.close());
  const plan = retryPlan(store, store.getRun('night')!, { inDoubt: true, failed: true, codes: [] });
  assert.deepEqual(
    { total: plan.total, inDoubt: plan.inDoubt, byCode: plan.failedByCode, byDuration: plan.byDuration, twice: plan.mayPayTwice, again: plan.likelyToFailAgain },
    { total: 5, inDoubt: 2, byCode: { EXPIRED: 1, CONTENT_VIOLATION: 1, INVALID_INPUT: 1 }, byDuration: { 5: 3, 10: 2 }, twice: 3, again: 2 },
  );
  const text = formatPlan(plan);
  assert.match(text, /2 in_doubt task\(s\)/);
  assert.match(text, /cost: 5 new generation\(s\) \(3 × 5 s, 2 × 10 s\)/);
  assert.match(text, /3 of them may already have been paid for/);
  const only = retryPlan(store, store.getRun('night')!, { inDoubt: false, failed: true, codes: ['expired'] });
  assert.equal(only.total, 1, '--code matches case-insensitively');
});

test('without --yes nothing changes; with it exactly the selection goes back to planned, logged as the user', async (t) => {
  const dir = tempDir(t);
  const db = seeded(dir);
  const dry = cli(['retry', '--failed', '--code', 'EXPIRED', '--code', 'CONTENT_VIOLATION', '--db', db]);
  assert.equal(await dry.done, 0, dry.stderr());
  assert.match(dry.stdout(), /1 failed task\(s\) with EXPIRED/);
  assert.match(dry.stdout(), /nothing changed; add --yes/);
  const store = Store.open(db);
  t.after(() => store.close());
  assert.equal(store.counts('night').planned, 2);

  const go = cli(['retry', '--in-doubt', '--failed', '--code', 'EXPIRED', '--db', db, '--yes', '--json']);
  assert.equal(await go.done, 0, go.stderr());
  const plan = JSON.parse(go.stdout());
  assert.equal(plan.applied, true);
  assert.equal(plan.total, 3);
  const c = store.counts('night');
  assert.deepEqual([c.planned, c.in_doubt, c.failed], [5, 0, 2]);
  const moved = store.transitionLog('night').filter((l) => l.to === 'planned');
  assert.equal(moved.length, 3);
  assert.ok(moved.every((l) => /replanned by user/.test(l.detail ?? '')));
  assert.ok(store.listByState('night', 'planned').every((r) => r.taskId === null), 'the old taskId is cleared (kept in the log)');
});

test('usage errors, and a run that is running is not touched (exit 7)', async (t) => {
  const dir = tempDir(t);
  const db = seeded(dir);
  const none = cli(['retry', '--db', db]);
  assert.equal(await none.done, 2);
  assert.match(none.stderr(), /--in-doubt, --failed, or both/);
  const code = cli(['retry', '--in-doubt', '--code', 'EXPIRED', '--db', db]);
  assert.equal(await code.done, 2);

  const store = Store.open(db);
  t.after(() => store.close());
  store.acquireRunLock('night', process.pid); // this test process plays the running `vidbatch run`
  const locked = cli(['retry', '--in-doubt', '--db', db, '--yes']);
  assert.equal(await locked.done, 7, locked.stderr());
  assert.match(locked.stderr(), /in use by process/);
  assert.equal(store.counts('night').in_doubt, 2);
  store.releaseRunLock('night', process.pid);
});
