import { setMaxListeners } from 'node:events';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import pLimit from 'p-limit';
import type { Agent } from 'undici';
import { ApiError, DownloadError, ERROR_CODES } from '../core/errors.js';
import type { TaskState } from '../core/lifecycle.js';
import type { TaskStatus } from '../core/types.js';
import type { Store, TaskRow, TransitionFields, TransitionOptions } from '../store/index.js';
import type { ApixoClient } from '../api/index.js';
import { downloadVerified } from '../fetch/download.js';
import { sidecarFromRow, videoFileName, writeSidecar } from '../fetch/archive.js';
import { CompletionEstimate } from './completionEstimate.js';
import type { LoopContext } from './context.js';
import { DueQueue } from './dueQueue.js';
import type { ResolvedRunOptions } from './options.js';
import type { RunOutcome, StopReason } from './events.js';
import { PollPlanner } from './pollPlanner.js';
import { Poller } from './poller.js';
import { RequestBudget } from './requestBudget.js';
import { Submitter } from './submitter.js';
import { backoffDelay, decideDownload, GONE_STATUSES, type BackoffPolicy } from './submitPolicy.js';
import { InFlightTracker } from './tracker.js';

/** Downloads that fail this often in one run are left `succeeded` for the next run. */
const MAX_DOWNLOAD_ATTEMPTS = 4;
/** How long a stop waits for requests already sent. */
const STOP_GRACE_MS = 35_000;
/** A callback that overtakes the answer to its POST is kept this long for its taskId. */
const EARLY_HINT_TTL_MS = 60_000;
/** Download queue key for a result without a known expiry: after every dated one. */
const NO_EXPIRY = Number.MAX_SAFE_INTEGER;

/**
 * Drives the stages for one run: submit planned tasks under the request budget and the
 * in-flight cap (submitter.ts), poll them or verify their callbacks (poller.ts), download
 * results in their own pool. Everything it learns goes to the store first; everything it
 * does is told through `onEvent`.
 *
 * Each wake costs O(due work), not O(run): polls come off a heap (tracker.ts), planned
 * tasks from a batch read of SQLite with a count in memory (plannedFeed.ts), downloads
 * from an in-memory queue ordered by expiry.
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
  readonly #tracker: InFlightTracker;
  readonly #poller: Poller;
  readonly #submitter: Submitter;
  readonly #active = new Set<Promise<unknown>>();
  /** Succeeded tasks waiting for a download slot, soonest expiry first. */
  readonly #downloadQueue = new DueQueue();
  readonly #downloading = new Set<string>();
  readonly #downloadAttempts = new Map<string, number>();
  readonly #downloadLimit: ReturnType<typeof pLimit>;
  readonly #downloadAbort = new AbortController();
  #stop: StopReason | null = null;
  #wakeUp: (() => void) | null = null;

  constructor(deps: { options: ResolvedRunOptions; run: string; store: Store; client: ApixoClient; downloadAgent: Agent; callbackUrl?: string }) {
    const o = deps.options;
    this.#o = o;
    this.#run = deps.run;
    this.#dir = join(o.out, deps.run);
    this.#store = deps.store;
    this.#client = deps.client;
    this.#downloadAgent = deps.downloadAgent;
    this.#budget = new RequestBudget({ rpm: o.rpm, now: o.now, onRate: (rpm, cause) => o.onEvent({ type: 'rate-changed', rpm, cause }) });
    this.#estimate = new CompletionEstimate(o.firstPollMs);
    this.#backoff = { baseMs: o.retryBaseMs, capMs: 60_000, random: o.random };
    this.#tracker = new InFlightTracker({ earlyHintTtlMs: EARLY_HINT_TTL_MS });
    const planner = new PollPlanner(
      { mode: o.requestType === 'callback' ? 'callback' : 'poll', minIntervalMs: o.pollIntervalMs, stuckAfterMs: o.stuckAfterMs },
      this.#estimate,
      o.random,
    );
    const ctx: LoopContext = {
      o, run: deps.run, store: deps.store, client: deps.client, budget: this.#budget, estimate: this.#estimate, planner,
      tracker: this.#tracker, backoff: this.#backoff, callbackUrl: deps.callbackUrl ?? o.callbackUrl,
      move: (key, from, to, fields, options, taskId) => this.#move(key, from, to, fields, options, taskId),
      requestStop: (reason, message) => this.#requestStop(reason, message),
      stopping: () => this.#stop,
      track: (p) => this.#track(p),
      wake: () => this.#wake(),
      succeeded: (key, expiresAt) => this.#downloadQueue.set(key, expiresAt ?? NO_EXPIRY),
    };
    this.#poller = new Poller(ctx);
    this.#submitter = new Submitter(ctx, this.#poller);
    this.#poller.attach(this.#submitter);
    this.#downloadLimit = pLimit(o.downloadConcurrency);
    // Every download listens on this one signal.
    setMaxListeners(0, this.#downloadAbort.signal);
  }

  /** A callback named `taskId` (from src/callback): verified with one status GET, never trusted as is. */
  hint(taskId: string): void {
    this.#poller.hint(taskId);
  }

  async execute(): Promise<RunOutcome> {
    const onAbort = () => this.#requestStop('signal', 'stop requested: no new submits; waiting for requests in flight');
    if (this.#o.signal?.aborted) onAbort();
    this.#o.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      this.#resume();
      while (!this.#finished()) {
        this.#poller.dispatch();
        this.#submitter.fill();
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
    this.#poller.resume(this.#store.listByState(this.#run, 'submitted'));
    for (const row of this.#store.listByState(this.#run, 'succeeded')) this.#downloadQueue.set(row.key, row.expiresAt ?? NO_EXPIRY);
  }

  #finished(): boolean {
    if (this.#stop === 'auth' || this.#stop === 'signal') return true;
    const idle = this.#submitter.pending === 0 && this.#tracker.size === 0 && this.#downloading.size === 0 && this.#downloadQueue.size === 0;
    if (!idle) return false;
    if (this.#stop === 'credits') return true;
    // The count in memory says nothing is left; the store has the last word.
    return this.#submitter.left === 0 && this.#submitter.resync() === 0;
  }

  // ---- download ---------------------------------------------------------------------

  /**
   * Keep the download pool fed from the queue, soonest expiry first. Downloads run in
   * their own p-limit pool on their own dispatcher: they never hold a request slot or an
   * API socket, and the loop never waits for them.
   */
  #startDownloads(): void {
    if (this.#stop === 'auth' || this.#stop === 'signal') return;
    // Only twice the pool is handed over, so the rest stays ordered by expiry here.
    while (this.#downloading.size < this.#o.downloadConcurrency * 2) {
      const key = this.#downloadQueue.popDue(Infinity);
      if (key === undefined) return;
      const row = this.#store.getTask(this.#run, key);
      if (!row || row.state !== 'succeeded') continue;
      this.#downloading.add(key);
      void this.#downloadLimit(() => this.#download(row))
        .catch((err: unknown) => {
          this.#downloadAttempts.set(key, (this.#downloadAttempts.get(key) ?? 0) + 1);
          this.#o.onEvent({ type: 'retry', key, during: 'download', delayMs: 0, reason: `unexpected: ${(err as Error)?.message ?? String(err)}` });
        })
        .finally(() => {
          this.#downloading.delete(key);
          this.#requeueDownload(key);
          this.#wake();
        });
    }
  }

  /** A download that left its task succeeded (it failed, will be retried) goes back in the queue. */
  #requeueDownload(key: string): void {
    if ((this.#downloadAttempts.get(key) ?? 0) >= MAX_DOWNLOAD_ATTEMPTS) return;
    const row = this.#store.getTask(this.#run, key);
    if (row?.state === 'succeeded') this.#downloadQueue.set(key, row.expiresAt ?? NO_EXPIRY);
  }

  /**
   * Download, verify and archive one succeeded task. A URL that is gone (403/404/410, past
   * its expiry) or leads nowhere gets the task's status re-read once, for a fresh URL; the
   * other failures are retried with backoff (decideDownload in submitPolicy.ts).
   */
  async #download(row: TaskRow): Promise<void> {
    let current = row;
    for (let refreshed = false; ; refreshed = true) {
      const err = await this.#tryDownload(current);
      if (err === undefined) return;
      const attempt = this.#downloadAttempts.get(row.key) ?? 0;
      const d = decideDownload(err, { attempt, refreshed }, this.#backoff);
      if (d.action === 'abort') return;
      if (d.action === 'refresh') {
        this.#o.onEvent({ type: 'retry', key: row.key, during: 'download', delayMs: 0, reason: `re-reading the status for a fresh result URL: ${d.reason}` });
        const fresh = await this.#refreshResult(current);
        if (fresh instanceof Error) {
          await this.#downloadBackoff(row.key, attempt, `the status could not be re-read: ${fresh.message}`);
          return;
        }
        if (fresh) {
          current = fresh;
          continue;
        }
        if (!(err instanceof DownloadError) || !GONE_STATUSES.has(err.status)) {
          await this.#downloadBackoff(row.key, attempt, d.reason);
          return;
        }
        await this.#failExpired(current, `${d.reason}; the provider has no other result URL for it`);
        return;
      }
      if (d.action === 'expired') {
        await this.#failExpired(current, `${d.reason} (also after re-reading the status)`);
        return;
      }
      await this.#downloadBackoff(row.key, attempt, d.reason, d.delayMs);
      return;
    }
  }

  /** One download of the row's URL; resolves undefined once archived, or to what went wrong. */
  async #tryDownload(row: TaskRow): Promise<unknown> {
    const url = row.resultUrls?.[0];
    if (!url) return new DownloadError(ERROR_CODES.DOWNLOAD, 'the provider reported success without a result URL', { url: '', status: 404 });
    if (row.expiresAt !== null && row.expiresAt <= this.#o.now()) {
      // Treated as the 410 the host would answer, without asking it.
      return new DownloadError(ERROR_CODES.DOWNLOAD, `result URL expired at ${new Date(row.expiresAt).toISOString()}`, { url, status: 410 });
    }
    const file = videoFileName(row);
    try {
      const got = await downloadVerified(url, join(this.#dir, file), { dispatcher: this.#downloadAgent, signal: this.#downloadAbort.signal });
      const archived: TaskRow = { ...row, updatedAt: this.#o.now(), file, sha256: got.sha256, bytes: got.bytes, media: got.media as unknown as Record<string, unknown> };
      await writeSidecar(this.#dir, sidecarFromRow(archived));
      this.#move(row.key, 'succeeded', 'archived', { file, sha256: got.sha256, bytes: got.bytes, media_json: JSON.stringify(got.media) }, {}, row.taskId ?? undefined);
      this.#o.onEvent({ type: 'archived', key: row.key, taskId: row.taskId!, file: join(this.#dir, file), bytes: got.bytes, sha256: got.sha256 });
      return undefined;
    } catch (err) {
      return err;
    }
  }

  /**
   * Re-read a succeeded task's status for its current result URL: the row with the URL
   * stored (treated as fresh: valid for resultTtlMs from now), undefined when the provider
   * has none for it, or the error when the status could not be read.
   */
  async #refreshResult(row: TaskRow): Promise<TaskRow | undefined | Error> {
    if (!row.taskId) return undefined;
    let status: TaskStatus | undefined;
    try {
      status = await this.#budget.schedule('poll', () => this.#client.status(row.model, row.taskId!));
    } catch (err) {
      // 404: the provider no longer knows the task, so it has no other URL for it either.
      if (err instanceof ApiError && err.status === 404) return undefined;
      return err instanceof Error ? err : new Error(String(err));
    }
    if (status === undefined) return new Error('the run is stopping');
    const urls = status.state === 'success' ? status.resultUrls ?? [] : [];
    if (urls.length === 0) return undefined;
    const expiresAt = this.#o.now() + this.#o.resultTtlMs;
    if (!this.#store.refreshResult(this.#run, row.key, urls, expiresAt)) return undefined;
    return { ...row, resultUrls: urls, expiresAt };
  }

  async #failExpired(row: TaskRow, why: string): Promise<void> {
    // A .part left by a process killed mid-download would otherwise outlive the task.
    await rm(join(this.#dir, `${videoFileName(row)}.part`), { force: true });
    this.#move(row.key, 'succeeded', 'failed', { fail_reason: 'expired', fail_code: 'EXPIRED', fail_msg: why }, {}, row.taskId ?? undefined);
  }

  /** Counts a failed attempt and waits before the slot is given back (the next attempt comes from #startDownloads). */
  async #downloadBackoff(key: string, attempt: number, reason: string, delayMs: number = backoffDelay(attempt, this.#backoff)): Promise<void> {
    this.#downloadAttempts.set(key, attempt + 1);
    this.#o.onEvent({ type: 'retry', key, during: 'download', delayMs, reason });
    await new Promise((r) => setTimeout(r, delayMs));
  }

  // ---- plumbing ---------------------------------------------------------------------

  #move(key: string, from: TaskState, to: TaskState, fields: TransitionFields, options: TransitionOptions, taskId?: string): void {
    this.#store.transition(this.#run, key, from, to, fields, options);
    // A failure's reason travels with its event, so listeners need not read it back from the store.
    const detail = options.detail ?? ([fields.fail_code, fields.fail_msg].filter(Boolean).join(': ') || undefined);
    this.#o.onEvent({ type: 'transition', key, from, to, ...(taskId ? { taskId } : {}), ...(detail ? { detail } : {}) });
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

  /** Until the next poll is due, a submit backoff ends, or something finishes (at most 1 s). */
  async #sleep(): Promise<void> {
    const now = this.#o.now();
    let next = now + 1000;
    const due = this.#poller.nextDueAt();
    if (due !== undefined) next = Math.min(next, due);
    const blocked = this.#submitter.blockedUntil;
    if (blocked > now) next = Math.min(next, blocked);
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
