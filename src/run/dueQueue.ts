/**
 * Keys ordered by a due time, soonest first: the polls to send and the downloads to
 * start. A binary heap with lazy deletion — rescheduling a key pushes a new entry and
 * the old one is skipped when it surfaces — so each wake of the run loop costs
 * O(log n) per due key instead of a scan of every task in flight (1,000 tasks in flight,
 * 100,000 in a run).
 */
interface Entry {
  at: number;
  key: string;
  seq: number;
}

export class DueQueue {
  readonly #heap: Entry[] = [];
  /** The live entry per key; anything else in the heap is stale. */
  readonly #live = new Map<string, Entry>();
  #seq = 0;

  get size(): number {
    return this.#live.size;
  }

  has(key: string): boolean {
    return this.#live.has(key);
  }

  /** When `key` is due, or undefined when it is not scheduled. */
  dueAt(key: string): number | undefined {
    return this.#live.get(key)?.at;
  }

  /** Schedule `key` at `at`, replacing any earlier schedule of it. */
  set(key: string, at: number): void {
    const e = { at, key, seq: this.#seq++ };
    this.#live.set(key, e);
    this.#push(e);
    // Stale entries are dropped as they surface; compact if they ever dominate.
    if (this.#heap.length > 64 && this.#heap.length > 4 * this.#live.size) this.#compact();
  }

  delete(key: string): void {
    this.#live.delete(key);
  }

  /** Due time of the soonest live key, or undefined when empty. */
  peekAt(): number | undefined {
    this.#dropStale();
    return this.#heap[0]?.at;
  }

  /** Remove and return the soonest key due at or before `now`. */
  popDue(now: number): string | undefined {
    this.#dropStale();
    const top = this.#heap[0];
    if (!top || top.at > now) return undefined;
    this.#pop();
    this.#live.delete(top.key);
    return top.key;
  }

  #dropStale(): void {
    for (let top = this.#heap[0]; top && this.#live.get(top.key) !== top; top = this.#heap[0]) this.#pop();
  }

  #compact(): void {
    const keep = this.#heap.filter((e) => this.#live.get(e.key) === e);
    this.#heap.length = 0;
    for (const e of keep) this.#push(e);
  }

  #less(a: Entry, b: Entry): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  #push(e: Entry): void {
    const h = this.#heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = h[parent] as Entry;
      if (!this.#less(e, p)) break;
      h[i] = p;
      i = parent;
    }
    h[i] = e;
  }

  #pop(): void {
    const h = this.#heap;
    const last = h.pop();
    if (h.length === 0 || last === undefined) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const c = r < h.length && this.#less(h[r] as Entry, h[l] as Entry) ? r : l;
      if (!this.#less(h[c] as Entry, last)) break;
      h[i] = h[c] as Entry;
      i = c;
    }
    h[i] = last;
  }
}
