/**
 * A set of task keys (24 hex digits = 96 bits) in typed arrays: open addressing, three
 * 32-bit words a key. A million keys take 24 MB here against ~100 MB in a Set of strings,
 * which is what keeps deduplicating a million-row sheet inside its memory budget.
 */
export class KeySet {
  #slots: Uint32Array;
  #used: Uint8Array;
  #size = 0;
  #mask: number;

  constructor(capacity = 1024) {
    let n = 1024;
    while (n < capacity * 2) n *= 2;
    this.#slots = new Uint32Array(n * 3);
    this.#used = new Uint8Array(n);
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
    // The key is a hash already: its first word is a good enough slot hash.
    let i = a & this.#mask;
    while (this.#used[i]) {
      const s = i * 3;
      if (this.#slots[s] === a && this.#slots[s + 1] === b && this.#slots[s + 2] === c) return false;
      i = (i + 1) & this.#mask;
    }
    this.#used[i] = 1;
    this.#slots[i * 3] = a;
    this.#slots[i * 3 + 1] = b;
    this.#slots[i * 3 + 2] = c;
    this.#size++;
    if (this.#size * 2 > this.#mask + 1) this.#grow();
    return true;
  }

  #grow(): void {
    const oldSlots = this.#slots;
    const oldUsed = this.#used;
    const n = (this.#mask + 1) * 2;
    this.#slots = new Uint32Array(n * 3);
    this.#used = new Uint8Array(n);
    this.#mask = n - 1;
    for (let j = 0; j < oldUsed.length; j++) {
      if (!oldUsed[j]) continue;
      const a = oldSlots[j * 3]!;
      let i = a & this.#mask;
      while (this.#used[i]) i = (i + 1) & this.#mask;
      this.#used[i] = 1;
      this.#slots[i * 3] = a;
      this.#slots[i * 3 + 1] = oldSlots[j * 3 + 1]!;
      this.#slots[i * 3 + 2] = oldSlots[j * 3 + 2]!;
    }
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
