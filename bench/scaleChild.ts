/**
 * Scale: a 100,000-task run through vidbatch against the simulator (time compressed
 * hard, limits raised: this measures the loop and the store, not the provider), memory
 * sampled as it goes; then the same command again, which must find nothing to do.
 * argv[2]: JSON config. Videos are deleted as soon as they are archived (verified), or
 * the run would leave 28 GB behind. Besides the peak RSS of the whole run, the peak reached
 * by the time the loop is done (before the gallery is written) shows what the end of the run
 * adds to it.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../src/run/run.js';
import type { RunEvent } from '../src/run/events.js';
import type { RunOptions } from '../src/run/options.js';
import { cpuSeconds, manifestCsv, peakRssMb, tell } from './lib.js';

interface Config {
  simUrl: string;
  n: number;
  dir: string;
  timeScale: number;
}
const c = JSON.parse(process.argv[2] ?? '{}') as Config;
mkdirSync(c.dir, { recursive: true });
// A YAML manifest over a CSV sheet: max_tasks (default 10,000) raised for this run.
writeFileSync(join(c.dir, 'scale.csv'), manifestCsv(c.n, 'scale'));
const manifest = join(c.dir, 'scale.yaml');
writeFileSync(manifest, `name: scale\nmax_tasks: ${c.n}\nsheets:\n  - file: scale.csv\n    literal: true\n`);

let archived = 0;
const samples: { s: number; done: number; rssMb: number; heapMb: number }[] = [];
const t0 = Date.now();
const gc = (globalThis as { gc?: () => void }).gc;
const sampler = setInterval(() => {
  gc?.();
  const m = process.memoryUsage();
  samples.push({ s: (Date.now() - t0) / 1000, done: archived, rssMb: m.rss / 2 ** 20, heapMb: m.heapUsed / 2 ** 20 });
}, 1000);
const options = (onEvent: (e: RunEvent) => void): RunOptions => ({
  manifest, out: join(c.dir, 'out'), db: join(c.dir, 'vidbatch.db'), run: 'scale', baseUrl: c.simUrl, apiKey: 'bench-key-0001',
  rpm: 10_000_000, concurrency: 1000,
  pollIntervalMs: Math.max(1, Math.round(2000 * c.timeScale)),
  firstPollMs: Math.max(1, Math.round(30_000 * c.timeScale)),
  retryBaseMs: 10,
  stuckAfterMs: 600_000,
  downloadConcurrency: 8,
  onEvent,
});
const cpu0 = process.cpuUsage();
let loopPeakRssMb = 0;
let endedAt = 0;
const first = await run(options((e) => {
  if (e.type === 'archived') {
    archived++;
    void rm(e.file, { force: true });
  }
  if (e.type === 'run-end') {
    loopPeakRssMb = peakRssMb();
    endedAt = performance.now();
  }
}));
const galleryS = (performance.now() - endedAt) / 1000;
const wallS = (Date.now() - t0) / 1000;
const cpuS = cpuSeconds(cpu0);
const firstPeakRssMb = peakRssMb();
const pages = readdirSync(first.dir).filter((f) => /^index(-\d+)?\.html$/.test(f)).length;
// The parent prints the summary; this line is the end of the first run in detail.
console.log(`  end of the first run: peak RSS ${loopPeakRssMb.toFixed(0)} MB when the loop was done, ${firstPeakRssMb.toFixed(0)} MB once the gallery was written (${pages} page(s), ${galleryS.toFixed(1)} s)`);
clearInterval(sampler);
const at = (f: number) => samples.find((x) => x.done >= c.n * f);
const progress = [0.1, 0.25, 0.5, 0.75, 0.9].map((f) => {
  const x = at(f);
  return x ? `${(f * 100).toFixed(0)} %: ${x.rssMb.toFixed(0)} MB rss / ${x.heapMb.toFixed(0)} MB heap` : `${f * 100} %: -`;
});

await tell('first', null);
await new Promise<void>((resolve) => process.on('message', (m: { type: string }) => m.type === 'go' && resolve()));
// The same command again: everything is archived, nothing may be sent.
let decidedMs = 0;
const r0 = performance.now();
const again = await run(options((e) => {
  if (e.type === 'run-end') decidedMs = performance.now() - r0;
}));
const totalMs = performance.now() - r0;
await tell('done', {
  n: c.n, outcome: first.outcome, archived: first.counts.archived, wallS, cpuS, tasksPerS: c.n / wallS,
  peakRssMb: firstPeakRssMb, loopPeakRssMb, galleryS, galleryPages: pages, rerunPeakRssMb: peakRssMb(), progress, rerun: { outcome: again.outcome, decidedMs, totalMs },
});
process.exit(0);
