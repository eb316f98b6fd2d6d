import { ApiError, DownloadError, ERROR_CODES } from '../core/errors.js';
import { ResultDownloadError } from '../fetch/download.js';

/**
 * What a failed POST means for the task, decided only from the error's code and fields.
 *
 * The question that matters is whether the provider may have created (and billed) a task:
 * - surely not created: 429, 401, 400, 402, a refused connection or DNS failure (nothing was
 *   sent), a 5xx carrying the API's own envelope (the API itself refused) → the task goes
 *   back to planned (or failed for a rejected input);
 * - maybe created: a reset or timeout after the body was sent, a 5xx without the envelope
 *   (a gateway answered, the API behind it may have created the task), a 200 we could not
 *   read → in_doubt, never resubmitted without the user's word.
 */
export type SubmitDecision =
  | { action: 'retry'; delayMs: number; reason: string }
  | { action: 'reject'; reason: string }
  | { action: 'in_doubt'; reason: string }
  | { action: 'stop'; stop: 'auth' | 'credits'; reason: string };

export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
  /** In [0, 1): injected so tests are deterministic. */
  random: () => number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 1000, capMs: 60_000, random: Math.random };

/** Exponential backoff with full jitter in its upper half, never below Retry-After. */
export function backoffDelay(attempt: number, policy: BackoffPolicy, retryAfterMs?: number): number {
  const exp = Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, attempt));
  const jittered = exp / 2 + policy.random() * (exp / 2);
  return Math.round(Math.max(jittered, retryAfterMs ?? 0));
}

export function decideSubmit(err: unknown, attempt: number, policy: BackoffPolicy = DEFAULT_BACKOFF): SubmitDecision {
  if (!(err instanceof ApiError)) {
    // Not an error the client classified (a bug, an abort): we cannot tell what was sent.
    return { action: 'in_doubt', reason: `unclassified error during POST: ${String((err as Error)?.message ?? err)}` };
  }
  const why = `${err.code}${err.status ? ` (HTTP ${err.status})` : ''}: ${err.providerMessage ?? err.message}`;
  switch (err.code) {
    case ERROR_CODES.RATE_LIMITED:
      return { action: 'retry', delayMs: backoffDelay(attempt, policy, err.retryAfterMs), reason: why };
    case ERROR_CODES.AUTH:
      return { action: 'stop', stop: 'auth', reason: why };
    case ERROR_CODES.CREDITS:
      return { action: 'stop', stop: 'credits', reason: why };
    case ERROR_CODES.INVALID_INPUT:
      return { action: 'reject', reason: why };
    case ERROR_CODES.NETWORK:
      return err.sent
        ? { action: 'in_doubt', reason: `${why}; the request may have reached the provider` }
        : { action: 'retry', delayMs: backoffDelay(attempt, policy), reason: why };
    case ERROR_CODES.SERVER:
      return err.envelope
        ? { action: 'retry', delayMs: backoffDelay(attempt, policy, err.retryAfterMs), reason: why }
        : { action: 'in_doubt', reason: `${why}; answered by something in front of the API, which may have created the task` };
    default:
      return { action: 'in_doubt', reason: why };
  }
}

/**
 * What a failed result download means for the task.
 * - 403/404/410 (or a URL past its expiry, decided by the caller): the URL is gone. The
 *   provider may hand out a fresh one, so the status is re-read once; after that, the
 *   task fails with reason `expired`.
 * - a refused connection or an unknown host: the URL leads nowhere — perhaps a result host
 *   that moved (a restarted simulator listens elsewhere) — so the status is re-read once
 *   too; after that it is an ordinary outage, retried.
 * - anything else (5xx, 429, a cut, a broken file, a full disk): retried with backoff and
 *   jitter, never sooner than the server's Retry-After; the caller caps the attempts.
 */
export type DownloadDecision =
  | { action: 'retry'; delayMs: number; reason: string }
  | { action: 'refresh'; reason: string }
  | { action: 'expired'; reason: string }
  | { action: 'abort' };

/** Statuses with which a result host says the URL no longer leads to the file. */
export const GONE_STATUSES: ReadonlySet<number> = new Set([403, 404, 410]);
/** Network errors that say the URL's host cannot be reached at all. */
export const UNREACHABLE_CODES: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EHOSTUNREACH', 'ENETUNREACH']);

export function decideDownload(err: unknown, ctx: { attempt: number; refreshed: boolean }, policy: BackoffPolicy = DEFAULT_BACKOFF): DownloadDecision {
  if ((err as Error | null)?.name === 'AbortError') return { action: 'abort' };
  const reason = err instanceof Error ? err.message : String(err);
  if (err instanceof DownloadError && GONE_STATUSES.has(err.status)) {
    return ctx.refreshed ? { action: 'expired', reason } : { action: 'refresh', reason };
  }
  const result = err instanceof ResultDownloadError ? err : undefined;
  if (!ctx.refreshed && result?.networkCode !== undefined && UNREACHABLE_CODES.has(result.networkCode)) {
    return { action: 'refresh', reason };
  }
  return { action: 'retry', delayMs: backoffDelay(ctx.attempt, policy, result?.retryAfterMs), reason };
}
