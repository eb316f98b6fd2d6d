import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { hostname } from 'node:os';
import Database from 'better-sqlite3';
import { ERROR_CODES, StoreError } from '../core/errors.js';
import { startWorker } from '../core/worker.js';
import { ALL_STATES, isAllowed, type Actor, type TaskState } from '../core/lifecycle.js';
import { TASK_RECORD_FIELDS } from '../core/taskRecord.js';
import type { TaskSpec } from '../core/types.js';
import { migrate, TASKS_BY_KEY } from './schema.js';
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

/** What planning a run did; see `Store.planRun`. */
export interface PlannedRun {
  created: boolean;
  manifestChanged: boolean;
  previousHash: string | null;
  /** Tasks stored now. */
  added: number;
  /** Tasks of the manifest the run already had, left as they were. */
  existing: number;
  /** Tasks of the run the manifest no longer lists (left alone, reported). */
  notInManifest: number;
}

/** SQLite's default: a commit that leaves the WAL longer than this many pages checkpoints it. */
const WAL_AUTOCHECKPOINT_PAGES = 1000;
/** A plan whose WAL is larger than this is checkpointed on a thread of its own. */
const BACKGROUND_CHECKPOINT_BYTES = 64 * 1024 * 1024;
const WAL_SIZE_LIMIT = 64 * 1024 * 1024;

/** SQLite's page cache while planning (KiB): for the key index's random inserts. */
const PLAN_CACHE_KIB = 32 * 1024;
/** …and once it is dropped, for the appends (they only touch the right edge of each B-tree)… */
const BULK_CACHE_KIB = 8 * 1024;
/**
 * …and for the sort that builds it again: the sorter sizes its runs by the cache, and
 * 2,000,000 keys sort in 1.1 s with 2 MiB against 1.3 s with 8 MiB and 1.7 s with 32 MiB
 * (smaller runs stay in the CPU's caches).
 */
const SORT_CACHE_KIB = 2 * 1024;

/** A new run is bulk-loaded (see `planRun`) once it has brought this many tasks, and as many as the table held. */
const BULK_LOAD_MIN_TASKS = 50_000;

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
    // A large plan leaves a WAL as large as itself; once checkpointed, give the space back.
    db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT}`);
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
    this.#db.transaction(() => this.#takeLock(name, pid)).immediate();
    this.#startHeartbeat(name, pid);
  }

  /** Inside a write transaction: refuse a lock held by a live process, else take it. */
  #takeLock(name: string, pid: number): void {
    const host = hostname();
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
  }

  /** The heartbeat that tells other hosts (and a reused pid) that the holder is alive. */
  #startHeartbeat(name: string, pid: number): void {
    const host = hostname();
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
   * Plan a run as one transaction: create the run or find it, take its lock, store every
   * task `produce` hands over, and record the manifest's hash — or, when `produce`
   * rejects (the manifest stage reports its errors once the whole sheet is read), none of
   * it. A 2,000,000-task plan streams through here (bench/plan.ts) without ever being held
   * in memory. Tasks already in the run (same key) are left exactly as they are; new ones
   * are numbered after them in the producer's order.
   *
   * Tasks come as flat records (see `TASK_RECORD_FIELDS`), their JSON already written by
   * the producer, so that this thread does nothing a task but bind and insert.
   *
   * While it runs the database is write-locked, and the connection must not be used for
   * anything else: the transaction spans the producer's awaits.
   */
  async planRun(
    name: string,
    manifestFile: string,
    produce: (add: (records: readonly string[]) => void) => Promise<{ hash: string }>,
    options: { pid?: number; bulkLoadFrom?: number; backgroundCheckpointFrom?: number } = {},
  ): Promise<PlannedRun> {
    const pid = options.pid ?? process.pid;
    const now = this.#now();
    const insert = this.#db.prepare(
      `INSERT INTO tasks (run, key, seq, model, provider, input_json, take, source_file, source_line, labels_json, state, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'planned', ?)
       ON CONFLICT (run, key) DO NOTHING`,
    );
    const db = this.#db;
    const cacheSize = db.pragma('cache_size', { simple: true }) as number;
    // Whether the plan's pages are copied from the WAL into the database file now or on a
    // thread of their own is decided once it is committed (see #checkpointAfterPlan).
    db.pragma('wal_autocheckpoint = 0');
    db.exec('BEGIN IMMEDIATE');
    try {
      const row = db.prepare('SELECT manifest_hash FROM runs WHERE name = ?').get(name) as { manifest_hash: string } | undefined;
      if (!row) {
        db.prepare('INSERT INTO runs (name, manifest_file, manifest_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?)').run(name, manifestFile, '', now, now);
      }
      this.#takeLock(name, pid);
      // The (run, key) index takes its entries in random order: a larger cache keeps its
      // pages from being written to the WAL again and again during a big plan.
      db.pragma(`cache_size = ${-PLAN_CACHE_KIB}`);
      const last = db.prepare('SELECT COALESCE(MAX(seq), 0) AS seq FROM tasks WHERE run = ?').get(name) as { seq: number };
      // A new run that brings more tasks than the table holds is loaded as bulk loaders
      // do: the (run, key) index is dropped and built again at the end, one sort instead
      // of a random B-tree insert a task. Only for a new run, whose keys (deduplicated by
      // the manifest stage) cannot clash with stored ones; the unique index built at the
      // end would refuse the transaction if they did.
      const tableRows = row ? 0 : (db.prepare('SELECT COUNT(*) AS n FROM tasks').get() as { n: number }).n;
      const bulkFrom = Math.max(options.bulkLoadFrom ?? BULK_LOAD_MIN_TASKS, tableRows);
      let bulk: Database.Statement | undefined;
      let seq = last.seq;
      let seen = 0;
      // The run's row was written above and is written again at the end. Were its page
      // spilled to the WAL meanwhile (the least recently used dirty page goes first), the
      // commit would find a frame of this transaction overwritten and checksum the whole
      // WAL again from there: 0.5 s for a 2,000,000-task plan. Reading it keeps it fresh.
      const touchRun = db.prepare('SELECT lock_pid FROM runs WHERE name = ?');
      const { hash } = await produce((r) => {
        touchRun.get(name);
        for (let i = 0; i + TASK_RECORD_FIELDS <= r.length; i += TASK_RECORD_FIELDS) {
          seen++;
          if (bulk) {
            bulk.run(name, r[i], ++seq, r[i + 1], r[i + 2], r[i + 3], r[i + 4], r[i + 5], r[i + 6], r[i + 7], now);
            continue;
          }
          seq += insert.run(name, r[i], seq + 1, r[i + 1], r[i + 2], r[i + 3], r[i + 4], r[i + 5], r[i + 6], r[i + 7], now).changes;
          if (!row && seen === bulkFrom) {
            db.exec('DROP INDEX tasks_by_key');
            db.pragma(`cache_size = ${-BULK_CACHE_KIB}`);
            bulk = db.prepare(
              `INSERT INTO tasks (run, key, seq, model, provider, input_json, take, source_file, source_line, labels_json, state, updated_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'planned', ?)`,
            );
          }
        }
      });
      if (bulk) {
        db.pragma(`cache_size = ${-SORT_CACHE_KIB}`);
        db.pragma('threads = 2'); // a helper thread sorts while this one reads
        db.exec(TASKS_BY_KEY);
        db.pragma('threads = 0');
      }
      db.prepare('UPDATE runs SET manifest_file = ?, manifest_hash = ?, updated_at = ? WHERE name = ?').run(manifestFile, hash, now, name);
      const inRun = row ? (db.prepare('SELECT COUNT(*) AS n FROM tasks WHERE run = ?').get(name) as { n: number }).n : seq;
      db.exec('COMMIT');
      this.#checkpointAfterPlan(options.backgroundCheckpointFrom ?? BACKGROUND_CHECKPOINT_BYTES);
      this.#startHeartbeat(name, pid);
      const added = seq - last.seq;
      return {
        created: !row,
        manifestChanged: row !== undefined && row.manifest_hash !== hash,
        previousHash: row ? row.manifest_hash : null,
        added,
        existing: seen - added,
        notInManifest: inRun - seen,
      };
    } catch (e) {
      if (db.inTransaction) db.exec('ROLLBACK');
      db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
      throw e;
    } finally {
      db.pragma(`cache_size = ${cacheSize}`);
    }
  }

  /**
   * Set while a large plan's WAL is being copied into the database file on a thread of
   * its own; resolves when done (the copy is crash-safe and resumes if interrupted).
   */
  backgroundCheckpoint: Promise<void> | undefined;

  /**
   * The pages of a 2,000,000-task plan are about 900 MB of WAL: copying them into the
   * database file and syncing both takes seconds on a disk, and the run has no need to
   * wait for it. A small plan's WAL is checkpointed as usual, by the next commits.
   */
  #checkpointAfterPlan(fromBytes: number): void {
    const wal = this.file === ':memory:' ? 0 : (statSync(`${this.file}-wal`, { throwIfNoEntry: false })?.size ?? 0);
    if (wal < fromBytes || this.backgroundCheckpoint) {
      if (!this.backgroundCheckpoint) this.#db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
      return;
    }
    const worker = startWorker(import.meta.url, './checkpointEntry', { file: this.file });
    this.backgroundCheckpoint = new Promise<void>((resolve) => {
      const done = () => {
        // Until now commits leave the WAL alone, so as not to copy the same pages twice.
        if (this.#db.open) this.#db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
        resolve();
      };
      worker.once('message', done);
      worker.once('error', done);
      worker.once('exit', done);
    });
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

  /**
   * Runs `read` in one read transaction: every query it makes sees the database as it was
   * when it began, whatever other processes commit meanwhile (a CSV export reads a run
   * twice, its header first). Only for reading; nothing else may use this store meanwhile.
   */
  async readSnapshot<T>(read: () => Promise<T>): Promise<T> {
    this.#db.exec('BEGIN DEFERRED');
    try {
      // A deferred transaction takes its snapshot at its first read: take it now.
      this.#db.prepare('SELECT 1 FROM runs LIMIT 1').get();
      return await read();
    } finally {
      if (this.#db.inTransaction) this.#db.exec('COMMIT');
    }
  }

  /** Epoch ms of the last change to any task of the run; null when it has none. */
  lastActivity(run: string): number | null {
    return (this.#db.prepare('SELECT MAX(updated_at) AS at FROM tasks WHERE run = ?').get(run) as { at: number | null }).at;
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
