/**
 * Additive increase, multiplicative decrease, as TCP does it: a 429 cuts the value at
 * once; every quiet period adds back a small step, so recovering to the configured
 * ceiling takes minutes, not seconds, and a provider that is really tighter than
 * documented is not hit again right after each recovery.
 *
 * Pure and clock-driven: `onLimited` and `tick` take `now`, nothing here sleeps or
 * schedules, so tests drive it with plain numbers.
 */
export interface AimdOptions {
  /** The configured value; never exceeded. */
  max: number;
  /** Never cut below this. */
  min: number;
  /** Multiplied by this on a 429. @default 0.7 */
  decrease?: number;
  /** Added after each quiet `increaseEveryMs`, as a fraction of `max`. @default 0.02 */
  increaseFraction?: number;
  /** Length of the quiet period that earns one increase step. @default 10_000 */
  increaseEveryMs?: number;
  /**
   * 429s within this long after a cut count as the same congestion event: a burst of
   * requests already in flight all answer 429 together and must cut once, not ten times.
   * @default 2_000
   */
  cooldownMs?: number;
}

export class Aimd {
  readonly #max: number;
  readonly #min: number;
  readonly #decrease: number;
  readonly #step: number;
  readonly #every: number;
  readonly #cooldown: number;
  #value: number;
  #lastCut = -Infinity;
  /** Start of the current quiet period (the last cut or the last step). */
  #quietSince: number;

  constructor(o: AimdOptions, now: number) {
    if (!(o.max >= o.min && o.min > 0)) throw new RangeError(`Expected 0 < min <= max, got min ${o.min}, max ${o.max}`);
    this.#max = o.max;
    this.#min = o.min;
    this.#decrease = o.decrease ?? 0.7;
    this.#step = (o.increaseFraction ?? 0.02) * o.max;
    this.#every = o.increaseEveryMs ?? 10_000;
    this.#cooldown = o.cooldownMs ?? 2_000;
    this.#value = o.max;
    this.#quietSince = now;
  }

  get value(): number {
    return this.#value;
  }

  get max(): number {
    return this.#max;
  }

  /** A 429 was seen. Returns true when the value changed. */
  onLimited(now: number): boolean {
    this.#quietSince = now;
    if (now - this.#lastCut < this.#cooldown) return false;
    this.#lastCut = now;
    const next = Math.max(this.#min, this.#value * this.#decrease);
    const changed = next !== this.#value;
    this.#value = next;
    return changed;
  }

  /** Credit the quiet time up to `now`. Returns true when the value changed. */
  tick(now: number): boolean {
    if (this.#value >= this.#max) {
      this.#quietSince = now;
      return false;
    }
    const steps = Math.floor((now - this.#quietSince) / this.#every);
    if (steps <= 0) return false;
    this.#quietSince += steps * this.#every;
    this.#value = Math.min(this.#max, this.#value + steps * this.#step);
    return true;
  }
}
