/**
 * Exit codes of the CLI, documented in the README. Scripts (cron) branch on these,
 * so they never change meaning.
 */
export const EXIT = {
  /** Every task of the run is archived. */
  OK: 0,
  /** A bug or an unexpected failure; the message has the stack. */
  INTERNAL: 1,
  /** Wrong command-line use or configuration (missing API key, bad option). */
  USAGE: 2,
  /** The manifest is invalid; nothing was sent. */
  MANIFEST: 3,
  /** The run ended, but some tasks are failed or in_doubt (see `vidbatch status`). */
  INCOMPLETE: 4,
  /** The provider refused the API key (401); nothing more was sent. */
  AUTH: 5,
  /** The account ran out of credits; tasks in flight were finished. Re-run later to continue. */
  CREDITS: 6,
  /** Another process is running this run. */
  LOCKED: 7,
  /** Stopped by a signal or a deadline before the end; re-run the same command to continue. */
  INTERRUPTED: 75,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
