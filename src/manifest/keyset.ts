/**
 * A set of task keys (24 hex digits = 96 bits) in typed arrays: open addressing, three
 * 32-bit words a key. A million keys take 24 MB here against ~100 MB in a Set of strings,
 * which is what keeps deduplicating a million-row sheet inside its memory budget.
 *
 * An empty slot is three zero words, so that a probe reads one place in memory (with a
 * separate array of used flags, every probe of a table larger than the CPU's caches cost
 * two misses); the one key that is all zeros is kept aside.
 */
export class KeySet {
  #slots: Uint32Array;
  #size = 0;
  #mask: number;
  #hasZero = false;

  constructor(capacity = 1024) {
    let n = 1024;
    while (n < capacity * 2) n *= 2;
    this.#slots = new Uint32Array(n * 3);
    this.#mask = n - 1;
  }

  get size(): number {
    return this.#size;
  }

  /** Adds the key; false when it was already there. */
  add(key: string): boolean {
    let a = hexWord(key, 0);
    let b = hexWord(key, 8);
    let c = hexWord(key, 16);
    if (a < 0 || b < 0 || c < 0 || key.length < 24) {
      // Not 24 hex digits (never a task key): what parseInt makes of it.
      a = parseInt(key.slice(0, 8), 16) >>> 0;
      b = parseInt(key.slice(8, 16), 16) >>> 0;
      c = parseInt(key.slice(16, 24), 16) >>> 0;
    }
    if ((a | b | c) === 0) {
      if (this.#hasZero) return false;
      this.#hasZero = true;
      this.#size++;
      return true;
    }
    // The key is a hash already: its first word is a good enough slot hash.
    const slots = this.#slots;
    let i = a & this.#mask;
    for (;;) {
      const s = i * 3;
      const x = slots[s]!;
      const y = slots[s + 1]!;
      const z = slots[s + 2]!;
      if ((x | y | z) === 0) break;
      if (x === a && y === b && z === c) return false;
      i = (i + 1) & this.#mask;
    }
    slots[i * 3] = a;
    slots[i * 3 + 1] = b;
    slots[i * 3 + 2] = c;
    this.#size++;
    if (this.#size * 2 > this.#mask + 1) this.#grow();
    return true;
  }

  #grow(): void {
    const old = this.#slots;
    const n = (this.#mask + 1) * 2;
    const slots = new Uint32Array(n * 3);
    const mask = n - 1;
    for (let j = 0; j < old.length; j += 3) {
      const a = old[j]!;
      const b = old[j + 1]!;
      const c = old[j + 2]!;
      if ((a | b | c) === 0) continue;
      let i = a & mask;
      while ((slots[i * 3]! | slots[i * 3 + 1]! | slots[i * 3 + 2]!) !== 0) i = (i + 1) & mask;
      slots[i * 3] = a;
      slots[i * 3 + 1] = b;
      slots[i * 3 + 2] = c;
    }
    this.#slots = slots;
    this.#mask = mask;
  }
}

/** Digit values of '0'-'9', 'a'-'f', 'A'-'F'; -1 for anything else. */
const HEX = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) HEX[48 + i] = i;
for (let i = 0; i < 6; i++) HEX[97 + i] = HEX[65 + i] = 10 + i;

/** The 8 hex digits of `key` from `at` as an unsigned 32-bit number (as parseInt(…, 16) >>> 0), or -1 if any is not a hex digit. */
function hexWord(key: string, at: number): number {
  let v = 0;
  for (let k = at; k < at + 8; k++) {
    const code = key.charCodeAt(k);
    const d = code < 128 ? HEX[code]! : -1;
    if (d < 0) return -1;
    v = (v << 4) | d;
  }
  return v >>> 0;
}
