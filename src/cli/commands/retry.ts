/**
 * `vidbatch retry`: the only way a task that is in_doubt or failed is ever submitted again.
 * It shows how many tasks would go back to planned and what that may cost — above all, how
 * many of them the provider may already have made and billed — and changes nothing
 * without --yes (or a "y" typed at a terminal). The run lock is held while it moves them,
 * so it never races a `vidbatch run` of the same run.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import { DEFAULTS } from '../../run/options.js';
import { Store, type RunInfo, type TaskRow } from '../../store/index.js';

export interface RetrySelection {
  inDoubt: boolean;
  failed: boolean;
  /** With `failed`: only these fail codes (EXPIRED, CONTENT_VIOLATION, INVALID_INPUT…). */
  codes: readonly string[];
}

export interface RetryPlan {
  run: string;
  db: string;
  manifest: string;
  inDoubt: number;
  /** Failed tasks selected, by fail code. */
  failedByCode: Record<string, number>;
  total: number;
  /** New generations by video length in seconds: what the provider bills. */
  byDuration: Record<string, number>;
  /**
   * Tasks the provider may already have made and billed: every in_doubt task (its POST may
   * have created one) and every failed task whose result expired before it was downloaded.
   */
  mayPayTwice: number;
  /** Failed tasks whose failure the provider decided from the input itself: likely to fail again. */
  likelyToFailAgain: number;
  applied: boolean;
}

/** Fail codes the provider derives from the input: retrying the same input is likely to fail the same way. */
const INPUT_FAILURES = new Set(['CONTENT_VIOLATION', 'INVALID_IMAGE_URL', 'INVALID_INPUT']);

export function selectForRetry(store: Store, run: string, sel: RetrySelection): { inDoubt: TaskRow[]; failed: TaskRow[] } {
  const codes = new Set(sel.codes.map((c) => c.toUpperCase()));
  return {
    inDoubt: sel.inDoubt ? store.listByState(run, 'in_doubt') : [],
    failed: sel.failed ? store.listByState(run, 'failed').filter((r) => codes.size === 0 || codes.has((r.failCode ?? '').toUpperCase())) : [],
  };
}

export function retryPlan(store: Store, info: RunInfo, sel: RetrySelection): RetryPlan {
  const { inDoubt, failed } = selectForRetry(store, info.name, sel);
  const failedByCode: Record<string, number> = {};
  const byDuration: Record<string, number> = {};
  for (const r of failed) failedByCode[r.failCode ?? 'UNKNOWN'] = (failedByCode[r.failCode ?? 'UNKNOWN'] ?? 0) + 1;
  for (const r of [...inDoubt, ...failed]) {
    const d = String(r.input.duration ?? 5);
    byDuration[d] = (byDuration[d] ?? 0) + 1;
  }
  return {
    run: info.name,
    db: store.file,
    manifest: info.manifestFile,
    inDoubt: inDoubt.length,
    failedByCode,
    total: inDoubt.length + failed.length,
    byDuration,
    mayPayTwice: inDoubt.length + failed.filter((r) => r.failReason === 'expired').length,
    likelyToFailAgain: failed.filter((r) => INPUT_FAILURES.has(r.failCode ?? '')).length,
    applied: false,
  };
}

/** Move the selected tasks back to planned, each through a guarded, logged user transition. */
export function applyRetry(store: Store, run: string, sel: RetrySelection): number {
  let moved = 0;
  if (sel.inDoubt) moved += store.replan(run, 'in_doubt');
  if (sel.failed) {
    if (sel.codes.length === 0) moved += store.replan(run, 'failed');
    else {
      // replan filters on the exact stored code; match it case-insensitively like selectForRetry.
      const stored = new Set(selectForRetry(store, run, sel).failed.map((r) => r.failCode ?? ''));
      for (const code of stored) moved += store.replan(run, 'failed', { failCode: code });
    }
  }
  return moved;
}

export function formatPlan(p: RetryPlan): string {
  const lines = [`run '${p.run}' in ${p.db}:`];
  if (p.total === 0) {
    lines.push('  nothing to retry: no task matches');
    return lines.join('\n');
  }
  if (p.inDoubt > 0) {
    lines.push(`  ${p.inDoubt} in_doubt task(s): a POST for each may already have created (and billed) a video whose taskId we never saw`);
  }
  for (const [code, n] of Object.entries(p.failedByCode)) lines.push(`  ${n} failed task(s) with ${code}`);
  const durations = Object.entries(p.byDuration).map(([d, n]) => `${n} × ${d} s`).join(', ');
  lines.push('', `cost: ${p.total} new generation(s) (${durations}); the simulator counts 1 credit each`);
  if (p.mayPayTwice > 0) {
    lines.push(
      `  ${p.mayPayTwice} of them may already have been paid for (in_doubt, or generated but expired before download):`,
      `  retrying them may pay twice; check the provider's task list first if that matters`,
    );
  }
  if (p.likelyToFailAgain > 0) {
    lines.push(`  ${p.likelyToFailAgain} failed for their input (content, image URL, parameters): unchanged, they will likely fail again`);
  }
  return lines.join('\n');
}

interface RetryFlags {
  inDoubt?: boolean;
  failed?: boolean;
  code?: string[];
  out: string;
  db?: string;
  run?: string;
  yes?: boolean;
  json?: boolean;
}

async function confirmAtTerminal(question: string): Promise<boolean> {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return false;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

function pickRun(store: Store, name: string | undefined): RunInfo {
  const runs = store.listRuns();
  const info = name === undefined ? runs[0] : store.getRun(name);
  if (info) return info;
  throw new UsageError(
    name === undefined
      ? `${store.file} holds no run yet; start one with: vidbatch run <manifest>`
      : `run '${name}' is not in ${store.file}; runs there: ${runs.map((r) => r.name).join(', ') || 'none'}`,
  );
}

export function retryCommand(): Command {
  return new Command('retry')
    .description('put in_doubt or failed tasks back to planned, knowingly: shows how many and what it may cost first')
    .option('--in-doubt', 'tasks whose POST may have created a video we never saw (may pay twice)')
    .option('--failed', 'failed tasks (all, or only those of --code)')
    .option('--code <code>', 'with --failed: only this fail code (repeat for several), e.g. EXPIRED, CONTENT_VIOLATION', (v: string, prev: string[] = []) => [...prev, v])
    .option('--out <dir>', 'output folder the run wrote to', DEFAULTS.out)
    .option('--db <file>', 'SQLite checkpoint (default: <out>/vidbatch.db)')
    .option('--run <name>', 'run name (default: the most recently updated run)')
    .option('-y, --yes', 'do it without asking')
    .option('--json', 'print the plan as JSON (with "applied")')
    .addHelpText('after', `
Nothing else ever resubmits a task: a run leaves in_doubt and failed tasks alone.

Examples:
  $ vidbatch retry --in-doubt                          shows how many, what it may cost; changes nothing
  $ vidbatch retry --failed --code EXPIRED --yes       re-makes videos whose URL expired before download
  $ vidbatch retry --in-doubt --failed --run nightly-2026-11-25 --yes && vidbatch run nightly.yaml --run nightly-2026-11-25`)
    .action(async (flags: RetryFlags) => {
      if (!flags.inDoubt && !flags.failed) throw new UsageError('say what to retry: --in-doubt, --failed, or both');
      if (flags.code && !flags.failed) throw new UsageError('--code selects failed tasks; add --failed');
      const sel: RetrySelection = { inDoubt: flags.inDoubt === true, failed: flags.failed === true, codes: flags.code ?? [] };
      const out = resolve(flags.out);
      const db = resolve(flags.db ?? join(out, 'vidbatch.db'));
      if (!existsSync(db)) throw new UsageError(`no database at ${db}; pass --db FILE or --out DIR`);
      const store = Store.open(db);
      try {
        const info = pickRun(store, flags.run);
        let plan = retryPlan(store, info, sel);
        const print = (text: string): void => void process.stdout.write(text + '\n');
        if (!flags.json) print(formatPlan(plan));
        let go = flags.yes === true;
        if (!go && plan.total > 0 && !flags.json) go = await confirmAtTerminal(`move ${plan.total} task(s) back to planned? [y/N] `);
        if (go && plan.total > 0) {
          // Held while moving: a run of the same run must not be submitting at the same moment.
          store.acquireRunLock(info.name);
          try {
            plan = retryPlan(store, info, sel);
            const moved = applyRetry(store, info.name, sel);
            plan = { ...plan, applied: true };
            if (!flags.json) print(`\nmoved ${moved} task(s) back to planned; they are sent on the next: vidbatch run ${info.manifestFile} --run ${info.name} --db ${db}`);
          } finally {
            store.releaseRunLock(info.name);
          }
        } else if (plan.total > 0 && !flags.json) {
          print('\nnothing changed; add --yes to move them back to planned');
        }
        if (flags.json) print(JSON.stringify(plan, null, 2));
      } finally {
        store.close();
      }
    });
}
