/**
 * The chaos test: a child `vidbatch run` is SIGKILLed at random moments — mid-submit,
 * mid-poll, mid-download — and run again each time, then once more to the end. Afterwards:
 * nothing was submitted twice, every task is archived or in_doubt, in_doubt ≤ kills, no
 * partial file exists, and every file's sha256 is right.
 */
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { Store } from '../../src/store/index.js';
import { mulberry32 } from '../../src/sim/prng.js';
import { tempDir } from '../helpers/tmp.js';
import { simulator, submissionsPerInput, TEST_KEY, writeManifest } from '../helpers/fixtures.js';
import { assertArchiveIntact, cli, waitFor } from './helpers.js';

const TASKS = 24;
const KILLS = Number(process.env.VIDBATCH_CHAOS_KILLS ?? 8);
const SEED = Number(process.env.VIDBATCH_CHAOS_SEED ?? Date.now() % 100_000);

test(`SIGKILLed ${KILLS} times at random moments (seed ${SEED}): no duplicate, nothing lost, no partial file`, async (t) => {
  const random = mulberry32(SEED);
  const dir = tempDir(t);
  const sim = await simulator(t, { timeScale: 0.005, seed: SEED });
  const manifest = writeManifest(dir, TASKS);
  const out = join(dir, 'out');
  const db = join(out, 'vidbatch.db');
  // One task in flight at a time, so a kill finds at most one POST on the wire and
  // `in_doubt ≤ kills` is exact. (With N POSTs in flight a kill may leave N in doubt; the
  // fault-mix and resume tests run with several.) Downloads still overlap the next submit.
  const args = ['run', manifest, '--out', out, '--db', db, '--first-poll', '150', '--poll-interval', '25', '--concurrency', '1'];
  const env = { APIXO_BASE_URL: sim.url, APIXO_API_KEY: TEST_KEY };
  // Any request or download counts as activity: kills land while the child is working.
  const activity = (): number => sim.stats().requests + sim.stats().downloads;

  let kills = 0;
  const exits: (number | null)[] = [];
  for (let i = 0; i < KILLS; i++) {
    const victim = cli(args, env);
    const start = activity();
    const target = start + 1 + Math.floor(random() * 12);
    const working = await waitFor(() => activity() >= target, victim.done);
    if (!working) {
      exits.push(await victim.done); // it finished before we struck: nothing left to kill
      break;
    }
    await new Promise((r) => setTimeout(r, Math.floor(random() * 120)));
    if (victim.child.exitCode === null && victim.child.kill('SIGKILL')) kills++;
    exits.push(await victim.done);
  }

  const last = cli(args, env);
  const code = await last.done;
  assert.ok(code === 0 || code === 4, `final run exit ${code}: ${last.stderr()}`);

  const store = Store.open(db);
  t.after(() => store.close());
  const counts = store.counts('e2e');
  t.diagnostic(`seed ${SEED}: ${kills} kills, exits ${exits.join(',')}, final ${JSON.stringify(counts)}, sim ${JSON.stringify(sim.stats().faults)}`);
  assert.ok(kills >= Math.min(KILLS, 4), `only ${kills} kills landed`);
  assert.deepEqual(submissionsPerInput(sim).filter((n) => n !== 1), [], 'no input was created twice');
  assert.ok(store.listTasks('e2e').every((r) => r.submits <= 1), 'no task was POSTed twice');
  assert.equal(counts.archived + counts.in_doubt, TASKS, 'every task archived or in_doubt');
  assert.ok(counts.in_doubt <= kills, `in_doubt ${counts.in_doubt} > kills ${kills}`);
  // And each of them was mid-POST when a process died: found in submitting at start-up.
  for (const r of store.listByState('e2e', 'in_doubt')) {
    const log = store.transitionLog('e2e', r.key);
    assert.deepEqual(log.map((l) => `${l.from}>${l.to}`), ['planned>submitting', 'submitting>in_doubt'], r.key);
    assert.match(log[1]?.detail ?? '', /start-up/);
  }
  assert.equal(code, counts.in_doubt === 0 ? 0 : 4);
  assertArchiveIntact(store, 'e2e', join(out, 'e2e'));
});
