import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { finished, i2v, sim, submit, t2v } from './helpers.js';

test('a prompt with #violation fails with CONTENT_VIOLATION after its generation time', async (t) => {
  const s = await sim(t);
  const taskId = await submit(s, t2v({ prompt: 'A quiet street #Violation at dusk' }));
  const d = await finished(s, taskId);
  assert.equal(d.state, 'failed');
  assert.equal(d.failCode, 'CONTENT_VIOLATION');
  assert.equal(d.failMsg, 'Content does not meet safety guidelines');
  assert.equal(d.resultJson, undefined);
  assert.ok(d.costTime >= 150, `failures take the generation time too: ${d.costTime}`);
  assert.deepEqual(Object.keys(d), ['taskId', 'state', 'failCode', 'failMsg', 'createTime', 'completeTime', 'costTime']);
});

test('an image URL on a .invalid host fails with INVALID_IMAGE_URL', async (t) => {
  const s = await sim(t);
  const taskId = await submit(s, i2v({ image_urls: ['https://example.com/a.jpg', 'https://cdn.example.invalid/b.jpg'] }));
  const d = await finished(s, taskId);
  assert.equal(d.state, 'failed');
  assert.equal(d.failCode, 'INVALID_IMAGE_URL');
  assert.equal(d.failMsg, 'Cannot access provided image URL');
});

test('INVALID_IMAGE_URL wins over CONTENT_VIOLATION; negative_prompt is not moderated', async (t) => {
  const s = await sim(t);
  const both = await submit(s, i2v({ prompt: '#violation', image_urls: ['http://x.invalid/a.png'] }));
  const neg = await submit(s, t2v({ negative_prompt: '#violation' }));
  assert.equal((await finished(s, both)).failCode, 'INVALID_IMAGE_URL');
  assert.equal((await finished(s, neg)).state, 'success');
});
