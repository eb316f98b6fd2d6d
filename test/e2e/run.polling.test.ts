import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../src/run/run.js';
import { verifyMp4File } from '../../src/fetch/verify.js';
import type { RunEvent } from '../../src/run/events.js';
import { tempDir } from '../helpers/tmp.js';
import { runOptions, simulator, submissionsPerInput, writeManifest } from '../helpers/fixtures.js';

test('a manifest of both modes becomes verified MP4s with sidecars and results.jsonl', async (t) => {
  const dir = tempDir(t);
  const sim = await simulator(t);
  const manifest = writeManifest(dir, 5, [
    '  - prompt: "smooth transition from the first frame to the last"',
    '    image_urls: ["https://example.com/head.jpg", "https://example.com/tail.jpg"]',
    '    cfg_scale: 0.4',
  ]);
  const events: RunEvent[] = [];
  const result = await run(runOptions(sim, dir, manifest, events));

  assert.equal(result.outcome, 'complete');
  assert.equal(result.counts.archived, 6);
  const mp4s = readdirSync(result.dir).filter((f) => f.endsWith('.mp4'));
  assert.equal(mp4s.length, 6);
  assert.equal(readdirSync(result.dir).filter((f) => f.endsWith('.part')).length, 0);

  const modes: string[] = [];
  for (const f of mp4s) {
    const sidecar = JSON.parse(readFileSync(join(result.dir, f.replace(/\.mp4$/, '.json')), 'utf8'));
    const bytes = readFileSync(join(result.dir, f));
    assert.equal(sidecar.sha256, createHash('sha256').update(bytes).digest('hex'));
    assert.equal(sidecar.bytes, bytes.length);
    assert.match(sidecar.taskId, /^task_/);
    assert.equal(sidecar.model, 'kling-2-5-turbo-pro');
    assert.equal(sidecar.provider, 'auto');
    assert.match(sidecar.sourceUrl, new RegExp(`^${sim.url}/`));
    for (const field of ['createTime', 'completeTime', 'costTime']) assert.equal(typeof sidecar[field], 'number', field);
    modes.push(sidecar.input.mode);
    const media = await verifyMp4File(join(result.dir, f));
    assert.equal(media.durationSec, sidecar.input.duration, 'the video lasts what was asked for');
    assert.equal(sidecar.media.durationSec, media.durationSec);
  }
  assert.deepEqual(modes.sort(), ['image-to-video', ...Array(5).fill('text-to-video')]);
  const lines = readFileSync(result.results, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const i2v = lines.find((l) => l.input.mode === 'image-to-video');
  assert.deepEqual(i2v.input, { mode: 'image-to-video', prompt: 'smooth transition from the first frame to the last', duration: 5, image_urls: ['https://example.com/head.jpg', 'https://example.com/tail.jpg'], cfg_scale: 0.4 });
  assert.equal(lines.length, 6);
  assert.deepEqual(new Set(lines.map((l) => l.file)), new Set(mp4s));
  assert.deepEqual(submissionsPerInput(sim), [1, 1, 1, 1, 1, 1]);
  assert.ok(events.some((e) => e.type === 'run-start') && events.at(-1)?.type === 'run-end');
});

test('re-running a finished run sends nothing and changes nothing', async (t) => {
  const dir = tempDir(t);
  const sim = await simulator(t);
  const manifest = writeManifest(dir, 3);
  const first = await run(runOptions(sim, dir, manifest));
  assert.equal(first.outcome, 'complete');
  const before = sim.stats();
  const files = readdirSync(first.dir).sort();
  const second = await run(runOptions(sim, dir, manifest));
  assert.equal(second.outcome, 'complete');
  assert.equal(sim.stats().requests, before.requests, 'no request at all');
  assert.equal(sim.stats().downloads, before.downloads);
  assert.deepEqual(readdirSync(second.dir).sort(), files);
});

test('a manifest grown after a run adds only the new tasks', async (t) => {
  const dir = tempDir(t);
  const sim = await simulator(t);
  await run(runOptions(sim, dir, writeManifest(dir, 2)));
  const events: RunEvent[] = [];
  const result = await run(runOptions(sim, dir, writeManifest(dir, 4), events));
  assert.equal(result.outcome, 'complete');
  assert.equal(result.counts.archived, 4);
  const start = events.find((e) => e.type === 'run-start');
  assert.ok(start && start.type === 'run-start');
  assert.equal(start.added, 2);
  assert.equal(start.existing, 2);
  assert.equal(start.manifestChanged, true);
  assert.deepEqual(submissionsPerInput(sim), [1, 1, 1, 1]);
});
