/**
 * Downloads never slow the loop — and are they as fast as the wire? Against a simulator
 * in another process: the same result files fetched (a) raw, bytes counted and dropped,
 * and (b) through vidbatch's download stage (stream to .part, sha256, fsync, MP4 check,
 * rename, sidecar), both `concurrency` at a time, each file set passed `passes` times so
 * gigabytes go through; memory sampled throughout. argv[2]: JSON config.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { Agent, request } from 'undici';
import { createDownloadAgent, downloadVerified } from '../src/fetch/download.js';
import { cpuSeconds, peakRssMb, tell } from './lib.js';

interface Config {
  simUrl: string;
  files: number;
  passes: number;
  concurrency: number;
  dir: string;
}
const c = JSON.parse(process.argv[2] ?? '{}') as Config;
const MODEL = 'kling-2-5-turbo-pro';
const headers = { authorization: 'Bearer bench-key-0001', 'content-type': 'application/json' };

async function api(method: 'GET' | 'POST', path: string, body?: string): Promise<any> {
  const res = await request(c.simUrl + path, { method, headers, ...(body ? { body } : {}) });
  return res.body.json();
}

// The file set: 10 s 16:9 results (the largest the simulator makes).
const limit = pLimit(32);
const ids = await Promise.all(Array.from({ length: c.files }, (_, i) => limit(async () => {
  const r = await api('POST', `/api/v1/generateTask/${MODEL}`, JSON.stringify({ request_type: 'async', input: { mode: 'text-to-video', prompt: `download bench ${i}`, duration: 10, aspect_ratio: '16:9' } }));
  return r.data.taskId as string;
})));
const urls: string[] = [];
for (const id of ids) {
  for (;;) {
    const d = (await api('GET', `/api/v1/statusTask/${MODEL}?taskId=${id}`)).data;
    if (d.state === 'success') {
      urls.push(JSON.parse(d.resultJson).resultUrls[0]);
      break;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function phase(name: string, one: (url: string, i: number) => Promise<number>) {
  const pool = pLimit(c.concurrency);
  const samples: number[] = [];
  const sampler = setInterval(() => samples.push(process.memoryUsage().rss / 2 ** 20), 250);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let bytes = 0;
  const jobs: Promise<void>[] = [];
  for (let p = 0; p < c.passes; p++) urls.forEach((u, i) => jobs.push(pool(async () => {
      const n = await one(u, p * urls.length + i);
      bytes += n;
    })));
  await Promise.all(jobs);
  const s = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  const q = (f: number) => samples[Math.min(samples.length - 1, Math.floor(samples.length * f))]?.toFixed(0) ?? '-';
  return { name, gb: bytes / 1e9, mbPerS: bytes / 1e6 / s, seconds: s, cpuS: cpuSeconds(cpu0), rssMb: `${q(0.1)} → ${q(0.5)} → ${q(0.9)} (MB at 10/50/90 % of the bytes)` };
}

const raw = new Agent({ connections: 16 });
const rawResult = await phase('raw loopback (read and drop)', async (url) => {
  const res = await request(url, { dispatcher: raw });
  let n = 0;
  for await (const chunk of res.body as AsyncIterable<Buffer>) n += chunk.length;
  return n;
});
mkdirSync(c.dir, { recursive: true });
const agent = createDownloadAgent();
const stage = await phase('vidbatch download stage', async (url, i) => {
  const dest = join(c.dir, `${i}.mp4`);
  const got = await downloadVerified(url, dest, { dispatcher: agent });
  rmSync(dest); // keep the disk flat while gigabytes pass
  return got.bytes;
});
await tell('done', { raw: rawResult, stage, ratio: stage.mbPerS / rawResult.mbPerS, peakRssMb: peakRssMb() });
await Promise.all([raw.close(), agent.close()]);
process.exit(0);
