/**
 * `npm run bench`: vidbatch against the documented strategy, on the simulator.
 *
 * Time is compressed k-fold (the simulator's timeScale is 1/k) and the in-flight cap is
 * divided by k, so the request rate the provider allows (10,000 a minute, a rolling
 * window the simulator never compresses) and the throughput ceiling (cap / generation
 * time ≈ 25 tasks/s for 5 s videos) stay those of the real service, and every ratio
 * holds. Every client and the simulator run in their own process; the CPU and memory
 * figures are the client's alone.
 *
 *   npm run bench                          everything (a few minutes, plus the 100k run)
 *   npm run bench -- --k 10 --n 1500       the throughput comparison's scale (the defaults)
 *   npm run bench -- --only throughput     one section: throughput | downloads | scale
 *   npm run bench -- --scale-n 20000       a smaller scale run
 *
 * Not part of CI: it measures, it does not assert.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ClientConfig } from './clientChild.js';
import { ask, child, machine, type ClientReport, type SimStats } from './lib.js';

const { values: args } = parseArgs({
  options: {
    k: { type: 'string', default: '10' },
    n: { type: 'string', default: '1500' },
    only: { type: 'string' },
    'scale-n': { type: 'string', default: '100000' },
    'download-files': { type: 'string', default: '1000' },
    'download-passes': { type: 'string', default: '4' },
    'download-concurrency': { type: 'string', default: '8' },
  },
});
const K = Number(args.k);
const N = Number(args.n);
const PROVIDER_CAP = 1000;
const PROVIDER_RPM = 10_000;
const CAP = Math.round(PROVIDER_CAP / K);
const only = args.only;
const work = mkdtempSync(join(tmpdir(), 'vidbatch-bench-'));

async function withSim<T>(options: Record<string, unknown>, body: (url: string, stats: () => Promise<SimStats>, pid: number) => Promise<T>): Promise<T> {
  const sim = child<string>('simChild.ts', [JSON.stringify(options)]);
  const url = await sim.ready;
  try {
    return await body(url, () => ask<SimStats>(sim.proc, 'stats'), sim.proc.pid!);
  } finally {
    sim.proc.send({ type: 'close' });
    await new Promise((r) => sim.proc.once('exit', r));
  }
}

const f = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '-');
const row = (cells: string[], widths: number[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');

async function throughput(): Promise<void> {
  console.log(`\n## Throughput: ${N} tasks (5 s videos), time compressed ${K}×, in-flight cap ${PROVIDER_CAP}/${K} = ${CAP}, request limit ${PROVIDER_RPM}/min (not compressed)`);
  const results: { r: ClientReport; s: SimStats }[] = [];
  for (const kind of ['baseline', 'poll', 'callback'] as const) {
    const r = await withSim({ timeScale: 1 / K, concurrentTasks: CAP, requestsPerMinute: PROVIDER_RPM, seed: 42 }, async (simUrl, stats) => {
      const config: ClientConfig = { kind, simUrl, n: N, k: K, cap: CAP, dir: join(work, kind) };
      const c = child<never>('clientChild.ts', [JSON.stringify(config)]);
      const report = (await c.done) as ClientReport;
      return { r: report, s: await stats() };
    });
    results.push(r);
    console.log(`  ${r.r.name}: done in ${f(r.r.wallS, 1)} s`);
  }
  const widths = [22, 9, 9, 9, 9, 6, 10, 10, 7, 9, 9];
  console.log('');
  console.log(row(['client', 'tasks/s', 'ceiling', 'ratio', 'req/task', '429s', 'p50 det.', 'p95 det.', 'CPU s', 'peak RSS', 'loop p99'], widths));
  const base = results[0]!.r.steadyTasksPerS;
  for (const { r, s } of results) {
    const perTask = s.requests / r.tasks;
    // The ceiling: the in-flight cap over the mean generation time, or the request budget over the requests a task needs, whichever is lower.
    const ceiling = Math.min(CAP / (r.meanCostMs / 1000), PROVIDER_RPM / 60 / perTask);
    console.log(row([
      r.name, f(r.steadyTasksPerS), f(ceiling), f(r.steadyTasksPerS / ceiling, 3), f(perTask), String(s.rateLimited),
      `${f(r.detectP50Ms * K / 1000)} s`, `${f(r.detectP95Ms * K / 1000)} s`, f(r.cpuS, 1), `${f(r.peakRssMb, 0)} MB`, `${f(r.loopLagP99Ms, 1)} ms`,
    ], widths));
  }
  console.log('');
  for (const { r } of results.slice(1)) console.log(`  ${r.name}: ${f(r.steadyTasksPerS / base, 3)} × the documented baseline`);
  console.log(`  tasks/s: archived per second over the middle 80 % of the run (ramp-up and last wave left out); detection delays`);
  console.log(`  (completeTime → recorded) are shown in real-service seconds (× ${K}); every task archived: ${results.every(({ r }) => r.archived === r.tasks)}`);
}

async function downloads(): Promise<void> {
  const files = Number(args['download-files']);
  const passes = Number(args['download-passes']);
  console.log(`\n## Downloads: ${files} result files (10 s videos) × ${passes} passes per side, ${args['download-concurrency']} at a time; the sides' passes alternate in one process`);
  await withSim({ timeScale: 0.0001, concurrentTasks: 1e9, requestsPerMinute: 1e9, seed: 7 }, async (simUrl, _stats, simPid) => {
    const c = child<never>('downloadsChild.ts', [JSON.stringify({ simUrl, simPid, files, passes, concurrency: Number(args['download-concurrency']), dir: join(work, 'downloads') })]);
    const d = (await c.done) as { raw: any; stage: any; archive: any; disk: any; ratio: number; archiveRatio: number; diskRatio: number; peakRssMb: number };
    const widths = [34, 6, 8, 7, 7, 7, 7, 7, 13, 9];
    console.log(row(['side', 'GB', 'seconds', 'MB/s', '× raw', 'CPU s', 'sim s', 'cores', 'loop p99/max', 'RSS max'], widths));
    for (const p of [d.raw, d.stage, d.archive, d.disk]) {
      const cores = (p.cpuS + p.simCpuS) / p.seconds;
      console.log(row([p.name, f(p.gb), f(p.seconds, 1), f(p.mbPerS, 0), f(p.mbPerS / d.raw.mbPerS, 3), f(p.cpuS, 1), f(p.simCpuS, 1), f(cores, 2), `${f(p.lagP99Ms, 0)}/${f(p.lagMaxMs, 0)} ms`, `${f(p.maxRssMb, 0)} MB`], widths));
    }
    console.log(`  CPU s: this process (all its threads); sim s: the simulator's process, serving the files; cores: both over the wall time, of the machine's ${availableParallelism()}`);
    console.log(`  download ratio ${f(d.ratio, 3)} of the raw loopback rate (target >= 0.9); with the sidecar ${f(d.archiveRatio, 3)}; the disk path alone ${f(d.diskRatio, 3)}`);
    console.log(`  RSS (MB) as the downloads' gigabytes pass: ${d.stage.rssMb}; peak RSS of the process ${f(d.peakRssMb, 0)} MB`);
  });
}

async function scale(): Promise<void> {
  const n = Number(args['scale-n']);
  const timeScale = 0.001;
  console.log(`\n## Scale: ${n} tasks, simulator at timeScale ${timeScale} with the limits raised (the loop and the store are measured)`);
  await withSim({ timeScale, concurrentTasks: 1e9, requestsPerMinute: 1e9, seed: 9 }, async (simUrl, stats) => {
    // --expose-gc: the live heap is sampled after a full collection, not whatever garbage waits.
    let afterFirst = -1;
    const c = child<never>('scaleChild.ts', [JSON.stringify({ simUrl, n, dir: join(work, 'scale'), timeScale })], ['--expose-gc']);
    // Between the two runs: how many requests the simulator has seen, so the re-run's share is known.
    c.proc.on('message', (m: { type: string }) => {
      if (m.type === 'first') void stats().then((st) => ((afterFirst = st.requests), c.proc.send({ type: 'go' })));
    });
    const s = (await c.done) as any;
    const st = await stats();
    console.log(`  first run: ${s.outcome}, ${s.archived} archived in ${f(s.wallS, 0)} s (${f(s.tasksPerS, 0)} tasks/s, CPU ${f(s.cpuS, 0)} s), peak RSS ${f(s.peakRssMb, 0)} MB`);
    console.log(`  memory as it went (live heap after a full GC): ${s.progress.join('; ')}`);
    console.log(`  re-run of the finished run: ${s.rerun.outcome}, nothing to do decided in ${f(s.rerun.decidedMs / 1000)} s (${f(s.rerun.totalMs / 1000)} s with the gallery); peak RSS ${f(s.rerunPeakRssMb, 0)} MB; simulator requests ${st.requests} for ${st.created} tasks, sent by the re-run: ${st.requests - afterFirst}`);
  });
}

console.log(`vidbatch benchmark — ${machine()}; load average at start ${loadavg().map((x) => x.toFixed(1)).join(' ')} (other work on the machine skews every figure)`);
try {
  if (!only || only === 'throughput') await throughput();
  if (!only || only === 'downloads') await downloads();
  if (!only || only === 'scale') await scale();
} finally {
  rmSync(work, { recursive: true, force: true });
}
