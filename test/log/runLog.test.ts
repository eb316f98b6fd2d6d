import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openRunLog } from '../../src/log/runLog.js';
import type { RunEvent } from '../../src/run/events.js';
import { tempDir } from '../helpers/tmp.js';

const KEY = 'sk-live-abcdef0123456789';

function lines(file: string): Record<string, unknown>[] {
  return readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

test('openRunLog writes one JSON line per event with the task key and the transition, then hands the event on', async (t) => {
  const dir = tempDir(t);
  const log = openRunLog(dir, { run: 'nightly', secrets: [KEY] });
  const seen: RunEvent[] = [];
  const emit = log.wrap((e) => seen.push(e));
  emit({ type: 'transition', key: 'abc123', from: 'planned', to: 'submitting' });
  emit({ type: 'transition', key: 'abc123', from: 'submitting', to: 'submitted', taskId: 'task_1' });
  emit({ type: 'transition', key: 'def456', from: 'submitted', to: 'failed', taskId: 'task_2', detail: 'CONTENT_VIOLATION' });
  await log.close();
  assert.equal(seen.length, 3);
  const out = lines(join(dir, 'run.log'));
  assert.equal(out.length, 3);
  assert.deepEqual(
    out.map((l) => [l.event, l.key, l.from, l.to, l.level]),
    [
      ['transition', 'abc123', 'planned', 'submitting', 'info'],
      ['transition', 'abc123', 'submitting', 'submitted', 'info'],
      ['transition', 'def456', 'submitted', 'failed', 'warn'],
    ],
  );
  assert.equal(out[1]!.taskId, 'task_1');
  assert.equal(out[0]!.run, 'nightly');
  assert.match(String(out[0]!.time), /^\d{4}-\d\d-\d\dT/);
});

test('the API key never reaches run.log, whatever field or error carries it', async (t) => {
  const dir = tempDir(t);
  const log = openRunLog(dir, { run: 'r', secrets: [KEY] });
  const emit = log.wrap(() => {});
  emit({ type: 'retry', key: 'k', during: 'submit', delayMs: 10, reason: `server echoed Authorization: Bearer ${KEY}` });
  emit({ type: 'stopping', reason: 'auth', message: `key ${KEY} refused` });
  log.error(new Error(`boom with ${KEY}`), 'the run failed');
  await log.close();
  const text = readFileSync(join(dir, 'run.log'), 'utf8');
  assert.ok(!text.includes(KEY), text);
  assert.match(text, /\[REDACTED\]/);
  assert.equal(text.trim().split('\n').length, 3);
});

test('a second run of the same name appends to run.log; events after close are not logged', async (t) => {
  const dir = tempDir(t);
  for (let i = 0; i < 2; i++) {
    const log = openRunLog(dir, { run: 'r', secrets: [] });
    const emit = log.wrap(() => {});
    emit({ type: 'rate-limited', retryAfterMs: 1000, during: 'poll' });
    await log.close();
    emit({ type: 'rate-limited', retryAfterMs: 1000, during: 'poll' });
  }
  assert.equal(lines(join(dir, 'run.log')).length, 2);
});

test('a failed transition keeps its reason in the log and for the listener', async (t) => {
  const dir = tempDir(t);
  const log = openRunLog(dir, { run: 'r', secrets: [] });
  const seen: RunEvent[] = [];
  const emit = log.wrap((e) => seen.push(e));
  emit({ type: 'transition', key: 'k1', from: 'submitted', to: 'failed', taskId: 't1', detail: 'CONTENT_VIOLATION: Content does not meet safety guidelines' });
  await log.close();
  assert.deepEqual(seen.map((e) => (e.type === 'transition' ? e.detail : '')), ['CONTENT_VIOLATION: Content does not meet safety guidelines']);
  assert.equal(lines(join(dir, 'run.log'))[0]!.detail, 'CONTENT_VIOLATION: Content does not meet safety guidelines');
});
