import type { ApixoClient } from '../api/index.js';
import type { TaskState } from '../core/lifecycle.js';
import type { Store, TransitionFields, TransitionOptions } from '../store/index.js';
import type { CompletionEstimate } from './completionEstimate.js';
import type { StopReason } from './events.js';
import type { ResolvedRunOptions } from './options.js';
import type { PollPlanner } from './pollPlanner.js';
import type { RequestBudget } from './requestBudget.js';
import type { BackoffPolicy } from './submitPolicy.js';
import type { InFlightTracker } from './tracker.js';

/**
 * What the run loop shares with its submit and poll halves (submitter.ts, poller.ts).
 * The loop owns every object here; the halves only act through it, so every state
 * change still goes through one `move` (store first, then the event).
 */
export interface LoopContext {
  readonly o: ResolvedRunOptions;
  readonly run: string;
  readonly store: Store;
  readonly client: ApixoClient;
  readonly budget: RequestBudget;
  readonly estimate: CompletionEstimate;
  readonly planner: PollPlanner;
  readonly tracker: InFlightTracker;
  readonly backoff: BackoffPolicy;
  /** The full callback_url (with its secret) sent with every submit in callback mode. */
  readonly callbackUrl: string | undefined;
  move(key: string, from: TaskState, to: TaskState, fields: TransitionFields, options: TransitionOptions, taskId?: string): void;
  requestStop(reason: StopReason, message: string): void;
  stopping(): StopReason | null;
  /** Keep a promise for the bounded wait at the end of the run. */
  track(p: Promise<unknown>): void;
  /** Make the loop look again at once (something finished or became due). */
  wake(): void;
  /** A task reached `succeeded`: queue its download. */
  succeeded(key: string, expiresAt: number | null): void;
}
