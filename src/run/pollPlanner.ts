import type { VideoInput } from '../core/types.js';
import type { CompletionEstimate } from './completionEstimate.js';

/**
 * When to ask about a task. Pure: the clock, the randomness and the load are passed in.
 *
 * - First poll (polling): at a low quantile of the learned time to completion, so the
 *   early finishers are seen early; a poll before that would almost surely answer
 *   "processing". Before anything is learned: the documented lower bound.
 * - First poll (callbacks): after the slowest learned completion and a margin — it only
 *   catches a callback that never came.
 * - Then every `interval`: the smallest spacing that keeps the polls of all tasks in
 *   their polling phase within the share of the request budget the submits leave, never
 *   below `minIntervalMs`. More tasks in flight, wider spacing: the budget is never
 *   exceeded, it is spent where it shortens the time from completion to detection.
 * - Jitter of ±10 % on every interval, so tasks submitted together drift apart.
 * - A deadline per task: a task not finished `stuckAfterMs` after its submit is
 *   reported stuck and no longer polled in this run.
 */
export interface PollPlannerOptions {
  mode: 'poll' | 'callback';
  /** Shortest interval between two polls of one task, ms. */
  minIntervalMs: number;
  /** A task still unfinished this long after its submit is stuck. */
  stuckAfterMs: number;
  /** Quantile of the time to completion for the first poll. @default 0.05 */
  firstQuantile?: number;
  /** With callbacks: first background poll at this multiple of the slowest completion. @default 1.25 */
  callbackSlack?: number;
  /** With callbacks: background polls are at least this many times `minIntervalMs` apart. @default 4 */
  callbackIntervalFactor?: number;
  /** Fraction of the budget left by submits that polls may plan to use. @default 0.85 */
  pollShare?: number;
}

/** What the interval depends on at the moment it is chosen. */
export interface Load {
  /** Current request budget (after any AIMD cut), requests per minute. */
  rpm: number;
  /** Requests per minute the submits (and callback verifications) are expected to need. */
  reservedRpm: number;
  /** Tasks in their repeated-polling phase (past their first poll, not finished). */
  polling: number;
}

export class PollPlanner {
  readonly #o: Required<PollPlannerOptions>;
  readonly #estimate: CompletionEstimate;
  readonly #random: () => number;

  constructor(o: PollPlannerOptions, estimate: CompletionEstimate, random: () => number) {
    this.#o = { firstQuantile: 0.05, callbackSlack: 1.25, callbackIntervalFactor: 4, pollShare: 0.85, ...o };
    this.#estimate = estimate;
    this.#random = random;
  }

  get mode(): 'poll' | 'callback' {
    return this.#o.mode;
  }

  /** Unix ms of the first poll of a task submitted at `submittedAt`. */
  firstPollAt(input: VideoInput, submittedAt: number): number {
    if (this.#o.mode === 'callback') {
      return submittedAt + Math.round(this.#estimate.quantile(input, 1) * this.#o.callbackSlack) + this.#o.minIntervalMs;
    }
    return submittedAt + Math.round(this.#estimate.quantile(input, this.#o.firstQuantile));
  }

  /** Interval before the next poll of a task that is still running, with jitter. */
  nextInterval(load: Load): number {
    return Math.max(1, Math.round(this.interval(load) * (0.9 + 0.2 * this.#random())));
  }

  /** The interval without jitter: widens with the polling tasks so the budget holds. */
  interval(load: Load): number {
    const floor = this.#o.mode === 'callback' ? this.#o.minIntervalMs * this.#o.callbackIntervalFactor : this.#o.minIntervalMs;
    // Never plan on less than a tenth of the budget, even when submits would want it all:
    // a task that finished frees a slot, so its poll is worth more than one more submit.
    const perMinute = Math.max(load.rpm * 0.1, load.rpm - load.reservedRpm) * this.#o.pollShare;
    const needed = (Math.max(1, load.polling) * 60_000) / perMinute;
    return Math.max(floor, needed);
  }

  /** Unix ms after which the task is reported stuck. */
  deadline(submittedAt: number): number {
    return submittedAt + this.#o.stuckAfterMs;
  }

  /**
   * Spread for tasks resumed from an earlier process whose first poll is already due:
   * `count` of them at once would queue as one burst ahead of every submit.
   */
  resumeSpreadMs(count: number, rpm: number): number {
    return Math.round((count * 60_000) / (rpm * this.#o.pollShare));
  }

  jitter(spreadMs: number): number {
    return Math.round(this.#random() * spreadMs);
  }
}
