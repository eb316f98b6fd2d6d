/**
 * `vidbatch sim`: runs the simulator in the foreground until SIGINT or SIGTERM.
 * Exits nothing itself: it resolves, and the entry point decides the exit code.
 */
import { startSimulator, type FaultOptions } from './index.js';

export interface SimulatorCommandOptions {
  port: number;
  host: string;
  timeScale: number;
  rpm: number;
  concurrency: number;
  apiKey?: string;
  credits?: number;
  creditsStatus?: 400 | 402;
  seed?: number;
  resultTtlMs?: number;
  faults?: FaultOptions;
}

/** The faults that are on, for the start-up line: a rehearsal with faults must say so. */
export function describeFaults(f: FaultOptions = {}): string {
  const on = Object.entries(f).filter(([k, v]) => k !== 'slowResponseMs' && typeof v === 'number' && v > 0);
  if (on.length === 0) return 'no faults';
  return 'faults: ' + on.map(([k, v]) => `${k}=${v}${k === 'slowResponse' ? ` (${f.slowResponseMs ?? 2000} ms)` : ''}`).join(', ');
}

export async function runSimulatorCommand(opts: SimulatorCommandOptions): Promise<void> {
  const sim = await startSimulator({
    host: opts.host,
    port: opts.port,
    timeScale: opts.timeScale,
    requestsPerMinute: opts.rpm,
    concurrentTasks: opts.concurrency,
    ...(opts.apiKey !== undefined ? { apiKeys: [opts.apiKey] } : {}),
    ...(opts.credits !== undefined ? { credits: opts.credits } : {}),
    ...(opts.creditsStatus !== undefined ? { creditsStatus: opts.creditsStatus } : {}),
    ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
    ...(opts.resultTtlMs !== undefined ? { resultTtlMs: opts.resultTtlMs } : {}),
    ...(opts.faults !== undefined ? { faults: opts.faults } : {}),
  });
  const extra = opts.faults ? `; ${describeFaults(opts.faults)}` : '';
  process.stdout.write(`apixo simulator listening on ${sim.url} (time scale ${opts.timeScale})${extra}\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await sim.close();
}
