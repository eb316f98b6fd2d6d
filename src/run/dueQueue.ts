import { MinHeap } from '../core/minHeap.js';

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
  readonly #heap = new MinHeap<Entry>((a, b) => a.at < b.at || (a.at === b.at && a.seq < b.seq));
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
    this.#heap.push(e);
    // Stale entries are dropped as they surface; compact if they ever dominate.
    if (this.#heap.size > 64 && this.#heap.size > 4 * this.#live.size) this.#heap.retain((x) => this.#live.get(x.key) === x);
  }

  delete(key: string): void {
    this.#live.delete(key);
  }

  /** Due time of the soonest live key, or undefined when empty. */
  peekAt(): number | undefined {
    this.#dropStale();
    return this.#heap.peek()?.at;
  }

  /** Remove and return the soonest key due at or before `now`. */
  popDue(now: number): string | undefined {
    this.#dropStale();
    const top = this.#heap.peek();
    if (!top || top.at > now) return undefined;
    this.#heap.pop();
    this.#live.delete(top.key);
    return top.key;
  }

  #dropStale(): void {
    for (let top = this.#heap.peek(); top && this.#live.get(top.key) !== top; top = this.#heap.peek()) this.#heap.pop();
  }
}
