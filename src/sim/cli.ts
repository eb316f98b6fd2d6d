/**
 * `vidbatch sim`: runs the simulator in the foreground until SIGINT or SIGTERM.
 * Exits nothing itself: it resolves, and the entry point decides the exit code.
 */
import { startSimulator } from './index.js';

export interface SimulatorCommandOptions {
  port: number;
  host: string;
  timeScale: number;
  rpm: number;
  concurrency: number;
  apiKey?: string;
  credits?: number;
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
  });
  process.stdout.write(`apixo simulator listening on ${sim.url} (time scale ${opts.timeScale})\n`);
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
