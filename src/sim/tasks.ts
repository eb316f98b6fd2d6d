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
 */
import { randomBytes } from 'node:crypto';
import type { AspectRatio, Duration, ProviderState } from '../core/types.js';
import { plannedFailure, type FailReason } from './failures.js';
import { mulberry32, type Random } from './prng.js';
import type { ResolvedRequest } from './validate.js';

export const GENERATION_MS: Readonly<Record<Duration, readonly [min: number, max: number]>> = {
  5: [30_000, 45_000],
  10: [45_000, 60_000],
};
export const PENDING_FRACTION = 0.1;

export interface SimTask {
  readonly taskId: string;
  /** The key that created it; other keys get 404 for it. */
  readonly apiKey: string;
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

export function newTaskId(): string {
  return 'task_' + randomBytes(8).toString('hex');
}

export function stateAt(task: SimTask, now: number): ProviderState {
  if (now >= task.completeTime) return task.failure ? 'failed' : 'success';
  return now < task.pendingUntil ? 'pending' : 'processing';
}

export function resultPath(taskId: string): string {
  return `/results/${taskId}.mp4`;
}

/** `resultBase` is the simulator's own origin: it also serves the result files. */
export function statusData(task: SimTask, now: number, resultBase: string): StatusData {
  const state = stateAt(task, now);
  if (state === 'pending' || state === 'processing') return { taskId: task.taskId, state, createTime: task.createTime };
  // Spread in this order so the JSON reads like the documented examples.
  return {
    taskId: task.taskId,
    state,
    ...(state === 'success' ? { resultJson: JSON.stringify({ resultUrls: [resultBase + resultPath(task.taskId)] }) } : {}),
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

  constructor(opts: { seed: number; timeScale: number }) {
    this.#random = mulberry32(opts.seed);
    this.#timeScale = opts.timeScale;
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
    let taskId = newTaskId();
    while (this.#tasks.has(taskId)) taskId = newTaskId();
    const task: SimTask = {
      taskId,
      apiKey,
      createTime: now,
      pendingUntil: now + Math.round(gen * PENDING_FRACTION),
      completeTime: now + gen,
      durationSec: request.input.duration,
      aspectRatio: request.input.aspect_ratio,
      failure: plannedFailure(request.input),
      callbackUrl: request.request_type === 'callback' ? request.callback_url : undefined,
    };
    this.#tasks.set(taskId, task);
    return task;
  }

  get(taskId: string): SimTask | undefined {
    return this.#tasks.get(taskId);
  }
}
