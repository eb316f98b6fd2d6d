/**
 * From what happened on the wire to an ApiError. Decisions are made on HTTP status, the
 * envelope's numeric code and the error's `code` — never on message text, with one
 * exception documented at INSUFFICIENT_CREDITS.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { errors as undiciErrors } from 'undici';
import { ApiError, ERROR_CODES, type ErrorCode } from '../core/errors.js';
import { redact } from '../core/redact.js';
import type { Envelope } from './responses.js';
import { parseRetryAfter } from './retryAfter.js';

/** The request an error is about: every message names it and is redacted with the key. */
export interface CallContext {
  method: 'GET' | 'POST';
  /** Request path including any base-path prefix and the query. */
  path: string;
  apiKey: string;
}

/** How much of an unexpected body goes into a message: enough to recognise a gateway page. */
export const BODY_EXCERPT_CHARS = 200;

export function excerpt(body: string): string {
  const flat = body.replace(/\s+/g, ' ').trim();
  if (flat === '') return '(empty body)';
  return flat.length > BODY_EXCERPT_CHARS ? `${flat.slice(0, BODY_EXCERPT_CHARS)}…` : flat;
}

type Fields = ConstructorParameters<typeof ApiError>[2];

/** The only way this stage builds an ApiError, so no message or provider text escapes unredacted. */
export function apiError(call: CallContext, code: ErrorCode, detail: string, fields: Fields): ApiError {
  const secrets = [call.apiKey];
  return new ApiError(code, redact(`apixo ${call.method} ${call.path} ${detail}`, secrets), {
    ...fields,
    providerMessage: fields.providerMessage === undefined ? undefined : redact(fields.providerMessage, secrets),
  });
}

/**
 * The provider offers no machine-readable way to tell "out of credits" from "bad
 * parameters": both are 400 (documented example: `{"code":400,"message":"Insufficient
 * credits"}`). The distinction matters — bad input fails one task, no credits must stop
 * the whole run — so this is the one place that reads the provider's text.
 */
const INSUFFICIENT_CREDITS = /insufficient credit/i;

function codeForStatus(status: number, providerMessage: string | undefined): ErrorCode {
  if (status === 402) return ERROR_CODES.CREDITS;
  if (status === 400) {
    return providerMessage !== undefined && INSUFFICIENT_CREDITS.test(providerMessage) ? ERROR_CODES.CREDITS : ERROR_CODES.INVALID_INPUT;
  }
  if (status === 401 || status === 403) return ERROR_CODES.AUTH;
  if (status === 429) return ERROR_CODES.RATE_LIMITED;
  if (status >= 500 && status <= 599) return ERROR_CODES.SERVER;
  // 3xx (redirects are not followed), other 4xx, 1xx oddities: not in the documentation.
  return ERROR_CODES.PROTOCOL;
}

export interface ErrorResponse {
  /** The HTTP status of the response. */
  httpStatus: number;
  /** The status to decide on: the HTTP status, or the envelope's code when HTTP said 200. */
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  envelope: Envelope | undefined;
  now: number;
}

/**
 * An error answer. `ApiError.status` is the HTTP status as the contract says; when the
 * decision was made on the envelope code of an HTTP 200, the message names both.
 */
export function errorFromResponse(call: CallContext, r: ErrorResponse): ApiError {
  const providerMessage = r.envelope?.message;
  const code = codeForStatus(r.status, providerMessage);
  const answered = r.status === r.httpStatus ? `answered ${r.httpStatus}` : `answered HTTP ${r.httpStatus} with envelope code ${r.status}`;
  const detail = providerMessage !== undefined ? providerMessage || '(empty message)' : excerpt(r.body);
  // Kept whenever present: a 503 may carry Retry-After as well as a 429.
  const retryAfterMs = parseRetryAfter(r.headers['retry-after'], r.now);
  return apiError(call, code, `${answered}: ${detail}`, {
    status: r.httpStatus,
    providerMessage,
    envelope: r.envelope !== undefined,
    retryAfterMs,
    sent: true,
  });
}

/** A 2xx we cannot use. The POST may well have created a task, so `sent` is true. */
export function protocolError(call: CallContext, httpStatus: number, what: string, body: string): ApiError {
  return apiError(call, ERROR_CODES.PROTOCOL, `answered ${httpStatus} with ${what}: ${excerpt(body)}`, { status: httpStatus, sent: true });
}

/**
 * Failures that prove the request never reached the server: no connection was made.
 * Anything not listed counts as possibly received — for a POST that means a task may
 * exist, which the run loop must treat as in doubt rather than resubmit.
 */
const NOT_SENT = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_FAIL',
  'EAI_NONAME',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
  // A request made after close(): refused locally. The client never calls destroy(),
  // so these cannot interrupt a request already on the wire.
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
]);

/** The error's `code`; for an AggregateError (happy-eyeballs connect) the first inner one's. */
export function errorCodeOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  const inner = (err as { errors?: unknown }).errors;
  return Array.isArray(inner) ? errorCodeOf(inner[0]) : undefined;
}

/** A failure without a usable response: connect, socket, timeout, or an unparseable HTTP answer. */
export function errorFromNetwork(call: CallContext, err: unknown): ApiError {
  const text = err instanceof Error ? err.message : String(err);
  // undici's HTTP parser refused the answer: something answered, in HTTP we cannot read.
  // Identified by class, not `code`: undici 7 leaves `code` undefined on parser errors
  // (it looks the number up in a table keyed by name).
  if (err instanceof undiciErrors.HTTPParserError) {
    return apiError(call, ERROR_CODES.PROTOCOL, `got an invalid HTTP answer: ${text}`, { sent: true, cause: err });
  }
  const code = errorCodeOf(err) ?? 'unknown';
  const sent = !NOT_SENT.has(code);
  const when = sent ? 'failed after the request may have reached the server' : 'failed before the request was sent';
  return apiError(call, ERROR_CODES.NETWORK, `${when} (${code}): ${text}`, { sent, cause: err });
}
