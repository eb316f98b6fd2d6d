import type Database from 'better-sqlite3';
import { ERROR_CODES, StoreError } from '../core/errors.js';

/**
 * Versioned schema, applied in order by `migrate`. PRAGMA user_version holds the
 * number of migrations applied; a database from a newer vidbatch is refused rather
 * than guessed at.
 */
const MIGRATIONS: readonly string[] = [
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
