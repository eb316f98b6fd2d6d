/**
 * The task lifecycle: the core contract of vidbatch (see DESIGN.md).
 *
 * What holds in each state:
 * - planned:    stored from the manifest; nothing was sent for it.
 * - submitting: the intent to POST is durable; the POST may be in flight. If the process
 *               dies here we cannot know whether the provider created a task.
 * - in_doubt:   the POST may have created a task whose taskId we never saw. Never
 *               resubmitted automatically; only `vidbatch retry --in-doubt` moves it.
 * - submitted:  the provider's taskId is stored; the task is pending or processing.
 * - succeeded:  the provider reported success; result URLs and their expiry are stored.
 * - archived:   the MP4 is on disk, verified, with its sidecar. Terminal.
 * - failed:     terminal, with a reason. Only an explicit user command replans it.
 */

export const TASK_STATES = {
  planned: 'planned',
  submitting: 'submitting',
  in_doubt: 'in_doubt',
  submitted: 'submitted',
  succeeded: 'succeeded',
  archived: 'archived',
  failed: 'failed',
} as const;
export type TaskState = (typeof TASK_STATES)[keyof typeof TASK_STATES];
export const ALL_STATES = Object.values(TASK_STATES) as readonly TaskState[];

/** Who may make a transition: the run loop on its own, or only an explicit user command. */
export type Actor = 'loop' | 'user';

interface Edge {
  to: TaskState;
  by: Actor;
  why: string;
}

/** Every allowed transition. Anything not listed here is refused by `checkTransition`. */
export const TRANSITIONS: Readonly<Record<TaskState, readonly Edge[]>> = {
  planned: [
    { to: 'submitting', by: 'loop', why: 'intent recorded before the POST' },
    { to: 'failed', by: 'loop', why: 'input refused before sending (preflight)' },
  ],
  submitting: [
    { to: 'submitted', by: 'loop', why: 'the POST returned a taskId' },
    { to: 'planned', by: 'loop', why: 'the POST surely created nothing (429, 401, refused connection)' },
    { to: 'failed', by: 'loop', why: 'the provider rejected the input (400)' },
    { to: 'in_doubt', by: 'loop', why: 'the POST may have created a task we never saw' },
  ],
  in_doubt: [{ to: 'planned', by: 'user', why: 'vidbatch retry --in-doubt' }],
  submitted: [
    { to: 'succeeded', by: 'loop', why: 'the provider reported success' },
    { to: 'failed', by: 'loop', why: 'the provider reported failure' },
  ],
  succeeded: [
    { to: 'archived', by: 'loop', why: 'downloaded, verified, renamed' },
    { to: 'failed', by: 'loop', why: 'result URL expired or gone' },
  ],
  archived: [],
  failed: [{ to: 'planned', by: 'user', why: 'vidbatch retry --failed' }],
};

export function isAllowed(from: TaskState, to: TaskState, by: Actor): boolean {
  return TRANSITIONS[from].some((e) => e.to === to && (e.by === by || by === 'user'));
}

/** States in which a task holds one of the provider's concurrent-task slots. */
export const IN_FLIGHT_STATES: readonly TaskState[] = ['submitting', 'submitted'];
/** States the run loop will never leave on its own. */
export const TERMINAL_STATES: readonly TaskState[] = ['archived', 'failed', 'in_doubt'];

export function isTerminal(state: TaskState): boolean {
  switch (state) {
    case 'archived':
    case 'failed':
    case 'in_doubt':
      return true;
    case 'planned':
    case 'submitting':
    case 'submitted':
    case 'succeeded':
      return false;
    default: {
      const never: never = state;
      throw new Error(`unknown task state ${String(never)}`);
    }
  }
}
