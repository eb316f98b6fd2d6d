/**
 * The two documented limits, per API key: requests per minute and concurrent tasks.
 *
 * The request window is a rolling 60 s of real time (never scaled: a rehearsal must meet
 * the same request budget as the night). Requests refused with 429 are not counted, so
 * a client that waits for Retry-After is admitted then; Retry-After is the time until
 * the oldest counted request leaves the window, rounded up to whole seconds.
 */
import { MinHeap } from '../core/minHeap.js';

export const WINDOW_MS = 60_000;

export type Admission = { ok: true } | { ok: false; retryAfterMs: number };

/** Timestamps of admitted requests, oldest first; `head` skips the expired ones. */
interface Window {
  times: number[];
  head: number;
}

export class RollingWindow {
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #byKey = new Map<string, Window>();

  constructor(limit: number, windowMs = WINDOW_MS) {
    this.#limit = limit;
    this.#windowMs = windowMs;
  }

  /** Counts the request and admits it, or refuses it without counting. */
  admit(key: string, now: number): Admission {
    let w = this.#byKey.get(key);
    if (!w) {
      w = { times: [], head: 0 };
      this.#byKey.set(key, w);
    }
    const cutoff = now - this.#windowMs;
    while (w.head < w.times.length && (w.times[w.head] as number) <= cutoff) w.head++;
    // Compact only once the dead prefix dominates, so trimming stays amortised O(1).
    if (w.head > 1024 && w.head * 2 > w.times.length) {
      w.times = w.times.slice(w.head);
      w.head = 0;
    }
    const inWindow = w.times.length - w.head;
    if (inWindow >= this.#limit) {
      const oldest = w.times[w.head] as number;
      return { ok: false, retryAfterMs: Math.max(1, oldest + this.#windowMs - now) };
    }
    w.times.push(now);
    return { ok: true };
  }
}

/**
 * Tasks in pending/processing per key, as a heap of completion times: a task stops
 * counting at its completeTime with no timer and no status poll needed.
 */
export class ActiveTasks {
  readonly #byKey = new Map<string, MinHeap<number>>();

  add(key: string, completeTime: number): void {
    let h = this.#byKey.get(key);
    if (!h) {
      h = new MinHeap<number>((a, b) => a < b);
      this.#byKey.set(key, h);
    }
    h.push(completeTime);
  }

  count(key: string, now: number): number {
    const h = this.#byKey.get(key);
    if (!h) return 0;
    while (h.size > 0 && (h.peek() as number) <= now) h.pop();
    return h.size;
  }
}

export function retryAfterSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}
