import { ALL_STATES, type TaskState } from '../../core/lifecycle.js';
import type { RunEvent } from '../../run/events.js';
import type { StateCounts } from '../../store/index.js';

/** What every progress display shows, computed from events alone. */
export interface ProgressSnapshot {
  run: string;
  counts: StateCounts;
  total: number;
  /** Tasks in a state the loop will not leave on its own: archived, failed, in_doubt. */
  done: number;
  /** submitting + submitted: the tasks holding one of the provider's slots. */
  inFlight: number;
  /** Tasks that reached a terminal state per minute, over the last `windowMs`; 0 before the first. */
  perMinute: number;
  /** Time left at `perMinute`, or undefined while nothing has finished yet. */
  etaMs: number | undefined;
  elapsedMs: number;
  rateLimited: number;
  retries: number;
}

const DONE: readonly TaskState[] = ['archived', 'failed', 'in_doubt'];

function zeroCounts(): StateCounts {
  return Object.fromEntries(ALL_STATES.map((s) => [s, 0])) as StateCounts;
}

/**
 * Live counters per lifecycle state, kept from the run's events (the store is never read
 * while the run goes). Starts from the counts in `run-start`, so a resumed run shows what
 * earlier processes already did; the rate counts only what this process finished.
 */
export class ProgressModel {
  readonly windowMs: number;
  #run = '';
  #counts = zeroCounts();
  #started: number | undefined;
  #finishedAt: number[] = [];
  #rateLimited = 0;
  #retries = 0;

  constructor(options: { windowMs?: number } = {}) {
    this.windowMs = options.windowMs ?? 60_000;
  }

  get started(): boolean {
    return this.#started !== undefined;
  }

  apply(e: RunEvent, now: number): void {
    switch (e.type) {
      case 'run-start':
        this.#run = e.run;
        this.#counts = { ...zeroCounts(), ...e.counts };
        this.#started = now;
        return;
      case 'transition':
        this.#counts[e.from] = Math.max(0, this.#counts[e.from] - 1);
        this.#counts[e.to] += 1;
        if (DONE.includes(e.to) && !DONE.includes(e.from)) this.#finishedAt.push(now);
        return;
      case 'rate-limited':
        this.#rateLimited++;
        return;
      case 'retry':
        this.#retries++;
        return;
      case 'run-end':
        this.#counts = { ...zeroCounts(), ...e.counts };
        return;
      default:
        return;
    }
  }

  snapshot(now: number): ProgressSnapshot {
    const c = this.#counts;
    const total = ALL_STATES.reduce((n, s) => n + c[s], 0);
    const done = DONE.reduce((n, s) => n + c[s], 0);
    const started = this.#started ?? now;
    const since = now - this.windowMs;
    // Drop what left the window; the array stays as long as one window of completions.
    while (this.#finishedAt.length > 0 && this.#finishedAt[0]! < since) this.#finishedAt.shift();
    const span = Math.max(1, Math.min(this.windowMs, now - started));
    const perMinute = this.#finishedAt.length === 0 ? 0 : (this.#finishedAt.length / span) * 60_000;
    const left = total - done;
    return {
      run: this.#run,
      counts: { ...c },
      total,
      done,
      inFlight: c.submitting + c.submitted,
      perMinute,
      etaMs: left === 0 ? 0 : perMinute > 0 ? (left / perMinute) * 60_000 : undefined,
      elapsedMs: now - started,
      rateLimited: this.#rateLimited,
      retries: this.#retries,
    };
  }
}
