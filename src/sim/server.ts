/**
 * HTTP routing for the simulated apixo API (node:http, no framework: the benchmarks push
 * ~170 requests/s and 1,000 tasks in flight through it).
 *
 *   POST /api/v1/generateTask/{model}          create a task
 *   GET  /api/v1/statusTask/{model}?taskId=…   its status
 *   GET  /results/{taskId}.mp4                 the result file (see results.ts)
 *
 * A generateTask request passes these checks in order; the first that fails answers:
 *   405 wrong method → 401 key → 429 request window → 400 model → 400 body/JSON/fields →
 *   500 injected fault → 429 concurrent tasks → 400 Insufficient credits → task created
 *   → (injected delay) → (injected 502 or socket reset) → 200 {taskId}.
 * Nothing is created before the last step, so a 401, 429 or 400 never costs a task.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DEFAULT_MODEL } from '../core/types.js';
import type { CallbackDispatcher } from './callbacks.js';
import { retryAfterSeconds, type ActiveTasks, type RollingWindow } from './limits.js';
import type { ResolvedSimulatorOptions } from './options.js';
import type { Random } from './prng.js';
import { serveResult, type ResultFiles } from './results.js';
import { stateAt, statusData, type SimTask, type TaskTable } from './tasks.js';
import { canonicalJson, validateGenerateRequest } from './validate.js';

export const SUPPORTED_MODELS: readonly string[] = [DEFAULT_MODEL];
export const MAX_BODY_BYTES = 1024 * 1024;
const MAX_DRAIN_BYTES = 64 * 1024 * 1024;

export interface SimulatorStats {
  /** API requests received (both endpoints, any outcome); result downloads excluded. */
  requests: number;
  /** Requests to generateTask, any outcome. */
  submits: number;
  /** Requests to statusTask, any outcome. */
  statusPolls: number;
  /** Answers with 429, for either limit. */
  rateLimited: number;
  /** Tasks created (including those whose answer an injected fault swallowed). */
  created: number;
  /** Result files served (200 or 206). */
  downloads: number;
  /** Callbacks delivered (answered 2xx). */
  callbacksSent: number;
  /** Callback POSTs attempted, retries included. */
  callbackAttempts: number;
  /** Callbacks abandoned after the last retry. */
  callbacksFailed: number;
  /** Canonical JSON of the `input` object as sent (sorted keys) -> tasks created for it. */
  submissionsByInput: Map<string, number>;
  /**
   * Canonical JSON of the `input` -> POSTs that created a task but whose answer was lost
   * (injected 502 or reset): the only POSTs a client may rightly leave in doubt.
   */
  ambiguousByInput: Map<string, number>;
  /** How often each injected fault fired. */
  faults: FaultCounters;
}

export interface FaultCounters {
  failBeforeCreate: number;
  failAfterCreate: number;
  resetAfterCreate: number;
  slowResponse: number;
  truncateDownload: number;
  expiredUrl: number;
}

/** One seeded stream per fault, so enabling one never shifts the draws of another. */
export interface FaultStreams {
  /** The POST faults (before/after create, reset), in that order of draws. */
  post: Random;
  slow: Random;
  truncate: Random;
  expiredUrl: Random;
}

/** Everything a request may read or change. */
export interface SimContext {
  readonly opts: ResolvedSimulatorOptions;
  /** The simulator's own origin, known once it listens. */
  baseUrl: string;
  readonly tasks: TaskTable;
  readonly window: RollingWindow;
  readonly active: ActiveTasks;
  /** undefined: unlimited. */
  creditsLeft: number | undefined;
  readonly faultRandom: FaultStreams;
  /** Tasks whose expiredUrl draw is done: each task gets at most one stale URL. */
  readonly urlDrawn: Set<string>;
  readonly callbacks: CallbackDispatcher;
  readonly files: ResultFiles;
  readonly stats: Omit<SimulatorStats, 'callbacksSent' | 'callbackAttempts' | 'callbacksFailed'>;
}

type Headers = Record<string, string | number>;

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Headers = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function sendError(res: ServerResponse, status: number, message: string, headers: Headers = {}): void {
  sendJson(res, status, { code: status, message, data: null }, headers);
}

function rateLimited(ctx: SimContext, res: ServerResponse, retryAfterMs: number, limit: 'requests' | 'concurrency'): void {
  ctx.stats.rateLimited++;
  // Both limits answer the documented envelope; the extra header only helps a person debugging.
  sendError(res, 429, 'Rate limit exceeded', { 'retry-after': retryAfterSeconds(retryAfterMs), 'x-simulator-limit': limit });
}

/** The key from `Authorization: Bearer KEY`, or undefined when missing or not accepted. */
function apiKeyOf(ctx: SimContext, req: IncomingMessage): string | undefined {
  const m = /^\s*Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  const key = m?.[1];
  if (!key) return undefined;
  if (ctx.opts.apiKeys && !ctx.opts.apiKeys.has(key)) return undefined;
  return key;
}

type Body = { ok: true; text: string } | { ok: false; message: string };

/**
 * Reads at most MAX_BODY_BYTES. A larger upload is drained, not cut: closing the socket
 * while the client still writes makes it see EPIPE instead of our 400. Past
 * MAX_DRAIN_BYTES it is not worth the wait and the socket is dropped.
 */
function readBody(req: IncomingMessage): Promise<Body> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
      else if (size > MAX_DRAIN_BYTES) req.socket.destroy();
    });
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) resolve({ ok: false, message: `Request body too large: the limit is ${MAX_BODY_BYTES} bytes` });
      else resolve({ ok: true, text: Buffer.concat(chunks, size).toString('utf8') });
    });
    // An aborted upload: the answer goes nowhere, but the promise must not dangle.
    req.on('error', () => {});
    req.on('close', () => resolve({ ok: false, message: 'Request body was cut off' }));
  });
}

/** The slowResponse fault: resolves at once, or after slowResponseMs. */
function maybeSlow(ctx: SimContext): Promise<void> | undefined {
  const { slowResponse, slowResponseMs } = ctx.opts.faults;
  if (!(slowResponse > 0 && ctx.faultRandom.slow() < slowResponse)) return undefined;
  ctx.stats.faults.slowResponse++;
  return new Promise((resolve) => setTimeout(resolve, slowResponseMs).unref());
}

function countInput(map: Map<string, number>, input: string): void {
  map.set(input, (map.get(input) ?? 0) + 1);
}

function unsupportedModel(model: string): string {
  return `Unsupported model '${model}'; supported models are: ${SUPPORTED_MODELS.join(', ')}`;
}

async function generateTask(ctx: SimContext, req: IncomingMessage, res: ServerResponse, key: string, model: string): Promise<void> {
  if (!SUPPORTED_MODELS.includes(model)) return sendError(res, 400, unsupportedModel(model));
  const body = await readBody(req);
  if (!body.ok) return sendError(res, 400, body.message);
  if (body.text.trim() === '') return sendError(res, 400, 'Request body is empty; expected a JSON object');
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.text);
  } catch (e) {
    return sendError(res, 400, `Request body is not valid JSON: ${(e as Error).message}`);
  }
  const v = validateGenerateRequest(parsed);
  if (!v.ok) return sendError(res, 400, v.message);

  const { faults, concurrentTasks } = ctx.opts;
  if (faults.failBeforeCreate > 0 && ctx.faultRandom.post() < faults.failBeforeCreate) {
    ctx.stats.faults.failBeforeCreate++;
    return sendError(res, 500, 'Internal server error');
  }
  const now = Date.now();
  if (ctx.active.count(key, now) >= concurrentTasks) return rateLimited(ctx, res, 1000, 'concurrency');
  if (ctx.creditsLeft !== undefined && ctx.creditsLeft <= 0) return sendError(res, ctx.opts.creditsStatus, 'Insufficient credits');

  const task = ctx.tasks.create(key, v.request, now);
  ctx.active.add(key, task.completeTime);
  if (ctx.creditsLeft !== undefined) ctx.creditsLeft--;
  ctx.stats.created++;
  const inputKey = canonicalJson((parsed as { input: unknown }).input);
  countInput(ctx.stats.submissionsByInput, inputKey);
  if (task.callbackUrl) ctx.callbacks.schedule(task.callbackUrl, task.taskId, task.completeTime);

  await maybeSlow(ctx);
  if (faults.failAfterCreate > 0 && ctx.faultRandom.post() < faults.failAfterCreate) {
    ctx.stats.faults.failAfterCreate++;
    countInput(ctx.stats.ambiguousByInput, inputKey);
    const text = 'Bad Gateway\n';
    res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) });
    res.end(text);
    return;
  }
  if (faults.resetAfterCreate > 0 && ctx.faultRandom.post() < faults.resetAfterCreate) {
    ctx.stats.faults.resetAfterCreate++;
    countInput(ctx.stats.ambiguousByInput, inputKey);
    req.socket.destroy();
    return;
  }
  if (req.socket.destroyed) {
    // The client gave up while the answer was held (slowResponse): it never sees the taskId.
    countInput(ctx.stats.ambiguousByInput, inputKey);
    return;
  }
  sendJson(res, 200, { code: 200, message: 'success', data: { taskId: task.taskId } });
}

async function statusTask(ctx: SimContext, res: ServerResponse, key: string, model: string, query: string): Promise<void> {
  await maybeSlow(ctx);
  if (!SUPPORTED_MODELS.includes(model)) return sendError(res, 400, unsupportedModel(model));
  const taskId = new URLSearchParams(query).get('taskId');
  if (!taskId) return sendError(res, 400, 'Missing required query parameter taskId');
  const task = ctx.tasks.get(taskId);
  // Another key's task is as invisible as one that never existed.
  if (!task || task.keyTag !== ctx.tasks.keyTag(key)) return sendError(res, 404, 'Task not found');
  const now = Date.now();
  sendJson(res, 200, { code: 200, message: 'success', data: statusData(task, now, ctx.baseUrl, staleUrl(ctx, task, now)) });
}

/** The expiredUrl fault: drawn once per task, at its first successful status answer. */
function staleUrl(ctx: SimContext, task: SimTask, now: number): boolean {
  const p = ctx.opts.faults.expiredUrl;
  if (!(p > 0) || stateAt(task, now) !== 'success' || ctx.urlDrawn.has(task.taskId)) return false;
  ctx.urlDrawn.add(task.taskId);
  if (ctx.faultRandom.expiredUrl() >= p) return false;
  ctx.stats.faults.expiredUrl++;
  return true;
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

const API_ROUTE = /^\/api\/v1\/(generateTask|statusTask)\/([^/]+)\/?$/;
const RESULT_ROUTE = /^\/results\/([^/]+)\.mp4$/;

async function route(ctx: SimContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const query = q < 0 ? '' : url.slice(q + 1);

  const result = RESULT_ROUTE.exec(path);
  if (result) {
    const task = ctx.tasks.get(decode(result[1] ?? ''));
    const expires = Number(new URLSearchParams(query).get('expires') ?? NaN);
    const served = serveResult(req, res, task, Date.now(), ctx.opts.resultTtlMs, ctx.files, {
      urlExpiresAt: Number.isFinite(expires) ? expires : undefined,
      truncate: (length) => truncation(ctx, length),
    });
    if (served) ctx.stats.downloads++;
    return;
  }

  const api = API_ROUTE.exec(path);
  if (!api) return sendError(res, 404, 'Not found');
  const endpoint = api[1] as 'generateTask' | 'statusTask';
  const model = decode(api[2] ?? '');
  ctx.stats.requests++;
  if (endpoint === 'generateTask') ctx.stats.submits++;
  else ctx.stats.statusPolls++;

  const method = endpoint === 'generateTask' ? 'POST' : 'GET';
  if (req.method !== method) return sendError(res, 405, `Method ${req.method ?? ''} not allowed; use ${method}`, { allow: method });
  const key = apiKeyOf(ctx, req);
  if (key === undefined) return sendError(res, 401, 'Invalid or missing API Key');
  const admission = ctx.window.admit(key, Date.now());
  if (!admission.ok) return rateLimited(ctx, res, admission.retryAfterMs, 'requests');

  if (endpoint === 'generateTask') return generateTask(ctx, req, res, key, model);
  return statusTask(ctx, res, key, model, query);
}

/** The truncateDownload fault: how many bytes of this body to send before dropping the connection. */
function truncation(ctx: SimContext, length: number): number | undefined {
  const p = ctx.opts.faults.truncateDownload;
  if (!(p > 0) || length < 2 || ctx.faultRandom.truncate() >= p) return undefined;
  ctx.stats.faults.truncateDownload++;
  return Math.floor(length * (0.05 + 0.9 * ctx.faultRandom.truncate()));
}

export function createHandler(ctx: SimContext): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    route(ctx, req, res).catch((err: unknown) => {
      // A bug in the simulator must look like a provider 500, not hang the client.
      if (!res.headersSent) sendError(res, 500, 'Internal server error');
      else res.destroy(err instanceof Error ? err : undefined);
    });
  };
}
