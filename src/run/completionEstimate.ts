import type { VideoInput } from '../core/types.js';

/**
 * How long tasks take, learned online from the costTime of finished tasks per
 * (mode, duration), starting from the documented figures (5 s video 30–45 s, 10 s video
 * 45–60 s, scaled like `initialMs`).
 *
 * It keeps the last SAMPLES costTimes of each bucket rather than a mean, because the
 * poll planner needs the shape: a first poll at the mean would leave half the tasks
 * finished and waiting for it (a quarter of the spread on average, 3.75 s for a 5 s
 * video — worse than the documentation's own advice), so it polls first at a low
 * quantile and spaces the following polls by the budget.
 */
const SAMPLES = 256;
/** Below this many samples a bucket uses the documented figures. */
export const MIN_SAMPLES = 10;

interface Bucket {
  ring: number[];
  next: number;
  sorted: number[] | undefined;
}

export interface Documented {
  /** The documented lower bound per duration (first poll before anything is learned). */
  5: number;
  10: number;
}

export class CompletionEstimate {
  readonly #initial: Documented;
  readonly #buckets = new Map<string, Bucket>();

  /** `initialMs`: documented lower bounds; the upper ones are 1.5× (45/30) and 4/3× (60/45) of them. */
  constructor(initialMs: Documented) {
    this.#initial = initialMs;
  }

  /** Samples learned for this input's bucket. */
  samples(input: VideoInput): number {
    return this.#buckets.get(bucket(input))?.ring.length ?? 0;
  }

  /**
   * The q-quantile (0..1) of the time from submit to completion. Before MIN_SAMPLES are
   * learned: linear between the documented lower and upper bounds.
   */
  quantile(input: VideoInput, q: number): number {
    const b = this.#buckets.get(bucket(input));
    if (!b || b.ring.length < MIN_SAMPLES) {
      const lo = this.#initial[input.duration === 10 ? 10 : 5];
      const hi = input.duration === 10 ? (lo * 60) / 45 : (lo * 45) / 30;
      return lo + (hi - lo) * clamp01(q);
    }
    b.sorted ??= [...b.ring].sort((x, y) => x - y);
    const s = b.sorted;
    // Linear interpolation between order statistics.
    const pos = clamp01(q) * (s.length - 1);
    const i = Math.floor(pos);
    const lo = s[i] as number;
    const hi = s[Math.min(i + 1, s.length - 1)] as number;
    return lo + (hi - lo) * (pos - i);
  }

  /** The mean of what was learned (the documented midpoint before that). */
  expectedMs(input: VideoInput): number {
    const b = this.#buckets.get(bucket(input));
    if (!b || b.ring.length < MIN_SAMPLES) return this.quantile(input, 0.5);
    return b.ring.reduce((a, x) => a + x, 0) / b.ring.length;
  }

  observe(input: VideoInput, costTimeMs: number): void {
    if (!Number.isFinite(costTimeMs) || costTimeMs <= 0) return;
    const k = bucket(input);
    let b = this.#buckets.get(k);
    if (!b) {
      b = { ring: [], next: 0, sorted: undefined };
      this.#buckets.set(k, b);
    }
    // A ring of the latest samples, so a provider that slows down at night is followed.
    if (b.ring.length < SAMPLES) b.ring.push(costTimeMs);
    else b.ring[b.next] = costTimeMs;
    b.next = (b.next + 1) % SAMPLES;
    b.sorted = undefined;
  }
}

function clamp01(q: number): number {
  return Math.min(1, Math.max(0, q));
}

function bucket(input: VideoInput): string {
  return `${input.mode}:${input.duration ?? 5}`;
}
