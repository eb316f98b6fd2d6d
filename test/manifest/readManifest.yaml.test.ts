import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { readManifest } from '../../src/manifest/index.js';
import { MANIFESTS, parseText } from './helpers.js';

test('manifests/example.yaml: six tasks, the last in two takes, every input explicit', async () => {
  const file = path.join(MANIFESTS, 'example.yaml');
  const m = await readManifest(file);
  assert.equal(m.file, file);
  assert.equal(m.name, 'coastal-town-day');
  assert.equal(m.hash, createHash('sha256').update(await readFile(file)).digest('hex'));
  assert.equal(m.duplicates, 0);
  assert.equal(m.tasks.length, 7);
  assert.deepEqual(
    m.tasks.map((t) => [t.input.mode, t.input.duration, t.input.aspect_ratio, t.take]),
    [
      ['text-to-video', 10, '16:9', 1],
      ['text-to-video', 5, '1:1', 1],
      ['text-to-video', 5, '9:16', 1],
      ['text-to-video', 10, '16:9', 1],
      ['image-to-video', 5, undefined, 1],
      ['text-to-video', 10, '9:16', 1],
      ['text-to-video', 10, '9:16', 2],
    ],
  );
  assert.deepEqual(
    m.tasks.map((t) => t.source.line),
    [16, 23, 28, 33, 42, 52, 52],
  );
  for (const t of m.tasks) {
    assert.equal(t.model, 'kling-2-5-turbo-pro');
    assert.equal(t.provider, 'auto');
    assert.deepEqual(t.labels, {});
    assert.equal(t.source.file, file);
  }
  const i2v = m.tasks[4]!;
  assert.deepEqual(i2v.input, {
    mode: 'image-to-video',
    prompt: 'Smooth dolly move from the lighthouse at dusk to the same lighthouse at night, its beam sweeping across the sea as the sky darkens',
    duration: 5,
    image_urls: ['https://picsum.photos/id/1043/1280/720', 'https://picsum.photos/id/1044/1280/720'],
    negative_prompt: 'flicker, sudden cuts, distorted architecture',
    cfg_scale: 0.7,
  });
  // Defaults reach the tasks that do not override them.
  assert.equal(m.tasks[0]!.input.negative_prompt, 'blurry, jittery motion, warped faces, watermark, text overlay');
  assert.equal(m.tasks[3]!.input.cfg_scale, 0.4);
  assert.equal(new Set(m.tasks.map((t) => t.key)).size, 7);
});

test('defaults: merged under each task; own fields win; null cancels; aspect_ratio never reaches image-to-video', () => {
  const m = parseText(
    'd.yaml',
    [
      'defaults:',
      '  aspect_ratio: "9:16"',
      '  negative_prompt: blur',
      '  duration: 10',
      'tasks:',
      '  - prompt: one',
      '  - prompt: two',
      '    duration: 5',
      '    negative_prompt:',
      '  - prompt: three',
      '    image_urls: [https://picsum.photos/id/3/640/360]',
      '',
    ].join('\n'),
  );
  assert.deepEqual(
    m.tasks.map((t) => t.input),
    [
      { mode: 'text-to-video', prompt: 'one', duration: 10, aspect_ratio: '9:16', negative_prompt: 'blur' },
      { mode: 'text-to-video', prompt: 'two', duration: 5, aspect_ratio: '9:16' },
      { mode: 'image-to-video', prompt: 'three', duration: 10, image_urls: ['https://picsum.photos/id/3/640/360'], negative_prompt: 'blur' },
    ],
  );
});

test('normalisation: mode from image_urls, duration 5, 16:9 for text-to-video only', () => {
  const m = parseText('n.yaml', 'tasks:\n  - prompt: a\n  - prompt: b\n    image_urls: ["http://127.0.0.1:8080/b.png"]\n');
  assert.deepEqual(m.tasks[0]!.input, { mode: 'text-to-video', prompt: 'a', duration: 5, aspect_ratio: '16:9' });
  assert.deepEqual(m.tasks[1]!.input, { mode: 'image-to-video', prompt: 'b', duration: 5, image_urls: ['http://127.0.0.1:8080/b.png'] });
  assert.equal(m.name, undefined);
});

test('takes: top level, per task override, keys differ per take', () => {
  const m = parseText('t.yaml', 'takes: 2\ntasks:\n  - prompt: a\n  - prompt: b\n    takes: 3\n');
  assert.deepEqual(
    m.tasks.map((t) => [t.input.prompt, t.take]),
    [['a', 1], ['a', 2], ['b', 1], ['b', 2], ['b', 3]],
  );
  assert.equal(new Set(m.tasks.map((t) => t.key)).size, 5);
});

test('model and provider: top level, overridden per task', () => {
  const m = parseText('p.yaml', 'model: kling-2-5-turbo-pro\nprovider: value\ntasks:\n  - prompt: a\n  - prompt: a\n    provider: official\n    model: kling-v2.1\n');
  assert.deepEqual(
    m.tasks.map((t) => [t.model, t.provider]),
    [['kling-2-5-turbo-pro', 'value'], ['kling-v2.1', 'official']],
  );
  assert.notEqual(m.tasks[0]!.key, m.tasks[1]!.key);
});

test('exact duplicates are dropped (first kept) and counted, including ones that differ only by default', () => {
  const m = parseText(
    'dup.yaml',
    [
      'tasks:',
      '  - prompt: same',
      '  - prompt: other',
      '  - {duration: 5, prompt: same}', // same content once defaults are explicit
      '  - prompt: same',
      '    takes: 2', // take 1 is a duplicate, take 2 is new
      '  - prompt: same',
      '    aspect_ratio: "1:1"', // not a duplicate
      '',
    ].join('\n'),
  );
  assert.deepEqual(
    m.tasks.map((t) => [t.input.prompt, t.take, t.source.line]),
    [['same', 1, 2], ['other', 1, 3], ['same', 2, 5], ['same', 1, 7]],
  );
  assert.equal(m.duplicates, 2);
});

test('prompts are kept byte-for-byte: inner and surrounding spaces, block scalars, unicode', () => {
  const m = parseText(
    'b.yaml',
    'tasks:\n  - prompt: "  two  spaces  "\n  - prompt: |\n      line one\n      line two\n  - prompt: "café — 東京, 🌊"\n',
  );
  assert.deepEqual(
    m.tasks.map((t) => t.input.prompt),
    ['  two  spaces  ', 'line one\nline two\n', 'café — 東京, 🌊'],
  );
});

test('anchors and aliases work for values and whole tasks; .yml is YAML too', () => {
  const m = parseText('a.yml', 'tasks:\n  - &base\n    prompt: &p a fox in snow\n    duration: 10\n  - prompt: *p\n    aspect_ratio: "1:1"\n  - *base\n');
  assert.deepEqual(
    m.tasks.map((t) => [t.input.prompt, t.input.duration, t.input.aspect_ratio]),
    [['a fox in snow', 10, '16:9'], ['a fox in snow', 5, '1:1']],
  );
  assert.equal(m.duplicates, 1);
});

test('a UTF-8 BOM, CRLF and lone CR line ends are read like plain LF', () => {
  const lf = 'name: crlf-test\ntasks:\n  - prompt: a\n    duration: 10\n';
  const crlf = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(lf.replace(/\n/g, '\r\n'))]);
  const a = parseText('lf.yaml', lf);
  const b = parseText('crlf.yaml', crlf);
  assert.equal(b.name, 'crlf-test');
  assert.deepEqual(b.tasks[0]!.input, a.tasks[0]!.input);
  assert.equal(b.tasks[0]!.key, a.tasks[0]!.key);
  assert.equal(b.tasks[0]!.source.line, 3);
  assert.notEqual(a.hash, b.hash);
  const cr = parseText('cr.yaml', lf.replace(/\n/g, '\r'));
  assert.equal(cr.tasks[0]!.key, a.tasks[0]!.key);
});

test('each take gets its own input object', () => {
  const m = parseText('c.yaml', 'tasks:\n  - prompt: a\n    takes: 2\n    image_urls: ["https://picsum.photos/id/4/640/360"]\n');
  assert.notEqual(m.tasks[0]!.input, m.tasks[1]!.input);
  assert.notEqual(m.tasks[0]!.input.image_urls, m.tasks[1]!.input.image_urls);
});

test('image URLs are trimmed: spaces around a URL are a typo, not part of it', () => {
  const m = parseText('u.yaml', 'tasks:\n  - prompt: a\n    image_urls: [" https://picsum.photos/id/7/640/360 "]\n');
  assert.deepEqual(m.tasks[0]!.input.image_urls, ['https://picsum.photos/id/7/640/360']);
  assert.equal(m.tasks[0]!.key, parseText('v.yaml', 'tasks:\n  - prompt: a\n    image_urls: [https://picsum.photos/id/7/640/360]\n').tasks[0]!.key);
});
