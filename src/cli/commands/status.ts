import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import { ALL_STATES } from '../../core/lifecycle.js';
import { DEFAULTS } from '../../run/options.js';
import { Store, type StateCounts, type TaskRow } from '../../store/index.js';

export interface StatusReport {
  run: string;
  db: string;
  manifest: string;
  counts: StateCounts;
  total: number;
  failed: { key: string; taskId: string | null; reason: string | null; code: string | null; message: string | null; source: string }[];
  inDoubt: { key: string; source: string; prompt: string }[];
  next: string;
}

export function statusReport(store: Store, runName: string | undefined): StatusReport {
  const runs = store.listRuns();
  const info = runName === undefined ? runs[0] : store.getRun(runName);
  if (!info) {
    throw new UsageError(
      runName === undefined
        ? `${store.file} holds no run yet; start one with: vidbatch run <manifest>`
        : `run '${runName}' is not in ${store.file}; runs there: ${runs.map((r) => r.name).join(', ') || 'none'}`,
    );
  }
  const counts = store.counts(info.name);
  const total = ALL_STATES.reduce((n, s) => n + counts[s], 0);
  const where = (r: TaskRow) => `${r.source.file}:${r.source.line}`;
  const failed = store.listByState(info.name, 'failed').map((r) => ({
    key: r.key, taskId: r.taskId, reason: r.failReason, code: r.failCode, message: r.failMsg, source: where(r),
  }));
  const inDoubt = store.listByState(info.name, 'in_doubt').map((r) => ({ key: r.key, source: where(r), prompt: r.input.prompt.slice(0, 80) }));
  const open = counts.planned + counts.submitting + counts.submitted + counts.succeeded;
  const next =
    open > 0
      ? `vidbatch run ${info.manifestFile} --run ${info.name} --db ${store.file}   (continues: ${open} task(s) not finished)`
      : counts.in_doubt + counts.failed > 0
        ? `check the in_doubt/failed tasks above with the provider before resubmitting them`
        : 'nothing: every task is archived';
  return { run: info.name, db: store.file, manifest: info.manifestFile, counts, total, failed, inDoubt, next };
}

export function formatStatus(r: StatusReport): string {
  const lines = [`run '${r.run}' (${r.manifest}) in ${r.db}: ${r.total} task(s)`];
  const width = Math.max(...ALL_STATES.map((s) => s.length));
  for (const s of ALL_STATES) lines.push(`  ${s.padEnd(width)}  ${String(r.counts[s]).padStart(7)}`);
  if (r.inDoubt.length > 0) {
    lines.push('', `in_doubt — a POST may have created these; they are never resubmitted on their own:`);
    for (const t of r.inDoubt.slice(0, 20)) lines.push(`  ${t.key}  ${t.source}  ${JSON.stringify(t.prompt)}`);
    if (r.inDoubt.length > 20) lines.push(`  … and ${r.inDoubt.length - 20} more (--json lists all)`);
  }
  if (r.failed.length > 0) {
    lines.push('', 'failed:');
    for (const t of r.failed.slice(0, 20)) lines.push(`  ${t.key}  ${t.source}  ${t.code ?? t.reason}: ${t.message ?? ''}`);
    if (r.failed.length > 20) lines.push(`  … and ${r.failed.length - 20} more (--json lists all)`);
  }
  lines.push('', `next: ${r.next}`);
  return lines.join('\n');
}

export function statusCommand(): Command {
  return new Command('status')
    .description('show where a run stands: counts by state, failed and in_doubt tasks, what to do next')
    .option('--db <file>', 'SQLite checkpoint', join(DEFAULTS.out, 'vidbatch.db'))
    .option('--run <name>', 'run name (default: the most recently updated run)')
    .option('--json', 'print JSON (counts keyed by lifecycle state)')
    .addHelpText('after', `
Examples:
  $ vidbatch status
  $ vidbatch status --run nightly-2026-11-25 --json | jq .counts`)
    .action((flags: { db: string; run?: string; json?: boolean }) => {
      const db = resolve(flags.db);
      if (!existsSync(db)) throw new UsageError(`no database at ${db}; pass --db FILE or start a run with: vidbatch run <manifest>`);
      const store = Store.open(db);
      try {
        const report = statusReport(store, flags.run);
        process.stdout.write(flags.json ? JSON.stringify(report, null, 2) + '\n' : formatStatus(report) + '\n');
      } finally {
        store.close();
      }
    });
}
