import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { redact } from '../core/redact.js';
import type { RunEvent, RunEventListener } from '../run/events.js';

/** The file a run's JSON-lines log goes to, inside `output/<run>/`. */
export const RUN_LOG_FILE = 'run.log';

export interface RunLog {
  /** Where the lines go. */
  readonly file: string;
  readonly logger: Logger;
  /**
   * Log one event, then hand it on to `next` (the caller's own listener). With `lookup`,
   * a transition to `failed` that carries no detail gets the stored failCode and failMsg,
   * so the log and the terminal say why at once.
   */
  wrap(next: RunEventListener): RunEventListener;
  /** Log an error that ends the run (never its API key). */
  error(err: unknown, message: string): void;
  /** Flush what is buffered and close the file. */
  close(): Promise<void>;
}

/** How loud each event is in the log: `warn` for what a person should look at. */
function levelOf(e: RunEvent): 'info' | 'warn' | 'error' | 'debug' {
  switch (e.type) {
    case 'transition':
      return e.to === 'failed' || e.to === 'in_doubt' ? 'warn' : 'info';
    case 'rate-limited':
    case 'retry':
    case 'poll-gave-up':
      return 'warn';
    case 'stopping':
      return e.reason === 'signal' ? 'warn' : 'error';
    default:
      return 'info';
  }
}

/** A short human message per event; the fields carry the rest. */
function messageOf(e: RunEvent): string {
  switch (e.type) {
    case 'transition':
      return `${e.from} → ${e.to}`;
    case 'archived':
      return 'archived';
    case 'run-start':
      return `run started: ${e.total} task(s), ${e.added} new`;
    case 'run-end':
      return `run ended: ${e.outcome}`;
    case 'stopping':
      return e.message;
    default:
      return e.type;
  }
}

/**
 * pino JSON lines to `<dir>/run.log`, appended across runs of the same name: one line per
 * run event (task key, from/to state, taskId, detail), ISO timestamps. Every line passes
 * through `redact` with the API key before it is written, whatever a message contains.
 */
export function openRunLog(dir: string, options: { run: string; secrets: readonly (string | undefined)[]; level?: pino.Level }): RunLog {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, RUN_LOG_FILE);
  // Async writes (sonic-boom), so a log line never holds up the run loop; flushed on close.
  const destination = pino.destination({ dest: file, append: true, sync: false, mkdir: true });
  const secrets = options.secrets;
  const logger = pino(
    {
      level: options.level ?? 'info',
      base: { run: options.run, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      hooks: { streamWrite: (line) => redact(line, secrets) },
    },
    destination,
  );
  let closed = false;
  return {
    file,
    logger,
    wrap(next) {
      return (event) => {
        const e = event;
        if (!closed) {
          // `run` is in every line already (pino's base).
          const { type, ...fields } = e as RunEvent & { run?: string };
          delete fields.run;
          logger[levelOf(e)]({ event: type, ...fields }, messageOf(e));
        }
        next(e);
      };
    },
    error(err, message) {
      if (!closed) logger.error({ err }, message);
    },
    close() {
      if (closed) return Promise.resolve();
      closed = true;
      return new Promise<void>((resolve) => {
        try {
          destination.flushSync();
        } catch {
          // not open yet or already gone: end() below still settles
        }
        destination.once('close', () => resolve());
        destination.once('error', () => resolve());
        destination.end();
      });
    },
  };
}
