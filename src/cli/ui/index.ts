import type { RunEvent, RunEventListener } from '../../run/events.js';
import { createPrinter } from '../printer.js';
import { formatSummaryLine } from './format.js';
import { ProgressModel } from './progressModel.js';
import { TtyProgress } from './ttyProgress.js';

export { ProgressModel, type ProgressSnapshot } from './progressModel.js';
export { formatDuration, formatRate, formatCounters, formatSummaryLine } from './format.js';

/**
 * How `vidbatch run` talks while it works:
 * - `tty`:   live bars on stderr (counters per state, rate, ETA); failures printed above them.
 * - `lines`: no terminal (cron): notable events, plus one summary line every `intervalMs`.
 * - `quiet`: nothing while it runs.
 * - `json`:  every event as one JSON line on stdout (NDJSON), for scripts; nothing on stderr.
 */
export type UiMode = 'tty' | 'lines' | 'quiet' | 'json';

export interface RunUiOptions {
  mode: UiMode;
  /** Print every transition and retry, and each archived video. */
  verbose?: boolean;
  /** `lines` mode: a summary line this often. @default 30000 */
  intervalMs?: number;
  stdout?: NodeJS.WriteStream;
  stderr?: NodeJS.WriteStream;
  now?: () => number;
}

export interface RunUi {
  readonly mode: UiMode;
  readonly onEvent: RunEventListener;
  /** A human message on stderr that does not garble the bars (nothing in quiet and json modes). */
  message(line: string): void;
  /** Write one extra JSON line (json mode only). */
  json(value: Record<string, unknown>): void;
  /** Stop timers and bars; safe to call twice. */
  stop(): void;
}

/** `tty` when stderr is a terminal, else `lines`; `--json` and `--quiet` win. */
export function chooseUiMode(flags: { json?: boolean; quiet?: boolean }, stderr: { isTTY?: boolean } = process.stderr): UiMode {
  if (flags.json) return 'json';
  if (flags.quiet) return 'quiet';
  return stderr.isTTY ? 'tty' : 'lines';
}

export function createRunUi(options: RunUiOptions): RunUi {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const now = options.now ?? Date.now;
  const mode = options.mode;
  const model = new ProgressModel();
  const noop = (): void => {};

  if (mode === 'json') {
    const json = (value: Record<string, unknown>): void => {
      stdout.write(JSON.stringify({ time: new Date(now()).toISOString(), ...value }) + '\n');
    };
    return { mode, onEvent: (e) => json(e), message: noop, json, stop: noop };
  }
  if (mode === 'quiet') return { mode, onEvent: noop, message: noop, json: noop, stop: noop };

  if (mode === 'tty') {
    const bars = new TtyProgress(stderr, () => model.snapshot(now()));
    const printer = createPrinter((line) => bars.log(line), { verbose: options.verbose, showArchived: options.verbose === true });
    const onEvent = (e: RunEvent): void => {
      model.apply(e, now());
      if (e.type === 'run-start') {
        printer(e);
        bars.start();
        return;
      }
      if (e.type === 'run-end') {
        bars.stop();
        printer(e);
        return;
      }
      printer(e);
      bars.update();
    };
    return { mode, onEvent, message: (line) => bars.log(line), json: noop, stop: () => bars.stop() };
  }

  // lines: for cron and pipes
  const write = (line: string): void => void stderr.write(line + '\n');
  const printer = createPrinter(write, { verbose: options.verbose, showArchived: options.verbose === true });
  let timer: NodeJS.Timeout | undefined;
  const stop = (): void => {
    clearInterval(timer);
    timer = undefined;
  };
  const onEvent = (e: RunEvent): void => {
    model.apply(e, now());
    printer(e);
    if (e.type === 'run-start' && timer === undefined) {
      timer = setInterval(() => write(formatSummaryLine(model.snapshot(now()), new Date(now()))), options.intervalMs ?? 30_000);
      timer.unref();
    }
    if (e.type === 'run-end') stop();
  };
  return { mode, onEvent, message: write, json: noop, stop };
}
