import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Store, SCHEMA_VERSION } from '../../src/store/index.js';
import { tempDir } from '../helpers/tmp.js';

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
