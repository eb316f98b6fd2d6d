import Bottleneck from 'bottleneck';

/**
 * The one request budget that submits and status polls share (the provider counts both
 * against 10,000 requests a minute). Paced with Bottleneck's `minTime` rather than its
 * `reservoir`: the reservoir refills per fixed 60 s block and lets ~1.5× the limit through
 * in a rolling minute (bottleneck#153), while even spacing never exceeds it.
 * Polls go first: finishing a task frees an in-flight slot, a new submit only fills one.
 */
export const PRIORITY = { poll: 1, submit: 5 } as const;

export class RequestBudget {
  readonly #limiter: Bottleneck;
  #stopped = false;

  constructor(requestsPerMinute: number) {
    this.#limiter = new Bottleneck({ minTime: 60_000 / requestsPerMinute, maxConcurrent: null });
  }

  /** Run `fn` when the budget allows; resolves to undefined if the budget was stopped first. */
  async schedule<T>(kind: keyof typeof PRIORITY, fn: () => Promise<T>): Promise<T | undefined> {
    if (this.#stopped) return undefined;
    try {
      return await this.#limiter.schedule({ priority: PRIORITY[kind] }, fn);
    } catch (err) {
      if (this.#stopped && err instanceof Bottleneck.BottleneckError) return undefined;
      throw err;
    }
  }

  queued(kind?: keyof typeof PRIORITY): number {
    return kind === undefined ? this.#limiter.queued() : this.#limiter.queued(PRIORITY[kind]);
  }

  /** Drop what is waiting; jobs already started run to completion. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await this.#limiter.stop({ dropWaitingJobs: true });
  }
}
