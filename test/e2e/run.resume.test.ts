import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { run } from '../../src/run/run.js';
import { Store } from '../../src/store/index.js';
import type { RunEvent } from '../../src/run/events.js';
import { tempDir } from '../helpers/tmp.js';
import { runOptions, simulator, submissionsPerInput, TEST_KEY, writeManifest } from '../helpers/fixtures.js';

const CLI = resolve('src/cli/main.ts');

test('a run stopped mid-way continues without resubmitting anything', async (t) => {
  const dir = tempDir(t);
  const sim = await simulator(t);
  const manifest = writeManifest(dir, 8);
  const controller = new AbortController();
  const events: RunEvent[] = [];
  const first = await run(
    runOptions(sim, dir, manifest, events, {
      signal: controller.signal,
      concurrency: 3,
      onEvent: (e) => {
        events.push(e);
        if (e.type === 'archived') controller.abort();
      },
    }),
  );
  assert.equal(first.outcome, 'interrupted');
  assert.ok(first.counts.archived >= 1 && first.counts.archived < 8);
  assert.equal(first.counts.in_doubt, 0, 'a clean stop lets POSTs finish: nothing is in doubt');
  const createdBefore = sim.stats().created;

  const second = await run(runOptions(sim, dir, manifest));
  assert.equal(second.outcome, 'complete');
  assert.equal(second.counts.archived, 8);
  assert.equal(sim.stats().created, 8);
  assert.ok(sim.stats().created - createdBefore <= 8 - first.counts.archived);
  assert.deepEqual(submissionsPerInput(sim), Array(8).fill(1));
});

function cli(args: string[], env: Record<string, string>): { child: ReturnType<typeof spawn>; done: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  void done.then((code) => {
    if (code !== null && code !== 0 && code !== 4) process.stderr.write(`child exited ${code}: ${stderr}\n`);
  });
  return { child, done };
}

async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('a child run SIGKILLed mid-run and re-run submits nothing twice and loses nothing', async (t) => {
  const dir = tempDir(t);
  const sim = await simulator(t, { timeScale: 0.01 });
  const manifest = writeManifest(dir, 12);
  const db = join(dir, 'out', 'vidbatch.db');
  const args = ['run', manifest, '--out', join(dir, 'out'), '--db', db, '--first-poll', '300', '--poll-interval', '30', '--concurrency', '4'];
  const env = { APIXO_BASE_URL: sim.url, APIXO_API_KEY: TEST_KEY };

  const victim = cli(args, env);
  // Kill it once some tasks are created and the run is surely in the middle.
  await waitFor(() => sim.stats().created >= 5, 60_000);
  victim.child.kill('SIGKILL');
  await victim.done;

  const rerun = cli(args, env);
  const code = await rerun.done;
  const store = Store.open(db);
  t.after(() => store.close());
  const counts = store.counts('e2e');
  assert.ok(counts.in_doubt <= 1, `at most the one POST cut by the kill is in doubt, got ${counts.in_doubt}`);
  assert.equal(counts.archived + counts.in_doubt, 12);
  assert.equal(code, counts.in_doubt === 0 ? 0 : 4);
  assert.ok(submissionsPerInput(sim).every((n) => n === 1), 'no input was submitted twice');
  assert.ok(store.listTasks('e2e').every((r) => r.submits <= 1));
  const files = readdirSync(join(dir, 'out', 'e2e'));
  assert.equal(files.filter((f) => f.endsWith('.part')).length, 0);
  assert.equal(files.filter((f) => f.endsWith('.mp4')).length, counts.archived);
  assert.ok(existsSync(join(dir, 'out', 'e2e', 'results.jsonl')));
});
