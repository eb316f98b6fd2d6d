import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { tempDir } from '../helpers/tmp.js';
import { simulator, TEST_KEY, writeManifest } from '../helpers/fixtures.js';
import { spawn } from 'node:child_process';

const CLI = resolve('src/cli/main.ts');

function runCli(args: string[], env: Record<string, string | undefined> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const fullEnv = { ...process.env, ...env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete fullEnv[k];
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { env: fullEnv });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((res) => child.on('exit', (code) => res({ code, stdout, stderr })));
}

test('without APIXO_API_KEY, run explains how to set it or to simulate, exit 2, nothing written', async (t) => {
  const dir = tempDir(t);
  const manifest = writeManifest(dir, 1);
  const r = await runCli(['run', manifest, '--out', join(dir, 'out')], { APIXO_API_KEY: undefined });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /APIXO_API_KEY/);
  assert.match(r.stderr, /--simulate/);
  assert.equal(spawnSync('ls', [join(dir, 'out')]).status !== 0, true);
});

test('run against APIXO_BASE_URL, then status --json gives counts keyed by lifecycle state', async (t) => {
  const dir = tempDir(t);
  const sim = await simulator(t);
  const manifest = writeManifest(dir, 2);
  const db = join(dir, 'out', 'vidbatch.db');
  const env = { APIXO_BASE_URL: sim.url, APIXO_API_KEY: TEST_KEY };
  const r = await runCli(['run', manifest, '--out', join(dir, 'out'), '--first-poll', '150', '--poll-interval', '25'], env);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /videos and sidecars: .*e2e/);
  assert.match(r.stdout, /database: +.*vidbatch\.db/);
  assert.ok(!r.stdout.includes(TEST_KEY) && !r.stderr.includes(TEST_KEY));

  const s = await runCli(['status', '--db', db, '--json']);
  assert.equal(s.code, 0, s.stderr);
  const report = JSON.parse(s.stdout);
  assert.deepEqual(report.counts, { planned: 0, submitting: 0, in_doubt: 0, submitted: 0, succeeded: 0, archived: 2, failed: 0 });
  const human = await runCli(['status', '--db', db]);
  assert.match(human.stdout, /archived\s+2/);
});

test('--simulate runs with no key at all; a broken manifest exits 3 with file and line', async (t) => {
  const dir = tempDir(t);
  const ok = await runCli(['run', writeManifest(dir, 2), '--simulate', '--time-scale', '0.005', '--out', join(dir, 'out')], { APIXO_API_KEY: undefined });
  assert.equal(ok.code, 0, ok.stderr);
  const bad = writeManifest(dir, 1, ['  - prompt: "x"', '    duration: 7'], 'bad.yaml');
  const r = await runCli(['run', bad, '--simulate', '--out', join(dir, 'out2')]);
  assert.equal(r.code, 3);
  assert.match(r.stderr, /bad\.yaml:8:\d+/);
  assert.match(r.stderr, /duration/);
});

test('an unknown option is an error that shows usage', async () => {
  const r = await runCli(['run', 'x.yaml', '--no-such-flag']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown option/);
});
