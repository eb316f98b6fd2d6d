import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../src/index.js';
import type { RunEvent } from '../../src/index.js';
import { runOptions, simulator, TEST_KEY, writeManifest } from '../helpers/fixtures.js';
import { tempDir } from '../helpers/tmp.js';

test('run() writes run.log (every task key and transition, no key) and the gallery, and says where they are', async (t) => {
  const dir = tempDir(t);
  const sim = await simulator(t);
  const manifest = writeManifest(dir, 3, ['  - prompt: "a banner that says #violation"']);
  const events: RunEvent[] = [];
  const result = await run(runOptions(sim, dir, manifest, events));
  assert.equal(result.outcome, 'incomplete');
  assert.equal(result.log, join(result.dir, 'run.log'));
  assert.equal(result.gallery, join(result.dir, 'index.html'));
  assert.ok(existsSync(result.gallery!));

  const text = readFileSync(result.log, 'utf8');
  assert.ok(!text.includes(TEST_KEY));
  const lines = text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(lines[0]!.event, 'run-start');
  assert.equal(lines.at(-1)!.event, 'run-end');
  const keys = new Set(events.flatMap((e) => (e.type === 'transition' ? [e.key] : [])));
  assert.equal(keys.size, 4);
  for (const key of keys) {
    const path = lines.filter((l) => l.event === 'transition' && l.key === key).map((l) => l.to);
    assert.ok(path[0] === 'submitting' && ['archived', 'failed'].includes(String(path.at(-1))), `${key}: ${path.join(' → ')}`);
  }
  const failed = lines.find((l) => l.event === 'transition' && l.to === 'failed')!;
  assert.equal(failed.level, 'warn');
  assert.equal(failed.detail, 'CONTENT_VIOLATION: Content does not meet safety guidelines');
  // The listener saw the same reason.
  assert.ok(events.some((e) => e.type === 'transition' && e.to === 'failed' && e.detail?.startsWith('CONTENT_VIOLATION')));
});
