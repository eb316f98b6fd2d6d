import { ApiError, ERROR_CODES } from '../core/errors.js';
import type { GenerateRequest } from '../core/types.js';
import type { TaskRow } from '../store/index.js';
import { Aimd } from './aimd.js';
import type { LoopContext } from './context.js';
import { PlannedFeed } from './plannedFeed.js';
import type { Poller } from './poller.js';
import { decideSubmit } from './submitPolicy.js';

/**
 * Submits are queued in the request budget this many at a time: enough to use every
 * slot the budget gives, few enough that a stop drops little and the planned rows are
 * read from SQLite in small batches.
 */
const PIPELINE = 32;

/**
 * The submit half of the run loop: hands planned tasks to the request budget while the
 * in-flight cap has room, and applies the submit policy (submitPolicy.ts) to every
 * failed POST.
 *
 * The in-flight cap counts tasks in flight, POSTs on their way and submits queued in the
 * budget, so it is never exceeded. A 429 answered to a POST may mean the provider's
 * concurrent-task limit is fuller than we think (tasks in doubt, another client on the
 * same key): the cap is then cut by AIMD too, and recovers slowly.
 */
export class Submitter {
  readonly #c: LoopContext;
  readonly #poller: Poller;
  readonly #feed: PlannedFeed;
  readonly #cap: Aimd;
  /** Handed to the budget; their POST has not started. */
  readonly #queued = new Set<string>();
  #submitting = 0;
  #attempt = 0;
  #blockedUntil = 0;

  constructor(c: LoopContext, poller: Poller) {
    this.#c = c;
    this.#poller = poller;
    this.#feed = new PlannedFeed(c.store, c.run);
    this.#cap = new Aimd({ max: c.o.concurrency, min: 1, decrease: 0.9, increaseFraction: 0.01, increaseEveryMs: 5_000 }, c.o.now());
  }

  /** Planned tasks left in the run (queued ones included). */
  get left(): number {
    return this.#feed.left;
  }

  /** Submits queued or on their way. */
  get pending(): number {
    return this.#queued.size + this.#submitting;
  }

  /** POSTs on their way (their taskIds may come back after their callbacks). */
  get submitting(): number {
    return this.#submitting;
  }

  get blockedUntil(): number {
    return this.#blockedUntil;
  }

  /** The in-flight cap in force (the configured one unless 429s cut it). */
  get cap(): number {
    return Math.floor(this.#cap.value);
  }

  /** The count of planned tasks, read again from the store. */
  resync(): number {
    return this.#feed.resync();
  }

  fill(): void {
    const c = this.#c;
    const now = c.o.now();
    if (c.stopping() || now < this.#blockedUntil) return;
    this.#cap.tick(now);
    let room = Math.min(PIPELINE - this.#queued.size, this.cap - c.tracker.size - this.pending);
    for (; room > 0; room--) {
      const row = this.#feed.next(this.#queued);
      if (!row) return;
      this.#queued.add(row.key);
      c.track(
        c.budget.schedule('submit', () => this.#submit(row)).finally(() => {
          this.#queued.delete(row.key);
          c.wake();
        }),
      );
    }
  }

  async #submit(row: TaskRow): Promise<void> {
    const c = this.#c;
    if (c.stopping() || c.o.now() < this.#blockedUntil) return;
    const body: GenerateRequest = { request_type: c.o.requestType, provider: row.provider, input: row.input };
    if (c.o.requestType === 'callback' && c.callbackUrl) body.callback_url = c.callbackUrl;
    // The intent is durable before the request leaves: a crash from here on makes the task in_doubt, not resubmitted.
    c.move(row.key, 'planned', 'submitting', {}, { durable: true, countSubmit: true });
    this.#feed.taken();
    this.#queued.delete(row.key);
    this.#submitting++;
    try {
      const taskId = await c.client.submit(row.model, body);
      const now = c.o.now();
      c.move(row.key, 'submitting', 'submitted', { task_id: taskId, submitted_at: now }, { durable: true }, taskId);
      this.#attempt = 0;
      this.#poller.track(row, taskId, now, now);
    } catch (err) {
      this.#failed(row, err);
    } finally {
      this.#submitting--;
    }
  }

  #failed(row: TaskRow, err: unknown): void {
    const c = this.#c;
    const d = decideSubmit(err, this.#attempt, c.backoff);
    switch (d.action) {
      case 'retry': {
        c.move(row.key, 'submitting', 'planned', {}, { detail: d.reason });
        this.#feed.returned();
        this.#attempt++;
        const now = c.o.now();
        this.#blockedUntil = Math.max(this.#blockedUntil, now + d.delayMs);
        if (err instanceof ApiError && err.code === ERROR_CODES.RATE_LIMITED) {
          c.budget.limited(err.retryAfterMs);
          this.#cap.onLimited(now);
          c.o.onEvent({ type: 'rate-limited', retryAfterMs: d.delayMs, during: 'submit' });
        } else {
          c.o.onEvent({ type: 'retry', key: row.key, during: 'submit', delayMs: d.delayMs, reason: d.reason });
        }
        return;
      }
      case 'reject':
        c.move(row.key, 'submitting', 'failed', { fail_reason: 'rejected', fail_code: 'INVALID_INPUT', fail_msg: d.reason }, {});
        return;
      case 'in_doubt':
        c.move(row.key, 'submitting', 'in_doubt', {}, { durable: true, detail: d.reason });
        return;
      case 'stop':
        c.move(row.key, 'submitting', 'planned', {}, { detail: d.reason });
        this.#feed.returned();
        c.requestStop(d.stop, d.reason);
        return;
      default: {
        const never: never = d;
        throw new Error(`unhandled submit decision ${JSON.stringify(never)}`);
      }
    }
  }
}
