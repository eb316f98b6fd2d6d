import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as z from 'zod';
import { videoInputSchema } from '../../src/manifest/index.js';

test('the input schema exports to JSON Schema (for editors) with the provider limits', () => {
  const schema = z.toJSONSchema(videoInputSchema) as {
    properties: Record<string, Record<string, unknown>>;
    required: string[];
    additionalProperties: boolean;
  };
  assert.equal(schema.additionalProperties, false);
  assert.deepEqual(schema.required.sort(), ['mode', 'prompt']);
  assert.deepEqual(schema.properties['mode']!['enum'], ['text-to-video', 'image-to-video']);
  assert.deepEqual(schema.properties['duration']!['enum'], [5, 10]);
  assert.deepEqual(schema.properties['aspect_ratio']!['enum'], ['16:9', '9:16', '1:1']);
  assert.equal(schema.properties['prompt']!['maxLength'], 2500);
  assert.equal(schema.properties['image_urls']!['maxItems'], 2);
  assert.deepEqual([schema.properties['cfg_scale']!['minimum'], schema.properties['cfg_scale']!['maximum']], [0, 1]);
});

test('the schema accepts what the provider documents', () => {
  // The two request bodies from the provider's documentation.
  assert.ok(
    videoInputSchema.safeParse({
      mode: 'text-to-video',
      prompt: 'a cinematic drone shot over snowy mountains at sunrise',
      duration: 10,
      aspect_ratio: '16:9',
      negative_prompt: 'low quality, jitter',
      cfg_scale: 0.6,
    }).success,
  );
  assert.ok(
    videoInputSchema.safeParse({
      mode: 'image-to-video',
      prompt: 'smooth camera transition from first to last frame',
      duration: 5,
      image_urls: ['https://example.com/head.jpg', 'https://example.com/tail.jpg'],
      cfg_scale: 0.4,
    }).success,
  );
  assert.equal(videoInputSchema.safeParse({ mode: 'text-to-video', prompt: 'a', seed: 1 }).success, false);
});
