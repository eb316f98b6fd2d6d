import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { hostname } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { LOCK_STALE_MS, Store } from '../../src/store/store.js';
import { tempDir } from '../helpers/tmp.js';

function setLock(file: string, pid: number, host: string, at: number): void {
  const raw = new Database(file);
  raw.prepare('UPDATE runs SET lock_pid = ?, lock_host = ?, lock_at = ? WHERE name = ?').run(pid, host, at, 'r');
  raw.close();
}

test('a lock is refused while fresh; left by a dead or silent holder, it does not block forever', (t) => {
  const file = join(tempDir(t), 'run.db');
  const store = Store.open(file);
  t.after(() => store.close());
  store.ensureRun('r', 'm', 'h');
  const now = Date.now();

  // Another host, heartbeat fresh: refused (we cannot see its processes).
  setLock(file, 4242, 'another-host', now - 1_000);
  assert.throws(() => store.acquireRunLock('r'), { code: 'E_RUN_LOCKED', message: /process 4242 on another-host/ });
  // Another host, silent past the stale limit: it died there; taken over.
  setLock(file, 4242, 'another-host', now - LOCK_STALE_MS - 1_000);
  store.acquireRunLock('r');
  store.releaseRunLock('r');

  // This host, a pid that is alive (our parent) but silent for long: a reused pid; taken over.
  setLock(file, process.ppid, hostname(), now - LOCK_STALE_MS - 1_000);
  store.acquireRunLock('r');
  store.releaseRunLock('r');
  // This host, alive and fresh: refused.
  setLock(file, process.ppid, hostname(), now);
  assert.throws(() => store.acquireRunLock('r'), { code: 'E_RUN_LOCKED' });
});

test('the holder refreshes its lock while it runs (the heartbeat others judge it by)', async (t) => {
  const file = join(tempDir(t), 'run.db');
  let clock = 1_000_000;
  const store = Store.open(file, { now: () => clock });
  t.after(() => store.close());
  store.ensureRun('r', 'm', 'h');
  t.mock.timers.enable({ apis: ['setInterval'] });
  store.acquireRunLock('r');
  clock += 60_000;
  t.mock.timers.tick(25_000);
  const raw = new Database(file, { readonly: true });
  const row = raw.prepare('SELECT lock_at FROM runs WHERE name = ?').get('r') as { lock_at: number };
  raw.close();
  assert.equal(row.lock_at, clock);
  store.releaseRunLock('r');
});
