import type { Store, TaskRow } from '../store/index.js';

/**
 * Planned tasks, read from SQLite a batch at a time (in manifest order) and handed out
 * one by one, with a count kept in memory: the loop asks "is anything left?" on every
 * wake, and a 100,000-task run must not answer it with a query each time.
 *
 * The count is exact because one process holds the run (the run lock) and every move in
 * or out of `planned` by the loop goes through `taken`/`returned`.
 */
export class PlannedFeed {
  readonly #store: Store;
  readonly #run: string;
  readonly #batch: number;
  #buffer: TaskRow[] = [];
  #left: number;

  constructor(store: Store, run: string, batch = 256) {
    this.#store = store;
    this.#run = run;
    this.#batch = batch;
    this.#left = store.counts(run).planned;
  }

  /** Planned tasks in the store, including those handed out and not yet taken. */
  get left(): number {
    return this.#left;
  }

  /**
   * The next planned row not in `busy` (rows handed out earlier whose submit has not
   * started yet), or undefined when none is left.
   */
  next(busy: ReadonlySet<string>): TaskRow | undefined {
    for (;;) {
      const row = this.#buffer.shift();
      if (row) {
        if (!busy.has(row.key)) return row;
        continue;
      }
      if (this.#left - busy.size <= 0) return undefined;
      // Rows still planned but handed out are returned again; skip them.
      const rows = this.#store.listByState(this.#run, 'planned', busy.size + this.#batch).filter((r) => !busy.has(r.key));
      if (rows.length === 0) {
        // The count drifted from the store (it cannot, with the run lock; but never spin).
        this.#left = busy.size;
        return undefined;
      }
      this.#buffer = rows;
    }
  }

  /** A row went planned → submitting (or failed). */
  taken(): void {
    this.#left--;
  }

  /** A row came back to planned (the POST surely created nothing). */
  returned(): void {
    this.#left++;
    // Its place is earlier in the manifest than what is buffered: read again from the store.
    this.#buffer = [];
  }

  /** Re-read the count (cheap: one indexed GROUP BY), e.g. when the run seems finished. */
  resync(): number {
    this.#buffer = [];
    this.#left = this.#store.counts(this.#run).planned;
    return this.#left;
  }
}
