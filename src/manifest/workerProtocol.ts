/** What the manifest worker (workerEntry.ts) and its parent (worker.ts) say to each other. */
import { ERROR_CODES, ManifestError, VidbatchError, type ErrorCode, type ManifestIssue } from '../core/errors.js';
import type { ManifestSummary } from './index.js';

export interface WorkerData {
  file: string;
  maxIssues: number | undefined;
  /** Int32Array over it: [batches posted, batches consumed]. */
  flow: SharedArrayBuffer;
}
export const FLOW_POSTED = 0;
export const FLOW_CONSUMED = 1;
/** Tasks a batch: large enough that a message costs nothing beside its inserts. */
export const BATCH_TASKS = 2048;
/** Batches the worker may be ahead of the parent before it waits. */
export const MAX_BATCHES_AHEAD = 8;

export type SerializedError =
  | { kind: 'manifest'; issues: ManifestIssue[] }
  | { kind: 'vidbatch'; code: ErrorCode; message: string; stack: string | undefined }
  | { kind: 'other'; message: string; stack: string | undefined };

export type WorkerMessage =
  | { type: 'name'; name: string | undefined }
  | { type: 'records'; joined: string }
  | { type: 'done'; summary: ManifestSummary }
  | { type: 'error'; error: SerializedError };

// Errors cross the thread boundary as data: structured clone keeps an Error's message
// but drops `code` and `issues`, which is what callers decide on.
export function serializeError(e: unknown): SerializedError {
  if (e instanceof ManifestError) return { kind: 'manifest', issues: [...e.issues] };
  if (e instanceof VidbatchError) return { kind: 'vidbatch', code: e.code, message: e.message, stack: e.stack };
  if (e instanceof Error) return { kind: 'other', message: e.message, stack: e.stack };
  return { kind: 'other', message: String(e), stack: undefined };
}

export function deserializeError(s: SerializedError): Error {
  if (s.kind === 'manifest') return new ManifestError(s.issues);
  const e = s.kind === 'vidbatch' ? new VidbatchError(s.code ?? ERROR_CODES.USAGE, s.message) : new Error(s.message);
  if (s.stack) e.stack = s.stack;
  return e;
}
