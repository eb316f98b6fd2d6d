/**
 * The only code that speaks HTTP to the provider. One undici Pool for the API origin.
 *
 * No retries and no redirects here: whether a failed POST may have created a task
 * (`ApiError.sent`, the error code) decides between resubmitting and `in_doubt`, and
 * only the run loop knows the task's state — so it owns the retry policy.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { Pool, type Dispatcher } from 'undici';
import { UsageError } from '../core/errors.js';
import type { GenerateRequest, TaskStatus } from '../core/types.js';
import { errorFromNetwork, errorFromResponse, protocolError, type CallContext } from './classify.js';
import { normalizeBaseUrl } from './config.js';
import { parseEnvelope, parseStatusData, parseSubmitData, type Fail } from './responses.js';

export interface ApixoClientOptions {
  /** API base URL, origin plus an optional path prefix, e.g. `https://api.apixo.ai` (see resolveApiConfig). */
  baseUrl: string;
  apiKey: string;
  /**
   * Sockets kept open to the API. The provider allows 1,000 concurrent tasks but each
   * request is short, so a few dozen sockets carry the whole request budget.
   * @default 64
   */
  connections?: number;
  /** Time to wait for response headers after sending. @default 30_000 */
  headersTimeoutMs?: number;
  /** Time allowed between two body chunks. @default 30_000 */
  bodyTimeoutMs?: number;
  /** Time to establish a TCP/TLS connection. @default 10_000 */
  connectTimeoutMs?: number;
  /** Clock for Retry-After dates; injectable for tests. @default Date.now */
  now?: () => number;
}

interface ResolvedOptions {
  origin: string;
  /** Path prefix of the base URL, '' or '/something' without trailing slash. */
  basePath: string;
  apiKey: string;
  connections: number;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  connectTimeoutMs: number;
  now: () => number;
}

/** API answers are a few hundred bytes; this bounds what a misbehaving gateway can make us buffer. */
export const MAX_RESPONSE_BYTES = 1024 * 1024;

function positiveNumber(name: string, value: number | undefined, fallback: number, integer = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 1 || (integer && !Number.isInteger(value))) {
    throw new UsageError(`Expected \`${name}\` to be ${integer ? 'an integer' : 'a number'} from 1 and up, got \`${String(value)}\` (${typeof value})`);
  }
  return value;
}

function resolveOptions(opts: ApixoClientOptions): ResolvedOptions {
  // Checked here because undici would put a bad key into a header error, or send it as is.
  if (typeof opts.apiKey !== 'string' || !/^[\x21-\x7e]+$/.test(opts.apiKey)) {
    throw new UsageError('Expected `apiKey` to be a non-empty string of printable characters without spaces (set APIXO_API_KEY)');
  }
  const base = new URL(normalizeBaseUrl(opts.baseUrl, 'baseUrl', opts.apiKey));
  return {
    origin: base.origin,
    basePath: base.pathname === '/' ? '' : base.pathname,
    apiKey: opts.apiKey,
    connections: positiveNumber('connections', opts.connections, 64, true),
    headersTimeoutMs: positiveNumber('headersTimeoutMs', opts.headersTimeoutMs, 30_000),
    bodyTimeoutMs: positiveNumber('bodyTimeoutMs', opts.bodyTimeoutMs, 30_000),
    connectTimeoutMs: positiveNumber('connectTimeoutMs', opts.connectTimeoutMs, 10_000),
    now: opts.now ?? Date.now,
  };
}

/** A model id or taskId as one path segment / query value; '.' and '..' would be resolved away by servers. */
function segment(name: string, value: string): string {
  if (typeof value !== 'string' || value === '' || value === '.' || value === '..') {
    throw new UsageError(`Expected \`${name}\` to be a non-empty id, got \`${String(value)}\` (${typeof value})`);
  }
  return encodeURIComponent(value);
}

interface RawResponse {
  statusCode: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** False when the body exceeded MAX_RESPONSE_BYTES and was cut off. */
  complete: boolean;
}

async function readBody(body: Dispatcher.ResponseData['body']): Promise<{ text: string; complete: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    size += chunk.length;
    // Leaving the loop destroys the stream, which closes that one socket.
    if (size > MAX_RESPONSE_BYTES) return { text: Buffer.concat(chunks).toString('utf8', 0, MAX_RESPONSE_BYTES), complete: false };
  }
  return { text: Buffer.concat(chunks).toString('utf8'), complete: true };
}

export class ApixoClient {
  readonly #opts: ResolvedOptions;
  readonly #pool: Pool;
  #closing: Promise<void> | undefined;

  constructor(opts: ApixoClientOptions) {
    this.#opts = resolveOptions(opts);
    this.#pool = new Pool(this.#opts.origin, {
      connections: this.#opts.connections,
      headersTimeout: this.#opts.headersTimeoutMs,
      bodyTimeout: this.#opts.bodyTimeoutMs,
      connectTimeout: this.#opts.connectTimeoutMs,
    });
  }

  /** POST /api/v1/generateTask/{model}; resolves to the provider's taskId. */
  async submit(model: string, body: GenerateRequest, signal?: AbortSignal): Promise<string> {
    const call = this.#context('POST', `/api/v1/generateTask/${segment('model', model)}`);
    const { data, raw } = await this.#request(call, JSON.stringify(body), signal);
    return parseSubmitData(data, this.#failer(call, raw));
  }

  /** GET /api/v1/statusTask/{model}?taskId=…; `resultJson` is parsed into `resultUrls`. */
  async status(model: string, taskId: string, signal?: AbortSignal): Promise<TaskStatus> {
    const call = this.#context('GET', `/api/v1/statusTask/${segment('model', model)}?taskId=${segment('taskId', taskId)}`);
    const { data, raw } = await this.#request(call, undefined, signal);
    return parseStatusData(data, taskId, this.#failer(call, raw));
  }

  /** Waits for requests in flight, then closes every socket. Safe to call twice. */
  close(): Promise<void> {
    this.#closing ??= this.#pool.close();
    return this.#closing;
  }

  #context(method: CallContext['method'], path: string): CallContext {
    return { method, path: this.#opts.basePath + path, apiKey: this.#opts.apiKey };
  }

  #failer(call: CallContext, raw: RawResponse): Fail {
    return (what) => {
      throw protocolError(call, raw.statusCode, what, raw.body);
    };
  }

  /** Sends one request and returns the envelope's `data` of a successful answer; everything else throws. */
  async #request(call: CallContext, body: string | undefined, signal: AbortSignal | undefined): Promise<{ data: unknown; raw: RawResponse }> {
    const raw = await this.#send(call, body, signal);
    const envelope = parseEnvelope(raw.body);
    const { statusCode } = raw;
    const now = this.#opts.now();
    if (statusCode < 200 || statusCode > 299) {
      throw errorFromResponse(call, { httpStatus: statusCode, status: statusCode, headers: raw.headers, body: raw.body, envelope, now });
    }
    if (!raw.complete) throw protocolError(call, statusCode, `a body over ${MAX_RESPONSE_BYTES} bytes`, raw.body);
    if (envelope === undefined) throw protocolError(call, statusCode, "a body that is not the API's {code, message, data} envelope", raw.body);
    // The API may report an error inside an HTTP 200; its envelope code then decides.
    if (envelope.code !== 200) {
      throw errorFromResponse(call, { httpStatus: statusCode, status: envelope.code, headers: raw.headers, body: raw.body, envelope, now });
    }
    return { data: envelope.data, raw };
  }

  async #send(call: CallContext, body: string | undefined, signal: AbortSignal | undefined): Promise<RawResponse> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.#opts.apiKey}`,
      accept: 'application/json',
    };
    if (body !== undefined) headers['content-type'] = 'application/json';
    try {
      const res = await this.#pool.request({ method: call.method, path: call.path, headers, body, signal });
      const { text, complete } = await readBody(res.body);
      return { statusCode: res.statusCode, headers: res.headers, body: text, complete };
    } catch (err) {
      // The caller stopped us: hand back its own reason, untouched, so it can tell a stop from a failure.
      if (signal?.aborted) throw signal.reason;
      throw errorFromNetwork(call, err);
    }
  }
}
