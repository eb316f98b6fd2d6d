import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { ProgressModel, chooseUiMode, createRunUi, formatDuration, formatSummaryLine } from '../../src/cli/ui/index.js';
import type { RunEvent } from '../../src/run/events.js';
import type { StateCounts } from '../../src/store/index.js';

const counts = (c: Partial<StateCounts>): StateCounts => ({ planned: 0, submitting: 0, in_doubt: 0, submitted: 0, succeeded: 0, archived: 0, failed: 0, ...c });

function start(total: number, done = 0): RunEvent {
  return {
    type: 'run-start', run: 'nightly', db: 'db', out: 'out', manifest: 'm.yaml', total, added: total - done, existing: done,
    notInManifest: 0, manifestChanged: false, recoveredInDoubt: 0, counts: counts({ planned: total - done, archived: done }),
  };
}

/** Push a task through the whole lifecycle at time `at`. */
function archive(apply: (e: RunEvent) => void, key: string): void {
  apply({ type: 'transition', key, from: 'planned', to: 'submitting' });
  apply({ type: 'transition', key, from: 'submitting', to: 'submitted', taskId: `t-${key}` });
  apply({ type: 'transition', key, from: 'submitted', to: 'succeeded', taskId: `t-${key}` });
  apply({ type: 'transition', key, from: 'succeeded', to: 'archived', taskId: `t-${key}` });
  apply({ type: 'archived', key, taskId: `t-${key}`, file: `/out/${key}.mp4`, bytes: 2048, sha256: 'ab' });
}

class Capture extends Writable {
  text = '';
  isTTY: boolean;
  columns = 200;
  constructor(isTTY = false) {
    super();
    this.isTTY = isTTY;
  }
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

test('ProgressModel: counters per state follow transitions; rate over the window; ETA from the rate', () => {
  const m = new ProgressModel({ windowMs: 60_000 });
  let now = 1_000_000;
  m.apply(start(100, 10), now);
  let s = m.snapshot(now);
  assert.deepEqual([s.total, s.done, s.counts.planned, s.counts.archived, s.perMinute, s.etaMs], [100, 10, 90, 10, 0, undefined]);
  for (let i = 0; i < 30; i++) {
    now += 1000;
    archive((e) => m.apply(e, now), `k${i}`);
  }
  m.apply({ type: 'transition', key: 'x', from: 'planned', to: 'submitting' }, now);
  m.apply({ type: 'transition', key: 'x', from: 'submitting', to: 'in_doubt' }, now);
  m.apply({ type: 'rate-limited', retryAfterMs: 1000, during: 'submit' }, now);
  s = m.snapshot(now);
  assert.equal(s.counts.archived, 40);
  assert.equal(s.counts.in_doubt, 1);
  assert.equal(s.counts.planned, 59);
  assert.equal(s.done, 41);
  // 31 tasks finished in the 30 s since the start: 62 a minute; 59 left → ~57 s.
  assert.equal(Math.round(s.perMinute), 62);
  assert.equal(Math.round(s.etaMs! / 1000), 57);
  assert.equal(s.rateLimited, 1);
  // Two minutes of nothing: the rate window empties and the ETA becomes unknown.
  s = m.snapshot(now + 120_000);
  assert.deepEqual([s.perMinute, s.etaMs], [0, undefined]);
});

test('formatDuration and formatSummaryLine read well in cron mail', () => {
  assert.equal(formatDuration(undefined), '—');
  assert.equal(formatDuration(42_000), '42 s');
  assert.equal(formatDuration(185_000), '3 min 05 s');
  assert.equal(formatDuration(2 * 3600_000 + 7 * 60_000), '2 h 07 min');
  assert.equal(formatDuration(76 * 3600_000), '3 d 4 h');
  const m = new ProgressModel();
  m.apply(start(4), 0);
  archive((e) => m.apply(e, 30_000), 'a');
  const line = formatSummaryLine(m.snapshot(30_000), new Date(2026, 0, 1, 2, 3, 4));
  assert.equal(line, "[02:03:04] run 'nightly': 1/4 done (25%) · archived 1 · failed 0 · in_doubt 0 · in flight 0 · downloading 0 · planned 3 · 2.0/min · ETA 1 min 30 s");
});

test('chooseUiMode: --json, then --quiet, then a terminal on stderr', () => {
  assert.equal(chooseUiMode({ json: true, quiet: true }, { isTTY: true }), 'json');
  assert.equal(chooseUiMode({ quiet: true }, { isTTY: true }), 'quiet');
  assert.equal(chooseUiMode({}, { isTTY: true }), 'tty');
  assert.equal(chooseUiMode({}, { isTTY: false }), 'lines');
});

test('json mode: every event is one JSON line on stdout with a time; nothing on stderr', () => {
  const stdout = new Capture();
  const stderr = new Capture();
  const ui = createRunUi({ mode: 'json', stdout: stdout as unknown as NodeJS.WriteStream, stderr: stderr as unknown as NodeJS.WriteStream, now: () => 0 });
  ui.onEvent(start(1));
  archive(ui.onEvent, 'a');
  ui.json({ type: 'result', exitCode: 0 });
  ui.message('not for scripts');
  const lines = stdout.text.trimEnd().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => l.type), ['run-start', 'transition', 'transition', 'transition', 'transition', 'archived', 'result']);
  assert.equal(lines[0].time, '1970-01-01T00:00:00.000Z');
  assert.equal(lines[4].key, 'a');
  assert.equal(stderr.text, '');
});

test('quiet mode prints nothing', () => {
  const out = new Capture();
  const ui = createRunUi({ mode: 'quiet', stdout: out as unknown as NodeJS.WriteStream, stderr: out as unknown as NodeJS.WriteStream });
  ui.onEvent(start(1));
  archive(ui.onEvent, 'a');
  ui.onEvent({ type: 'transition', key: 'b', from: 'submitted', to: 'failed', detail: 'x' });
  ui.message('hello');
  ui.stop();
  assert.equal(out.text, '');
});

test('lines mode (no terminal): failures at once, one summary line every interval, no line per archived video', async () => {
  const err = new Capture();
  let now = 0;
  const ui = createRunUi({ mode: 'lines', intervalMs: 40, stderr: err as unknown as NodeJS.WriteStream, now: () => now });
  ui.onEvent(start(3));
  archive(ui.onEvent, 'a');
  ui.onEvent({ type: 'transition', key: 'b', from: 'planned', to: 'submitting' });
  ui.onEvent({ type: 'transition', key: 'b', from: 'submitting', to: 'failed', detail: 'INVALID_INPUT: prompt too long' });
  now = 60_000;
  const summaryRe = /^\[\d\d:\d\d:\d\d\] run 'nightly': 2\/3 done \(66%\) · archived 1 · failed 1/gm;
  for (let waited = 0; (err.text.match(summaryRe)?.length ?? 0) < 2 && waited < 5000; waited += 20) await new Promise((r) => setTimeout(r, 20));
  ui.onEvent({ type: 'run-end', run: 'nightly', counts: counts({ archived: 1, failed: 1, planned: 1 }), outcome: 'incomplete', elapsedMs: 60_000 });
  const before = err.text;
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(err.text, before, 'no summary after run-end');
  const lines = err.text.trimEnd().split('\n');
  assert.match(lines[0]!, /^run 'nightly': 3 task\(s\)/);
  assert.match(lines[1]!, /b submitting → failed: INVALID_INPUT: prompt too long/);
  assert.ok((err.text.match(summaryRe)?.length ?? 0) >= 2, err.text);
  assert.ok(!err.text.includes('archived /out/a.mp4'));
  assert.match(lines.at(-1)!, /^run 'nightly' incomplete in 60\.0 s: 1 planned, 1 archived, 1 failed$/);
});

test('tty mode: live bar with counters, rate and ETA on stderr; messages above it; the cursor is given back', () => {
  const err = new Capture(true);
  let now = 0;
  const ui = createRunUi({ mode: 'tty', stderr: err as unknown as NodeJS.WriteStream, now: () => now });
  ui.onEvent(start(2));
  now = 30_000;
  archive(ui.onEvent, 'a');
  ui.onEvent({ type: 'transition', key: 'b', from: 'planned', to: 'submitting' });
  ui.onEvent({ type: 'transition', key: 'b', from: 'submitting', to: 'in_doubt', detail: 'socket reset' });
  ui.message('SIGINT: finishing requests in flight');
  ui.onEvent({ type: 'run-end', run: 'nightly', counts: counts({ archived: 1, in_doubt: 1 }), outcome: 'incomplete', elapsedMs: 30_000 });
  ui.stop();
  const plain = err.text.replace(/\x1b\[[0-9;?]*[A-Za-z]|\x1b[78]/g, '');
  assert.match(plain, /2\/2 done · 4\.0\/min · ETA 0 s · elapsed 30 s/);
  assert.match(plain, /archived 1 · failed 0 · in_doubt 1 · in flight 0 · downloading 0 · planned 0/);
  assert.match(plain, /b submitting → in_doubt: socket reset/);
  assert.match(plain, /SIGINT: finishing requests in flight/);
  assert.match(plain, /run 'nightly' incomplete in 30\.0 s/);
  assert.ok(err.text.includes('\x1b[?25l') && err.text.lastIndexOf('\x1b[?25h') > err.text.lastIndexOf('\x1b[?25l'));
});
