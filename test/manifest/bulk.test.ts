/**
 * Planning a run as `vidbatch run` does (src/run/plan.ts): the manifest stage on a worker
 * thread streams into the store, one transaction. Large new runs are bulk-loaded (the
 * key index built at the end); the tasks and their order must not depend on it.
 */
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ManifestError } from '../../src/core/errors.js';
import { parseManifest, streamManifest } from '../../src/manifest/index.js';
import { planRun } from '../../src/run/plan.js';
import { Store } from '../../src/store/index.js';
import { tempDir } from '../helpers/tmp.js';

const sheet = (rows: number, from = 0): string =>
  'prompt,scene\n' + Array.from({ length: rows }, (_, i) => `"shot ${from + i}, wide",s${(from + i) % 3}\n`).join('');
const yaml = 'name: bulk\nvars:\n  duration: [5, 10]\nsheets:\n  - file: s.csv\n';

async function plan(file: string, db: string, bulkLoadFrom?: number) {
  const p = await planRun(file, db, bulkLoadFrom === undefined ? {} : { bulkLoadFrom });
  p.store.releaseRunLock(p.name);
  p.store.close();
  return p;
}

for (const bulkLoadFrom of [undefined, 1, 300]) {
  test(`planned into the store (bulk load from ${bulkLoadFrom ?? 'default'}): every task once, in manifest order, labels and source kept`, async (t) => {
    const dir = tempDir(t);
    writeFileSync(path.join(dir, 's.csv'), sheet(2500));
    const file = path.join(dir, 'm.yaml');
    writeFileSync(file, yaml);
    const db = path.join(dir, 'db.sqlite');
    const first = await plan(file, db, bulkLoadFrom);
    assert.equal(first.name, 'bulk');
    assert.deepEqual([first.added, first.existing, first.notInManifest, first.created, first.manifest.count], [5000, 0, 0, true, 5000]);

    const store = Store.open(db);
    t.after(() => store.close());
    const rows = store.listTasks('bulk');
    // The same tasks, in the same order, as the manifest stage read in this thread.
    const expected = parseManifest(file, Buffer.from(yaml)).tasks;
    assert.deepEqual(rows.map((r) => r.key), expected.map((e) => e.key));
    assert.deepEqual(rows.map((r) => r.seq), Array.from({ length: 5000 }, (_, i) => i + 1));
    assert.deepEqual(rows.slice(0, 3).map((r) => [r.input.prompt, r.input.duration, r.labels, r.source.line, r.take, r.source.file]), [
      ['shot 0, wide', 5, { scene: 's0', duration: '5' }, 2, 1, path.join(dir, 's.csv')],
      ['shot 0, wide', 10, { scene: 's0', duration: '10' }, 2, 1, path.join(dir, 's.csv')],
      ['shot 1, wide', 5, { scene: 's1', duration: '5' }, 3, 1, path.join(dir, 's.csv')],
    ]);
    assert.deepEqual(store.getTask('bulk', expected[4321]!.key)!.input, expected[4321]!.input, 'found by key: the index is there');
    assert.equal(store.getRun('bulk')!.manifestHash, first.manifest.hash);

    // More rows later: only the new ones, numbered after the old; nothing changed is re-added.
    writeFileSync(path.join(dir, 's.csv'), sheet(2600));
    const second = await plan(file, db, bulkLoadFrom);
    assert.deepEqual([second.added, second.existing, second.notInManifest, second.created, second.manifestChanged], [200, 5000, 0, false, true]);
    assert.equal(store.getTask('bulk', rows[0]!.key)!.seq, 1);
    assert.equal(store.counts('bulk').planned, 5200);
    assert.equal(Math.max(...store.listTasks('bulk').map((r) => r.seq)), 5200);

    // Rows removed from the sheet are left alone and counted.
    writeFileSync(path.join(dir, 's.csv'), sheet(2400));
    const third = await plan(file, db, bulkLoadFrom);
    assert.deepEqual([third.added, third.existing, third.notInManifest], [0, 4800, 400]);
    assert.equal(store.counts('bulk').planned, 5200);
  });
}

test('a manifest error found deep in a sheet: nothing of it is stored, and a database it created is removed', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'm.yaml');
  writeFileSync(file, yaml);
  const db = path.join(dir, 'out', 'db.sqlite');
  writeFileSync(path.join(dir, 's.csv'), sheet(3000) + '"shot x",s1,extra\n');
  await assert.rejects(plan(file, db, 100), (e: unknown) => e instanceof ManifestError && /s\.csv:3002/.test(e.message));
  assert.equal(existsSync(path.join(dir, 'out')), false, 'neither the database nor its folder is left behind');

  // With a run already stored, the error leaves it exactly as it was.
  writeFileSync(path.join(dir, 's.csv'), sheet(1000));
  await plan(file, db, 100);
  writeFileSync(path.join(dir, 's.csv'), sheet(3000) + '"shot x",s1,extra\n');
  await assert.rejects(plan(file, db, 100), ManifestError);
  const store = Store.open(db);
  t.after(() => store.close());
  assert.equal(store.counts('bulk').planned, 2000);
  assert.equal(store.getRun('bulk')!.manifestHash.length, 64);
});

test('a manifest that fails before its first task never opens the database', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'm.yaml');
  writeFileSync(file, 'name: bulk\nvarz: {}\nsheets:\n  - file: missing.csv\n');
  const db = path.join(dir, 'out', 'db.sqlite');
  await assert.rejects(plan(file, db), (e: unknown) => e instanceof ManifestError && e.issues.length >= 2);
  assert.equal(existsSync(path.join(dir, 'out')), false);
});

test('a run locked by another live process is refused before any task is stored', async (t) => {
  const dir = tempDir(t);
  writeFileSync(path.join(dir, 's.csv'), sheet(10));
  const file = path.join(dir, 'm.yaml');
  writeFileSync(file, yaml);
  const db = path.join(dir, 'db.sqlite');
  const holder = await planRun(file, db); // keeps the lock
  t.after(() => holder.store.close());
  writeFileSync(path.join(dir, 's.csv'), sheet(20));
  // The same pid counts as the holder itself; pretend to be another process on this host.
  const other = Store.open(db);
  t.after(() => other.close());
  await assert.rejects(
    other.planRun('bulk', file, async () => ({ hash: 'h' }), { pid: process.pid + 1 }),
    (e: unknown) => (e as { code?: string }).code === 'E_RUN_LOCKED',
  );
  assert.equal(other.counts('bulk').planned, 20);
});

test('an error from the task callback is rethrown as it is, never taken for malformed CSV', (t) => {
  const dir = tempDir(t);
  writeFileSync(path.join(dir, 's.csv'), sheet(10));
  const file = path.join(dir, 'm.yaml');
  writeFileSync(file, yaml);
  const busy = Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
  assert.throws(
    () => streamManifest(file, Buffer.from(yaml), () => { throw busy; }),
    (e: unknown) => e === busy,
  );
});

test('repeated rows, across batches: the first of each is stored, in order, and counted as the manifest stage counts them', async (t) => {
  const dir = tempDir(t);
  // 3000 rows, then the first 2500 again, then rows 100..199 once more: repeats far apart
  // (other batches) and close together, the same in either duration.
  writeFileSync(path.join(dir, 's.csv'), sheet(3000) + sheet(2500).split('\n').slice(1).join('\n') + sheet(100, 100).split('\n').slice(1).join('\n'));
  const file = path.join(dir, 'm.yaml');
  const big = yaml.replace('name: bulk\n', 'name: bulk\nmax_tasks: 20000\n');
  writeFileSync(file, big);
  const inThread = parseManifest(file, Buffer.from(big));
  assert.deepEqual([inThread.count, inThread.duplicates, inThread.expanded], [6000, 5200, 11200]);
  for (const bulkLoadFrom of [undefined, 1]) {
    const db = path.join(dir, `db-${bulkLoadFrom ?? 'default'}.sqlite`);
    const p = await plan(file, db, bulkLoadFrom);
    assert.deepEqual([p.added, p.manifest.count, p.manifest.duplicates, p.manifest.expanded], [6000, 6000, 5200, 11200]);
    const store = Store.open(db);
    t.after(() => store.close());
    const rows = store.listTasks('bulk');
    assert.deepEqual(rows.map((r) => r.key), inThread.tasks.map((x) => x.key));
    assert.deepEqual(rows.slice(0, 2).map((r) => r.source.line), [2, 2], 'the first of each is kept, not a later repeat');
  }
});
