/**
 * The task table. A task's state is never stored: it is a function of the clock and of
 * three instants fixed at creation (createTime, the end of `pending`, completeTime), so
 * 1,000 tasks in flight cost no timers and a status poll costs one Map lookup.
 *
 *   [createTime, pendingUntil)   pending      (the first 10% of the generation time)
 *   [pendingUntil, completeTime) processing
 *   [completeTime, ...)          success, or failed when `failure` is set (see failures.ts)
 *
 * Generation time is uniform in 30–45 s for a 5 s video and 45–60 s for a 10 s video,
 * multiplied by `timeScale`, drawn from a seeded PRNG in order of creation.
 *
 * Those instants, the video's shape and its planned failure are sealed into the taskId
 * (taskId.ts), so a task this table never saw — created before a restart — is rebuilt
 * from its id alone. Only its callback is lost with the old process.
 */
import type { AspectRatio, Duration, ProviderState } from '../core/types.js';
import { plannedFailure, type FailReason } from './failures.js';
import { mulberry32, type Random } from './prng.js';
import { keyTagOf, mintTaskId, readTaskId } from './taskId.js';
import type { ResolvedRequest } from './validate.js';

export const GENERATION_MS: Readonly<Record<Duration, readonly [min: number, max: number]>> = {
  5: [30_000, 45_000],
  10: [45_000, 60_000],
};
export const PENDING_FRACTION = 0.1;

export interface SimTask {
  readonly taskId: string;
  /** A tag of the key that created it (see `TaskTable.keyTag`); other keys get 404 for it. */
  readonly keyTag: string;
  readonly createTime: number;
  readonly pendingUntil: number;
  readonly completeTime: number;
  readonly durationSec: Duration;
  readonly aspectRatio: AspectRatio;
  readonly failure: FailReason | undefined;
  readonly callbackUrl: string | undefined;
}

/** The `data` object of GET statusTask, in the documentation's key order. */
export interface StatusData {
  taskId: string;
  state: ProviderState;
  resultJson?: string;
  failCode?: string;
  failMsg?: string;
  createTime: number;
  completeTime?: number;
  costTime?: number;
}

export function stateAt(task: SimTask, now: number): ProviderState {
  if (now >= task.completeTime) return task.failure ? 'failed' : 'success';
  return now < task.pendingUntil ? 'pending' : 'processing';
}

export function resultPath(taskId: string): string {
  return `/results/${taskId}.mp4`;
}

/**
 * `resultBase` is the simulator's own origin: it also serves the result files. A `stale`
 * answer hands out a result URL that has already expired (the expiredUrl fault).
 */
export function statusData(task: SimTask, now: number, resultBase: string, stale = false): StatusData {
  const state = stateAt(task, now);
  if (state === 'pending' || state === 'processing') return { taskId: task.taskId, state, createTime: task.createTime };
  const url = resultBase + resultPath(task.taskId) + (stale ? `?expires=${task.completeTime}` : '');
  // Spread in this order so the JSON reads like the documented examples.
  return {
    taskId: task.taskId,
    state,
    ...(state === 'success' ? { resultJson: JSON.stringify({ resultUrls: [url] }) } : {}),
    ...(state === 'failed' && task.failure ? { failCode: task.failure.failCode, failMsg: task.failure.failMsg } : {}),
    createTime: task.createTime,
    completeTime: task.completeTime,
    costTime: task.completeTime - task.createTime,
  };
}

export class TaskTable {
  readonly #tasks = new Map<string, SimTask>();
  readonly #random: Random;
  readonly #timeScale: number;
  readonly #secret: string;

  constructor(opts: { seed: number; timeScale: number; idSecret: string }) {
    this.#random = mulberry32(opts.seed);
    this.#timeScale = opts.timeScale;
    this.#secret = opts.idSecret;
  }

  /** What a task remembers of the key that created it. */
  keyTag(apiKey: string): string {
    return keyTagOf(apiKey, this.#secret);
  }

  get size(): number {
    return this.#tasks.size;
  }

  /** Generation time in real ms for a video of this length: the next draw of the seeded stream. */
  drawGenerationMs(duration: Duration): number {
    const [min, max] = GENERATION_MS[duration];
    return Math.round((min + (max - min) * this.#random()) * this.#timeScale);
  }

  create(apiKey: string, request: ResolvedRequest, now: number): SimTask {
    const gen = this.drawGenerationMs(request.input.duration);
    const facts = {
      keyTag: this.keyTag(apiKey),
      createTime: now,
      completeTime: now + gen,
      durationSec: request.input.duration,
      aspectRatio: request.input.aspect_ratio,
      failure: plannedFailure(request.input),
    };
    let taskId = mintTaskId(facts, this.#secret);
    while (this.#tasks.has(taskId)) taskId = mintTaskId(facts, this.#secret);
    const task: SimTask = {
      taskId,
      ...facts,
      pendingUntil: now + Math.round(gen * PENDING_FRACTION),
      callbackUrl: request.request_type === 'callback' ? request.callback_url : undefined,
    };
    this.#tasks.set(taskId, task);
    return task;
  }

  /** A task created here, or one created by an earlier simulator with the same secret (rebuilt from its id). */
  get(taskId: string): SimTask | undefined {
    const known = this.#tasks.get(taskId);
    if (known) return known;
    const facts = readTaskId(taskId, this.#secret);
    if (!facts) return undefined;
    const gen = facts.completeTime - facts.createTime;
    const task: SimTask = { taskId, ...facts, pendingUntil: facts.createTime + Math.round(gen * PENDING_FRACTION), callbackUrl: undefined };
    this.#tasks.set(taskId, task);
    return task;
  }
}
