/** KeySet, the manifest stage's deduplication of task keys: it must agree with a Set of strings. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KeySet } from '../../src/manifest/keyset.js';
import { mulberry32 } from '../../src/sim/prng.js';

const word = (r: () => number) => Math.floor(r() * 2 ** 32).toString(16).padStart(8, '0');

test('KeySet agrees with a Set over 200,000 keys with repeats, through every growth', () => {
  const r = mulberry32(11);
  const keys: string[] = [];
  for (let i = 0; i < 150_000; i++) keys.push(word(r) + word(r) + word(r));
  // Repeats of earlier keys, interleaved, as a sheet with duplicate rows makes them.
  for (let i = 0; i < 50_000; i++) keys.splice(Math.floor(r() * keys.length), 0, keys[Math.floor(r() * keys.length)]!);
  const set = new KeySet();
  const model = new Set<string>();
  for (const k of keys) {
    assert.equal(set.add(k), !model.has(k), k);
    model.add(k);
  }
  assert.equal(set.size, model.size);
  for (const k of keys.slice(0, 1000)) assert.equal(set.add(k), false);
});

test('KeySet: keys sharing their first word (one slot) are told apart; the all-zero key is a key; upper case is the same key', () => {
  const set = new KeySet();
  const same = 'deadbeef';
  const keys = Array.from({ length: 50 }, (_, i) => same + i.toString(16).padStart(8, '0') + 'f'.repeat(8));
  for (const k of keys) assert.equal(set.add(k), true);
  for (const k of keys) assert.equal(set.add(k), false);
  assert.equal(set.add('0'.repeat(24)), true);
  assert.equal(set.add('0'.repeat(24)), false);
  assert.equal(set.add('00000000' + '00000000' + '00000001'), true);
  assert.equal(set.add('ABCDEF01'.repeat(3)), true);
  assert.equal(set.add('abcdef01'.repeat(3)), false);
  assert.equal(set.size, 53);
});
