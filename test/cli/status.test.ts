import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatStatus, statusReport } from '../../src/cli/commands/status.js';
import { Store } from '../../src/store/index.js';
import { tempDir } from '../helpers/tmp.js';
import { buildRun, type FixtureTask } from '../report/fixtures.js';

const T0 = Date.UTC(2026, 10, 25, 2, 0, 0);
const MIN = 60_000;

function report(tasks: FixtureTask[], t: { after: (fn: () => void) => void }, at = T0 + 30 * MIN) {
  const f = buildRun(tempDir(t), tasks, { now: () => T0 });
  const store = Store.open(f.db);
  try {
    return { f, r: statusReport(store, undefined, { now: at, dir: f.dir }) };
  } finally {
    store.close();
  }
}

test('status: counts, failed grouped by code with messages, in_doubt, expiring results, stuck tasks, the next command', (t) => {
  const { f, r } = report(
    [
      {},
      { end: 'failed', failCode: 'CONTENT_VIOLATION', failMsg: 'Content does not meet safety guidelines' },
      { end: 'failed', failCode: 'CONTENT_VIOLATION', failMsg: 'Content does not meet safety guidelines' },
      { end: 'failed', failCode: 'INVALID_IMAGE_URL', failMsg: 'Cannot access provided image URL' },
      { end: 'in_doubt', prompt: 'a heron takes off' },
      { end: 'succeeded' },
      { end: 'submitted' },
      { end: 'planned' },
    ],
    t,
  );
  assert.deepEqual(r.counts, { planned: 1, submitting: 0, in_doubt: 1, submitted: 1, succeeded: 1, archived: 1, failed: 3 });
  assert.equal(r.total, 8);
  assert.deepEqual(r.failedByCode, [{ code: 'CONTENT_VIOLATION', count: 2 }, { code: 'INVALID_IMAGE_URL', count: 1 }]);
  assert.equal(r.inDoubt[0]!.prompt, 'a heron takes off');
  assert.equal(r.inDoubt[0]!.submits, 1);
  assert.equal(r.expiring.length, 1);
  assert.equal(r.expiring[0]!.expiresAt, T0 + 15 * 24 * 60 * MIN);
  assert.deepEqual(r.stuck.map((s) => s.state).sort(), ['submitted', 'succeeded']);
  assert.match(r.next, new RegExp(`^vidbatch run grid\\.yaml --run grid --db ${f.db.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} +\\(continues: 3 task\\(s\\) not finished\\)`));

  const text = formatStatus(r, { now: T0 + 30 * MIN });
  assert.match(text, /^run 'grid' · grid\.yaml · .*vidbatch\.db\n8 task\(s\) · last change 30 min 00 s ago/);
  assert.match(text, /\n {2}failed +3 +38%\n/);
  assert.match(text, /\n {2}total +8\n/);
  assert.match(text, /in_doubt \(1\) — a POST may have created these/);
  assert.match(text, /failed \(3\): CONTENT_VIOLATION ×2, INVALID_IMAGE_URL ×1/);
  assert.match(text, /CONTENT_VIOLATION +Content does not meet safety guidelines/);
  assert.match(text, /waiting for download \(1\), soonest expiry first[^\n]*\n.*\n.*in 14 d 23 h \(2026-12-10T02:00:00\.000Z\)/);
  assert.match(text, /stuck \(2\):/);
  assert.match(text, /submitted +30 min 00 s ago +task_\w+ +the provider has not finished it/);
  assert.match(text, /\nnext: vidbatch run grid\.yaml/);
});

test('status: nothing is stuck before --stuck-after; an expired result says EXPIRED', (t) => {
  const { r } = report([{ end: 'submitted' }, { end: 'succeeded' }], t, T0 + 5 * MIN);
  assert.deepEqual(r.stuck, []);
  const later = T0 + 16 * 24 * 60 * MIN;
  assert.match(formatStatus(r, { now: later }), /EXPIRED 24 h 00 min ago/);
});

test('status: when only in_doubt or failed tasks remain, next says to check them before any paid retry', (t) => {
  let { r } = report([{}, { end: 'in_doubt' }, { end: 'failed' }], t);
  assert.match(r.next, /^check the in_doubt tasks with the provider .*: vidbatch retry --in-doubt --run grid --db /);
  ({ r } = report([{}, { end: 'failed' }], t));
  assert.match(r.next, /vidbatch retry --failed --run grid/);
  ({ r } = report([{}, {}], t));
  assert.equal(r.next, 'nothing: every task is archived');
  assert.equal(r.gallery, null, 'no index.html was written in this fixture');
});

test('status: an unknown run names the runs there are', (t) => {
  const f = buildRun(tempDir(t), [{}]);
  const store = Store.open(f.db);
  t.after(() => store.close());
  assert.throws(() => statusReport(store, 'nope'), /run 'nope' is not in .*; runs there: grid/);
});
