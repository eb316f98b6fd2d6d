import Bottleneck from 'bottleneck';
import { Aimd, type AimdOptions } from './aimd.js';

/**
 * The one request budget that submits and status polls share (the provider counts both
 * against 10,000 requests a minute).
 *
 * Paced with Bottleneck's `minTime` rather than its `reservoir`: the reservoir refills per
 * fixed block and lets ~1.5× the limit through in a rolling minute (bottleneck#153), and
 * `updateSettings` stops its refills (bottleneck#185); even spacing never exceeds a rolling
 * minute and survives a change of rate.
 *
 * Priorities are kept here, not in Bottleneck: with `maxConcurrent: null` Bottleneck hands
 * every queued job its own timer at once (a poll queued behind 500 submits would wait for
 * all of them), and with `maxConcurrent: 1` every request pays several event-loop hops
 * in series, which a busy loop turns into a rate well below the budget (measured: 125 of
 * 159 a second). So requests wait in two queues here, polls first, and only DEPTH of
 * them are handed to Bottleneck at a time: its hops overlap the spacing, and a poll never
 * waits behind more than DEPTH submits. Polls do not starve submits either: while both
 * wait, every POLL_RUN polls let one submit through (a quarter of the budget, far above
 * the ~25 submits a second the in-flight cap allows) — a submit fills a slot that is free
 * now, most polls find a task still running.
 *
 * A 429 blocks every request until its Retry-After and cuts the rate (AIMD, see aimd.ts);
 * quiet time brings it back slowly to the configured rate, never above.
 */
export const REQUEST_KINDS = ['poll', 'submit'] as const;
/** Polls go first: finishing a task frees an in-flight slot, a submit only fills one. */
export type RequestKind = (typeof REQUEST_KINDS)[number];

export interface RequestBudgetOptions {
  /** Requests per minute, never exceeded. */
  rpm: number;
  /** The rate is never cut below this fraction of `rpm`. @default 0.1 */
  minFraction?: number;
  aimd?: Omit<AimdOptions, 'max' | 'min'>;
  /** Clock for AIMD and Retry-After; Bottleneck's own spacing uses the real clock. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Told whenever the AIMD rate changes. */
  onRate?: (rpm: number, cause: 'limited' | 'recovered') => void;
}

const realSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Requests handed to Bottleneck at once: enough to hide its hops, few enough to keep priorities. */
const DEPTH = 3;
/** Polls in a row before a waiting submit gets its turn. */
const POLL_RUN = 3;

interface Waiter {
  kind: RequestKind;
  grant: (granted: boolean) => void;
}

export class RequestBudget {
  readonly #limiter: Bottleneck;
  readonly #aimd: Aimd;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #onRate: RequestBudgetOptions['onRate'];
  readonly #queues: Record<RequestKind, Waiter[]> = { poll: [], submit: [] };
  #committed = 0;
  #pollRun = 0;
  #resumeArmed = false;
  #appliedRpm: number;
  #blockedUntil = 0;
  #stopped = false;
  #limited = 0;

  constructor(o: RequestBudgetOptions) {
    this.#now = o.now ?? Date.now;
    this.#sleep = o.sleep ?? realSleep;
    this.#onRate = o.onRate;
    this.#aimd = new Aimd({ ...o.aimd, max: o.rpm, min: Math.max(1, o.rpm * (o.minFraction ?? 0.1)) }, this.#now());
    this.#appliedRpm = o.rpm;
    this.#limiter = new Bottleneck({ minTime: minTimeOf(o.rpm), maxConcurrent: null });
  }

  /** The current rate, requests per minute (the configured one unless a 429 cut it). */
  get rpm(): number {
    return this.#aimd.value;
  }

  /** 429s reported through `limited`. */
  get limitedCount(): number {
    return this.#limited;
  }

  /** Until when every request waits (a Retry-After), Unix ms; 0 or past when not blocked. */
  get blockedUntil(): number {
    return this.#blockedUntil;
  }

  /** Run `fn` when the budget allows; resolves to undefined if the budget was stopped first. */
  async schedule<T>(kind: RequestKind, fn: () => Promise<T>): Promise<T | undefined> {
    if (this.#stopped) return undefined;
    const granted = await new Promise<boolean>((grant) => {
      this.#queues[kind].push({ kind, grant });
      this.#pump();
    });
    return granted ? fn() : undefined;
  }

  /**
   * The provider answered 429: nothing leaves before `retryAfterMs` (when it said), and
   * the rate is cut unless it was cut moments ago for the same burst.
   */
  limited(retryAfterMs: number | undefined): void {
    const now = this.#now();
    this.#limited++;
    if (retryAfterMs !== undefined && retryAfterMs > 0) this.#blockedUntil = Math.max(this.#blockedUntil, now + retryAfterMs);
    if (this.#aimd.onLimited(now)) this.#apply('limited');
  }

  /** Requests waiting for their slot (those already handed to Bottleneck included). */
  queued(kind?: RequestKind): number {
    if (kind !== undefined) return this.#queues[kind].length;
    return this.#queues.poll.length + this.#queues.submit.length + this.#committed;
  }

  /** Drop what is waiting; requests already granted run to completion. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const q of Object.values(this.#queues)) for (const w of q.splice(0)) w.grant(false);
    await this.#limiter.stop({ dropWaitingJobs: true });
  }

  /** Hand the next requests, polls first, to Bottleneck for their spacing. */
  #pump(): void {
    while (!this.#stopped && this.#committed < DEPTH) {
      if (this.#now() < this.#blockedUntil) return this.#resumeLater();
      const w = this.#next();
      if (!w) return;
      this.#committed++;
      this.#limiter.schedule(() => this.#fire(w)).catch(() => w.grant(false));
    }
  }

  /** Polls first, but not forever while submits wait. */
  #next(): Waiter | undefined {
    const { poll, submit } = this.#queues;
    if (poll.length > 0 && (submit.length === 0 || this.#pollRun < POLL_RUN)) {
      this.#pollRun++;
      return poll.shift();
    }
    this.#pollRun = 0;
    return submit.shift();
  }

  /** A request's slot has come. */
  async #fire(w: Waiter): Promise<void> {
    this.#committed--;
    if (this.#stopped) return w.grant(false);
    if (this.#now() < this.#blockedUntil) {
      // A Retry-After arrived after it was handed over: it goes back, first in line.
      this.#queues[w.kind].unshift(w);
      return this.#resumeLater();
    }
    if (this.#aimd.tick(this.#now())) this.#apply('recovered');
    w.grant(true);
    this.#pump();
  }

  #resumeLater(): void {
    if (this.#resumeArmed) return;
    this.#resumeArmed = true;
    void this.#sleep(Math.max(0, this.#blockedUntil - this.#now())).then(() => {
      this.#resumeArmed = false;
      this.#pump();
    });
  }

  #apply(cause: 'limited' | 'recovered'): void {
    const rpm = this.#aimd.value;
    if (rpm === this.#appliedRpm) return;
    this.#appliedRpm = rpm;
    // minTime only: a reservoir changed at run time stops refilling (bottleneck#185).
    void this.#limiter.updateSettings({ minTime: minTimeOf(rpm) });
    this.#onRate?.(Math.round(rpm), cause);
  }
}

function minTimeOf(rpm: number): number {
  return 60_000 / rpm;
}
