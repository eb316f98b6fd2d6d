/**
 * The apixo video API simulator: product code, not a test double. A user rehearses a
 * nightly manifest offline against it, and the demo, the tests and the benchmarks run
 * against it over real HTTP. It follows the provider's documentation to the letter
 * (envelope, 400/401/429, fail codes, callbacks, 15-day result URLs), compresses time
 * with `timeScale`, and injects faults on demand. Where the documentation is silent, the
 * choices are listed in src/sim/README.md.
 *
 * Deterministic failures (see failures.ts): a prompt containing `#violation` fails with
 * CONTENT_VIOLATION; an image URL on a `.invalid` host fails with INVALID_IMAGE_URL.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CallbackDispatcher, type CallbackCounters } from './callbacks.js';
import { ActiveTasks, RollingWindow } from './limits.js';
import { resolveOptions, type SimulatorOptions } from './options.js';
import { deriveSeed, mulberry32 } from './prng.js';
import { ResultFiles } from './results.js';
import { createHandler, type SimContext, type SimulatorStats } from './server.js';
import { statusData, TaskTable } from './tasks.js';

export { resolveOptions, DEFAULT_RESULT_TTL_MS } from './options.js';
export type { SimulatorOptions, FaultOptions, ResolvedSimulatorOptions } from './options.js';
export type { SimulatorStats, FaultCounters } from './server.js';
export { DEFAULT_ID_SECRET, mintTaskId, readTaskId } from './taskId.js';
export { SUPPORTED_MODELS, MAX_BODY_BYTES } from './server.js';
export { FAIL_REASONS, VIOLATION_MARKER, plannedFailure } from './failures.js';
export { canonicalJson, validateGenerateRequest } from './validate.js';
export { GENERATION_MS, PENDING_FRACTION } from './tasks.js';
export { parseRange } from './results.js';

export interface Simulator {
  /** Origin, e.g. `http://127.0.0.1:41234`; API paths and result URLs hang off it. */
  readonly url: string;
  /** A snapshot; later requests do not change it. */
  stats(): SimulatorStats;
  /** Stops listening, drops open connections and pending callbacks. Idempotent. */
  close(): Promise<void>;
}

/** Base delay before the first callback retry, at timeScale 1; doubles each retry. */
const CALLBACK_BACKOFF_MS = 2_000;
const MIN_CALLBACK_BACKOFF_MS = 10;

function originOf(address: AddressInfo): string {
  // A wildcard address is where we listen, not where a client should connect.
  let host = address.address;
  if (host === '0.0.0.0') host = '127.0.0.1';
  else if (host === '::') host = '::1';
  return `http://${address.family === 'IPv6' || host.includes(':') ? `[${host}]` : host}:${address.port}`;
}

export async function startSimulator(options?: SimulatorOptions): Promise<Simulator> {
  const opts = resolveOptions(options);
  const counters: CallbackCounters = { attempts: 0, delivered: 0, gaveUp: 0 };
  const tasks = new TaskTable({ seed: opts.seed, timeScale: opts.timeScale, idSecret: opts.idSecret });
  // Assigned before the first request can arrive: the server is not listening yet.
  let baseUrl = '';
  const callbacks = new CallbackDispatcher({
    timeoutMs: opts.callbackTimeoutMs,
    retries: opts.callbackRetries,
    backoffMs: (retry) => Math.max(MIN_CALLBACK_BACKOFF_MS, CALLBACK_BACKOFF_MS * 2 ** (retry - 1) * opts.timeScale),
    render: (taskId) => {
      const task = tasks.get(taskId);
      if (!task) return undefined;
      // Never earlier than completion, even if the timer fired a hair early.
      const data = statusData(task, Math.max(Date.now(), task.completeTime), baseUrl);
      return JSON.stringify({ code: 200, message: 'success', data });
    },
    counters,
  });
  const ctx: SimContext = {
    opts,
    baseUrl,
    tasks,
    window: new RollingWindow(opts.requestsPerMinute),
    active: new ActiveTasks(),
    creditsLeft: opts.credits,
    faultRandom: {
      post: mulberry32(deriveSeed(opts.seed, 1)),
      slow: mulberry32(deriveSeed(opts.seed, 2)),
      truncate: mulberry32(deriveSeed(opts.seed, 3)),
      expiredUrl: mulberry32(deriveSeed(opts.seed, 4)),
    },
    urlDrawn: new Set(),
    callbacks,
    files: new ResultFiles(),
    stats: {
      requests: 0, submits: 0, statusPolls: 0, rateLimited: 0, created: 0, downloads: 0,
      submissionsByInput: new Map(), ambiguousByInput: new Map(),
      faults: { failBeforeCreate: 0, failAfterCreate: 0, resetAfterCreate: 0, slowResponse: 0, truncateDownload: 0, expiredUrl: 0 },
    },
  };

  const server = createServer({ keepAliveTimeout: 5_000 }, createHandler(ctx));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  baseUrl = originOf(server.address() as AddressInfo);
  ctx.baseUrl = baseUrl;

  let closing: Promise<void> | undefined;
  return {
    url: baseUrl,
    stats: () => ({
      ...ctx.stats,
      callbacksSent: counters.delivered,
      callbackAttempts: counters.attempts,
      callbacksFailed: counters.gaveUp,
      submissionsByInput: new Map(ctx.stats.submissionsByInput),
      ambiguousByInput: new Map(ctx.stats.ambiguousByInput),
      faults: { ...ctx.stats.faults },
    }),
    close: () => {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await callbacks.close();
        await closed;
      })();
      return closing;
    },
  };
}
