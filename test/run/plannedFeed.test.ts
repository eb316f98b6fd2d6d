import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Store } from '../../src/store/index.js';
import { PlannedFeed } from '../../src/run/plannedFeed.js';
import { spec } from '../helpers/specs.js';
import { tempDir } from '../helpers/tmp.js';

function storeWith(t: Parameters<typeof tempDir>[0], n: number): Store {
  const store = Store.open(join(tempDir(t), 'v.db'));
  t.after(() => store.close());
  store.ensureRun('r', 'm.yaml', 'h');
  store.addTasks('r', Array.from({ length: n }, (_, i) => spec(i + 1)));
  return store;
}

test('hands out planned rows in manifest order, a batch read at a time', (t) => {
  const store = storeWith(t, 10);
  const feed = new PlannedFeed(store, 'r', 3);
  assert.equal(feed.left, 10);
  const busy = new Set<string>();
  const seqs: number[] = [];
  for (let row = feed.next(busy); row; row = feed.next(busy)) {
    busy.add(row.key);
    seqs.push(row.seq);
  }
  assert.deepEqual(seqs, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
});

test('the count follows taken and returned rows; a returned row comes out again first', (t) => {
  const store = storeWith(t, 4);
  const feed = new PlannedFeed(store, 'r', 2);
  const busy = new Set<string>();
  const first = feed.next(busy)!;
  store.transition('r', first.key, 'planned', 'submitting');
  feed.taken();
  assert.equal(feed.left, 3);
  const second = feed.next(busy)!;
  busy.add(second.key);
  store.transition('r', first.key, 'submitting', 'planned');
  feed.returned();
  assert.equal(feed.left, 4);
  assert.equal(feed.next(busy)?.key, first.key, 'the 429ed row goes before later ones');
});

test('nothing left means undefined, and a drifted count is corrected from the store', (t) => {
  const store = storeWith(t, 2);
  const feed = new PlannedFeed(store, 'r');
  for (const r of store.listByState('r', 'planned')) store.transition('r', r.key, 'planned', 'submitting');
  assert.equal(feed.left, 2, 'moved behind its back');
  assert.equal(feed.next(new Set()), undefined);
  assert.equal(feed.resync(), 0);
});
