import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { MAX_RETRY_AFTER_MS, parseRetryAfter } from '../../src/api/index.js';

const NOW = Date.parse('1994-11-06T08:49:00Z');

test('parseRetryAfter: delay-seconds', () => {
  assert.equal(parseRetryAfter('0', NOW), 0);
  assert.equal(parseRetryAfter('7', NOW), 7000);
  assert.equal(parseRetryAfter(' 120 ', NOW), 120_000);
  assert.equal(parseRetryAfter(['3', '9'], NOW), 3000, 'the first header counts');
});

test('parseRetryAfter: the three HTTP-date formats, relative to now', () => {
  assert.equal(parseRetryAfter('Sun, 06 Nov 1994 08:49:37 GMT', NOW), 37_000);
  assert.equal(parseRetryAfter('Sunday, 06-Nov-94 08:49:37 GMT', NOW), 37_000);
  assert.equal(parseRetryAfter('Sun Nov  6 08:49:37 1994', NOW), 37_000);
});

test('parseRetryAfter: a date in the past is 0', () => {
  assert.equal(parseRetryAfter('Sun, 06 Nov 1994 08:00:00 GMT', NOW), 0);
});

test('parseRetryAfter: capped', () => {
  assert.equal(parseRetryAfter('999999999999999999999', NOW), MAX_RETRY_AFTER_MS);
  assert.equal(parseRetryAfter('Mon, 07 Nov 1994 08:49:37 GMT', NOW), MAX_RETRY_AFTER_MS);
});

test('parseRetryAfter: missing or garbage is undefined', () => {
  for (const v of [undefined, [], '', 'soon', '1.5', '-5', '5s', '2026-01-09T12:00:00Z', 'Sun, 32 Nov 1994 08:49:37 GMT', 'Sun, 06 Nov 1994 08:49:37']) {
    assert.equal(parseRetryAfter(v as string | string[] | undefined, NOW), undefined, JSON.stringify(v));
  }
});
