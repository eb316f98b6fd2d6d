import type { VideoInput } from '../core/types.js';

/**
 * When to poll a task first: near its expected completion, learned online from the
 * costTime of finished tasks per (mode, duration), starting from the configured figure
 * (the documented generation times unless told otherwise).
 */
export class CompletionEstimate {
  readonly #initial: { 5: number; 10: number };
  readonly #learned = new Map<string, { mean: number; n: number }>();

  constructor(initialMs: { 5: number; 10: number }) {
    this.#initial = initialMs;
  }

  expectedMs(input: VideoInput): number {
    const l = this.#learned.get(bucket(input));
    return l ? l.mean : this.#initial[input.duration === 10 ? 10 : 5];
  }

  observe(input: VideoInput, costTimeMs: number): void {
    if (!Number.isFinite(costTimeMs) || costTimeMs <= 0) return;
    const k = bucket(input);
    const l = this.#learned.get(k);
    if (!l) {
      this.#learned.set(k, { mean: costTimeMs, n: 1 });
      return;
    }
    // A running mean for the first samples, then an EWMA so a slower provider is followed.
    const n = Math.min(l.n + 1, 50);
    l.mean += (costTimeMs - l.mean) / n;
    l.n = n;
  }
}

function bucket(input: VideoInput): string {
  return `${input.mode}:${input.duration ?? 5}`;
}
