/**
 * `sample: N` with `seed`: N variations drawn without replacement from a product that may
 * be far too large to list. Floyd's algorithm draws N distinct numbers out of M with N
 * random draws and a set of N; the numbers are then rendered one by one (template.ts).
 *
 * The draw depends on the seed and on M only, so the same manifest always gives the same
 * subset. Adding rows or values changes M and therefore the subset: tasks already in a
 * run are never resubmitted, but new ones may be added (`vidbatch plan` shows them).
 */
import { createHash } from 'node:crypto';

/** sfc32, seeded through SHA-256 of the seed: small, fast, and the same on every platform. */
export function seededRandom(seed: number | string): () => number {
  const h = createHash('sha256').update(`vidbatch-sample:${typeof seed}:${String(seed)}`).digest();
  let a = h.readUInt32LE(0);
  let b = h.readUInt32LE(4);
  let c = h.readUInt32LE(8);
  let d = h.readUInt32LE(12);
  const next32 = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 12; i++) next32();
  // 53 random bits, as Math.random would give.
  return () => ((next32() >>> 5) * 67108864 + (next32() >>> 6)) / 9007199254740992;
}

/** `n` distinct integers from [0, m), sorted; all of them when n >= m. */
export function sampleIndices(n: number, m: number, seed: number | string): number[] {
  if (n >= m) return Array.from({ length: m }, (_, i) => i);
  const random = seededRandom(seed);
  const chosen = new Set<number>();
  for (let j = m - n; j < m; j++) {
    const t = Math.floor(random() * (j + 1));
    chosen.add(chosen.has(t) ? j : t);
  }
  return [...chosen].sort((x, y) => x - y);
}
