import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CompletionEstimate, MIN_SAMPLES } from '../../src/run/completionEstimate.js';
import type { VideoInput } from '../../src/core/types.js';

const five: VideoInput = { mode: 'text-to-video', prompt: 'p', duration: 5 };
const ten: VideoInput = { mode: 'text-to-video', prompt: 'p', duration: 10 };
const i2v: VideoInput = { mode: 'image-to-video', prompt: 'p', duration: 5, image_urls: ['https://example.com/a.jpg'] };

test('before anything is learned: the documented ranges (30–45 s, 45–60 s)', () => {
  const e = new CompletionEstimate({ 5: 30_000, 10: 45_000 });
  assert.equal(e.quantile(five, 0), 30_000);
  assert.equal(e.quantile(five, 1), 45_000);
  assert.equal(e.quantile(ten, 0), 45_000);
  assert.equal(e.quantile(ten, 1), 60_000);
  assert.equal(e.expectedMs(five), 37_500);
});

test('the ranges scale with the configured lower bound (a compressed simulator)', () => {
  const e = new CompletionEstimate({ 5: 300, 10: 450 });
  assert.equal(e.quantile(five, 1), 450);
  assert.equal(e.quantile(ten, 1), 600);
});

test('quantiles are learned per (mode, duration) once enough samples exist', () => {
  const e = new CompletionEstimate({ 5: 30_000, 10: 45_000 });
  for (let i = 0; i < MIN_SAMPLES - 1; i++) e.observe(five, 10_000 + i * 1000);
  assert.equal(e.quantile(five, 0), 30_000, 'too few samples: still the documented figure');
  e.observe(five, 10_000 + (MIN_SAMPLES - 1) * 1000);
  assert.equal(e.quantile(five, 0), 10_000);
  assert.equal(e.quantile(five, 1), 10_000 + (MIN_SAMPLES - 1) * 1000);
  assert.equal(e.quantile(five, 0.5), 14_500);
  assert.equal(e.expectedMs(five), 14_500);
  assert.equal(e.quantile(i2v, 0), 30_000, 'another mode learns on its own');
  assert.equal(e.quantile(ten, 0), 45_000, 'another duration learns on its own');
});

test('the latest samples win: a provider that slows down is followed', () => {
  const e = new CompletionEstimate({ 5: 30_000, 10: 45_000 });
  for (let i = 0; i < 300; i++) e.observe(five, 20_000);
  for (let i = 0; i < 256; i++) e.observe(five, 90_000);
  assert.equal(e.quantile(five, 0), 90_000);
});

test('nonsense costTimes are ignored', () => {
  const e = new CompletionEstimate({ 5: 30_000, 10: 45_000 });
  for (const v of [0, -5, NaN, Infinity]) e.observe(five, v);
  assert.equal(e.samples(five), 0);
});
