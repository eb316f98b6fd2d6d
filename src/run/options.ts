import { join, resolve } from 'node:path';
import { UsageError } from '../core/errors.js';
import type { RequestType } from '../core/types.js';
import type { RunEventListener } from './events.js';

/** What a caller may set. Everything optional has a documented default (see `resolveRunOptions`). */
export interface RunOptions {
  /** Path of the manifest (.yaml, .yml, .csv). */
  manifest: string;
  /** Run name; default: the manifest's `name`, else its file name without extension. */
  run?: string;
  /** Output root; the run's files go to `<out>/<run>/`. @default 'output' */
  out?: string;
  /** SQLite checkpoint. @default '<out>/vidbatch.db' */
  db?: string;
  /** API origin. @default 'https://api.apixo.ai' (or APIXO_BASE_URL) */
  baseUrl: string;
  /** Never logged or written anywhere. */
  apiKey: string;
  /** Requests per minute, submits and polls together. @default 9500 (the documented 10,000 less a 5% margin) */
  rpm?: number;
  /** Tasks in flight at once. @default 980 (the documented 1,000 less a margin for tasks in doubt) */
  concurrency?: number;
  /**
   * Shortest interval between two polls of one task, ms. The interval widens with the
   * number of tasks being polled so that polls and submits together stay within `rpm`.
   * @default 2000
   */
  pollIntervalMs?: number;
  /**
   * First poll of a task this long after its submit until completions have been observed;
   * then the observed mean costTime per (mode, duration) is used. @default 30000 for 5 s videos,
   * 45000 for 10 s videos (the documented lower bounds), scaled like this value.
   */
  firstPollMs?: number;
  /** Parallel downloads. @default 4 */
  downloadConcurrency?: number;
  /** Result URLs are valid this long after completion. @default 15 days (documented) */
  resultTtlMs?: number;
  /** async (poll) or callback. @default 'async' (or 'callback' when `callbackUrl` is set) */
  requestType?: RequestType;
  /**
   * Public URL the provider can reach, forwarded to `listen`; a secret path segment is
   * appended to it (see src/callback). Setting it selects callback mode.
   */
  callbackUrl?: string;
  /** Where the built-in callback receiver listens. @default the host and port of `callbackUrl` */
  listen?: { host: string; port: number };
  /** A task still running this long after its submit is reported stuck and no longer polled in this run. @default 600000 (10 min) */
  stuckAfterMs?: number;
  /** Random numbers in [0, 1) for jitter; injected by tests. @default Math.random */
  random?: () => number;
  /** Base of the exponential retry backoff, ms. @default 1000 */
  retryBaseMs?: number;
  /** Aborting stops new submits; requests in flight finish; the run ends `interrupted`. */
  signal?: AbortSignal;
  onEvent?: RunEventListener;
  /** Clock, for tests. */
  now?: () => number;
}

export interface ResolvedRunOptions {
  manifest: string;
  run: string | undefined;
  out: string;
  db: string;
  baseUrl: string;
  apiKey: string;
  rpm: number;
  concurrency: number;
  pollIntervalMs: number;
  firstPollMs: { 5: number; 10: number };
  downloadConcurrency: number;
  resultTtlMs: number;
  requestType: RequestType;
  callbackUrl: string | undefined;
  listen: { host: string; port: number } | undefined;
  stuckAfterMs: number;
  random: () => number;
  retryBaseMs: number;
  signal: AbortSignal | undefined;
  onEvent: RunEventListener;
  now: () => number;
}

export const DEFAULTS = {
  out: 'output',
  rpm: 9500,
  concurrency: 980,
  pollIntervalMs: 2000,
  firstPollMs: 30_000,
  downloadConcurrency: 4,
  resultTtlMs: 15 * 24 * 3600 * 1000,
  retryBaseMs: 1000,
  stuckAfterMs: 600_000,
} as const;

function positiveInt(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 1) throw new UsageError(`Expected \`${name}\` to be an integer from 1 and up, got \`${String(v)}\` (${typeof v})`);
  return v;
}

export function resolveRunOptions(o: RunOptions): ResolvedRunOptions {
  const out = resolve(o.out ?? DEFAULTS.out);
  const first = positiveInt('firstPollMs', o.firstPollMs, DEFAULTS.firstPollMs);
  const requestType = o.requestType ?? (o.callbackUrl ? 'callback' : 'async');
  if (requestType === 'callback' && !o.callbackUrl) throw new UsageError('Expected `callbackUrl` when `requestType` is callback');
  const listen = requestType === 'callback' ? (o.listen ?? listenOf(o.callbackUrl!)) : undefined;
  if (!o.apiKey) throw new UsageError('Expected `apiKey` to be a non-empty string');
  return {
    manifest: o.manifest,
    run: o.run,
    out,
    db: resolve(o.db ?? join(out, 'vidbatch.db')),
    baseUrl: o.baseUrl,
    apiKey: o.apiKey,
    rpm: positiveInt('rpm', o.rpm, DEFAULTS.rpm),
    concurrency: positiveInt('concurrency', o.concurrency, DEFAULTS.concurrency),
    pollIntervalMs: positiveInt('pollIntervalMs', o.pollIntervalMs, DEFAULTS.pollIntervalMs),
    // The documented times: 5 s videos take 30–45 s, 10 s videos 45–60 s.
    firstPollMs: { 5: first, 10: Math.round(first * 1.5) },
    downloadConcurrency: positiveInt('downloadConcurrency', o.downloadConcurrency, DEFAULTS.downloadConcurrency),
    resultTtlMs: positiveInt('resultTtlMs', o.resultTtlMs, DEFAULTS.resultTtlMs),
    requestType,
    callbackUrl: o.callbackUrl,
    listen,
    stuckAfterMs: positiveInt('stuckAfterMs', o.stuckAfterMs, DEFAULTS.stuckAfterMs),
    random: o.random ?? Math.random,
    retryBaseMs: positiveInt('retryBaseMs', o.retryBaseMs, DEFAULTS.retryBaseMs),
    signal: o.signal,
    onEvent: o.onEvent ?? (() => {}),
    now: o.now ?? Date.now,
  };
}

/** The receiver listens where the callback URL points unless told otherwise (no proxy in between). */
function listenOf(callbackUrl: string): { host: string; port: number } {
  let u: URL;
  try {
    u = new URL(callbackUrl);
  } catch {
    throw new UsageError(`Expected \`callbackUrl\` to be an http(s) URL, got \`${callbackUrl}\``);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UsageError(`Expected \`callbackUrl\` to be an http(s) URL, got \`${callbackUrl}\``);
  const port = u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port };
}
