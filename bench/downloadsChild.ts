/**
 * Downloads never slow the loop — and are they as fast as the wire? Against a simulator
 * in another process, the same result files are fetched, `concurrency` at a time, by:
 *   raw       a plain undici GET (an Agent of the same size), the body read and dropped;
 *   download  vidbatch's downloadVerified: stream to .part, MP4 check on the way, sha256,
 *             fsync, rename (the figure the issue's target is about);
 *   archive   downloadVerified then writeSidecar, exactly what the run loop does per video
 *             (the .json beside it, fsync'd, and a results.jsonl line);
 *   disk      no network: the same kind of bytes from memory through the disk path alone
 *             (.part, sha256, write, fsync, rename) — the ceiling the disk and kernel set.
 *
 * Side by side in one run: after an untimed warm-up, the passes go raw, download, archive,
 * disk, raw, download…, so a machine that gets busier or quieter during the run weighs on
 * every side alike. A side's rate is its bytes over the sum of its own passes' wall time;
 * its CPU is the whole process's over the same passes; its loop delay is the main
 * thread's event-loop delay then (p99 and max). RSS is sampled throughout and reported as
 * the gigabytes pass. Archived files stay until the end, as the product keeps them (the
 * parent removes its work folder): deleting thousands of files while others are created
 * would bill the stage for the file system's inode bookkeeping, which the product never
 * causes. Every file has its own name. argv[2]: JSON config.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import pLimit from 'p-limit';
import { Agent, request } from 'undici';
import { writeSidecar, type Sidecar } from '../src/fetch/archive.js';
import { PartFile } from '../src/fetch/disk.js';
import { createDownloadAgent, downloadVerified } from '../src/fetch/download.js';
import { cpuSeconds, peakRssMb, tell } from './lib.js';

interface Config {
  simUrl: string;
  /** The simulator's process, whose CPU time each pass is read from /proc (Linux). */
  simPid: number;
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

interface Side {
  name: string;
  one: (url: string, i: number) => Promise<number>;
  bytes: number;
  seconds: number;
  cpuS: number;
  /** CPU the simulator spent serving this side's passes. */
  simCpuS: number;
  /** RSS samples (MB) taken during this side's passes. */
  rss: number[];
  /** [GB passed so far, RSS MB] at the end of each pass. */
  marks: [number, number][];
  /** Event-loop delay of the main thread during each of this side's passes: p99 and max, ms. */
  lag: [number, number][];
}

function side(name: string, one: Side['one']): Side {
  return { name, one, bytes: 0, seconds: 0, cpuS: 0, simCpuS: 0, rss: [], marks: [], lag: [] };
}

/** User + system CPU seconds of the simulator's process so far (NaN where there is no /proc). */
function simCpuSeconds(): number {
  try {
    // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
    const stat = readFileSync(`/proc/${c.simPid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}
/** sysconf(_SC_CLK_TCK): 100 on every Linux this runs on. */
const CLOCK_TICKS = 100;

async function pass(s: Side, list: readonly string[], base: number, timed: boolean): Promise<void> {
  const pool = pLimit(c.concurrency);
  const sampler = timed ? setInterval(() => s.rss.push(process.memoryUsage().rss / 2 ** 20), 100) : undefined;
  const lag = monitorEventLoopDelay({ resolution: 5 });
  if (timed) lag.enable();
  const cpu0 = process.cpuUsage();
  const sim0 = simCpuSeconds();
  const t0 = performance.now();
  let bytes = 0;
  await Promise.all(list.map((u, i) => pool(async () => {
    const n = await s.one(u, base + i);
    bytes += n;
  })));
  const seconds = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds(cpu0);
  const simCpu = simCpuSeconds() - sim0;
  lag.disable();
  clearInterval(sampler);
  const rss = process.memoryUsage().rss / 2 ** 20;
  if (!timed) return;
  s.bytes += bytes;
  s.seconds += seconds;
  s.cpuS += cpu;
  s.simCpuS += simCpu;
  s.marks.push([s.bytes / 1e9, rss]);
  s.lag.push([lag.percentile(99) / 1e6, lag.max / 1e6]);
}

const rawAgent = new Agent({ connections: 16 });
const raw = side('raw loopback (GET, read and drop)', async (url) => {
  const res = await request(url, { dispatcher: rawAgent });
  let n = 0;
  for await (const chunk of res.body as AsyncIterable<Buffer>) n += chunk.length;
  return n;
});

mkdirSync(c.dir, { recursive: true });
const agent = createDownloadAgent();
const download = side('vidbatch downloadVerified', async (url, i) => {
  const got = await downloadVerified(url, join(c.dir, `d${i}.mp4`), { dispatcher: agent });
  return got.bytes;
});
const archive = side('vidbatch download + sidecar', async (url, i) => {
  const file = `a${i}.mp4`;
  const got = await downloadVerified(url, join(c.dir, file), { dispatcher: agent });
  const sidecar: Sidecar = {
    run: 'bench', key: String(i), taskId: String(i), model: MODEL, provider: 'sim',
    input: { mode: 'text-to-video', prompt: `download bench ${i}`, duration: 10, aspect_ratio: '16:9' },
    take: 1, source: { file: 'bench', line: i }, labels: {}, file, sourceUrl: url, sha256: got.sha256, bytes: got.bytes,
    createTime: null, completeTime: null, costTime: null, media: got.media, archivedAt: new Date().toISOString(),
  };
  await writeSidecar(c.dir, sidecar);
  return got.bytes;
});
// The disk alone: the same kind of bytes from memory through the same disk path (.part,
// sha256, write, fsync, rename), no network and no MP4 check: what this machine's disk and
// kernel allow, whatever the download does.
const bodies: Buffer[] = [];
for (const u of urls.slice(0, 8)) bodies.push(Buffer.from(await (await request(u, { dispatcher: rawAgent })).body.arrayBuffer()));
const disk = side('disk path alone (from memory)', async (_url, i) => {
  const body = bodies[i % bodies.length]!;
  const dest = join(c.dir, `m${i}.mp4`);
  const file = new PartFile(`${dest}.part`);
  // In 64 KiB pieces, as a body arrives (the block is handed over at 1 MiB, as downloads do).
  for (let at = 0; at < body.length; at += 65536) await file.append(body.subarray(at, at + 65536), 1 << 20);
  await file.commit(dest, body.length);
  return body.length;
});
const sides = [raw, download, archive, disk];

// Warm-up, untimed: every side's code path and the simulator's caches, on a tenth of the files.
const warm = urls.slice(0, Math.max(1, Math.floor(urls.length / 10)));
for (const s of sides) await pass(s, warm, 0, false);

for (let p = 0; p < c.passes; p++) {
  for (const s of sides) await pass(s, urls, (p + 1) * urls.length, true);
}

const report = (s: Side) => ({
  name: s.name,
  gb: s.bytes / 1e9,
  seconds: s.seconds,
  mbPerS: s.bytes / 1e6 / s.seconds,
  cpuS: s.cpuS,
  simCpuS: s.simCpuS,
  maxRssMb: Math.max(...s.rss),
  rssMb: s.marks.map(([gb, mb]) => `${gb.toFixed(2)} GB: ${mb.toFixed(0)}`).join(', '),
  lagP99Ms: Math.max(...s.lag.map(([p99]) => p99)),
  lagMaxMs: Math.max(...s.lag.map(([, max]) => max)),
});
const [r, d, a, m] = sides.map(report) as [ReturnType<typeof report>, ReturnType<typeof report>, ReturnType<typeof report>, ReturnType<typeof report>];
await tell('done', { raw: r, stage: d, archive: a, disk: m, ratio: d.mbPerS / r.mbPerS, archiveRatio: a.mbPerS / r.mbPerS, diskRatio: m.mbPerS / r.mbPerS, peakRssMb: peakRssMb() });
await Promise.all([rawAgent.close(), agent.close()]);
process.exit(0);
