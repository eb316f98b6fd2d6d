import type Database from 'better-sqlite3';
import { ERROR_CODES, StoreError } from '../core/errors.js';

/**
 * Versioned schema, applied in order by `migrate`. PRAGMA user_version holds the
 * number of migrations applied; a database from a newer vidbatch is refused rather
 * than guessed at.
 */
/** Dropped and built again when a large new run is bulk-loaded (Store.planRun). */
export const TASKS_BY_KEY = 'CREATE UNIQUE INDEX tasks_by_key ON tasks(run, key)';

export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE runs (
    name           TEXT PRIMARY KEY,
    manifest_file  TEXT NOT NULL,
    manifest_hash  TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    lock_pid       INTEGER,
    lock_host      TEXT,
    lock_at        INTEGER
  );

  CREATE TABLE tasks (
    run            TEXT NOT NULL REFERENCES runs(name),
    key            TEXT NOT NULL,
    seq            INTEGER NOT NULL,
    model          TEXT NOT NULL,
    provider       TEXT NOT NULL,
    input_json     TEXT NOT NULL,
    take           INTEGER NOT NULL,
    source_file    TEXT NOT NULL,
    source_line    INTEGER NOT NULL,
    labels_json    TEXT NOT NULL,
    state          TEXT NOT NULL,
    task_id        TEXT,
    submits        INTEGER NOT NULL DEFAULT 0,
    submitted_at   INTEGER,
    result_urls_json TEXT,
    create_time    INTEGER,
    complete_time  INTEGER,
    cost_time      INTEGER,
    expires_at     INTEGER,
    file           TEXT,
    sha256         TEXT,
    bytes          INTEGER,
    media_json     TEXT,
    fail_reason    TEXT,
    fail_code      TEXT,
    fail_msg       TEXT,
    updated_at     INTEGER NOT NULL,
    PRIMARY KEY (run, key)
  ) WITHOUT ROWID;

  CREATE UNIQUE INDEX tasks_by_task_id ON tasks(task_id) WHERE task_id IS NOT NULL;
  CREATE INDEX tasks_by_state ON tasks(run, state, seq);

  -- Every transition, in order: the audit trail that status, tests and humans read.
  CREATE TABLE transitions (
    id         INTEGER PRIMARY KEY,
    run        TEXT NOT NULL,
    key        TEXT NOT NULL,
    from_state TEXT NOT NULL,
    to_state   TEXT NOT NULL,
    at         INTEGER NOT NULL,
    detail     TEXT
  );
  CREATE INDEX transitions_by_task ON transitions(run, key);
  `,
  // v2: tasks in a rowid table with (run, key) as a unique index. Planning appends rows
  // in manifest order and only the small index entries go in key order, where the
  // WITHOUT ROWID table moved whole rows about on every random key: half the cost of
  // storing a 2,000,000-task plan (bench/plan.ts).
  `
  CREATE TABLE tasks_v2 (
    id             INTEGER PRIMARY KEY,
    run            TEXT NOT NULL REFERENCES runs(name),
    key            TEXT NOT NULL,
    seq            INTEGER NOT NULL,
    model          TEXT NOT NULL,
    provider       TEXT NOT NULL,
    input_json     TEXT NOT NULL,
    take           INTEGER NOT NULL,
    source_file    TEXT NOT NULL,
    source_line    INTEGER NOT NULL,
    labels_json    TEXT NOT NULL,
    state          TEXT NOT NULL,
    task_id        TEXT,
    submits        INTEGER NOT NULL DEFAULT 0,
    submitted_at   INTEGER,
    result_urls_json TEXT,
    create_time    INTEGER,
    complete_time  INTEGER,
    cost_time      INTEGER,
    expires_at     INTEGER,
    file           TEXT,
    sha256         TEXT,
    bytes          INTEGER,
    media_json     TEXT,
    fail_reason    TEXT,
    fail_code      TEXT,
    fail_msg       TEXT,
    updated_at     INTEGER NOT NULL
  );
  INSERT INTO tasks_v2 (run, key, seq, model, provider, input_json, take, source_file, source_line, labels_json, state, task_id,
    submits, submitted_at, result_urls_json, create_time, complete_time, cost_time, expires_at, file, sha256, bytes, media_json,
    fail_reason, fail_code, fail_msg, updated_at)
  SELECT run, key, seq, model, provider, input_json, take, source_file, source_line, labels_json, state, task_id,
    submits, submitted_at, result_urls_json, create_time, complete_time, cost_time, expires_at, file, sha256, bytes, media_json,
    fail_reason, fail_code, fail_msg, updated_at
  FROM tasks ORDER BY run, seq;
  DROP TABLE tasks;
  ALTER TABLE tasks_v2 RENAME TO tasks;
  ${TASKS_BY_KEY};
  CREATE UNIQUE INDEX tasks_by_task_id ON tasks(task_id) WHERE task_id IS NOT NULL;
  CREATE INDEX tasks_by_state ON tasks(run, state, seq);
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

export function migrate(db: Database.Database, file: string): void {
  const version = () => db.pragma('user_version', { simple: true }) as number;
  const refuseNewer = (current: number) => {
    if (current > SCHEMA_VERSION) {
      throw new StoreError(
        ERROR_CODES.STORE_SCHEMA,
        `${file} has schema version ${current}, newer than this vidbatch understands (${SCHEMA_VERSION}); upgrade vidbatch`,
      );
    }
  };
  refuseNewer(version());
  if (version() === SCHEMA_VERSION) return;
  // Read the version again under the write lock: two processes opening a new database at
  // the same moment must not both create the tables.
  db.transaction(() => {
    const current = version();
    refuseNewer(current);
    for (let v = current; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]!);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}
