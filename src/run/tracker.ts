import type { VideoInput } from '../core/types.js';
import { DueQueue } from './dueQueue.js';

/**
 * The tasks this process has in flight (submitted, not yet seen finished), when each is
 * next due for a status poll, and the callback hints that arrived for them.
 *
 * A hint (a callback, see src/callback) only moves a task's next poll to now: the poll
 * verifies it. Hints for a taskId we do not know yet — the callback overtook the answer
 * to our POST — are kept a while and applied when the taskId arrives.
 */
export interface InFlight {
  key: string;
  model: string;
  taskId: string;
  input: VideoInput;
  submittedAt: number;
  /** After this, a task still running is reported stuck and dropped from this run. */
  deadline: number;
  /** 'waiting' until its first poll answered "still running", then 'polling'. */
  phase: 'waiting' | 'polling';
  /** A status GET for it is queued or in flight. */
  inRequest: boolean;
  /** A hint arrived while a GET was already in flight: ask again as soon as it answers. */
  rehint: boolean;
  pollFailures: number;
}

export type HintOutcome = 'verify' | 'duplicate' | 'early' | 'unknown';

/** Hints for unknown taskIds kept at most this many, this long. */
const EARLY_HINTS_MAX = 10_000;

export class InFlightTracker {
  readonly #tasks = new Map<string, InFlight>();
  readonly #byTaskId = new Map<string, string>();
  readonly #due = new DueQueue();
  readonly #early = new Map<string, number>();
  readonly #earlyTtlMs: number;
  #polling = 0;

  constructor(options: { earlyHintTtlMs: number }) {
    this.#earlyTtlMs = options.earlyHintTtlMs;
  }

  /** Tasks in flight. */
  get size(): number {
    return this.#tasks.size;
  }

  /** Tasks in their repeated-polling phase: what the poll interval is spread over. */
  get polling(): number {
    return this.#polling;
  }

  values(): IterableIterator<InFlight> {
    return this.#tasks.values();
  }

  get(key: string): InFlight | undefined {
    return this.#tasks.get(key);
  }

  /** Start tracking; returns true when a callback for it had already arrived. */
  add(t: Omit<InFlight, 'phase' | 'inRequest' | 'rehint' | 'pollFailures'>, firstPollAt: number, now: number): boolean {
    const task: InFlight = { ...t, phase: 'waiting', inRequest: false, rehint: false, pollFailures: 0 };
    this.#tasks.set(t.key, task);
    this.#byTaskId.set(t.taskId, t.key);
    const early = this.#early.get(t.taskId);
    this.#early.delete(t.taskId);
    const hinted = early !== undefined && now - early <= this.#earlyTtlMs;
    this.#due.set(t.key, hinted ? now : firstPollAt);
    return hinted;
  }

  remove(key: string): void {
    const t = this.#tasks.get(key);
    if (!t) return;
    if (t.phase === 'polling') this.#polling--;
    this.#tasks.delete(key);
    this.#byTaskId.delete(t.taskId);
    this.#due.delete(key);
  }

  /** The first "still running" answer moves a task into the polling phase. */
  markPolling(t: InFlight): void {
    if (t.phase === 'polling') return;
    t.phase = 'polling';
    this.#polling++;
  }

  schedule(key: string, at: number): void {
    if (this.#tasks.has(key)) this.#due.set(key, at);
  }

  /** The next task due at or before `now`, taken off the schedule. */
  popDue(now: number): InFlight | undefined {
    for (let key = this.#due.popDue(now); key !== undefined; key = this.#due.popDue(now)) {
      const t = this.#tasks.get(key);
      if (t) return t;
    }
    return undefined;
  }

  /** When the next poll is due (undefined when nothing is scheduled). */
  nextDueAt(): number | undefined {
    return this.#due.peekAt();
  }

  /**
   * A callback said `taskId` finished. `expectingIds`: a POST is in flight, so an
   * unknown taskId may be one whose answer has not arrived yet.
   */
  hint(taskId: string, now: number, expectingIds: boolean): HintOutcome {
    const key = this.#byTaskId.get(taskId);
    const t = key === undefined ? undefined : this.#tasks.get(key);
    if (!t) {
      if (!expectingIds) return 'unknown';
      this.#pruneEarly(now);
      if (this.#early.size >= EARLY_HINTS_MAX) return 'unknown';
      this.#early.set(taskId, now);
      return 'early';
    }
    if (t.inRequest) {
      if (t.rehint) return 'duplicate';
      t.rehint = true;
      return 'verify';
    }
    if ((this.#due.dueAt(t.key) ?? Infinity) <= now) return 'duplicate';
    this.#due.set(t.key, now);
    return 'verify';
  }

  #pruneEarly(now: number): void {
    // Map iteration is insertion order, so the oldest come first.
    for (const [id, at] of this.#early) {
      if (now - at <= this.#earlyTtlMs) break;
      this.#early.delete(id);
    }
  }
}
