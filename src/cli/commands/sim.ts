import { Command, InvalidArgumentError } from 'commander';
import { runSimulatorCommand } from '../../sim/cli.js';
import type { FaultOptions } from '../../sim/index.js';
import { port, positiveInt, positiveNumber } from '../parse.js';

function probability(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError(`expected a probability from 0 to 1, got '${value}'`);
  return n;
}

function creditsStatus(value: string): 400 | 402 {
  if (value === '400' || value === '402') return Number(value) as 400 | 402;
  throw new InvalidArgumentError(`expected 400 or 402, got '${value}'`);
}

function seed(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n > 2 ** 32 - 1) throw new InvalidArgumentError(`expected an integer from 0 to 4294967295, got '${value}'`);
  return n;
}

interface SimFlags {
  port: number;
  host: string;
  timeScale: number;
  rpm: number;
  concurrency: number;
  apiKey?: string;
  credits?: number;
  creditsStatus?: 400 | 402;
  seed?: number;
  resultTtl?: number;
  failBeforeCreate?: number;
  failAfterCreate?: number;
  resetAfterCreate?: number;
  slow?: number;
  slowMs?: number;
  truncateDownloads?: number;
  expiredUrls?: number;
}

function faultsOf(f: SimFlags): FaultOptions | undefined {
  const faults: FaultOptions = {
    ...(f.failBeforeCreate !== undefined ? { failBeforeCreate: f.failBeforeCreate } : {}),
    ...(f.failAfterCreate !== undefined ? { failAfterCreate: f.failAfterCreate } : {}),
    ...(f.resetAfterCreate !== undefined ? { resetAfterCreate: f.resetAfterCreate } : {}),
    ...(f.slow !== undefined ? { slowResponse: f.slow } : {}),
    ...(f.slowMs !== undefined ? { slowResponseMs: f.slowMs } : {}),
    ...(f.truncateDownloads !== undefined ? { truncateDownload: f.truncateDownloads } : {}),
    ...(f.expiredUrls !== undefined ? { expiredUrl: f.expiredUrls } : {}),
  };
  return Object.keys(faults).length > 0 ? faults : undefined;
}

export function simCommand(): Command {
  return new Command('sim')
    .description("run the apixo API simulator in the foreground (for rehearsals: point APIXO_BASE_URL at it)")
    .option('--port <n>', 'port to listen on (0: any free port)', port, 8787)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--time-scale <x>', 'multiply the documented generation times (0.01: a 5 s video takes 0.3–0.45 s)', positiveNumber, 1)
    .option('--rpm <n>', 'requests per minute per key before 429', positiveInt, 10_000)
    .option('--concurrency <n>', 'tasks in flight per key before 429', positiveInt, 1000)
    .option('--api-key <key>', 'accept only this key (default: any non-empty key)')
    .option('--credits <n>', 'answer "Insufficient credits" after this many tasks', positiveInt)
    .option('--credits-status <code>', 'HTTP status of "Insufficient credits": 400 (documented) or 402', creditsStatus)
    .option('--seed <n>', 'repeat the same generation times and faults', seed)
    .option('--result-ttl <ms>', 'how long result URLs work after completion (default 15 days)', positiveInt)
    .option('--fail-before-create <p>', 'chance a POST answers 500 (with the envelope) and creates nothing', probability)
    .option('--fail-after-create <p>', 'chance a POST creates the task, then answers a plain-text 502', probability)
    .option('--reset-after-create <p>', 'chance a POST creates the task, then drops the connection', probability)
    .option('--slow <p>', 'chance an API answer is held back --slow-ms (a POST after creating its task)', probability)
    .option('--slow-ms <ms>', 'how long a slow answer is held', positiveInt)
    .option('--truncate-downloads <p>', 'chance a result download is cut off part-way', probability)
    .option('--expired-urls <p>', "chance a task's first result URL is already expired (410); the next status has a fresh one", probability)
    .addHelpText('after', `
Examples:
  $ vidbatch sim --port 8787 --time-scale 0.05
  $ APIXO_BASE_URL=http://127.0.0.1:8787 APIXO_API_KEY=anything vidbatch run manifests/example.yaml
  $ vidbatch sim --time-scale 0.02 --seed 1 --reset-after-create 0.05 --truncate-downloads 0.2 --credits 40

Task ids are sealed with a built-in secret, so a restarted simulator still answers for the
tasks of a rehearsal that outlived it.`)
    .action(async (flags: SimFlags) => {
      const faults = faultsOf(flags);
      await runSimulatorCommand({
        port: flags.port,
        host: flags.host,
        timeScale: flags.timeScale,
        rpm: flags.rpm,
        concurrency: flags.concurrency,
        ...(flags.apiKey !== undefined ? { apiKey: flags.apiKey } : {}),
        ...(flags.credits !== undefined ? { credits: flags.credits } : {}),
        ...(flags.creditsStatus !== undefined ? { creditsStatus: flags.creditsStatus } : {}),
        ...(flags.seed !== undefined ? { seed: flags.seed } : {}),
        ...(flags.resultTtl !== undefined ? { resultTtlMs: flags.resultTtl } : {}),
        ...(faults !== undefined ? { faults } : {}),
      });
    });
}
