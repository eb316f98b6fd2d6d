/**
 * mulberry32: a tiny seeded PRNG. Not for secrets; it exists so that a seeded
 * simulator produces the same generation times and the same injected faults on every
 * rehearsal, which is what makes a benchmark or a flaky-looking test reproducible.
 */
export type Random = () => number;

export function mulberry32(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Independent streams from one seed: the fault stream must not shift the timing stream,
 * otherwise turning faults on would change every generation time.
 */
export function deriveSeed(seed: number, stream: number): number {
  return (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(stream + 1, 0xc2b2ae35)) >>> 0;
}
