import { Command, InvalidArgumentError } from 'commander';
import { resolveApiConfig } from '../../api/index.js';
import { UsageError } from '../../core/errors.js';
import { EXIT, type ExitCode } from '../../core/exitCodes.js';
import { DEFAULTS } from '../../run/options.js';
import type { RunOutcome } from '../../run/events.js';
import { run, type RunResult } from '../../run/run.js';
import { startSimulator } from '../../sim/index.js';
import { readManifest } from '../../manifest/index.js';
import { preflightImages } from '../../preflight/images.js';
import { chooseUiMode, createRunUi } from '../ui/index.js';
import { positiveInt, positiveNumber } from '../parse.js';

/**
 * The key `--simulate` uses. Fixed, not random: the simulator remembers which key made a
 * task (in the task id), so a killed `--simulate` run continues its tasks on re-run.
 */
export const SIMULATE_API_KEY = 'vidbatch-simulate-local';

/** What to do after a run that stopped for the account, not for a task (stderr). */
export function outcomeAdvice(outcome: RunOutcome, simulated: boolean): string | undefined {
  if (outcome === 'auth') {
    return simulated
      ? 'the simulator refused the key (401); nothing more was sent'
      : 'the provider refused the API key in APIXO_API_KEY (401); nothing more was sent. Set APIXO_API_KEY to a valid key and run the same command again.';
  }
  if (outcome === 'credits') return 'out of credits: new submits stopped; tasks already paid for were finished and downloaded. Top up, then run the same command again to continue.';
  return undefined;
}

/** Time scale of `--simulate`: a 5 s video takes 0.6–0.9 s instead of 30–45 s. */
export const SIMULATE_TIME_SCALE = 0.02;

const OUTCOME_EXIT: Record<RunOutcome, ExitCode> = {
  complete: EXIT.OK,
  incomplete: EXIT.INCOMPLETE,
  auth: EXIT.AUTH,
  credits: EXIT.CREDITS,
  interrupted: EXIT.INTERRUPTED,
};

/** What a person needs after a run: where everything is, and whether to look further. */
export function formatRunResult(result: RunResult): string {
  return [
    `videos and sidecars: ${result.dir}`,
    ...(result.gallery ? [`gallery:             ${result.gallery}`] : []),
    `results:             ${result.results}`,
    `log:                 ${result.log}`,
    `database:            ${result.db}`,
    result.outcome === 'complete'
      ? `all ${result.counts.archived} video(s) archived and verified`
      : `not complete (${result.outcome}); see: vidbatch status --db ${result.db} --run ${result.run}`,
  ].join('\n');
}

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
  checkImages?: boolean;
  resultTtl?: number;
  quiet?: boolean;
  json?: boolean;
  progressInterval: number;
  callbackUrl?: string;
  listen?: { host: string; port: number };
  stuckAfter?: number;
}

/** `--listen HOST:PORT` (an IPv6 host in brackets: `[::1]:8787`). */
export function hostPort(value: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(value.trim());
  const port = Number(m?.[3]);
  if (!m || port > 65535) throw new InvalidArgumentError(`expected HOST:PORT, e.g. 0.0.0.0:8787 or [::1]:8787, got '${value}'`);
  return { host: (m[1] ?? m[2]) as string, port };
}

export function runCommand(setExit: (code: ExitCode) => void): Command {
  return new Command('run')
    .description('make every video of a manifest, or continue the run where it stopped')
    .argument('<manifest>', 'manifest file (.yaml, .yml, .csv, .tsv, .jsonl, .json or .txt)')
    .option('--db <file>', 'SQLite checkpoint of the run (default: <out>/vidbatch.db)')
    .option('--out <dir>', 'output folder; videos go to <out>/<run>/', DEFAULTS.out)
    .option('--run <name>', "run name (default: the manifest's name, else its file name)")
    .option('--rpm <n>', 'requests per minute, submits and polls together', positiveInt, DEFAULTS.rpm)
    .option('--concurrency <n>', 'tasks in flight at once', positiveInt, DEFAULTS.concurrency)
    .option('--poll-interval <ms>', 'shortest interval between status polls of a task; widens with the tasks in flight so --rpm holds (default 2000, scaled with --simulate)', positiveInt)
    .option('--callback-url <url>', 'callback mode: the public URL apixo should call (a secret path segment is appended); forwarded to --listen')
    .option('--listen <host:port>', 'with --callback-url: where the built-in receiver listens (default: the host and port of the URL)', hostPort)
    .option('--stuck-after <ms>', 'a task still running this long after submit is reported stuck and no longer polled (default 600000, scaled with --simulate)', positiveInt)
    .option('--first-poll <ms>', 'first poll this long after submit until completions are observed (default 30000, scaled with --simulate)', positiveInt)
    .option('--result-ttl <hours>', 'result URLs are trusted this long after completion; past it the status is re-read first (default 360: the documented 15 days; another apixo page says 24)', positiveNumber)
    .option('--check-images', 'before sending anything, check every image URL: reachable, JPG/PNG/WebP by its bytes, at most 10 MB')
    .option('--simulate', 'run against the built-in simulator instead of the real API (no key needed, nothing is paid)')
    .option('--time-scale <x>', 'with --simulate: multiply the documented generation times', positiveNumber, SIMULATE_TIME_SCALE)
    .option('-v, --verbose', 'print every transition, retry and archived video')
    .option('-q, --quiet', 'print nothing while running; one line on stderr if the run does not complete')
    .option('--json', 'stream every event as one JSON line on stdout (NDJSON), then a final {"type":"result"} line')
    .option('--progress-interval <s>', 'without a terminal (cron, pipes): a summary line this often', positiveNumber, 30)
    .addHelpText('after', `
Examples:
  $ vidbatch run manifests/example.yaml --simulate          rehearse offline, nothing is paid
  $ APIXO_API_KEY=... vidbatch run nightly.yaml --run nightly-$(date +%F)
  $ vidbatch run nightly.yaml --run nightly-2026-11-25       re-run to continue: nothing done is redone
  $ vidbatch run nightly.yaml --callback-url https://hooks.example.com/vidbatch --listen 127.0.0.1:8787
                                                            callbacks through your reverse proxy, each verified by one GET
  $ vidbatch run nightly.yaml --json | jq -c 'select(.type == "archived")'`)
    .action(async (manifest: string, flags: RunFlags) => {
      const ui = createRunUi({ mode: chooseUiMode(flags), verbose: flags.verbose, intervalMs: flags.progressInterval * 1000 });
      const controller = new AbortController();
      let signals = 0;
      const onSignal = (sig: NodeJS.Signals): void => {
        signals++;
        if (signals === 1) {
          ui.message(`${sig}: finishing requests in flight, then stopping (send it again to exit at once)`);
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
          apiKey = SIMULATE_API_KEY;
        } else {
          ({ baseUrl, apiKey } = resolveApiConfig(process.env));
          if (!apiKey) {
            throw new UsageError(
              'APIXO_API_KEY is not set. Set it to your apixo API key (export APIXO_API_KEY=...), ' +
                'or add --simulate to rehearse the run against the built-in simulator.',
            );
          }
        }
        if (flags.checkImages) {
          // Before anything is written or sent: a broken manifest or image stops here (exit 3).
          const checked = await preflightImages((await readManifest(manifest)).tasks);
          ui.message(`--check-images: ${checked.length} image URL(s) reachable, JPG/PNG/WebP, at most 10 MB`);
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
          ...(flags.resultTtl !== undefined ? { resultTtlMs: Math.max(1, Math.round(flags.resultTtl * 3_600_000)) } : {}),
          retryBaseMs: Math.max(10, Math.round(DEFAULTS.retryBaseMs * Math.min(1, scale * 10))),
          stuckAfterMs: flags.stuckAfter ?? Math.max(1, Math.round(DEFAULTS.stuckAfterMs * scale)),
          ...(flags.callbackUrl !== undefined ? { callbackUrl: flags.callbackUrl } : {}),
          ...(flags.listen !== undefined ? { listen: flags.listen } : {}),
          signal: controller.signal,
          onEvent: ui.onEvent,
          ...(flags.db !== undefined ? { db: flags.db } : {}),
          ...(flags.run !== undefined ? { run: flags.run } : {}),
        });
        const exitCode = OUTCOME_EXIT[result.outcome];
        const advice = outcomeAdvice(result.outcome, sim !== undefined);
        // --json keeps stderr silent: its result line carries the outcome.
        if (advice && ui.mode !== 'json') process.stderr.write(`vidbatch: ${advice}\n`);
        if (ui.mode === 'json') ui.json({ type: 'result', exitCode, ...result });
        else if (ui.mode === 'quiet') {
          if (result.outcome !== 'complete') process.stderr.write(`run '${result.run}' ${result.outcome} (exit ${exitCode}); see: vidbatch status --db ${result.db} --run ${result.run}\n`);
        } else process.stdout.write(formatRunResult(result) + '\n');
        setExit(OUTCOME_EXIT[result.outcome]);
      } finally {
        ui.stop();
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        await sim?.close();
      }
    });
}
