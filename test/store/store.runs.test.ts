import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Store, SCHEMA_VERSION } from '../../src/store/index.js';
import { spec } from '../helpers/specs.js';
import { tempDir } from '../helpers/tmp.js';

const specs = (n: number) => Array.from({ length: n }, (_, i) => spec(i + 1));

test('ensureRun remembers the manifest hash and reports a change', (t) => {
  const store = Store.open(join(tempDir(t), 'run.db'));
  t.after(() => store.close());
  assert.deepEqual(store.ensureRun('r', 'm.yaml', 'h1'), { created: true, manifestChanged: false, previousHash: null });
  assert.deepEqual(store.ensureRun('r', 'm.yaml', 'h1'), { created: false, manifestChanged: false, previousHash: 'h1' });
  assert.deepEqual(store.ensureRun('r', 'm.yaml', 'h2'), { created: false, manifestChanged: true, previousHash: 'h1' });
  assert.equal(store.getRun('r')!.manifestHash, 'h2');
});

test('a live process holding the run lock refuses a second one; a dead holder is taken over', (t) => {
  const store = Store.open(join(tempDir(t), 'run.db'));
  t.after(() => store.close());
  store.ensureRun('r', 'm', 'h');
  store.acquireRunLock('r', process.ppid); // a process that is surely alive
  assert.throws(() => store.acquireRunLock('r'), { code: 'E_RUN_LOCKED', message: new RegExp(`process ${process.ppid}`) });

  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  store.releaseRunLock('r', process.ppid);
  store.acquireRunLock('r', Number(dead.stdout.toString()));
  store.acquireRunLock('r'); // the holder has exited: taken over
  store.releaseRunLock('r');
});

test('the database is WAL, versioned, and a newer schema is refused', (t) => {
  const file = join(tempDir(t), 'run.db');
  Store.open(file).close();
  const raw = new Database(file);
  assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
  assert.equal(raw.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
  raw.close();
  assert.throws(() => Store.open(file), { code: 'E_STORE_SCHEMA' });
});

test('readSnapshot: every read inside sees the run as it was when it began, whatever another process commits meanwhile', async (t) => {
  const file = join(tempDir(t), 'run.db');
  const reader = Store.open(file);
  const writer = Store.open(file);
  t.after(() => (reader.close(), writer.close()));
  writer.ensureRun('r', 'm', 'h');
  writer.addTasks('r', specs(3));
  const seen = await reader.readSnapshot(async () => {
    const before = [...reader.iterateTasks('r')].length;
    writer.addTasks('r', specs(5)); // two more, committed by the other connection
    await new Promise((r) => setTimeout(r, 10));
    return [before, [...reader.iterateTasks('r')].length, reader.counts('r').planned];
  });
  assert.deepEqual(seen, [3, 3, 3]);
  assert.equal([...reader.iterateTasks('r')].length, 5, 'after it, the new tasks are there');
  await assert.rejects(reader.readSnapshot(async () => Promise.reject(new Error('boom'))), /boom/);
  assert.equal([...reader.iterateTasks('r')].length, 5, 'a failed read ends its transaction too');
});
