import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { hostname } from 'node:os';
import Database from 'better-sqlite3';
import { ERROR_CODES, StoreError } from '../core/errors.js';
import { ALL_STATES, isAllowed, type Actor, type TaskState } from '../core/lifecycle.js';
import type { TaskSpec } from '../core/types.js';
import { migrate } from './schema.js';
import { fromRaw, type FailReason, type RawTaskRow, type TaskRow } from './rows.js';

/** Columns a transition may set besides `state`. Named as in SQL so nothing maps twice. */
export interface TransitionFields {
  task_id?: string | null;
  submitted_at?: number | null;
  result_urls_json?: string | null;
  create_time?: number | null;
  complete_time?: number | null;
  cost_time?: number | null;
  expires_at?: number | null;
  file?: string | null;
  sha256?: string | null;
  bytes?: number | null;
  media_json?: string | null;
  fail_reason?: FailReason | null;
  fail_code?: string | null;
  fail_msg?: string | null;
}
const FIELD_NAMES = new Set<string>([
  'task_id', 'submitted_at', 'result_urls_json', 'create_time', 'complete_time', 'cost_time', 'expires_at',
  'file', 'sha256', 'bytes', 'media_json', 'fail_reason', 'fail_code', 'fail_msg',
]);

export interface TransitionOptions {
  by?: Actor;
  /** fsync the WAL at commit (synchronous=FULL): for writes whose loss could make us pay twice. */
  durable?: boolean;
  /** Free text kept in the transitions log (never the API key). */
  detail?: string;
  /** Count a POST attempt (planned → submitting). */
  countSubmit?: boolean;
}

export type StateCounts = Record<TaskState, number>;

/** A lock holder refreshes its `lock_at` this often while it runs. */
export const LOCK_HEARTBEAT_MS = 20_000;
/**
 * A lock not refreshed for this long is taken over even if its pid looks alive: the pid may
 * have been reused (containers restart with small pids) or the holder ran on another host
 * (a database on a shared volume, a container with a new hostname) and died there.
 */
export const LOCK_STALE_MS = 3 * 60_000;

export interface RunInfo {
  name: string;
  manifestFile: string;
  manifestHash: string;
  createdAt: number;
  updatedAt: number;
}

/**
 * The run's checkpoint: the only module that speaks SQL. Every state change goes through
 * `transition`, one UPDATE guarded by the expected current state; a changed row count of
 * zero means someone else moved the task and is an error, never silently ignored.
 */
export class Store {
  readonly file: string;
  readonly #db: Database.Database;
  readonly #now: () => number;
  readonly #updateCache = new Map<string, Database.Statement>();
  readonly #logTransition: Database.Statement;
  readonly #getTask: Database.Statement;
  readonly #byState: Database.Statement;
  readonly #counts: Database.Statement;
  readonly #heartbeats = new Map<string, NodeJS.Timeout>();

  private constructor(file: string, db: Database.Database, now: () => number) {
    this.file = file;
    this.#db = db;
    this.#now = now;
    this.#logTransition = db.prepare(
      'INSERT INTO transitions (run, key, from_state, to_state, at, detail) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.#getTask = db.prepare('SELECT * FROM tasks WHERE run = ? AND key = ?');
    this.#byState = db.prepare('SELECT * FROM tasks WHERE run = ? AND state = ? ORDER BY seq LIMIT ?');
    this.#counts = db.prepare('SELECT state, COUNT(*) AS n FROM tasks WHERE run = ? GROUP BY state');
  }

  static open(file: string, options: { now?: () => number } = {}): Store {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    const db = new Database(file);
    // First, so that a second process opening the same file waits instead of failing.
    db.pragma('busy_timeout = 5000');
    db.pragma('journal_mode = WAL');
    // NORMAL is safe against a crashed process in WAL mode; the writes that guard
    // against paying twice switch to FULL for their commit (see `transition`).
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    migrate(db, file);
    return new Store(file, db, options.now ?? Date.now);
  }

  close(): void {
    for (const timer of this.#heartbeats.values()) clearInterval(timer);
    this.#heartbeats.clear();
    this.#db.close();
  }

  // ---- runs -------------------------------------------------------------------------

  /** Create the run or confirm it; tells whether the manifest changed since it was first stored. */
  ensureRun(name: string, manifestFile: string, manifestHash: string): { created: boolean; manifestChanged: boolean; previousHash: string | null } {
    const now = this.#now();
    return this.#db.transaction(() => {
      const row = this.#db.prepare('SELECT manifest_hash FROM runs WHERE name = ?').get(name) as { manifest_hash: string } | undefined;
      if (!row) {
        this.#db
          .prepare('INSERT INTO runs (name, manifest_file, manifest_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?)')
          .run(name, manifestFile, manifestHash, now, now);
        return { created: true, manifestChanged: false, previousHash: null };
      }
      const changed = row.manifest_hash !== manifestHash;
      this.#db
        .prepare('UPDATE runs SET manifest_file = ?, manifest_hash = ?, updated_at = ? WHERE name = ?')
        .run(manifestFile, manifestHash, now, name);
      return { created: false, manifestChanged: changed, previousHash: row.manifest_hash };
    }).immediate();
  }

  getRun(name: string): RunInfo | undefined {
    const r = this.#db.prepare('SELECT * FROM runs WHERE name = ?').get(name) as
      | { name: string; manifest_file: string; manifest_hash: string; created_at: number; updated_at: number }
      | undefined;
    return r && { name: r.name, manifestFile: r.manifest_file, manifestHash: r.manifest_hash, createdAt: r.created_at, updatedAt: r.updated_at };
  }

  listRuns(): RunInfo[] {
    const rows = this.#db.prepare('SELECT name FROM runs ORDER BY updated_at DESC').all() as { name: string }[];
    return rows.map((r) => this.getRun(r.name)!);
  }

  /**
   * One process per run. A lock whose process is gone (crash, SIGKILL) is taken over;
   * a live one is refused with the pid so the user can find it.
   */
  acquireRunLock(name: string, pid: number = process.pid): void {
    const host = hostname();
    this.#db.transaction(() => {
      const r = this.#db.prepare('SELECT lock_pid, lock_host, lock_at FROM runs WHERE name = ?').get(name) as
        | { lock_pid: number | null; lock_host: string | null; lock_at: number | null }
        | undefined;
      if (!r) throw new StoreError(ERROR_CODES.USAGE, `run '${name}' does not exist in ${this.file}`);
      const fresh = r.lock_at !== null && r.lock_at > this.#now() - LOCK_STALE_MS;
      if (r.lock_pid !== null && r.lock_pid !== pid && fresh && (r.lock_host !== host || processAlive(r.lock_pid))) {
        const since = r.lock_at ? new Date(r.lock_at).toISOString() : 'an unknown time';
        throw new StoreError(
          ERROR_CODES.RUN_LOCKED,
          `run '${name}' is in use by process ${r.lock_pid} on ${r.lock_host ?? 'an unknown host'} since ${since}; ` +
            `wait for it to finish or stop it (a lock left by a crashed process on this host is taken over at once, ` +
            `any other once it has not been refreshed for ${LOCK_STALE_MS / 60_000} minutes)`,
        );
      }
      this.#db.prepare('UPDATE runs SET lock_pid = ?, lock_host = ?, lock_at = ? WHERE name = ?').run(pid, host, this.#now(), name);
    }).immediate();
    // The heartbeat that tells other hosts (and a reused pid) that the holder is alive.
    clearInterval(this.#heartbeats.get(name));
    const beat = this.#db.prepare('UPDATE runs SET lock_at = ? WHERE name = ? AND lock_pid = ? AND lock_host = ?');
    const timer = setInterval(() => {
      try {
        beat.run(this.#now(), name, pid, host);
      } catch {
        // A busy database skips one beat; the next one comes long before the lock goes stale.
      }
    }, LOCK_HEARTBEAT_MS);
    timer.unref();
    this.#heartbeats.set(name, timer);
  }

  releaseRunLock(name: string, pid: number = process.pid): void {
    clearInterval(this.#heartbeats.get(name));
    this.#heartbeats.delete(name);
    this.#db.prepare('UPDATE runs SET lock_pid = NULL, lock_host = NULL, lock_at = NULL WHERE name = ? AND lock_pid = ?').run(name, pid);
  }

  // ---- tasks ------------------------------------------------------------------------

  /** Store planned tasks; tasks already in the run (same key) are left exactly as they are. */
  addTasks(run: string, specs: readonly TaskSpec[]): { added: number; existing: number } {
    const now = this.#now();
    const insert = this.#db.prepare(
      `INSERT INTO tasks (run, key, seq, model, provider, input_json, take, source_file, source_line, labels_json, state, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'planned', ?)
       ON CONFLICT (run, key) DO NOTHING`,
    );
    return this.#db.transaction(() => {
      const last = this.#db.prepare('SELECT COALESCE(MAX(seq), 0) AS seq FROM tasks WHERE run = ?').get(run) as { seq: number };
      let added = 0;
      for (const s of specs) {
        const seq = last.seq + added + 1;
        added += insert.run(run, s.key, seq, s.model, s.provider, JSON.stringify(s.input), s.take, s.source.file, s.source.line, JSON.stringify(s.labels), now).changes;
      }
      return { added, existing: specs.length - added };
    }).immediate();
  }

  /**
   * Store planned tasks as a producer hands them over, all in one transaction: for
   * manifests too large to hold in memory (a million-row sheet, see bench/plan.ts). If
   * `produce` throws — the manifest stage throws its ManifestError once the whole sheet
   * is read — nothing is stored. Tasks already in the run are left exactly as they are.
   *
   * Task keys are random, and inserting rows in random key order into the tasks table
   * (keyed by run and key) costs three times what appending in key order costs. So the
   * tasks are first appended to a temporary table, then moved over sorted by key, SQLite
   * sorting on disk; `seq` still follows the producer's order.
   */
  addTaskStream(run: string, produce: (add: (spec: TaskSpec) => void) => void): { added: number; existing: number } {
    const now = this.#now();
    this.#db.exec(`CREATE TEMP TABLE IF NOT EXISTS plan_staging (
      n INTEGER PRIMARY KEY, key TEXT NOT NULL, model TEXT NOT NULL, provider TEXT NOT NULL, input_json TEXT NOT NULL,
      take INTEGER NOT NULL, source_file TEXT NOT NULL, source_line INTEGER NOT NULL, labels_json TEXT NOT NULL)`);
    const stage = this.#db.prepare(
      'INSERT INTO temp.plan_staging (key, model, provider, input_json, take, source_file, source_line, labels_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    try {
      return this.#db.transaction(() => {
        this.#db.exec('DELETE FROM temp.plan_staging');
        let seen = 0;
        produce((s) => {
          seen++;
          stage.run(s.key, s.model, s.provider, JSON.stringify(s.input), s.take, s.source.file, s.source.line, JSON.stringify(s.labels));
        });
        this.#db.prepare('DELETE FROM temp.plan_staging WHERE key IN (SELECT key FROM tasks WHERE run = ?)').run(run);
        const last = this.#db.prepare('SELECT COALESCE(MAX(seq), 0) AS seq FROM tasks WHERE run = ?').get(run) as { seq: number };
        // The sort: a helper thread sorts and merges while this one reads.
        this.#db.pragma('threads = 2');
        const added = this.#db
          .prepare(
            `INSERT INTO tasks (run, key, seq, model, provider, input_json, take, source_file, source_line, labels_json, state, updated_at)
             SELECT ?, key, ? + ROW_NUMBER() OVER (ORDER BY n), model, provider, input_json, take, source_file, source_line, labels_json, 'planned', ?
             FROM temp.plan_staging WHERE true ORDER BY key
             ON CONFLICT (run, key) DO NOTHING`,
          )
          .run(run, last.seq, now).changes;
        return { added, existing: seen - added };
      }).immediate();
    } finally {
      this.#db.pragma('threads = 0');
      this.#db.exec('DROP TABLE IF EXISTS temp.plan_staging');
    }
  }

  getTask(run: string, key: string): TaskRow | undefined {
    const r = this.#getTask.get(run, key) as RawTaskRow | undefined;
    return r && fromRaw(r);
  }

  listByState(run: string, state: TaskState, limit = -1): TaskRow[] {
    return (this.#byState.all(run, state, limit) as RawTaskRow[]).map(fromRaw);
  }

  /** Rows one at a time, in manifest order: for passes over a whole 100k-task run without holding it. */
  *iterateTasks(run: string, state?: TaskState): IterableIterator<TaskRow> {
    const rows = (state === undefined
      ? this.#db.prepare('SELECT * FROM tasks WHERE run = ? ORDER BY seq').iterate(run)
      : this.#db.prepare('SELECT * FROM tasks WHERE run = ? AND state = ? ORDER BY seq').iterate(run, state)) as IterableIterator<RawTaskRow>;
    for (const r of rows) yield fromRaw(r);
  }

  listTasks(run: string): TaskRow[] {
    return (this.#db.prepare('SELECT * FROM tasks WHERE run = ? ORDER BY seq').all(run) as RawTaskRow[]).map(fromRaw);
  }

  counts(run: string): StateCounts {
    const out = Object.fromEntries(ALL_STATES.map((s) => [s, 0])) as StateCounts;
    for (const r of this.#counts.all(run) as { state: TaskState; n: number }[]) out[r.state] = r.n;
    return out;
  }

  /** Keys of the run not in `keys`: tasks the manifest no longer lists (left alone, reported). */
  countNotIn(run: string, keys: ReadonlySet<string>): number {
    let n = 0;
    for (const r of this.#db.prepare('SELECT key FROM tasks WHERE run = ?').iterate(run) as Iterable<{ key: string }>) {
      if (!keys.has(r.key)) n++;
    }
    return n;
  }

  transitionLog(run: string, key?: string): { key: string; from: TaskState; to: TaskState; at: number; detail: string | null }[] {
    const rows = (key === undefined
      ? this.#db.prepare('SELECT key, from_state, to_state, at, detail FROM transitions WHERE run = ? ORDER BY id').all(run)
      : this.#db.prepare('SELECT key, from_state, to_state, at, detail FROM transitions WHERE run = ? AND key = ? ORDER BY id').all(run, key)) as {
      key: string;
      from_state: TaskState;
      to_state: TaskState;
      at: number;
      detail: string | null;
    }[];
    return rows.map((r) => ({ key: r.key, from: r.from_state, to: r.to_state, at: r.at, detail: r.detail }));
  }

  /**
   * Apply one lifecycle transition as one guarded UPDATE. Throws E_ILLEGAL_TRANSITION when
   * the lifecycle forbids it or the row is not in `from` (someone else moved it).
   */
  transition(run: string, key: string, from: TaskState, to: TaskState, fields: TransitionFields = {}, options: TransitionOptions = {}): void {
    const by = options.by ?? 'loop';
    if (!isAllowed(from, to, by)) {
      throw new StoreError(ERROR_CODES.ILLEGAL_TRANSITION, `task ${key}: ${from} → ${to} is not an allowed transition for the ${by}`);
    }
    const names = Object.keys(fields).filter((k) => FIELD_NAMES.has(k)).sort();
    const stmt = this.#updateStatement(names, options.countSubmit === true);
    const values = names.map((n) => fields[n as keyof TransitionFields] ?? null);
    const now = this.#now();
    const apply = this.#db.transaction(() => {
      const changes = stmt.run(to, now, ...values, run, key, from).changes;
      if (changes !== 1) {
        const actual = this.#getTask.get(run, key) as RawTaskRow | undefined;
        throw new StoreError(
          ERROR_CODES.ILLEGAL_TRANSITION,
          `task ${key}: expected state ${from} for ${from} → ${to}, found ${actual ? actual.state : 'no such task'}`,
        );
      }
      this.#logTransition.run(run, key, from, to, now, options.detail ?? null);
    });
    if (options.durable) {
      this.#db.pragma('synchronous = FULL');
      try {
        apply.immediate();
      } finally {
        this.#db.pragma('synchronous = NORMAL');
      }
    } else {
      apply.immediate();
    }
  }

  /**
   * At start-up, a task still in `submitting` belongs to a process that died mid-POST:
   * the provider may have created it, so it becomes in_doubt and is never resubmitted
   * on its own.
   */
  recoverInterrupted(run: string): number {
    const rows = this.listByState(run, 'submitting');
    for (const r of rows) {
      this.transition(run, r.key, 'submitting', 'in_doubt', {}, { durable: true, detail: 'found in submitting at start-up: the POST may have created a task' });
    }
    return rows.length;
  }

  /**
   * A succeeded task's result URLs, re-read from the provider (the old ones expired or
   * lead nowhere). Not a transition: the task stays succeeded. False if it is no longer
   * succeeded.
   */
  refreshResult(run: string, key: string, resultUrls: readonly string[], expiresAt: number): boolean {
    return this.#db
      .prepare("UPDATE tasks SET result_urls_json = ?, expires_at = ?, updated_at = ? WHERE run = ? AND key = ? AND state = 'succeeded'")
      .run(JSON.stringify(resultUrls), expiresAt, this.#now(), run, key).changes === 1;
  }

  /** Tasks in `from` moved back to planned by an explicit user command; returns how many. */
  replan(run: string, from: 'in_doubt' | 'failed', filter: { failCode?: string } = {}): number {
    const rows = this.listByState(run, from).filter((r) => filter.failCode === undefined || r.failCode === filter.failCode);
    this.#db.transaction(() => {
      for (const r of rows) {
        this.transition(
          run, r.key, from, 'planned',
          { task_id: null, submitted_at: null, result_urls_json: null, create_time: null, complete_time: null, cost_time: null, expires_at: null, fail_reason: null, fail_code: null, fail_msg: null },
          { by: 'user', detail: r.taskId ? `replanned by user; previous taskId ${r.taskId}` : 'replanned by user' },
        );
      }
    }).immediate();
    return rows.length;
  }

  #updateStatement(names: readonly string[], countSubmit: boolean): Database.Statement {
    const id = names.join(',') + (countSubmit ? '+submit' : '');
    let stmt = this.#updateCache.get(id);
    if (!stmt) {
      const sets = ['state = ?', 'updated_at = ?', ...names.map((n) => `${n} = ?`)];
      if (countSubmit) sets.push('submits = submits + 1');
      stmt = this.#db.prepare(`UPDATE tasks SET ${sets.join(', ')} WHERE run = ? AND key = ? AND state = ?`);
      this.#updateCache.set(id, stmt);
    }
    return stmt;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else — still alive.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
