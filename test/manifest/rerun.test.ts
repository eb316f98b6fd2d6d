/**
 * A manifest that changes under an existing run: only new tasks are added, tasks no
 * longer in it are left alone and reported, nothing already in the run is resubmitted,
 * and the run says that its manifest changed (sheets and wildcard files included).
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { readManifest } from '../../src/manifest/index.js';
import type { RunEvent } from '../../src/run/events.js';
import { run } from '../../src/run/run.js';
import { Store } from '../../src/store/index.js';
import { runOptions, simulator, submissionsPerInput } from '../helpers/fixtures.js';
import { tempDir } from '../helpers/tmp.js';

const V1 = 'name: rerun\nvars:\n  style: [noir, anime]\nsheets:\n  - file: shots.csv\n    prompt: "{{prompt}}, {{style}}"\n';

test('store: a changed sheet adds only its new tasks; stored tasks keep their state; removed ones are counted', async (t) => {
  const dir = tempDir(t);
  const manifest = path.join(dir, 'm.yaml');
  writeFileSync(manifest, V1);
  writeFileSync(path.join(dir, 'shots.csv'), 'prompt,scene\nA harbour,sea\nA forest,woods\n');
  const store = Store.open(path.join(dir, 'db.sqlite'));
  t.after(() => store.close());

  const v1 = await readManifest(manifest);
  assert.equal(v1.count, 4);
  assert.deepEqual(store.ensureRun('rerun', manifest, v1.hash), { created: true, manifestChanged: false, previousHash: null });
  assert.deepEqual(store.addTasks('rerun', v1.tasks), { added: 4, existing: 0 });
  const done = v1.tasks[0]!;
  store.transition('rerun', done.key, 'planned', 'submitting', {}, { countSubmit: true });
  store.transition('rerun', done.key, 'submitting', 'submitted', { task_id: 'task_0000000000000001', submitted_at: 1 });

  // The sheet changes: one row removed, one added, one kept. The YAML is untouched.
  writeFileSync(path.join(dir, 'shots.csv'), 'prompt,scene\nA harbour,sea\nA desert,sand\n');
  const v2 = await readManifest(manifest);
  assert.notEqual(v2.hash, v1.hash, 'the hash covers the sheet');
  const again = store.ensureRun('rerun', manifest, v2.hash);
  assert.deepEqual(again, { created: false, manifestChanged: true, previousHash: v1.hash });
  assert.deepEqual(store.addTasks('rerun', v2.tasks), { added: 2, existing: 2 });
  assert.equal(store.countNotIn('rerun', new Set(v2.tasks.map((x) => x.key))), 2, 'the forest tasks are left alone, and counted');
  const kept = store.getTask('rerun', done.key)!;
  assert.deepEqual([kept.state, kept.taskId, kept.submits], ['submitted', 'task_0000000000000001', 1]);
  assert.deepEqual(store.listTasks('rerun').map((x) => x.input.prompt), [
    'A harbour, noir',
    'A harbour, anime',
    'A forest, noir',
    'A forest, anime',
    'A desert, noir',
    'A desert, anime',
  ]);
  // Provenance is stored with the task: the sheet row it came from and its variation values.
  const stored = store.listTasks('rerun')[4]!;
  assert.deepEqual([stored.source, stored.labels], [{ file: path.join(dir, 'shots.csv'), line: 3 }, { scene: 'sand', style: 'noir' }]);
  // Adding the same manifest again adds nothing.
  assert.deepEqual(store.addTasks('rerun', v2.tasks), { added: 0, existing: 4 });
});

test('run: editing the manifest between two runs pays only for the new variations', async (t) => {
  const dir = tempDir(t);
  const sim = await simulator(t);
  const manifest = path.join(dir, 'm.yaml');
  writeFileSync(manifest, V1);
  writeFileSync(path.join(dir, 'shots.csv'), 'prompt,scene\nA harbour,sea\n');

  const first: RunEvent[] = [];
  const r1 = await run(runOptions(sim, dir, manifest, first));
  assert.equal(r1.outcome, 'complete');
  assert.equal(r1.counts.archived, 2);

  // A third style and a new row: 3 × 2 = 6 tasks, of which 2 are done.
  writeFileSync(manifest, V1.replace('[noir, anime]', '[noir, anime, claymation]'));
  writeFileSync(path.join(dir, 'shots.csv'), 'prompt,scene\nA harbour,sea\nA forest,woods\n');
  const second: RunEvent[] = [];
  const r2 = await run(runOptions(sim, dir, manifest, second));
  assert.equal(r2.outcome, 'complete');
  const start = second.find((e) => e.type === 'run-start');
  assert.ok(start && start.type === 'run-start');
  assert.deepEqual([start.total, start.added, start.existing, start.notInManifest, start.manifestChanged], [6, 4, 2, 0, true]);
  assert.equal(r2.counts.archived, 6);
  // Each sidecar (and results.jsonl) carries the row's source and the variation's labels.
  const results = readFileSync(r2.results, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { source: { file: string; line: number }; labels: Record<string, string> });
  assert.equal(results.length, 6);
  assert.ok(results.some((x) => x.labels['style'] === 'claymation' && x.labels['scene'] === 'woods' && x.source.file.endsWith('shots.csv') && x.source.line === 3));

  // The row is removed again: nothing is added, nothing resubmitted, the 2 forest tasks stay archived.
  writeFileSync(path.join(dir, 'shots.csv'), 'prompt,scene\nA harbour,sea\n');
  const third: RunEvent[] = [];
  await run(runOptions(sim, dir, manifest, third));
  const s3 = third.find((e) => e.type === 'run-start');
  assert.ok(s3 && s3.type === 'run-start');
  assert.deepEqual([s3.added, s3.notInManifest, s3.manifestChanged], [0, 3, true]);
  assert.ok(submissionsPerInput(sim).every((n) => n === 1), 'every video was paid for once');
  assert.equal(submissionsPerInput(sim).length, 6);
});
