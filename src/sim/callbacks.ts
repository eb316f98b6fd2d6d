/**
 * Callback delivery for request_type=callback.
 *
 * One due-list (a heap ordered by due time) and one timer armed for its head, instead
 * of a timer per task: a benchmark with 1,000 callback tasks in flight keeps one timer.
 *
 * The documentation says a callback is sent but not what it contains. The simulator
 * POSTs, with Content-Type application/json, the same envelope the status endpoint
 * answers: `{"code":200,"message":"success","data":{...status data...}}`. A delivery
 * fails on a non-2xx answer, a connection error, or no full answer within `timeoutMs`;
 * it is then retried up to `retries` more times after a short backoff.
 */
import { Agent, request } from 'undici';
import { MinHeap } from '../core/minHeap.js';

export interface CallbackCounters {
  /** POSTs attempted, retries included. */
  attempts: number;
  /** Deliveries answered with a 2xx. */
  delivered: number;
  /** Deliveries abandoned after the last retry. */
  gaveUp: number;
}

export interface CallbackDispatcherOptions {
  timeoutMs: number;
  retries: number;
  /** Delay before retry number `retry` (1-based). */
  backoffMs: (retry: number) => number;
  /** The JSON body for this task, rendered when it is sent; undefined drops the job. */
  render: (taskId: string) => string | undefined;
  counters: CallbackCounters;
}

interface Job {
  dueAt: number;
  /** Tie-break so jobs due at the same ms go out in scheduling order. */
  seq: number;
  url: string;
  taskId: string;
  /** 0 for the first attempt. */
  attempt: number;
}

// setTimeout overflows past 2^31-1 ms and then fires at once.
const MAX_TIMER_MS = 2 ** 31 - 1;

export class CallbackDispatcher {
  readonly #opts: CallbackDispatcherOptions;
  readonly #due = new MinHeap<Job>((a, b) => a.dueAt < b.dueAt || (a.dueAt === b.dueAt && a.seq < b.seq));
  readonly #agent = new Agent({ connections: 64, keepAliveTimeout: 4_000 });
  readonly #closing = new AbortController();
  readonly #inFlight = new Set<Promise<void>>();
  #timer: NodeJS.Timeout | undefined;
  #armedFor = Infinity;
  #seq = 0;
  #closed = false;

  constructor(opts: CallbackDispatcherOptions) {
    this.#opts = opts;
  }

  /** Queues the first delivery of `taskId`'s callback at `dueAt` (Unix ms). */
  schedule(url: string, taskId: string, dueAt: number): void {
    this.#push({ dueAt, seq: this.#seq++, url, taskId, attempt: 0 });
  }

  get pending(): number {
    return this.#due.size + this.#inFlight.size;
  }

  #push(job: Job): void {
    if (this.#closed) return;
    this.#due.push(job);
    if (job.dueAt < this.#armedFor) this.#arm();
  }

  #arm(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedFor = Infinity;
    const head = this.#due.peek();
    if (!head || this.#closed) return;
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, head.dueAt - Date.now()));
    this.#armedFor = head.dueAt;
    this.#timer = setTimeout(() => this.#fire(), delay);
    // The HTTP server keeps the process alive while the simulator runs; pending
    // callbacks alone must not.
    this.#timer.unref();
  }

  #fire(): void {
    this.#timer = undefined;
    this.#armedFor = Infinity;
    const now = Date.now();
    for (let head = this.#due.peek(); head && head.dueAt <= now; head = this.#due.peek()) {
      this.#due.pop();
      const p = this.#send(head).finally(() => this.#inFlight.delete(p));
      this.#inFlight.add(p);
    }
    this.#arm();
  }

  async #send(job: Job): Promise<void> {
    const body = this.#opts.render(job.taskId);
    if (body === undefined || this.#closed) return;
    const counters = this.#opts.counters;
    counters.attempts++;
    let ok = false;
    try {
      const signal = AbortSignal.any([this.#closing.signal, AbortSignal.timeout(this.#opts.timeoutMs)]);
      const res = await request(job.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'apixo-simulator' },
        body,
        signal,
        dispatcher: this.#agent,
      });
      // The receiver's answer must arrive in full within the timeout too.
      await res.body.dump({ limit: 64 * 1024, signal });
      ok = res.statusCode >= 200 && res.statusCode < 300;
    } catch {
      ok = false;
    }
    if (this.#closed) return;
    if (ok) {
      counters.delivered++;
    } else if (job.attempt < this.#opts.retries) {
      const retry = job.attempt + 1;
      this.#push({ ...job, attempt: retry, seq: this.#seq++, dueAt: Date.now() + this.#opts.backoffMs(retry) });
    } else {
      counters.gaveUp++;
    }
  }

  /** Drops queued deliveries, aborts the ones in flight, and releases the sockets. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#due.clear();
    this.#closing.abort();
    await Promise.allSettled([...this.#inFlight]);
    await this.#agent.destroy();
  }
}
