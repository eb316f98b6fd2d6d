/**
 * Stopping and the run lock, with real child processes: SIGINT/SIGTERM finish the requests
 * in flight and exit 75 with nothing in doubt; a second signal exits at once; a second run
 * of the same run is refused (exit 7) while the first lives; a crashed holder's lock is
 * taken over; a killed `--simulate` run continues its own tasks on re-run.
 */
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Store } from '../../src/store/index.js';
import { tempDir } from '../helpers/tmp.js';
import { simulator, submissionsPerInput, TEST_KEY, writeManifest } from '../helpers/fixtures.js';
import { assertArchiveIntact, cli, sleep, waitFor } from './helpers.js';

function runArgs(dir: string, manifest: string, extra: string[] = []): string[] {
  return ['run', manifest, '--out', join(dir, 'out'), '--first-poll', '300', '--poll-interval', '40', '--concurrency', '3', ...extra];
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  test(`${signal}: requests in flight are finished and recorded, exit 75, nothing in doubt; the re-run completes`, async (t) => {
    const dir = tempDir(t);
    const sim = await simulator(t, { timeScale: 0.01, faults: { slowResponse: 0.5, slowResponseMs: 300 } });
    const manifest = writeManifest(dir, 10);
    const env = { APIXO_BASE_URL: sim.url, APIXO_API_KEY: TEST_KEY };
    const first = cli(runArgs(dir, manifest), env);
    assert.ok(await waitFor(() => sim.stats().created >= 3, first.done), first.stderr());
    first.child.kill(signal);
    assert.equal(await first.done, 75, first.stderr());
    assert.match(first.stderr(), new RegExp(`${signal}: finishing requests in flight`));
    const store = Store.open(join(dir, 'out', 'vidbatch.db'));
    t.after(() => store.close());
    const c = store.counts('e2e');
    assert.equal(c.in_doubt + c.submitting, 0, `a clean stop leaves nothing in doubt: ${JSON.stringify(c)}`);
    assert.ok(c.archived < 10);

    const second = cli(runArgs(dir, manifest), env);
    assert.equal(await second.done, 0, second.stderr());
    assert.deepEqual(submissionsPerInput(sim), Array(10).fill(1));
    assertArchiveIntact(store, 'e2e', join(dir, 'out', 'e2e'));
  });
}

test('a second signal exits at once, without waiting for a slow answer', async (t) => {
  const dir = tempDir(t);
  const sim = await simulator(t, { timeScale: 0.01, faults: { slowResponse: 1, slowResponseMs: 5_000 } });
  const env = { APIXO_BASE_URL: sim.url, APIXO_API_KEY: TEST_KEY };
  const child = cli(runArgs(dir, writeManifest(dir, 4)), env);
  assert.ok(await waitFor(() => sim.stats().submits >= 1, child.done));
  child.child.kill('SIGINT');
  await sleep(200);
  assert.equal(child.child.exitCode, null, 'the first signal waits for the POST in flight');
  const second = Date.now();
  child.child.kill('SIGINT');
  assert.equal(await child.done, 75);
  assert.ok(Date.now() - second < 2_000, `exited ${Date.now() - second} ms after the second signal`);
});

test('one process per run: a second run is refused with exit 7 and the holder named; after a crash it is not', async (t) => {
  const dir = tempDir(t);
  const sim = await simulator(t, { timeScale: 0.01, faults: { slowResponse: 1, slowResponseMs: 400 } });
  const env = { APIXO_BASE_URL: sim.url, APIXO_API_KEY: TEST_KEY };
  const manifest = writeManifest(dir, 6);
  const holder = cli(runArgs(dir, manifest), env);
  assert.ok(await waitFor(() => sim.stats().submits >= 1, holder.done));
  const intruder = cli(runArgs(dir, manifest), env);
  assert.equal(await intruder.done, 7, intruder.stderr());
  assert.match(intruder.stderr(), new RegExp(`run 'e2e' is in use by process ${holder.child.pid}`));
  holder.child.kill('SIGKILL');
  await holder.done;
  const after = cli(runArgs(dir, manifest), env);
  assert.ok([0, 4].includes((await after.done) ?? -1), after.stderr());
  assert.deepEqual(submissionsPerInput(sim).filter((n) => n !== 1), []);
});

test('a killed --simulate run continues its own tasks on re-run (task ids outlive the simulator)', async (t) => {
  const dir = tempDir(t);
  const manifest = writeManifest(dir, 12);
  const db = join(dir, 'out', 'vidbatch.db');
  const args = ['run', manifest, '--simulate', '--time-scale', '0.02', '--out', join(dir, 'out'), '--concurrency', '4'];
  const victim = cli(args, { APIXO_API_KEY: undefined });
  // Strike once tasks are waiting at the simulator and some results are not yet downloaded.
  const inFlight = (): boolean => {
    if (!existsSync(db)) return false;
    const s = Store.open(db);
    try {
      const c = s.counts('e2e');
      return c.submitted >= 2 && c.archived >= 1;
    } catch {
      return false;
    } finally {
      s.close();
    }
  };
  assert.ok(await waitFor(inFlight, victim.done), victim.stderr());
  victim.child.kill('SIGKILL');
  await victim.done;
  const store = Store.open(db);
  t.after(() => store.close());
  const before = store.counts('e2e');
  assert.ok(before.submitted + before.succeeded > 0, JSON.stringify(before));

  const rerun = cli(args, { APIXO_API_KEY: undefined });
  const code = await rerun.done;
  const c = store.counts('e2e');
  assert.equal(c.submitted + c.succeeded + c.planned, 0, `nothing left behind: ${JSON.stringify(c)}\n${rerun.stderr()}`);
  // Only POSTs cut by the kill may be in doubt: at most the 4 tasks in flight.
  assert.ok(c.in_doubt <= 4, `more in doubt than POSTs could be in flight: ${JSON.stringify(c)}`);
  assert.equal(c.archived + c.in_doubt, 12);
  assert.equal(code, c.in_doubt === 0 ? 0 : 4);
  // The tasks submitted before the kill were finished, not submitted again.
  assert.ok(store.listTasks('e2e').every((r) => r.submits <= 1));
  assertArchiveIntact(store, 'e2e', join(dir, 'out', 'e2e'));
});
