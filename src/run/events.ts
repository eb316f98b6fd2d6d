import type { TaskState } from '../core/lifecycle.js';
import type { StateCounts } from '../store/index.js';

/**
 * What the run loop tells the outside world. The terminal UI, the JSON stream and the
 * tests all listen to these; the loop itself never prints.
 */
export type RunEvent =
  | {
      type: 'run-start';
      run: string;
      db: string;
      out: string;
      manifest: string;
      total: number;
      added: number;
      existing: number;
      notInManifest: number;
      manifestChanged: boolean;
      recoveredInDoubt: number;
      counts: StateCounts;
    }
  | { type: 'transition'; key: string; from: TaskState; to: TaskState; taskId?: string; detail?: string }
  | { type: 'archived'; key: string; taskId: string; file: string; bytes: number; sha256: string }
  | { type: 'rate-limited'; retryAfterMs: number; during: 'submit' | 'poll' }
  | { type: 'retry'; key: string; during: 'submit' | 'poll' | 'download'; delayMs: number; reason: string }
  | { type: 'poll-gave-up'; key: string; taskId: string; reason: string }
  /** Still running `ageMs` after its submit, past `stuckAfterMs`: no longer polled in this run, left submitted. */
  | { type: 'stuck'; key: string; taskId: string; ageMs: number }
  /** The request budget changed: cut after a 429 (AIMD), or recovered a step towards `--rpm`. */
  | { type: 'rate-changed'; rpm: number; cause: 'limited' | 'recovered' }
  /** The callback receiver listens; `callbackUrl` is what the provider is given, its secret shown as `…`. */
  | { type: 'callback-listening'; listen: string; callbackUrl: string }
  /**
   * A callback arrived on the secret path: `verify` (a status GET will confirm it),
   * `duplicate` (one is already on its way), `early` (its taskId is not known yet: kept
   * until our POST answers), `unknown` (not a task of this run in flight).
   */
  | { type: 'callback'; taskId: string; outcome: 'verify' | 'duplicate' | 'early' | 'unknown' }
  /** A request to the receiver was refused: wrong path (forged or a scan), method, size or body. */
  | { type: 'callback-rejected'; reason: 'path' | 'method' | 'too-large' | 'body' }
  | { type: 'stopping'; reason: StopReason; message: string }
  | { type: 'run-end'; run: string; counts: StateCounts; outcome: RunOutcome; elapsedMs: number };

export type StopReason = 'auth' | 'credits' | 'signal';

/** How a run ended; the CLI maps it to an exit code. */
export type RunOutcome = 'complete' | 'incomplete' | 'auth' | 'credits' | 'interrupted';

export type RunEventListener = (event: RunEvent) => void;
