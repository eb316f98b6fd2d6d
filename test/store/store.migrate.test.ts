/** Databases written by an older vidbatch open as they were, tasks and all. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS } from '../../src/store/schema.js';
import { Store, SCHEMA_VERSION } from '../../src/store/index.js';
import { tempDir } from '../helpers/tmp.js';

test('a version 1 database (tasks WITHOUT ROWID) is migrated with every task, state and field kept', (t) => {
  const file = join(tempDir(t), 'old.db');
  const raw = new Database(file);
  raw.exec(MIGRATIONS[0]!);
  raw.pragma('user_version = 1');
  raw.prepare("INSERT INTO runs (name, manifest_file, manifest_hash, created_at, updated_at) VALUES ('r', 'm.yaml', 'h', 1, 1)").run();
  const insert = raw.prepare(
    `INSERT INTO tasks (run, key, seq, model, provider, input_json, take, source_file, source_line, labels_json, state, task_id, submits, result_urls_json, updated_at)
     VALUES ('r', ?, ?, 'kling-2-5-turbo-pro', 'auto', ?, 1, 'm.yaml', ?, '{"style":"noir"}', ?, ?, ?, ?, 5)`,
  );
  // Keys out of seq order, as random keys are.
  insert.run('ffff', 1, '{"mode":"text-to-video","prompt":"a"}', 3, 'archived', 'task_1', 1, '["http://x/1.mp4"]');
  insert.run('0000', 2, '{"mode":"text-to-video","prompt":"b"}', 4, 'submitted', 'task_2', 1, null);
  insert.run('8888', 3, '{"mode":"text-to-video","prompt":"c"}', 5, 'planned', null, 0, null);
  raw.close();

  const store = Store.open(file);
  t.after(() => store.close());
  const rows = store.listTasks('r');
  assert.deepEqual(rows.map((r) => [r.key, r.seq, r.state, r.taskId, r.input.prompt, r.source.line, r.labels, r.resultUrls]), [
    ['ffff', 1, 'archived', 'task_1', 'a', 3, { style: 'noir' }, ['http://x/1.mp4']],
    ['0000', 2, 'submitted', 'task_2', 'b', 4, { style: 'noir' }, null],
    ['8888', 3, 'planned', null, 'c', 5, { style: 'noir' }, null],
  ]);
  // Still one task a key, one task a taskId, and transitions work as before.
  assert.deepEqual(store.addTasks('r', [{ ...rows[2]!, key: '8888' }]), { added: 0, existing: 1 });
  store.transition('r', '8888', 'planned', 'submitting', {}, { countSubmit: true });
  assert.throws(() => store.transition('r', '8888', 'submitting', 'submitted', { task_id: 'task_2', submitted_at: 1 }), /UNIQUE/);
  const check = new Database(file, { readonly: true });
  t.after(() => check.close());
  assert.equal(check.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  assert.deepEqual(
    (check.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'tasks' ORDER BY name").all() as { name: string }[]).map((r) => r.name),
    ['tasks_by_key', 'tasks_by_state', 'tasks_by_task_id'],
  );
});

test('a large plan is checkpointed on a thread of its own, and the database holds every task afterwards', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'run.db');
  const store = Store.open(file);
  const fields = (i: number) => [`k${i}`, 'kling-2-5-turbo-pro', 'auto', `{"mode":"text-to-video","prompt":"p ${i}"}`, '1', 'm.yaml', String(i + 2), '{}'];
  const planned = await store.planRun('r', 'm.yaml', async (add) => {
    for (let b = 0; b < 20; b++) add(Array.from({ length: 500 }, (_, i) => fields(b * 500 + i)).flat());
    return { hash: 'h' };
  }, { backgroundCheckpointFrom: 1, bulkLoadFrom: 1000 });
  assert.equal(planned.added, 10_000);
  assert.ok(store.backgroundCheckpoint, 'the checkpoint runs in the background');
  await store.backgroundCheckpoint;
  // The pages are in the database file itself now, not only in the WAL.
  assert.ok(statSync(file).size > 10_000 * 50, `database file of ${statSync(file).size} bytes`);
  store.transition('r', 'k9999', 'planned', 'submitting', {}, { countSubmit: true });
  store.releaseRunLock('r');
  store.close();
  const again = Store.open(file);
  t.after(() => again.close());
  assert.equal(again.counts('r').planned, 9_999);
  assert.equal(again.getTask('r', 'k9999')!.state, 'submitting');
  assert.equal(again.getTask('r', 'k0')!.source.line, 2);
});
