import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { estimateWallTime, formatPlan, planManifest, type PlanLimits } from '../../src/cli/commands/plan.js';
import { tempDir } from '../helpers/tmp.js';
import { MANIFESTS } from './helpers.js';

const limits: PlanLimits = { rpm: 10_000, concurrency: 1_000, firstPollMs: 30_000, pollIntervalMs: 5_000 };

test('wall time: a run smaller than the cap takes one generation time', () => {
  const e = estimateWallTime(new Map([[5, 10]]), limits);
  assert.equal(e.bound, 'generation');
  assert.ok(Math.abs(e.low - (30 + 10 / (10_000 / 60))) < 1e-9);
  assert.equal(Math.round(e.high), 45);
  assert.deepEqual(estimateWallTime(new Map(), limits), { ...estimateWallTime(new Map(), limits), low: 0, high: 0 });
});

test('wall time: a large run is bound by the in-flight cap, at the documented generation times', () => {
  const e = estimateWallTime(new Map([[5, 100_000]]), limits);
  // fastest: 30 s a slot, 1 poll; slowest: first poll at 30 s, then every 5 s until 45 s.
  assert.equal(e.bound, 'concurrency');
  assert.equal(Math.round(e.low), 3000);
  assert.equal(Math.round(e.high), 4500);
  assert.deepEqual(e.requestsPerTask, [2, 5]);
  const ten = estimateWallTime(new Map([[10, 100_000]]), limits);
  assert.equal(Math.round(ten.low), 4500, '10 s videos: first poll at 45 s');
  assert.equal(Math.round(ten.high), 6000);
});

test('wall time: a low request budget binds; flags above the documented limits are capped, with a note', () => {
  const slow = estimateWallTime(new Map([[5, 100_000]]), { ...limits, rpm: 600 });
  assert.equal(slow.bound, 'requests');
  assert.equal(Math.round(slow.high), 50_000);
  const over = estimateWallTime(new Map([[5, 1000]]), { ...limits, rpm: 20_000, concurrency: 5_000 });
  assert.deepEqual([over.rpm, over.concurrency], [10_000, 1_000]);
  assert.equal(over.notes.length, 2);
  assert.match(over.notes[0]!, /above the documented 10000/);
});

test('planManifest: counts by mode and duration, first tasks with labels, duplicates, the estimate', async () => {
  const r = await planManifest(path.join(MANIFESTS, 'sheets.yaml'), limits, 2);
  assert.equal(r.tasks, 10);
  assert.deepEqual(r.byModeDuration, [
    { mode: 'text-to-video', duration: 5, tasks: 6 },
    { mode: 'text-to-video', duration: 10, tasks: 2 },
    { mode: 'image-to-video', duration: 5, tasks: 2 },
  ]);
  assert.equal(r.first.length, 2);
  assert.deepEqual(r.first[0]!.labels, { shot: '1', location: 'kitchen', grade: 'warm' });
  assert.match(r.first[0]!.source, /shots\.csv:2$/);
  const text = formatPlan(r);
  assert.match(text, /10 task\(s\) to make \(no duplicates\), run name 'shot-list'/);
  assert.match(text, /shot=1 {2}location=kitchen {2}grade=warm/);
  assert.match(text, /estimated wall time: .* at 10,000 requests\/min and 1,000 tasks in flight/);
  assert.match(text, /nothing was sent and nothing was written/);
});

function cli(args: string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  // tsx by its full path: the child runs in a folder of its own, where 'tsx' would not resolve.
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), path.resolve('src/cli/main.ts'), ...args], { cwd, env: { ...process.env, APIXO_API_KEY: '' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((res) => child.on('exit', (code) => res({ code, stdout, stderr })));
}

test('vidbatch plan: prints the plan, --json for scripts, exit 3 on a broken manifest; writes nothing', async (t) => {
  const dir = tempDir(t);
  writeFileSync(path.join(dir, 'm.yaml'), 'vars:\n  n: [1, 2, 3]\ntasks:\n  - prompt: "shot {{n}}"\n  - prompt: shot 1\n');
  writeFileSync(path.join(dir, 'bad.yaml'), 'tasks:\n  - prompt: a\n    duration: 7\n');
  const before = readdirSync(dir).sort();
  const [human, json, bad] = await Promise.all([
    cli(['plan', 'm.yaml', '--show', '1'], dir),
    cli(['plan', 'm.yaml', '--json', '--rpm', '600', '--concurrency', '10'], dir),
    cli(['plan', 'bad.yaml'], dir),
  ]);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /m\.yaml: 3 task\(s\) to make \(4 expanded, 1 duplicate\(s\) removed\)/);
  assert.match(human.stdout, /first 1 task\(s\):\n +1\. [0-9a-f]{8} {2}text-to-video 5 s 16:9 {2}"shot 1"\n +n=1 {2}\(m\.yaml:4\)/);
  assert.equal(json.code, 0, json.stderr);
  const report = JSON.parse(json.stdout) as { tasks: number; duplicates: number; estimate: { rpm: number; concurrency: number } };
  assert.deepEqual([report.tasks, report.duplicates, report.estimate.rpm, report.estimate.concurrency], [3, 1, 600, 10]);
  assert.equal(bad.code, 3);
  assert.match(bad.stderr, /bad\.yaml:3:15: tasks\[0\]\.duration: expected 5 or 10/);
  assert.deepEqual(readdirSync(dir).sort(), before, 'no output folder, no database');
});
