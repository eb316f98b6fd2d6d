/**
 * One client of the throughput comparison, in its own process: vidbatch polling,
 * vidbatch with callbacks, or the documented baseline. argv[2]: JSON ClientConfig.
 * Reports a ClientReport (lib.ts) with {type:'done'}.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { run } from '../src/run/run.js';
import { Store } from '../src/store/index.js';
import type { RunEvent } from '../src/run/events.js';
import { runBaseline } from './baseline.js';
import { cpuSeconds, manifestCsv, peakRssMb, percentile, steadyRate, tell, type ClientReport } from './lib.js';

export interface ClientConfig {
  kind: 'poll' | 'callback' | 'baseline';
  simUrl: string;
  n: number;
  /** Time compression: the simulator's timeScale is 1/k. */
  k: number;
  cap: number;
  dir: string;
}

const c = JSON.parse(process.argv[2] ?? '{}') as ClientConfig;
const NAMES = { poll: 'vidbatch, polling', callback: 'vidbatch, callbacks', baseline: 'documented baseline' } as const;
const KEY = 'bench-key-0001';

async function vidbatch(): Promise<ClientReport> {
  mkdirSync(c.dir, { recursive: true });
  const manifest = join(c.dir, 'bench.csv');
  writeFileSync(manifest, manifestCsv(c.n, c.kind));
  const detected = new Map<string, number>();
  const archived: number[] = [];
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const cpu0 = process.cpuUsage();
  const t0 = Date.now();
  const onEvent = (e: RunEvent) => {
    if (e.type === 'transition' && e.to === 'succeeded') detected.set(e.key, Date.now());
    else if (e.type === 'archived') {
      archived.push(Date.now());
      void rm(e.file, { force: true }); // keep the disk flat; the file was verified before this event
    }
  };
  const db = join(c.dir, 'vidbatch.db');
  const result = await run({
    manifest, out: join(c.dir, 'out'), db, run: 'bench', baseUrl: c.simUrl, apiKey: KEY,
    concurrency: c.cap,
    pollIntervalMs: Math.round(2000 / c.k),
    firstPollMs: Math.round(30_000 / c.k),
    retryBaseMs: Math.max(10, Math.round(1000 / c.k)),
    stuckAfterMs: Math.round(600_000 / c.k),
    ...(c.kind === 'callback' ? { callbackUrl: 'http://127.0.0.1:0/hooks', listen: { host: '127.0.0.1', port: 0 } } : {}),
    onEvent,
  });
  const wallS = (Date.now() - t0) / 1000;
  const cpuS = cpuSeconds(cpu0);
  lag.disable();
  const store = Store.open(db);
  const rows = store.listTasks('bench');
  store.close();
  const delays = rows.flatMap((r) => (r.completeTime !== null && detected.has(r.key) ? [detected.get(r.key)! - r.completeTime] : [])).sort((a, b) => a - b);
  const costs = rows.flatMap((r) => (r.costTime !== null ? [r.costTime] : []));
  return {
    name: NAMES[c.kind], tasks: c.n, archived: result.counts.archived, wallS,
    steadyTasksPerS: steadyRate(archived),
    meanCostMs: costs.reduce((a, b) => a + b, 0) / costs.length,
    detectP50Ms: percentile(delays, 0.5), detectP95Ms: percentile(delays, 0.95),
    cpuS, peakRssMb: peakRssMb(), loopLagP99Ms: lag.percentile(99) / 1e6,
  };
}

async function baseline(): Promise<ClientReport> {
  mkdirSync(c.dir, { recursive: true });
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const cpu0 = process.cpuUsage();
  const t0 = Date.now();
  const tasks = Array.from({ length: c.n }, (_, i) => ({ prompt: `baseline shot ${i}: a red fox runs through fresh snow at dawn`, duration: 5 as const }));
  const out = await runBaseline({ simUrl: c.simUrl, apiKey: KEY, tasks, cap: c.cap, scale: 1 / c.k, dir: c.dir });
  const wallS = (Date.now() - t0) / 1000;
  const cpuS = cpuSeconds(cpu0);
  lag.disable();
  const delays = out.map((r) => r.detectedAt - r.completeTime).sort((a, b) => a - b);
  return {
    name: NAMES.baseline, tasks: c.n, archived: out.length, wallS,
    steadyTasksPerS: steadyRate(out.map((r) => r.archivedAt)),
    meanCostMs: out.reduce((a, r) => a + r.costTime, 0) / out.length,
    detectP50Ms: percentile(delays, 0.5), detectP95Ms: percentile(delays, 0.95),
    cpuS, peakRssMb: peakRssMb(), loopLagP99Ms: lag.percentile(99) / 1e6,
  };
}

try {
  await tell('done', c.kind === 'baseline' ? await baseline() : await vidbatch());
} catch (err) {
  await tell('error', (err as Error).stack ?? String(err));
}
process.exit(0);
