/** The 1M-row path: a manifest streamed into the store, in one transaction, in key order. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ManifestError } from '../../src/core/errors.js';
import { streamManifest } from '../../src/manifest/index.js';
import { Store } from '../../src/store/index.js';
import { tempDir } from '../helpers/tmp.js';

const sheet = (rows: number, from = 0): string =>
  'prompt,scene\n' + Array.from({ length: rows }, (_, i) => `"shot ${from + i}, wide",s${(from + i) % 3}\n`).join('');
const yaml = Buffer.from('vars:\n  duration: [5, 10]\nsheets:\n  - file: s.csv\n');

test('streamed into the store: every task once, seq in manifest order, labels and source kept', (t) => {
  const dir = tempDir(t);
  writeFileSync(path.join(dir, 's.csv'), sheet(500));
  const file = path.join(dir, 'm.yaml');
  writeFileSync(file, yaml);
  const store = Store.open(path.join(dir, 'db.sqlite'));
  t.after(() => store.close());
  store.ensureRun('bulk', file, 'x');
  let summary: ReturnType<typeof streamManifest> | undefined;
  assert.deepEqual(store.addTaskStream('bulk', (add) => (summary = streamManifest(file, yaml, add))), { added: 1000, existing: 0 });
  assert.equal(summary!.count, 1000);
  const rows = store.listTasks('bulk');
  assert.deepEqual(rows.slice(0, 3).map((r) => [r.seq, r.input.prompt, r.input.duration, r.labels, r.source.line]), [
    [1, 'shot 0, wide', 5, { scene: 's0', duration: '5' }, 2],
    [2, 'shot 0, wide', 10, { scene: 's0', duration: '10' }, 2],
    [3, 'shot 1, wide', 5, { scene: 's1', duration: '5' }, 3],
  ]);
  assert.deepEqual(rows.map((r) => r.seq), Array.from({ length: 1000 }, (_, i) => i + 1));

  // More rows later: only the new ones, numbered after the old.
  writeFileSync(path.join(dir, 's.csv'), sheet(600));
  assert.deepEqual(store.addTaskStream('bulk', (add) => streamManifest(file, yaml, add)), { added: 200, existing: 1000 });
  assert.equal(store.getTask('bulk', rows[0]!.key)!.seq, 1);
  assert.equal(Math.max(...store.listTasks('bulk').map((r) => r.seq)), 1200);

  // A manifest error found at the end of the sheet: nothing of it is stored.
  writeFileSync(path.join(dir, 's.csv'), sheet(700) + '"shot x",s1,extra\n');
  assert.throws(() => store.addTaskStream('bulk', (add) => streamManifest(file, yaml, add)), ManifestError);
  assert.equal(store.counts('bulk').planned, 1200);
});
