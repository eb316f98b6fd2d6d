/**
 * The simulator's options, and the one function that fills their defaults. Everything
 * after `resolveOptions` sees complete, validated values.
 */
import { randomInt } from 'node:crypto';
import { UsageError } from '../core/errors.js';
import { DEFAULT_ID_SECRET } from './taskId.js';

/** Faults injected into POST /api/v1/generateTask, each drawn from a seeded stream. */
export interface FaultOptions {
  /**
   * Probability (0–1) of answering 500 with the JSON envelope before anything is created:
   * a server error the client may safely retry.
   * @default 0
   */
  failBeforeCreate?: number;
  /**
   * Probability (0–1) of creating the task and then answering 502 with a plain-text body
   * (a gateway error, no envelope): the client cannot know the taskId.
   * @default 0
   */
  failAfterCreate?: number;
  /**
   * Probability (0–1) of creating the task and then destroying the socket without an
   * answer: the case that puts a task `in_doubt`.
   * @default 0
   */
  resetAfterCreate?: number;
  /**
   * Probability (0–1) that an API answer (either endpoint) is held back `slowResponseMs`.
   * A POST is held after the task is created, so a client that gives up waiting has a
   * task it never saw: the case its timeout must treat as in doubt.
   * @default 0
   */
  slowResponse?: number;
  /** How long a slow answer is held, in real ms (not scaled by timeScale). @default 2000 */
  slowResponseMs?: number;
  /**
   * Probability (0–1) that a result download (200 or 206) is cut off: the headers announce
   * the whole length, a random part of the body is sent, then the connection is dropped.
   * Each request is drawn afresh, so a client resuming with Range gets there.
   * @default 0
   */
  truncateDownload?: number;
  /**
   * Probability (0–1) that a task's first successful status answer hands out a result URL
   * that has already expired (it answers 410). Drawn once per task: the next status answer
   * has a fresh, working URL — as a provider re-signing its URLs would.
   * @default 0
   */
  expiredUrl?: number;
}

export interface SimulatorOptions {
  /** @default '127.0.0.1' */
  host?: string;
  /** @default 0 (an ephemeral port; read it from `Simulator.url`) */
  port?: number;
  /** Accepted Bearer keys. When absent any non-empty key is accepted. */
  apiKeys?: string[];
  /**
   * Multiplies the documented generation times (30–45 s for 5 s videos, 45–60 s for 10 s);
   * 0.01 turns a 40 s generation into 0.4 s. Rate-limit windows and result TTL are not scaled.
   * @default 1
   */
  timeScale?: number;
  /** Per API key, rolling 60 s window of real time, both endpoints. @default 10000 */
  requestsPerMinute?: number;
  /** Per API key: tasks in pending/processing. @default 1000 */
  concurrentTasks?: number;
  /** Number of tasks that can be created, for the whole simulator. When absent, unlimited. */
  credits?: number;
  /**
   * HTTP status (and envelope code) of `Insufficient credits`: 400 as documented, or 402
   * as another apixo page and many gateways answer.
   * @default 400
   */
  creditsStatus?: 400 | 402;
  /**
   * Seals task ids (see taskId.ts). Simulators sharing it answer for each other's tasks, so
   * a restarted simulator still knows every task of a rehearsal. @default a built-in constant
   */
  idSecret?: string;
  /** How long a result URL works after completeTime, in ms. @default 15 days */
  resultTtlMs?: number;
  /** Seed for generation times and faults. When absent, a random seed. */
  seed?: number;
  /** A callback attempt that has not answered within this time has failed. @default 30000 */
  callbackTimeoutMs?: number;
  /** Further attempts after a failed callback delivery. @default 3 */
  callbackRetries?: number;
  faults?: FaultOptions;
}

export interface ResolvedFaults {
  failBeforeCreate: number;
  failAfterCreate: number;
  resetAfterCreate: number;
  slowResponse: number;
  slowResponseMs: number;
  truncateDownload: number;
  expiredUrl: number;
}

export interface ResolvedSimulatorOptions {
  host: string;
  port: number;
  /** undefined: any non-empty key is accepted. */
  apiKeys: ReadonlySet<string> | undefined;
  timeScale: number;
  requestsPerMinute: number;
  concurrentTasks: number;
  credits: number | undefined;
  creditsStatus: 400 | 402;
  idSecret: string;
  resultTtlMs: number;
  seed: number;
  callbackTimeoutMs: number;
  callbackRetries: number;
  faults: ResolvedFaults;
}

export const DEFAULT_RESULT_TTL_MS = 15 * 24 * 60 * 60 * 1000;

function describe(value: unknown): string {
  return `\`${typeof value === 'string' ? value : String(value)}\` (${typeof value})`;
}

function number(name: string, value: unknown, min: number, max: number, integer: boolean, fallback: number): number {
  if (value === undefined) return fallback;
  const ok = typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max && (!integer || Number.isInteger(value));
  if (!ok) {
    const range = max === Number.MAX_SAFE_INTEGER || max === Infinity ? `from ${min} and up` : `from ${min} to ${max}`;
    throw new UsageError(`Expected \`${name}\` to be ${integer ? 'an integer' : 'a number'} ${range}, got ${describe(value)}`);
  }
  return value;
}

export function resolveOptions(opts: SimulatorOptions = {}): ResolvedSimulatorOptions {
  const host = opts.host ?? '127.0.0.1';
  if (typeof host !== 'string' || host === '') throw new UsageError(`Expected \`host\` to be a non-empty string, got ${describe(host)}`);
  let apiKeys: Set<string> | undefined;
  if (opts.apiKeys !== undefined) {
    if (!Array.isArray(opts.apiKeys) || opts.apiKeys.length === 0 || !opts.apiKeys.every((k) => typeof k === 'string' && k !== '')) {
      throw new UsageError('Expected `apiKeys` to be a non-empty array of non-empty strings');
    }
    apiKeys = new Set(opts.apiKeys);
  }
  const f = opts.faults ?? {};
  const big = Number.MAX_SAFE_INTEGER;
  if (opts.creditsStatus !== undefined && opts.creditsStatus !== 400 && opts.creditsStatus !== 402) {
    throw new UsageError(`Expected \`creditsStatus\` to be 400 or 402, got ${describe(opts.creditsStatus)}`);
  }
  if (opts.idSecret !== undefined && (typeof opts.idSecret !== 'string' || opts.idSecret === '')) {
    throw new UsageError(`Expected \`idSecret\` to be a non-empty string, got ${describe(opts.idSecret)}`);
  }
  return {
    host,
    port: number('port', opts.port, 0, 65535, true, 0),
    apiKeys,
    timeScale: number('timeScale', opts.timeScale, 0, big, false, 1),
    requestsPerMinute: number('requestsPerMinute', opts.requestsPerMinute, 1, big, true, 10_000),
    concurrentTasks: number('concurrentTasks', opts.concurrentTasks, 1, big, true, 1_000),
    credits: opts.credits === undefined ? undefined : number('credits', opts.credits, 0, big, true, 0),
    creditsStatus: opts.creditsStatus ?? 400,
    idSecret: opts.idSecret ?? DEFAULT_ID_SECRET,
    resultTtlMs: number('resultTtlMs', opts.resultTtlMs, 0, big, false, DEFAULT_RESULT_TTL_MS),
    seed: opts.seed === undefined ? randomInt(0, 2 ** 32 - 1) : number('seed', opts.seed, -(2 ** 31), 2 ** 32 - 1, true, 0),
    callbackTimeoutMs: number('callbackTimeoutMs', opts.callbackTimeoutMs, 1, 2 ** 31 - 1, false, 30_000),
    callbackRetries: number('callbackRetries', opts.callbackRetries, 0, 100, true, 3),
    faults: {
      failBeforeCreate: number('faults.failBeforeCreate', f.failBeforeCreate, 0, 1, false, 0),
      failAfterCreate: number('faults.failAfterCreate', f.failAfterCreate, 0, 1, false, 0),
      resetAfterCreate: number('faults.resetAfterCreate', f.resetAfterCreate, 0, 1, false, 0),
      slowResponse: number('faults.slowResponse', f.slowResponse, 0, 1, false, 0),
      slowResponseMs: number('faults.slowResponseMs', f.slowResponseMs, 0, 2 ** 31 - 1, false, 2000),
      truncateDownload: number('faults.truncateDownload', f.truncateDownload, 0, 1, false, 0),
      expiredUrl: number('faults.expiredUrl', f.expiredUrl, 0, 1, false, 0),
    },
  };
}
