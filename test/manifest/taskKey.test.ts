import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { VideoInput } from '../../src/core/types.js';
import { canonicalJson, taskKey } from '../../src/manifest/index.js';
import { knownTaskKey, taskJson } from '../../src/manifest/key.js';
import { parseText } from './helpers.js';

const base: VideoInput = {
  mode: 'image-to-video',
  prompt: 'a lighthouse at dusk',
  duration: 5,
  image_urls: ['https://picsum.photos/id/1/640/360', 'https://picsum.photos/id/2/640/360'],
  negative_prompt: 'blur',
  cfg_scale: 0.5,
};
const key = (input: VideoInput = base, take = 1, model = 'kling-2-5-turbo-pro', provider: 'auto' | 'value' | 'official' = 'auto') =>
  taskKey(model, provider, input, take);

test('taskKey is 24 lowercase hex digits and deterministic', () => {
  assert.match(key(), /^[0-9a-f]{24}$/);
  assert.equal(key(), key(structuredClone(base)));
});

test('taskKey ignores key order, at every depth', () => {
  const reordered = { cfg_scale: 0.5, negative_prompt: 'blur', image_urls: base.image_urls, duration: 5, prompt: 'a lighthouse at dusk', mode: 'image-to-video' } as VideoInput;
  assert.equal(key(reordered), key());
  assert.equal(canonicalJson({ b: { y: 1, x: [{ d: 1, c: 2 }] }, a: 0 }), '{"a":0,"b":{"x":[{"c":2,"d":1}],"y":1}}');
});

test('taskKey changes with take, model, provider and every input field', () => {
  const k = key();
  assert.notEqual(key(base, 2), k);
  assert.notEqual(key(base, 1, 'kling-2-5-turbo-std'), k);
  assert.notEqual(key(base, 1, undefined, 'official'), k);
  const variants: Partial<VideoInput>[] = [
    { mode: 'text-to-video' },
    { prompt: 'a lighthouse at dusk ' }, // one trailing space is another video
    { duration: 10 },
    { aspect_ratio: '1:1' },
    { image_urls: [...base.image_urls!].reverse() }, // start and end frame swapped
    { image_urls: [base.image_urls![0]!] },
    { negative_prompt: 'blur, jitter' },
    { cfg_scale: 0.51 },
  ];
  const keys = variants.map((v) => key({ ...base, ...v }));
  for (const other of keys) assert.notEqual(other, k);
  assert.equal(new Set(keys).size, keys.length);
});

test('an absent field and an undefined one give the same key', () => {
  const { cfg_scale: _drop, ...without } = base;
  assert.equal(key({ ...without, cfg_scale: undefined } as VideoInput), key(without));
});

test('canonicalJson refuses values JSON cannot carry, rather than hashing them silently', () => {
  assert.throws(() => canonicalJson({ a: Number.NaN }), /cannot hash/);
  assert.throws(() => canonicalJson(() => 1), /cannot hash/);
});

test('the same task gives the same key from YAML and CSV, whatever the file or field order', () => {
  const yaml = parseText('a.yaml', 'tasks:\n  - cfg_scale: 0.5\n    duration: 10\n    prompt: "a cat, sleeping"\n');
  const yamlExplicit = parseText(
    'other-name.yml',
    'provider: auto\nmodel: kling-2-5-turbo-pro\ntasks:\n  - {aspect_ratio: "16:9", mode: text-to-video, prompt: "a cat, sleeping", duration: 10, cfg_scale: 0.5}\n',
  );
  const csv = parseText('b.csv', 'duration,prompt,cfg_scale\n10,"a cat, sleeping",0.5\n');
  assert.equal(yaml.tasks[0]!.key, yamlExplicit.tasks[0]!.key);
  assert.equal(yaml.tasks[0]!.key, csv.tasks[0]!.key);
  assert.notEqual(yaml.hash, csv.hash);
});

test('the fast task JSON is byte for byte the canonical JSON (keys of existing runs do not change)', () => {
  const inputs: VideoInput[] = [
    { mode: 'text-to-video', prompt: 'a' },
    { mode: 'text-to-video', prompt: 'quote " backslash \\ newline \n tab \t é 🎬 \u2028', duration: 10, aspect_ratio: '9:16', negative_prompt: 'n', cfg_scale: 0.35 },
    { mode: 'image-to-video', prompt: 'b', duration: 5, image_urls: ['https://a.io/1.png', 'https://a.io/2 "x".png'], cfg_scale: 1 },
    { mode: 'text-to-video', prompt: 'c', cfg_scale: 0 },
  ];
  for (const input of inputs) {
    for (const take of [1, 7]) {
      assert.equal(taskJson('kling-2-5-turbo-pro', 'value', input, take), canonicalJson({ model: 'kling-2-5-turbo-pro', provider: 'value', input, take }));
    }
  }
  // Anything outside the known shape takes the general path, with the same result.
  const odd = { mode: 'text-to-video', prompt: 'd', extra: { b: 1, a: 2 } } as unknown as VideoInput;
  assert.equal(taskJson('m', 'auto', odd, 1), canonicalJson({ model: 'm', provider: 'auto', input: odd, take: 1 }));
});

test("the manifest stage's own key path (pieces kept from the task before) gives taskKey's keys", () => {
  // Sequences as a sheet makes them: a row's durations one after the other, then the next
  // row with only its prompt changed; fields that come and go; values JSON must escape.
  const prompts = ['a', 'a lighthouse at dusk', 'quote " backslash \\ newline \n é 🎬 \u2028', 'a', 'b'];
  const shapes: ((prompt: string, duration: 5 | 10) => VideoInput)[] = [
    (prompt, duration) => ({ mode: 'text-to-video', prompt, duration, aspect_ratio: '16:9', negative_prompt: 'blurry, watermark' }),
    (prompt, duration) => ({ mode: 'text-to-video', prompt, duration, aspect_ratio: duration === 5 ? '9:16' : '1:1', cfg_scale: 0.35 }),
    (prompt, duration) => ({ ...base, prompt, duration }),
    (prompt, duration) => ({ mode: 'image-to-video', prompt, duration, image_urls: ['https://a.io/1.png', 'https://a.io/2 "x".png'], negative_prompt: prompt }),
    (prompt, duration) => ({ mode: 'text-to-video', prompt, duration, negative_prompt: duration === 5 ? 'n' : 'm' }),
    (prompt, duration) => ({ mode: duration === 5 ? 'text-to-video' : 'image-to-video', prompt, duration, cfg_scale: duration / 10 }),
  ];
  const inputs = shapes.flatMap((shape) => prompts.flatMap((prompt) => [shape(prompt, 5), shape(prompt, 10)]));
  const tasks = [['kling-2-5-turbo-pro', 'auto', 1], ['kling-2-5-turbo-pro', 'auto', 2], ['kling-2-5-turbo-std', 'auto', 2], ['kling-2-5-turbo-std', 'value', 2]] as const;
  const check = (model: string, provider: 'auto' | 'value', input: VideoInput, take: number): void =>
    assert.equal(knownTaskKey(model, provider, input, take), taskKey(model, provider, input, take), JSON.stringify({ model, provider, input, take }));
  // The inputs in turn for one model and take, then each input for every model and take.
  for (const [model, provider, take] of tasks) for (const input of inputs) check(model, provider, input, take);
  for (const input of inputs) for (const [model, provider, take] of [...tasks, ...tasks]) check(model, provider, input, take);
});
