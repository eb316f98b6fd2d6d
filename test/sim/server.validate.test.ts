import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { GENERATE, STATUS, call, i2v, sim, submit, t2v } from './helpers.js';

const long = 'x'.repeat(2501);

/** [what, body, field the message must name] */
const CASES: [string, unknown, string][] = [
  ['body is not an object', [1, 2], 'request body'],
  ['unknown top-level key', { ...t2v(), callbackUrl: 'https://x.test/cb' }, 'callbackUrl'],
  ['request_type outside the enum', { ...t2v(), request_type: 'sync' }, 'request_type'],
  ['callback without callback_url', { ...t2v(), request_type: 'callback' }, 'callback_url'],
  ['callback_url not http(s)', { ...t2v(), request_type: 'callback', callback_url: 'ftp://x.test/cb' }, 'callback_url'],
  ['callback_url not a URL', { ...t2v(), request_type: 'callback', callback_url: 'not a url' }, 'callback_url'],
  ['provider outside the enum', { ...t2v(), provider: 'cheapest' }, 'provider'],
  ['input missing', { request_type: 'async' }, 'input'],
  ['input not an object', { input: 'text' }, 'input'],
  ['input.mode missing', { input: { prompt: 'p' } }, 'input.mode'],
  ['input.mode outside the enum', t2v({ mode: 'video-to-video' }), 'input.mode'],
  ['input.prompt missing', { input: { mode: 'text-to-video' } }, 'input.prompt'],
  ['input.prompt empty', t2v({ prompt: '   ' }), 'input.prompt'],
  ['input.prompt not a string', t2v({ prompt: 42 }), 'input.prompt'],
  ['input.prompt too long', t2v({ prompt: long }), 'input.prompt'],
  ['input.duration 7', t2v({ duration: 7 }), 'input.duration'],
  ['input.duration as a string', t2v({ duration: '5' }), 'input.duration'],
  ['input.aspect_ratio 4:3', t2v({ aspect_ratio: '4:3' }), 'input.aspect_ratio'],
  ['input.cfg_scale above 1', t2v({ cfg_scale: 1.5 }), 'input.cfg_scale'],
  ['input.cfg_scale below 0', t2v({ cfg_scale: -0.1 }), 'input.cfg_scale'],
  ['input.cfg_scale a string', t2v({ cfg_scale: '0.5' }), 'input.cfg_scale'],
  ['input.negative_prompt too long', t2v({ negative_prompt: long }), 'input.negative_prompt'],
  ['input.negative_prompt not a string', t2v({ negative_prompt: ['blur'] }), 'input.negative_prompt'],
  ['input.negative_prompt null', t2v({ negative_prompt: null }), 'input.negative_prompt'],
  ['image_urls with text-to-video', t2v({ image_urls: ['https://example.com/a.jpg'] }), 'input.image_urls'],
  ['image_urls missing for image-to-video', { input: { mode: 'image-to-video', prompt: 'p' } }, 'input.image_urls'],
  ['image_urls empty', i2v({ image_urls: [] }), 'input.image_urls'],
  ['image_urls with 3 URLs', i2v({ image_urls: ['https://a.test/1.jpg', 'https://a.test/2.jpg', 'https://a.test/3.jpg'] }), 'input.image_urls'],
  ['image_urls not an array', i2v({ image_urls: 'https://a.test/1.jpg' }), 'input.image_urls'],
  ['image_urls item not http(s)', i2v({ image_urls: ['https://a.test/1.jpg', 'file:///etc/passwd'] }), 'input.image_urls[1]'],
  ['unknown input key', t2v({ seed: 3 }), 'input.seed'],
];

test('each invalid field answers 400 with a message naming it, and creates nothing', async (t) => {
  const s = await sim(t);
  for (const [what, body, field] of CASES) {
    const r = await call(s, 'POST', GENERATE, { body });
    assert.equal(r.status, 400, `${what}: ${r.text}`);
    assert.equal(r.json.code, 400, what);
    assert.equal(r.json.data, null, what);
    assert.ok((r.json.message as string).includes(field), `${what}: message ${JSON.stringify(r.json.message)} should name ${field}`);
  }
  assert.equal(s.stats().created, 0);
});

test('invalid JSON, an empty body and a body over 1 MB answer 400', async (t) => {
  const s = await sim(t);
  const bad = await call(s, 'POST', GENERATE, { raw: '{"input": ' });
  assert.equal(bad.status, 400);
  assert.match(bad.json.message, /not valid JSON/);
  const empty = await call(s, 'POST', GENERATE, { raw: '' });
  assert.equal(empty.status, 400);
  assert.match(empty.json.message, /empty/);
  const huge = await call(s, 'POST', GENERATE, { body: t2v({ negative_prompt: 'n'.repeat(1024 * 1024) }) });
  assert.equal(huge.status, 400);
  assert.match(huge.json.message, /too large/);
  assert.equal(s.stats().created, 0);
});

test('the documented examples and the defaults are accepted', async (t) => {
  const s = await sim(t);
  await submit(s, {
    request_type: 'async',
    input: {
      mode: 'text-to-video',
      prompt: 'a cinematic drone shot over snowy mountains at sunrise',
      duration: 10,
      aspect_ratio: '16:9',
      negative_prompt: 'low quality, jitter',
      cfg_scale: 0.6,
    },
  });
  await submit(s, {
    request_type: 'callback',
    callback_url: 'https://your-server.com/callback',
    provider: 'official',
    input: {
      mode: 'image-to-video',
      prompt: 'smooth camera transition from first to last frame',
      duration: 5,
      image_urls: ['https://example.com/head.jpg', 'https://example.com/tail.jpg'],
      cfg_scale: 0.4,
    },
  });
  // Only the input is required; prompt length counts code points, so 2500 emoji pass.
  await submit(s, { input: { mode: 'text-to-video', prompt: '🎬'.repeat(2500) } });
  for (const provider of ['auto', 'value', 'official']) await submit(s, { ...t2v({ cfg_scale: 0 }), provider });
  assert.equal(s.stats().created, 6);
});

test('an unsupported model answers 400 on both endpoints', async (t) => {
  const s = await sim(t);
  const post = await call(s, 'POST', '/api/v1/generateTask/kling-2-1-master', { body: t2v() });
  assert.equal(post.status, 400);
  assert.equal(post.json.code, 400);
  assert.equal(post.json.data, null);
  assert.match(post.json.message, /^Unsupported model 'kling-2-1-master'/);
  const get = await call(s, 'GET', '/api/v1/statusTask/veo-3?taskId=task_0000000000000000');
  assert.equal(get.status, 400);
  assert.match(get.json.message, /^Unsupported model 'veo-3'/);
  assert.equal(s.stats().created, 0);
});

test('statusTask without taskId answers 400 naming it', async (t) => {
  const s = await sim(t);
  const r = await call(s, 'GET', STATUS);
  assert.equal(r.status, 400);
  assert.match(r.json.message, /taskId/);
});
