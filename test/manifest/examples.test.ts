/** Every example in manifests/ plans, to the counts its comments promise. */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parseDocument } from 'yaml';
import { documentSchema, readManifest } from '../../src/manifest/index.js';
import { MANIFESTS } from './helpers.js';

const example = (name: string) => readManifest(path.join(MANIFESTS, name));

test('variations.yaml: 3 styles × 4 subjects × 2 takes = 24, labelled by style and subject', async () => {
  const m = await example('variations.yaml');
  assert.equal(m.count, 24);
  assert.deepEqual(new Set(m.tasks.map((t) => t.labels['style'])), new Set(['noir', 'anime', 'claymation']));
  assert.equal(new Set(m.tasks.map((t) => t.labels['subject'])).size, 4);
  assert.ok(m.tasks.every((t) => t.input.negative_prompt === 'blurry, watermark, text overlay'));
});

test('alternatives.yaml: {a|b} groups, escapes and wildcards (one with alternatives inside) = 13', async () => {
  const m = await example('alternatives.yaml');
  assert.equal(m.count, 6 + 4 + 3);
  assert.ok(m.tasks.some((t) => t.input.prompt === 'Neon sign reading {OPEN} over a rainy alley, close-up'));
  assert.deepEqual(m.tasks.filter((t) => t.input.duration === 10).map((t) => t.input.prompt), [
    'Time-lapse of storm clouds rolling in over a lighthouse',
    'Time-lapse of a clear night sky over a lighthouse',
    'Time-lapse of a starry night sky over a lighthouse',
  ]);
  assert.equal(m.tasks[0]!.labels['__camera__'], 'slow dolly in');
});

test('field-axes.yaml: duration × aspect_ratio × cfg_scale = 12, and a task replacing the duration axis = 6', async () => {
  const m = await example('field-axes.yaml');
  assert.equal(m.count, 18);
  const lantern = m.tasks.filter((t) => t.input.prompt.startsWith('A paper lantern'));
  assert.equal(lantern.length, 6);
  assert.ok(lantern.every((t) => t.input.duration === 10));
  assert.deepEqual(new Set(m.tasks.map((t) => t.input.cfg_scale)), new Set([0.3, 0.5, 0.8]));
});

test('sample.yaml: 20 of 1,440, the same 20 every time', async () => {
  const a = await example('sample.yaml');
  const b = await example('sample.yaml');
  assert.equal(a.count, 20);
  assert.equal(a.sampledFrom, 1440);
  assert.deepEqual(a.tasks.map((t) => t.key), b.tasks.map((t) => t.key));
});

test('sheets.yaml: a CSV crossed with vars and wrapped by a template, and JSONL image rows = 10', async () => {
  const m = await example('sheets.yaml');
  assert.equal(m.count, 10);
  const shots = m.tasks.filter((t) => t.source.file.endsWith('shots.csv'));
  assert.equal(shots.length, 8);
  assert.deepEqual(shots[0]!.labels, { shot: '1', location: 'kitchen', grade: 'warm' });
  assert.equal(shots.find((t) => t.labels['shot'] === '3')!.input.duration, 10);
  const frames = m.tasks.filter((t) => t.source.file.endsWith('frames.jsonl'));
  assert.deepEqual(frames.map((t) => t.input.image_urls), [['https://picsum.photos/id/1043/1280/720'], ['https://picsum.photos/id/1044/1280/720']]);
  assert.deepEqual(frames[0]!.labels, { photo: '1043', 'location.country': 'PT', 'location.site': 'Cabo da Roca' });
});

test('example.jsonl, example.csv and example.yaml plan', async () => {
  assert.equal((await example('example.jsonl')).count, 4);
  assert.equal((await example('example.csv')).count, 4);
  assert.equal((await example('example.yaml')).count, 7);
});

test('every YAML example is valid against the document schema the JSON Schema is made from', () => {
  const yamls = readdirSync(MANIFESTS).filter((f) => f.endsWith('.yaml'));
  assert.ok(yamls.length >= 6);
  for (const f of yamls) {
    const value = parseDocument(readFileSync(path.join(MANIFESTS, f), 'utf8')).toJS() as unknown;
    const r = documentSchema.safeParse(value);
    assert.ok(r.success, `${f}: ${r.success ? '' : JSON.stringify(r.error.issues)}`);
  }
});
