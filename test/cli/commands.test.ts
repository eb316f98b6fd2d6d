import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { simulator, TEST_KEY, writeManifest } from '../helpers/fixtures.js';
import { tempDir } from '../helpers/tmp.js';

const CLI = resolve('src/cli/main.ts');
const TSX = resolve('node_modules/tsx/dist/esm/index.mjs');

function cli(args: string[], options: { cwd?: string; env?: Record<string, string | undefined> } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  for (const [k, v] of Object.entries(options.env ?? {})) if (v === undefined) delete env[k];
  const child = spawn(process.execPath, ['--import', TSX, CLI, ...args], { env, cwd: options.cwd ?? process.cwd() });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((res) => child.on('exit', (code) => res({ code, stdout, stderr })));
}

function allFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? allFiles(p) : [p];
  });
}

const FAST = ['--first-poll', '150', '--poll-interval', '25'];

test('APIXO_API_KEY from .env in the working directory; the key is in no output and no file; then status, report and export', async (t) => {
  const dir = tempDir(t);
  const sim = await simulator(t);
  writeManifest(dir, 3, ['  - prompt: "=HYPERLINK(\\"http://x\\") #violation"']);
  writeFileSync(join(dir, '.env'), `# vidbatch\nAPIXO_API_KEY=${TEST_KEY}\nAPIXO_BASE_URL=${sim.url}\n`);
  const env = { APIXO_API_KEY: undefined, APIXO_BASE_URL: undefined };

  const r = await cli(['run', 'manifest.yaml', ...FAST], { cwd: dir, env });
  assert.equal(r.code, 4, r.stderr); // the #violation task fails: exit 4
  assert.match(r.stdout, /gallery: +.*output\/e2e\/index\.html/);
  assert.match(r.stdout, /log: +.*output\/e2e\/run\.log/);
  assert.match(r.stderr, /submitted → failed: CONTENT_VIOLATION: Content does not meet safety guidelines/);
  assert.ok(!r.stderr.includes('archived /'), 'no line per video without a terminal unless -v');
  for (const f of allFiles(join(dir, 'output'))) assert.ok(!readFileSync(f).includes(TEST_KEY), `${f} holds the key`);
  assert.ok(!(r.stdout + r.stderr).includes(TEST_KEY));

  const status = await cli(['status'], { cwd: dir });
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /archived +3 +75%/);
  assert.match(status.stdout, /failed \(1\): CONTENT_VIOLATION ×1/);
  assert.match(status.stdout, /gallery: .*index\.html/);
  assert.match(status.stdout, /next: read the reasons above/);

  const report = await cli(['report', '--x', 'duration', '--no-posters'], { cwd: dir });
  assert.equal(report.code, 0, report.stderr);
  assert.equal(report.stdout.trim(), join(dir, 'output', 'e2e', 'index.html'));
  assert.match(report.stderr, /4 task\(s\), 3 video\(s\), 0 poster/);
  const html = readFileSync(report.stdout.trim(), 'utf8');
  assert.match(html, /"x":"duration"/);

  const csv = await cli(['export'], { cwd: dir });
  assert.equal(csv.code, 0, csv.stderr);
  const lines = csv.stdout.trimEnd().split('\r\n');
  assert.equal(lines.length, 5);
  assert.ok(lines.some((l) => l.includes(`"'=HYPERLINK(""http://x"") #violation"`)), csv.stdout);
  const jsonl = await cli(['export', '--format', 'jsonl', '--run', 'e2e'], { cwd: dir });
  const records = jsonl.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(records.map((x) => x.state).sort(), ['archived', 'archived', 'archived', 'failed']);
  assert.ok(records.every((x) => typeof x.key === 'string' && 'labels' in x && 'task_id' in x && 'sha256' in x && 'file' in x));
  const toFile = await cli(['export', '-o', 'tasks.jsonl'], { cwd: dir });
  assert.equal(toFile.code, 0);
  assert.equal(readFileSync(join(dir, 'tasks.jsonl'), 'utf8').trimEnd().split('\n').length, 4);
  // A file gets exactly what stdout gets, written whole (no .part left beside it).
  const csvFile = await cli(['export', '-o', 'tasks.csv'], { cwd: dir });
  assert.equal(csvFile.code, 0, csvFile.stderr);
  assert.equal(readFileSync(join(dir, 'tasks.csv'), 'utf8'), csv.stdout);
  assert.ok(!existsSync(join(dir, 'tasks.csv.part')));
});

test('run --json streams NDJSON events then a result line; --quiet prints nothing on success', async (t) => {
  const dir = tempDir(t);
  const sim = await simulator(t);
  const env = { APIXO_API_KEY: TEST_KEY, APIXO_BASE_URL: sim.url };
  const manifest = writeManifest(dir, 2);
  const j = await cli(['run', manifest, '--out', join(dir, 'a'), '--json', ...FAST], { env });
  assert.equal(j.code, 0, j.stderr);
  assert.equal(j.stderr, '');
  const events = j.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
  assert.equal(events[0].type, 'run-start');
  assert.equal(events.filter((e) => e.type === 'archived').length, 2);
  assert.equal(events.at(-2).type, 'run-end');
  assert.deepEqual([events.at(-1).type, events.at(-1).exitCode, events.at(-1).outcome], ['result', 0, 'complete']);
  assert.ok(events.every((e) => typeof e.time === 'string'));

  const q = await cli(['run', manifest, '--out', join(dir, 'b'), '--quiet', ...FAST], { env });
  assert.equal(q.code, 0, q.stderr);
  assert.deepEqual([q.stdout, q.stderr], ['', '']);
});

test('every command has --help with examples; unknown options are usage errors (exit 2); a missing database says what to do', async (t) => {
  const dir = tempDir(t);
  const helps = await Promise.all(['run', 'status', 'report', 'export', 'sim'].map((c) => cli([c, '--help'])));
  for (const h of helps) {
    assert.equal(h.code, 0);
    assert.match(h.stdout, /Examples:\n {2}\$ vidbatch /);
  }
  const bad = await Promise.all([['report', '--bogus'], ['export', '--format', 'xlsx'], ['status', '--stuck-after', '0.5']].map((a) => cli(a, { cwd: dir })));
  for (const b of bad) assert.equal(b.code, 2, b.stderr);
  assert.match(bad[0]!.stderr, /unknown option '--bogus'/);
  assert.match(bad[1]!.stderr, /expected one of csv, jsonl, got 'xlsx'/);
  const none = await cli(['report'], { cwd: dir });
  assert.equal(none.code, 2);
  assert.match(none.stderr, /no database at .*vidbatch\.db; pass --db FILE or --out DIR, or start a run with: vidbatch run <manifest>/);
});
