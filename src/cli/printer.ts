import type { RunEvent } from '../run/events.js';

export interface PrinterOptions {
  /** Every transition and retry too. */
  verbose?: boolean;
  /** One line per archived video. @default true */
  showArchived?: boolean;
}

/**
 * Human messages: one line per notable event (failures, in_doubt, stops, the start and
 * the end). The run loop never prints; the progress displays in `ui/` wrap this.
 */
export function createPrinter(write: (line: string) => void, options: PrinterOptions = {}): (e: RunEvent) => void {
  let lastRateLimit = 0;
  return (e) => {
    switch (e.type) {
      case 'run-start': {
        write(`run '${e.run}': ${e.total} task(s) in ${e.manifest} — ${e.added} new, ${e.existing} already in the run`);
        if (e.manifestChanged) write(`  the manifest changed since this run started: only new tasks are added; nothing stored is resubmitted`);
        if (e.notInManifest > 0) write(`  ${e.notInManifest} task(s) of this run are no longer in the manifest: left as they are`);
        if (e.recoveredInDoubt > 0) write(`  ${e.recoveredInDoubt} task(s) were mid-submit when the last process stopped: now in_doubt, not resubmitted (see 'vidbatch status')`);
        return;
      }
      case 'transition':
        if (e.to === 'failed' || e.to === 'in_doubt') write(`  ${e.key} ${e.from} → ${e.to}${e.detail ? `: ${e.detail}` : ''}`);
        else if (options.verbose) write(`  ${e.key} ${e.from} → ${e.to}${e.taskId ? ` (${e.taskId})` : ''}`);
        return;
      case 'archived':
        if (options.showArchived === false) return;
        write(`  archived ${e.file} (${(e.bytes / 1024).toFixed(0)} KiB)`);
        return;
      case 'rate-limited': {
        const now = Date.now();
        if (now - lastRateLimit > 5000) write(`  rate limited by the provider (${e.during}); waiting ${Math.ceil(e.retryAfterMs / 1000)} s`);
        lastRateLimit = now;
        return;
      }
      case 'retry':
        if (options.verbose) write(`  ${e.key}: ${e.during} will be retried in ${e.delayMs} ms: ${e.reason}`);
        return;
      case 'poll-gave-up':
        write(`  ${e.key} (${e.taskId}): status polls keep failing (${e.reason}); left submitted for the next run`);
        return;
      case 'stopping':
        write(`stopping (${e.reason}): ${e.message}`);
        return;
      // Throughput events (src/run): the stuck task and the receiver matter at a glance, the rest only with -v.
      case 'stuck':
        write(`  ${e.key} (${e.taskId}): still running ${Math.round(e.ageMs / 1000)} s after submit; no longer polled in this run, left submitted for the next`);
        return;
      case 'callback-listening':
        write(`callbacks: listening on ${e.listen} for ${e.callbackUrl}`);
        return;
      case 'rate-changed':
      case 'callback':
      case 'callback-rejected':
        if (options.verbose) write(`  ${e.type}: ${JSON.stringify(e)}`);
        return;
      case 'run-end': {
        const parts = Object.entries(e.counts).filter(([, n]) => n > 0).map(([s, n]) => `${n} ${s}`);
        write(`run '${e.run}' ${e.outcome} in ${(e.elapsedMs / 1000).toFixed(1)} s: ${parts.join(', ') || 'no tasks'}`);
        return;
      }
      default: {
        const never: never = e;
        throw new Error(`unknown event ${JSON.stringify(never)}`);
      }
    }
  };
}
