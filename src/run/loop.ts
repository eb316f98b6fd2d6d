import { setMaxListeners } from 'node:events';
import { join } from 'node:path';
import pLimit from 'p-limit';
import type { Agent } from 'undici';
import { ApiError, DownloadError, ERROR_CODES } from '../core/errors.js';
import type { TaskState } from '../core/lifecycle.js';
import type { GenerateRequest, TaskStatus, VideoInput } from '../core/types.js';
import type { Store, TaskRow, TransitionFields, TransitionOptions } from '../store/index.js';
import type { ApixoClient } from '../api/index.js';
import { downloadVerified } from '../fetch/download.js';
import { sidecarFromRow, videoFileName, writeSidecar } from '../fetch/archive.js';
import { CompletionEstimate } from './completionEstimate.js';
import type { ResolvedRunOptions } from './options.js';
import type { RunOutcome, StopReason } from './events.js';
import { RequestBudget } from './requestBudget.js';
import { backoffDelay, decideSubmit, type BackoffPolicy } from './submitPolicy.js';

interface InFlight {
  key: string;
  model: string;
  taskId: string;
  input: VideoInput;
  nextPollAt: number;
  polling: boolean;
  pollFailures: number;
}

/** Downloads that fail this often in one run are left `succeeded` for the next run. */
const MAX_DOWNLOAD_ATTEMPTS = 4;
/** Consecutive failed polls of one task after which this run stops asking (the next run resumes it). */
const MAX_POLL_FAILURES = 8;
/** How long a stop waits for requests already sent. */
const STOP_GRACE_MS = 35_000;

/**
 * Drives the stages for one run: submit planned tasks under the request budget and the
 * in-flight cap, poll them near their expected completion, download results. Everything
 * it learns goes to the store first; everything it does is told through `onEvent`.
 */
export class RunLoop {
  readonly #o: ResolvedRunOptions;
  readonly #run: string;
  readonly #dir: string;
  readonly #store: Store;
  readonly #client: ApixoClient;
  readonly #downloadAgent: Agent;
  readonly #budget: RequestBudget;
  readonly #estimate: CompletionEstimate;
  readonly #backoff: BackoffPolicy;
  readonly #inFlight = new Map<string, InFlight>();
  readonly #queuedSubmits = new Set<string>();
  readonly #active = new Set<Promise<unknown>>();
  readonly #downloading = new Set<string>();
  readonly #downloadAttempts = new Map<string, number>();
  readonly #downloadLimit: ReturnType<typeof pLimit>;
  readonly #downloadAbort = new AbortController();
  #submitting = 0;
  #submitAttempt = 0;
  #submitBlockedUntil = 0;
  #stop: StopReason | null = null;
  #wakeUp: (() => void) | null = null;

  constructor(deps: { options: ResolvedRunOptions; run: string; store: Store; client: ApixoClient; downloadAgent: Agent }) {
    this.#o = deps.options;
    this.#run = deps.run;
    this.#dir = join(deps.options.out, deps.run);
    this.#store = deps.store;
    this.#client = deps.client;
    this.#downloadAgent = deps.downloadAgent;
    this.#budget = new RequestBudget(deps.options.rpm);
    this.#estimate = new CompletionEstimate(deps.options.firstPollMs);
    this.#backoff = { baseMs: deps.options.retryBaseMs, capMs: 60_000, random: Math.random };
    this.#downloadLimit = pLimit(deps.options.downloadConcurrency);
    // Every download listens on this one signal.
    setMaxListeners(0, this.#downloadAbort.signal);
  }

  async execute(): Promise<RunOutcome> {
    const onAbort = () => this.#requestStop('signal', 'stop requested: no new submits; waiting for requests in flight');
    if (this.#o.signal?.aborted) onAbort();
    this.#o.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      this.#resume();
      while (!this.#finished()) {
        this.#fillSubmits();
        this.#dispatchPolls();
        this.#startDownloads();
        if (this.#finished()) break;
        await this.#sleep();
      }
      await this.#drain();
    } finally {
      this.#o.signal?.removeEventListener('abort', onAbort);
    }
    return this.#outcome();
  }

  /** Tasks a previous process left submitted or succeeded are picked up where they were. */
  #resume(): void {
    const now = this.#o.now();
    for (const row of this.#store.listByState(this.#run, 'submitted')) {
      this.#trackInFlight(row.key, row.model, row.taskId!, row.input, Math.max(now, (row.submittedAt ?? now) + this.#estimate.expectedMs(row.input)));
    }
  }

  #finished(): boolean {
    if (this.#stop === 'auth' || this.#stop === 'signal') return true;
    const idle = this.#queuedSubmits.size === 0 && this.#submitting === 0 && this.#inFlight.size === 0 && this.#downloading.size === 0;
    if (!idle || this.#pendingDownloads().length > 0) return false;
    return this.#stop === 'credits' || this.#store.listByState(this.#run, 'planned', 1).length === 0;
  }

  // ---- submit -----------------------------------------------------------------------

  #fillSubmits(): void {
    if (this.#stop || this.#o.now() < this.#submitBlockedUntil) return;
    const capacity = this.#o.concurrency - this.#inFlight.size - this.#submitting - this.#queuedSubmits.size;
    if (capacity <= 0) return;
    // Feed the budget a window at a time from SQLite, never the whole run.
    const rows = this.#store.listByState(this.#run, 'planned', this.#queuedSubmits.size + Math.min(capacity, 500));
    const fresh = rows.filter((r) => !this.#queuedSubmits.has(r.key)).slice(0, capacity);
    for (const row of fresh) {
      this.#queuedSubmits.add(row.key);
      this.#track(this.#budget.schedule('submit', () => this.#submit(row)).finally(() => {
        this.#queuedSubmits.delete(row.key);
        this.#wake();
      }));
    }
  }

  async #submit(row: TaskRow): Promise<void> {
    if (this.#stop || this.#o.now() < this.#submitBlockedUntil) return;
    const body: GenerateRequest = { request_type: this.#o.requestType, provider: row.provider, input: row.input };
    if (this.#o.requestType === 'callback') body.callback_url = this.#o.callbackUrl;
    // The intent is durable before the request leaves: a crash from here on makes the task in_doubt, not resubmitted.
    this.#move(row.key, 'planned', 'submitting', {}, { durable: true, countSubmit: true });
    this.#submitting++;
    try {
      const taskId = await this.#client.submit(row.model, body);
      const now = this.#o.now();
      this.#move(row.key, 'submitting', 'submitted', { task_id: taskId, submitted_at: now }, { durable: true }, taskId);
      this.#submitAttempt = 0;
      this.#trackInFlight(row.key, row.model, taskId, row.input, now + this.#estimate.expectedMs(row.input));
    } catch (err) {
      const d = decideSubmit(err, this.#submitAttempt, this.#backoff);
      switch (d.action) {
        case 'retry':
          this.#move(row.key, 'submitting', 'planned', {}, { detail: d.reason });
          this.#submitAttempt++;
          this.#submitBlockedUntil = Math.max(this.#submitBlockedUntil, this.#o.now() + d.delayMs);
          if (err instanceof ApiError && err.code === ERROR_CODES.RATE_LIMITED) {
            this.#o.onEvent({ type: 'rate-limited', retryAfterMs: d.delayMs, during: 'submit' });
          } else {
            this.#o.onEvent({ type: 'retry', key: row.key, during: 'submit', delayMs: d.delayMs, reason: d.reason });
          }
          break;
        case 'reject':
          this.#move(row.key, 'submitting', 'failed', { fail_reason: 'rejected', fail_code: 'INVALID_INPUT', fail_msg: d.reason }, {});
          break;
        case 'in_doubt':
          this.#move(row.key, 'submitting', 'in_doubt', {}, { durable: true, detail: d.reason });
          break;
        case 'stop':
          this.#move(row.key, 'submitting', 'planned', {}, { detail: d.reason });
          this.#requestStop(d.stop, d.reason);
          break;
        default: {
          const never: never = d;
          throw new Error(`unhandled submit decision ${JSON.stringify(never)}`);
        }
      }
    } finally {
      this.#submitting--;
    }
  }

  // ---- poll -------------------------------------------------------------------------

  #trackInFlight(key: string, model: string, taskId: string, input: VideoInput, firstPollAt: number): void {
    this.#inFlight.set(key, { key, model, taskId, input, nextPollAt: firstPollAt, polling: false, pollFailures: 0 });
  }

  #dispatchPolls(): void {
    if (this.#stop === 'auth' || this.#stop === 'signal') return;
    const now = this.#o.now();
    for (const t of this.#inFlight.values()) {
      if (t.polling || t.nextPollAt > now) continue;
      t.polling = true;
      this.#track(
        this.#budget.schedule('poll', () => this.#client.status(t.model, t.taskId)).then(
          (status) => status && this.#applyStatus(t, status),
          (err: unknown) => this.#pollFailed(t, err),
        ).finally(() => {
          t.polling = false;
          this.#wake();
        }),
      );
    }
  }

  #applyStatus(t: InFlight, s: TaskStatus): void {
    const now = this.#o.now();
    t.pollFailures = 0;
    switch (s.state) {
      case 'pending':
      case 'processing':
        t.nextPollAt = now + Math.round(this.#o.pollIntervalMs * (0.9 + 0.2 * Math.random()));
        return;
      case 'success': {
        if (s.costTime !== undefined) this.#estimate.observe(t.input, s.costTime);
        const completed = s.completeTime ?? now;
        this.#move(t.key, 'submitted', 'succeeded', {
          result_urls_json: JSON.stringify(s.resultUrls ?? []),
          create_time: s.createTime ?? null,
          complete_time: s.completeTime ?? null,
          cost_time: s.costTime ?? null,
          expires_at: completed + this.#o.resultTtlMs,
        }, {}, t.taskId);
        this.#inFlight.delete(t.key);
        return;
      }
      case 'failed':
        if (s.costTime !== undefined) this.#estimate.observe(t.input, s.costTime);
        this.#move(t.key, 'submitted', 'failed', { fail_reason: 'provider', fail_code: s.failCode ?? 'UNKNOWN', fail_msg: s.failMsg ?? null }, {}, t.taskId);
        this.#inFlight.delete(t.key);
        return;
      default: {
        const never: never = s.state;
        throw new Error(`unknown provider state ${String(never)}`);
      }
    }
  }

  #pollFailed(t: InFlight, err: unknown): void {
    if (err instanceof ApiError && err.code === ERROR_CODES.AUTH) {
      this.#requestStop('auth', err.message);
      return;
    }
    const limited = err instanceof ApiError && err.code === ERROR_CODES.RATE_LIMITED;
    if (!limited && t.pollFailures >= MAX_POLL_FAILURES) {
      // The task stays `submitted` in the store: the next run asks again. Polling it
      // forever here would keep the run from ever ending.
      this.#inFlight.delete(t.key);
      this.#o.onEvent({ type: 'poll-gave-up', key: t.key, taskId: t.taskId, reason: (err as Error).message });
      return;
    }
    const retryAfter = err instanceof ApiError ? err.retryAfterMs : undefined;
    const delayMs = backoffDelay(t.pollFailures++, this.#backoff, retryAfter);
    t.nextPollAt = this.#o.now() + delayMs;
    if (limited) {
      this.#o.onEvent({ type: 'rate-limited', retryAfterMs: delayMs, during: 'poll' });
    } else {
      this.#o.onEvent({ type: 'retry', key: t.key, during: 'poll', delayMs, reason: (err as Error).message });
    }
  }

  // ---- download ---------------------------------------------------------------------

  /** Succeeded tasks not yet downloading, soonest expiry first. */
  #pendingDownloads(): TaskRow[] {
    return this.#store
      .listByState(this.#run, 'succeeded')
      .filter((r) => !this.#downloading.has(r.key) && (this.#downloadAttempts.get(r.key) ?? 0) < MAX_DOWNLOAD_ATTEMPTS)
      .sort((a, b) => (a.expiresAt ?? Infinity) - (b.expiresAt ?? Infinity));
  }

  #startDownloads(): void {
    if (this.#stop === 'auth' || this.#stop === 'signal') return;
    for (const row of this.#pendingDownloads()) {
      this.#downloading.add(row.key);
      void this.#downloadLimit(() => this.#download(row)).finally(() => {
        this.#downloading.delete(row.key);
        this.#wake();
      });
    }
  }

  async #download(row: TaskRow): Promise<void> {
    const url = row.resultUrls?.[0];
    if (!url || (row.expiresAt !== null && row.expiresAt <= this.#o.now())) {
      this.#move(row.key, 'succeeded', 'failed', { fail_reason: 'expired', fail_code: 'EXPIRED', fail_msg: url ? `result URL expired at ${new Date(row.expiresAt!).toISOString()}` : 'the provider reported success without a result URL' }, {}, row.taskId ?? undefined);
      return;
    }
    const file = videoFileName(row);
    try {
      const got = await downloadVerified(url, join(this.#dir, file), { dispatcher: this.#downloadAgent, signal: this.#downloadAbort.signal });
      const archived: TaskRow = { ...row, updatedAt: this.#o.now(), file, sha256: got.sha256, bytes: got.bytes, media: got.media as unknown as Record<string, unknown> };
      await writeSidecar(this.#dir, sidecarFromRow(archived));
      this.#move(row.key, 'succeeded', 'archived', { file, sha256: got.sha256, bytes: got.bytes, media_json: JSON.stringify(got.media) }, {}, row.taskId ?? undefined);
      this.#o.onEvent({ type: 'archived', key: row.key, taskId: row.taskId!, file: join(this.#dir, file), bytes: got.bytes, sha256: got.sha256 });
    } catch (err) {
      if ((err as Error).name === 'AbortError') return;
      const gone = err instanceof DownloadError && [403, 404, 410].includes(err.status);
      if (gone) {
        this.#move(row.key, 'succeeded', 'failed', { fail_reason: 'expired', fail_code: 'EXPIRED', fail_msg: (err as Error).message }, {}, row.taskId ?? undefined);
        return;
      }
      const attempt = (this.#downloadAttempts.get(row.key) ?? 0) + 1;
      this.#downloadAttempts.set(row.key, attempt);
      const delayMs = backoffDelay(attempt - 1, this.#backoff);
      this.#o.onEvent({ type: 'retry', key: row.key, during: 'download', delayMs, reason: (err as Error).message });
      await new Promise((r) => setTimeout(r, delayMs));
    }
  }

  // ---- plumbing ---------------------------------------------------------------------

  #move(key: string, from: TaskState, to: TaskState, fields: TransitionFields, options: TransitionOptions, taskId?: string): void {
    this.#store.transition(this.#run, key, from, to, fields, options);
    this.#o.onEvent({ type: 'transition', key, from, to, ...(taskId ? { taskId } : {}), ...(options.detail ? { detail: options.detail } : {}) });
  }

  #requestStop(reason: StopReason, message: string): void {
    // The first reason wins, except that a refused key outranks everything.
    if (this.#stop && !(reason === 'auth' && this.#stop !== 'auth')) return;
    this.#stop = reason;
    this.#o.onEvent({ type: 'stopping', reason, message });
    if (reason !== 'credits') this.#downloadAbort.abort();
    this.#wake();
  }

  #track<T>(p: Promise<T>): void {
    this.#active.add(p);
    void p.catch(() => {}).finally(() => this.#active.delete(p));
  }

  #wake(): void {
    const w = this.#wakeUp;
    this.#wakeUp = null;
    w?.();
  }

  async #sleep(): Promise<void> {
    const now = this.#o.now();
    let next = now + 1000;
    for (const t of this.#inFlight.values()) if (!t.polling) next = Math.min(next, t.nextPollAt);
    if (this.#submitBlockedUntil > now) next = Math.min(next, this.#submitBlockedUntil);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#wakeUp = null;
        resolve();
      }, Math.max(1, next - now));
      this.#wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** Stop the budget and wait (bounded) for requests already sent, so their answers are recorded. */
  async #drain(): Promise<void> {
    await this.#budget.stop();
    const deadline = new Promise((r) => setTimeout(r, STOP_GRACE_MS).unref());
    await Promise.race([Promise.allSettled([...this.#active]), deadline]);
  }

  #outcome(): RunOutcome {
    if (this.#stop === 'auth') return 'auth';
    if (this.#stop === 'signal') return 'interrupted';
    if (this.#stop === 'credits') return 'credits';
    const c = this.#store.counts(this.#run);
    const total = Object.values(c).reduce((a, b) => a + b, 0);
    return c.archived === total ? 'complete' : 'incomplete';
  }
}
