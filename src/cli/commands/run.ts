import { randomBytes } from 'node:crypto';
import { Command } from 'commander';
import { resolveApiConfig } from '../../api/index.js';
import { UsageError } from '../../core/errors.js';
import { EXIT, type ExitCode } from '../../core/exitCodes.js';
import { DEFAULTS } from '../../run/options.js';
import type { RunOutcome } from '../../run/events.js';
import { run } from '../../run/run.js';
import { startSimulator } from '../../sim/index.js';
import { createPrinter } from '../printer.js';
import { positiveInt, positiveNumber } from '../parse.js';

/** Time scale of `--simulate`: a 5 s video takes 0.6–0.9 s instead of 30–45 s. */
export const SIMULATE_TIME_SCALE = 0.02;

const OUTCOME_EXIT: Record<RunOutcome, ExitCode> = {
  complete: EXIT.OK,
  incomplete: EXIT.INCOMPLETE,
  auth: EXIT.AUTH,
  credits: EXIT.CREDITS,
  interrupted: EXIT.INTERRUPTED,
};

interface RunFlags {
  db?: string;
  out: string;
  run?: string;
  rpm: number;
  concurrency: number;
  pollInterval?: number;
  firstPoll?: number;
  simulate?: boolean;
  timeScale: number;
  verbose?: boolean;
}

export function runCommand(setExit: (code: ExitCode) => void): Command {
  return new Command('run')
    .description('make every video of a manifest, or continue the run where it stopped')
    .argument('<manifest>', 'manifest file (.yaml, .yml or .csv)')
    .option('--db <file>', 'SQLite checkpoint of the run (default: <out>/vidbatch.db)')
    .option('--out <dir>', 'output folder; videos go to <out>/<run>/', DEFAULTS.out)
    .option('--run <name>', "run name (default: the manifest's name, else its file name)")
    .option('--rpm <n>', 'requests per minute, submits and polls together', positiveInt, DEFAULTS.rpm)
    .option('--concurrency <n>', 'tasks in flight at once', positiveInt, DEFAULTS.concurrency)
    .option('--poll-interval <ms>', 'interval between status polls of a task (default 5000, scaled with --simulate)', positiveInt)
    .option('--first-poll <ms>', 'first poll this long after submit until completions are observed (default 30000, scaled with --simulate)', positiveInt)
    .option('--simulate', 'run against the built-in simulator instead of the real API (no key needed, nothing is paid)')
    .option('--time-scale <x>', 'with --simulate: multiply the documented generation times', positiveNumber, SIMULATE_TIME_SCALE)
    .option('-v, --verbose', 'print every transition and retry')
    .addHelpText('after', `
Examples:
  $ vidbatch run manifests/example.yaml --simulate          rehearse offline, nothing is paid
  $ APIXO_API_KEY=... vidbatch run nightly.yaml --run nightly-$(date +%F)
  $ vidbatch run nightly.yaml --run nightly-2026-11-25       re-run to continue: nothing done is redone`)
    .action(async (manifest: string, flags: RunFlags) => {
      const controller = new AbortController();
      let signals = 0;
      const onSignal = (sig: NodeJS.Signals): void => {
        signals++;
        if (signals === 1) {
          process.stderr.write(`\n${sig}: finishing requests in flight, then stopping (send it again to exit at once)\n`);
          controller.abort();
        } else {
          process.exit(EXIT.INTERRUPTED);
        }
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);

      const sim = flags.simulate ? await startSimulator({ timeScale: flags.timeScale }) : undefined;
      try {
        const scale = flags.simulate ? flags.timeScale : 1;
        let baseUrl: string;
        let apiKey: string | undefined;
        if (sim) {
          baseUrl = sim.url;
          apiKey = `sim-${randomBytes(12).toString('hex')}`;
        } else {
          ({ baseUrl, apiKey } = resolveApiConfig(process.env));
          if (!apiKey) {
            throw new UsageError(
              'APIXO_API_KEY is not set. Set it to your apixo API key (export APIXO_API_KEY=...), ' +
                'or add --simulate to rehearse the run against the built-in simulator.',
            );
          }
        }
        const result = await run({
          manifest,
          out: flags.out,
          baseUrl,
          apiKey,
          rpm: flags.rpm,
          concurrency: flags.concurrency,
          pollIntervalMs: flags.pollInterval ?? Math.max(1, Math.round(DEFAULTS.pollIntervalMs * scale)),
          firstPollMs: flags.firstPoll ?? Math.max(1, Math.round(DEFAULTS.firstPollMs * scale)),
          retryBaseMs: Math.max(10, Math.round(DEFAULTS.retryBaseMs * Math.min(1, scale * 10))),
          signal: controller.signal,
          onEvent: createPrinter((line) => process.stderr.write(line + '\n'), { verbose: flags.verbose }),
          ...(flags.db !== undefined ? { db: flags.db } : {}),
          ...(flags.run !== undefined ? { run: flags.run } : {}),
        });
        process.stdout.write(
          [
            `videos and sidecars: ${result.dir}`,
            `results:             ${result.results}`,
            `database:            ${result.db}`,
            result.outcome === 'complete'
              ? `all ${result.counts.archived} video(s) archived and verified`
              : `not complete (${result.outcome}); see: vidbatch status --db ${result.db} --run ${result.run}`,
          ].join('\n') + '\n',
        );
        setExit(OUTCOME_EXIT[result.outcome]);
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        await sim?.close();
      }
    });
}
