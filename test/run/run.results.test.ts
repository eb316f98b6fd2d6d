import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { run } from '../../src/run/run.js';
import { tempDir } from '../helpers/tmp.js';
import { runOptions, simulator, writeManifest } from '../helpers/fixtures.js';

const lines = (file: string) => readFileSync(file, 'utf8').split('\n').filter(Boolean);

test('a re-run with nothing to do leaves a right results.jsonl alone, and repairs a wrong one', async (t) => {
  const dir = tempDir(t);
  const sim = await simulator(t);
  const manifest = writeManifest(dir, 3);
  const first = await run(runOptions(sim, dir, manifest));
  assert.equal(lines(first.results).length, 3);

  const before = statSync(first.results).mtimeMs;
  await new Promise((r) => setTimeout(r, 20));
  await run(runOptions(sim, dir, manifest));
  assert.equal(statSync(first.results).mtimeMs, before, 'not rewritten: nothing changed');

  // A crash between appending a line and recording the task leaves a line too many.
  appendFileSync(first.results, lines(first.results)[0] + '\n');
  await run(runOptions(sim, dir, manifest));
  assert.equal(lines(first.results).length, 3);

  // A last line cut off mid-write.
  appendFileSync(first.results, '{"run":"e2e","ke');
  await run(runOptions(sim, dir, manifest));
  assert.equal(lines(first.results).length, 3);
  assert.ok(readFileSync(first.results, 'utf8').endsWith('\n'));

  writeFileSync(first.results, '');
  await run(runOptions(sim, dir, manifest));
  assert.equal(lines(first.results).length, 3, 'an emptied file is rebuilt from the database');
});
