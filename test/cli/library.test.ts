import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as vidbatch from '../../src/index.js';
import { plan, run, type RunEvent } from '../../src/index.js';
import { runOptions, simulator, writeManifest } from '../helpers/fixtures.js';
import { tempDir } from '../helpers/tmp.js';

test("the library: import { plan, run } from 'vidbatch' — plan sends nothing, run reports through typed events", async (t) => {
  const dir = tempDir(t);
  const manifest = writeManifest(dir, 2);
  const p = await plan(manifest, { rpm: 9500, concurrency: 980, firstPollMs: 30_000, pollIntervalMs: 5000 });
  assert.equal(p.tasks, 2);
  const sim = await simulator(t);
  const types = new Set<RunEvent['type']>();
  const result = await run(runOptions(sim, dir, manifest, [], { onEvent: (e) => types.add(e.type) }));
  assert.equal(result.outcome, 'complete');
  assert.ok(['run-start', 'transition', 'archived', 'run-end'].every((x) => types.has(x as RunEvent['type'])));
  for (const name of ['statusReport', 'formatStatus', 'writeGallery', 'formatExport', 'openRunLog', 'createRunUi', 'Store', 'startSimulator', 'EXIT']) {
    assert.ok(name in vidbatch, `${name} is exported`);
  }
});
