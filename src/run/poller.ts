import { ApiError, ERROR_CODES } from '../core/errors.js';
import type { TaskStatus } from '../core/types.js';
import type { TaskRow } from '../store/index.js';
import type { LoopContext } from './context.js';
import type { Load } from './pollPlanner.js';
import { backoffDelay } from './submitPolicy.js';
import type { InFlight } from './tracker.js';

/** Consecutive failed polls of one task after which this run stops asking (the next run resumes it). */
const MAX_POLL_FAILURES = 8;

/**
 * The poll half of the run loop: asks about each task in flight when the planner says
 * (pollPlanner.ts), verifies callback hints with one status GET, and records what the
 * provider answers. Status GETs go through the request budget with priority over
 * submits: a finished task frees an in-flight slot, a submit only fills one.
 */
/** What the poller needs to know of the submit half. */
export interface SubmitView {
  /** Planned tasks left. */
  readonly left: number;
  /** The in-flight cap in force. */
  readonly cap: number;
  /** POSTs on their way. */
  readonly submitting: number;
}

export class Poller {
  readonly #c: LoopContext;
  #submits: SubmitView = { left: 0, cap: 1, submitting: 0 };
  /** Mean expected time to completion of recent submits: how fast slots turn over. */
  #meanExpectedMs = 0;

  constructor(c: LoopContext) {
    this.#c = c;
  }

  /** The submit half, once it exists (it needs the poller first). */
  attach(submits: SubmitView): void {
    this.#submits = submits;
  }

  /** Start tracking a task whose taskId is stored. */
  track(row: Pick<TaskRow, 'key' | 'model' | 'input'>, taskId: string, submittedAt: number, now: number, firstPollAt?: number): void {
    const c = this.#c;
    const expected = c.estimate.expectedMs(row.input);
    this.#meanExpectedMs = this.#meanExpectedMs === 0 ? expected : this.#meanExpectedMs * 0.98 + expected * 0.02;
    const deadline = c.planner.deadline(submittedAt);
    const at = firstPollAt ?? c.planner.firstPollAt(row.input, submittedAt);
    if (c.tracker.add({ key: row.key, model: row.model, taskId, input: row.input, submittedAt, deadline }, at, now)) {
      c.o.onEvent({ type: 'callback', taskId, outcome: 'verify' });
    }
  }

  /**
   * Tasks a previous process left submitted. Their first polls may all be due already:
   * they are spread over the time the budget needs for them, not sent as one burst. Each
   * gets a full deadline from now: the process that was watching it is gone.
   */
  resume(rows: readonly TaskRow[]): void {
    const c = this.#c;
    const now = c.o.now();
    const spread = c.planner.resumeSpreadMs(rows.length, c.budget.rpm);
    for (const row of rows) {
      if (!row.taskId) continue;
      const submittedAt = row.submittedAt ?? now;
      const first = c.planner.firstPollAt(row.input, submittedAt);
      this.track(row, row.taskId, submittedAt, now, first > now ? first : now + c.planner.jitter(spread));
      const t = c.tracker.get(row.key);
      if (t) t.deadline = Math.max(t.deadline, c.planner.deadline(now));
    }
  }

  /** When the next poll is due, if any. */
  nextDueAt(): number | undefined {
    return this.#c.tracker.nextDueAt();
  }

  /** What the poll interval is chosen from right now. */
  load(): Load {
    const c = this.#c;
    const { left: plannedLeft, cap } = this.#submits;
    const cycleMs = Math.max(1, this.#meanExpectedMs || c.estimate.quantile({ mode: 'text-to-video', prompt: '', duration: 5 }, 0.5));
    // Submits keep the cap full while planned tasks remain; with callbacks each task also costs one verifying GET.
    const perTask = c.o.requestType === 'callback' ? 2 : 1;
    const turning = plannedLeft > 0 ? cap : c.o.requestType === 'callback' ? c.tracker.size : 0;
    return { rpm: c.budget.rpm, reservedRpm: (turning * perTask * 60_000) / cycleMs, polling: c.tracker.polling };
  }

  /** Send every poll that is due, through the budget. */
  dispatch(): void {
    const c = this.#c;
    const stop = c.stopping();
    if (stop === 'auth' || stop === 'signal') return;
    const now = c.o.now();
    for (let t = c.tracker.popDue(now); t; t = c.tracker.popDue(now)) {
      const task = t;
      task.inRequest = true;
      c.track(
        c.budget
          .schedule('poll', () => c.client.status(task.model, task.taskId))
          .then(
            (status) => status && this.#apply(task, status),
            (err: unknown) => this.#failed(task, err),
          )
          .catch((err: unknown) => this.#broken(task, err))
          .finally(() => {
            task.inRequest = false;
            c.wake();
          }),
      );
    }
  }

  /** A callback said `taskId` finished: verify it with a GET (never trust the body). */
  hint(taskId: string): void {
    const c = this.#c;
    const outcome = c.tracker.hint(taskId, c.o.now(), this.#submits.submitting > 0);
    c.o.onEvent({ type: 'callback', taskId, outcome });
    if (outcome === 'verify') c.wake();
  }

  #apply(t: InFlight, s: TaskStatus): void {
    const c = this.#c;
    const now = c.o.now();
    t.pollFailures = 0;
    switch (s.state) {
      case 'pending':
      case 'processing': {
        c.tracker.markPolling(t);
        if (t.rehint) {
          // A callback came while this GET was out: it may have been sent before completion.
          t.rehint = false;
          c.tracker.schedule(t.key, now);
        } else if (now >= t.deadline) {
          c.tracker.remove(t.key);
          c.o.onEvent({ type: 'stuck', key: t.key, taskId: t.taskId, ageMs: now - t.submittedAt });
        } else {
          c.tracker.schedule(t.key, Math.min(t.deadline, now + c.planner.nextInterval(this.load())));
        }
        return;
      }
      case 'success': {
        if (s.costTime !== undefined) c.estimate.observe(t.input, s.costTime);
        const completed = s.completeTime ?? now;
        const expiresAt = completed + c.o.resultTtlMs;
        c.tracker.remove(t.key);
        c.move(t.key, 'submitted', 'succeeded', {
          result_urls_json: JSON.stringify(s.resultUrls ?? []),
          create_time: s.createTime ?? null,
          complete_time: s.completeTime ?? null,
          cost_time: s.costTime ?? null,
          expires_at: expiresAt,
        }, {}, t.taskId);
        c.succeeded(t.key, expiresAt);
        return;
      }
      case 'failed':
        if (s.costTime !== undefined) c.estimate.observe(t.input, s.costTime);
        c.tracker.remove(t.key);
        c.move(t.key, 'submitted', 'failed', { fail_reason: 'provider', fail_code: s.failCode ?? 'UNKNOWN', fail_msg: s.failMsg ?? null }, {}, t.taskId);
        return;
      default: {
        const never: never = s.state;
        throw new Error(`unknown provider state ${String(never)}`);
      }
    }
  }

  #failed(t: InFlight, err: unknown): void {
    const c = this.#c;
    if (err instanceof ApiError && err.code === ERROR_CODES.AUTH) {
      c.requestStop('auth', err.message);
      return;
    }
    const limited = err instanceof ApiError && err.code === ERROR_CODES.RATE_LIMITED;
    if (!limited && t.pollFailures >= MAX_POLL_FAILURES) {
      // The task stays `submitted` in the store: the next run asks again. Polling it
      // forever here would keep the run from ever ending.
      c.tracker.remove(t.key);
      c.o.onEvent({ type: 'poll-gave-up', key: t.key, taskId: t.taskId, reason: (err as Error).message });
      return;
    }
    const retryAfter = err instanceof ApiError ? err.retryAfterMs : undefined;
    const delayMs = backoffDelay(t.pollFailures++, c.backoff, retryAfter);
    c.tracker.schedule(t.key, c.o.now() + delayMs);
    if (limited) {
      c.budget.limited(retryAfter);
      c.o.onEvent({ type: 'rate-limited', retryAfterMs: delayMs, during: 'poll' });
    } else {
      c.o.onEvent({ type: 'retry', key: t.key, during: 'poll', delayMs, reason: (err as Error).message });
    }
  }

  /** Recording the answer failed (the store refused a transition): stop tracking rather than hang the run. */
  #broken(t: InFlight, err: unknown): void {
    this.#c.tracker.remove(t.key);
    this.#c.o.onEvent({ type: 'poll-gave-up', key: t.key, taskId: t.taskId, reason: `could not record the answer: ${(err as Error)?.message ?? String(err)}` });
  }
}
