/**
 * Shared by the benchmark's parent (run.ts) and its children: the simulator and each
 * client run in their own process, so the CPU and memory measured are the client's
 * alone and the simulator never competes with it for one event loop.
 */
import type { SimulatorStats } from '../src/sim/index.js';
import { fork, type ChildProcess } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';

export const HERE = fileURLToPath(new URL('.', import.meta.url));

/** What a client child reports when it is done. */
export interface ClientReport {
  name: string;
  tasks: number;
  archived: number;
  wallS: number;
  /** Tasks archived per second between the 10th and the 90th percentile of archive times (the steady state). */
  steadyTasksPerS: number;
  /** Mean provider generation time (costTime) of these tasks, ms. */
  meanCostMs: number;
  /** Completion (provider's completeTime) to detection (our record of it), ms. */
  detectP50Ms: number;
  detectP95Ms: number;
  cpuS: number;
  peakRssMb: number;
  /** Event-loop delay p99 of the client, ms (the loop is never slowed by downloads). */
  loopLagP99Ms: number;
  extra?: Record<string, number | string>;
}

export type SimStats = Pick<SimulatorStats, 'requests' | 'submits' | 'statusPolls' | 'rateLimited' | 'created' | 'downloads' | 'callbacksSent'>;

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[i] as number;
}

/** Rate over the middle 80 % of events: the ramp-up and the last wave's tail left out. */
export function steadyRate(times: readonly number[]): number {
  const s = [...times].sort((a, b) => a - b);
  if (s.length < 10) return s.length / Math.max(1e-3, ((s.at(-1) ?? 0) - (s[0] ?? 0)) / 1000);
  const lo = Math.floor(s.length * 0.1);
  const hi = Math.floor(s.length * 0.9);
  return (hi - lo) / (((s[hi] as number) - (s[lo] as number)) / 1000);
}

export function machine(): string {
  const c = cpus();
  return `${c.length} × ${c[0]?.model.trim() ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version}, ${process.platform}`;
}

/** Fork `script` (a .ts file beside this one) with tsx; resolves its first 'ready' message. */
export function child<T>(script: string, args: string[] = [], execArgv: string[] = []): { proc: ChildProcess; ready: Promise<T>; done: Promise<unknown> } {
  const proc = fork(HERE + script, args, { execArgv: ['--import', 'tsx', ...execArgv], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let readyResolve!: (v: T) => void;
  let readyReject!: (e: unknown) => void;
  const ready = new Promise<T>((res, rej) => ((readyResolve = res), (readyReject = rej)));
  let doneResolve!: (v: unknown) => void;
  let doneReject!: (e: unknown) => void;
  const done = new Promise<unknown>((res, rej) => ((doneResolve = res), (doneReject = rej)));
  proc.on('message', (m: { type: string; value: unknown }) => {
    if (m.type === 'ready') readyResolve(m.value as T);
    else if (m.type === 'done') doneResolve(m.value);
    else if (m.type === 'error') doneReject(new Error(String(m.value)));
  });
  proc.on('exit', (code) => {
    // A child that exits cleanly has said all it had to say.
    if (code === 0) return doneResolve(undefined);
    const e = new Error(`${script} exited with ${code}`);
    readyReject(e);
    doneReject(e);
  });
  return { proc, ready, done };
}

/** Ask a child something over IPC and wait for its answer of the same type. */
export function ask<T>(proc: ChildProcess, type: string): Promise<T> {
  return new Promise((resolve) => {
    const on = (m: { type: string; value: unknown }) => {
      if (m.type !== type) return;
      proc.off('message', on);
      resolve(m.value as T);
    };
    proc.on('message', on);
    proc.send({ type });
  });
}

/** In a child: tell the parent (resolves once the message is handed over, so exiting after it loses nothing). */
export function tell(type: string, value: unknown): Promise<void> {
  return new Promise((resolve) => (process.send ? process.send({ type, value }, () => resolve()) : resolve()));
}

/** Peak RSS of this process so far, MB (the kernel's high-water mark). */
export function peakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

export function cpuSeconds(since: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1e6;
}

/** A CSV manifest of `n` 5 s text-to-video tasks (the issue's own figures: 30–45 s each). */
export function manifestCsv(n: number, tag: string, duration: 5 | 10 = 5): string {
  const lines = ['prompt,duration,aspect_ratio'];
  for (let i = 0; i < n; i++) lines.push(`"${tag} shot ${i}: a red fox runs through fresh snow at dawn",${duration},16:9`);
  return lines.join('\n') + '\n';
}
