import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import { ALL_STATES } from '../../core/lifecycle.js';
import { DEFAULTS } from '../../run/options.js';
import { Store, type RunInfo, type StateCounts, type TaskRow } from '../../store/index.js';
import { formatDuration } from '../ui/format.js';
import { formatTable } from '../ui/table.js';
import { positiveInt } from '../parse.js';

/** How `status`, `report` and `export` find a run: the same defaults as `vidbatch run`. */
export interface RunSelectionFlags {
  out?: string;
  db?: string;
  run?: string;
}

export function addRunSelection(cmd: Command): Command {
  return cmd
    .option('--out <dir>', `output folder the run wrote to (default: the folder of --db, else ${DEFAULTS.out})`)
    .option('--db <file>', 'SQLite checkpoint (default: <out>/vidbatch.db)')
    .option('--run <name>', 'run name (default: the most recently updated run)');
}

/** Open the store of `flags` and pick the run; throws a UsageError that says what exists. */
export function openRun(flags: RunSelectionFlags): { store: Store; info: RunInfo; dir: string } {
  // As `run` lays them out: the database is <out>/vidbatch.db unless told otherwise.
  const out = resolve(flags.out ?? (flags.db !== undefined ? dirname(flags.db) : DEFAULTS.out));
  const db = resolve(flags.db ?? join(out, 'vidbatch.db'));
  if (!existsSync(db)) throw new UsageError(`no database at ${db}; pass --db FILE or --out DIR, or start a run with: vidbatch run <manifest>`);
  const store = Store.open(db);
  try {
    const info = pickRun(store, flags.run);
    return { store, info, dir: join(out, info.name) };
  } catch (e) {
    store.close();
    throw e;
  }
}

function pickRun(store: Store, runName: string | undefined): RunInfo {
  const runs = store.listRuns();
  const info = runName === undefined ? runs[0] : store.getRun(runName);
  if (info) return info;
  throw new UsageError(
    runName === undefined
      ? `${store.file} holds no run yet; start one with: vidbatch run <manifest>`
      : `run '${runName}' is not in ${store.file}; runs there: ${runs.map((r) => r.name).join(', ') || 'none'}`,
  );
}

export interface StatusOptions {
  now?: number;
  /** A task submitted (or succeeded and not downloaded) longer ago than this is listed as stuck. @default 10 min */
  stuckAfterMs?: number;
  /** The run's folder, to point at its gallery. */
  dir?: string;
}

export interface StatusReport {
  run: string;
  db: string;
  manifest: string;
  counts: StateCounts;
  total: number;
  /** Epoch ms of the last change to any task of the run. */
  lastActivity: number | null;
  failed: { key: string; taskId: string | null; reason: string | null; code: string | null; message: string | null; source: string }[];
  /** How many failed tasks per failCode (or reason), most frequent first. */
  failedByCode: { code: string; count: number }[];
  inDoubt: { key: string; source: string; prompt: string; submits: number; since: number }[];
  /** Results not yet downloaded, soonest expiry first: their URLs die 15 days after completion. */
  expiring: { key: string; taskId: string | null; expiresAt: number | null; source: string }[];
  stuck: { key: string; state: string; taskId: string | null; since: number; why: string }[];
  gallery: string | null;
  next: string;
}

const where = (r: TaskRow): string => `${r.source.file}:${r.source.line}`;

export function statusReport(store: Store, runName: string | undefined, options: StatusOptions = {}): StatusReport {
  const info = pickRun(store, runName);
  const now = options.now ?? Date.now();
  const stuckAfter = options.stuckAfterMs ?? 10 * 60_000;
  const counts = store.counts(info.name);
  const total = ALL_STATES.reduce((n, s) => n + counts[s], 0);
  const byState = (s: Parameters<Store['listByState']>[1]): TaskRow[] => store.listByState(info.name, s);

  const failedRows = byState('failed');
  const failed = failedRows.map((r) => ({ key: r.key, taskId: r.taskId, reason: r.failReason, code: r.failCode, message: r.failMsg, source: where(r) }));
  const codes = new Map<string, number>();
  for (const f of failed) codes.set(f.code ?? f.reason ?? 'unknown', (codes.get(f.code ?? f.reason ?? 'unknown') ?? 0) + 1);
  const failedByCode = [...codes].map(([code, count]) => ({ code, count })).sort((a, b) => b.count - a.count);
  const inDoubt = byState('in_doubt').map((r) => ({ key: r.key, source: where(r), prompt: r.input.prompt.slice(0, 80), submits: r.submits, since: r.updatedAt }));

  const succeeded = byState('succeeded');
  const expiring = [...succeeded]
    .sort((a, b) => (a.expiresAt ?? Infinity) - (b.expiresAt ?? Infinity))
    .map((r) => ({ key: r.key, taskId: r.taskId, expiresAt: r.expiresAt, source: where(r) }));

  const stuck: StatusReport['stuck'] = [];
  for (const r of byState('submitting')) {
    stuck.push({ key: r.key, state: r.state, taskId: null, since: r.updatedAt, why: 'mid-POST when its process stopped or still sending; the next run makes it in_doubt unless a run is going' });
  }
  for (const r of byState('submitted')) {
    const since = r.submittedAt ?? r.updatedAt;
    if (now - since > stuckAfter) stuck.push({ key: r.key, state: r.state, taskId: r.taskId, since, why: 'the provider has not finished it (generation takes under a minute); the next run polls it again' });
  }
  for (const r of succeeded) {
    if (now - r.updatedAt > stuckAfter) stuck.push({ key: r.key, state: r.state, taskId: r.taskId, since: r.updatedAt, why: 'generated but not downloaded; the next run downloads it before its URL expires' });
  }

  const lastActivity = store.lastActivity(info.name);

  const open = counts.planned + counts.submitting + counts.submitted + counts.succeeded;
  const sel = `--run ${info.name} --db ${store.file}`;
  const next =
    open > 0
      ? `vidbatch run ${info.manifestFile} ${sel}   (continues: ${open} task(s) not finished)`
      : counts.in_doubt > 0
        ? `check the in_doubt tasks with the provider before resubmitting them (a resubmit may pay twice): vidbatch retry --in-doubt ${sel}`
        : counts.failed > 0
          ? `read the reasons above; to make the failed tasks again (each is paid again): vidbatch retry --failed ${sel}`
          : 'nothing: every task is archived';
  const galleryFile = options.dir ? join(options.dir, 'index.html') : null;
  const gallery = galleryFile && existsSync(galleryFile) ? galleryFile : null;
  return { run: info.name, db: store.file, manifest: info.manifestFile, counts, total, lastActivity, failed, failedByCode, inDoubt, expiring, stuck, gallery, next };
}

const ago = (now: number, t: number): string => `${formatDuration(now - t)} ago`;
const LIST_MAX = 20;

function more(lines: string[], n: number): void {
  if (n > LIST_MAX) lines.push(`  … and ${n - LIST_MAX} more (--json lists all)`);
}

/** The human page: counts by state, then every list that needs attention, then the next command. */
export function formatStatus(r: StatusReport, options: { now?: number; width?: number } = {}): string {
  const now = options.now ?? Date.now();
  const width = options.width;
  const lines = [
    `run '${r.run}' · ${r.manifest} · ${r.db}`,
    `${r.total} task(s)${r.lastActivity !== null ? ` · last change ${ago(now, r.lastActivity)}` : ''}`,
    '',
  ];
  const pct = (n: number): string => (r.total === 0 ? '' : `${Math.round((n / r.total) * 100)}%`);
  lines.push(...formatTable(['state', 'tasks', ''], [...ALL_STATES.map((s) => [s, String(r.counts[s]), r.counts[s] ? pct(r.counts[s]) : '']), ['total', String(r.total), '']], { right: [1, 2] }));

  if (r.inDoubt.length > 0) {
    lines.push('', `in_doubt (${r.inDoubt.length}) — a POST may have created these; they are never resubmitted on their own:`);
    lines.push(...formatTable(['key', 'source', 'POSTs', 'since', 'prompt'], r.inDoubt.slice(0, LIST_MAX).map((t) => [t.key, t.source, String(t.submits), ago(now, t.since), JSON.stringify(t.prompt)]), { width }));
    more(lines, r.inDoubt.length);
  }
  if (r.failed.length > 0) {
    lines.push('', `failed (${r.failed.length}): ${r.failedByCode.map((c) => `${c.code} ×${c.count}`).join(', ')}`);
    lines.push(...formatTable(['key', 'source', 'code', 'message'], r.failed.slice(0, LIST_MAX).map((t) => [t.key, t.source, t.code ?? t.reason ?? '', t.message ?? '']), { width }));
    more(lines, r.failed.length);
  }
  if (r.expiring.length > 0) {
    lines.push('', `waiting for download (${r.expiring.length}), soonest expiry first — result URLs die 15 days after completion:`);
    const when = (t: number | null): string => (t === null ? 'unknown' : t <= now ? `EXPIRED ${ago(now, t)}` : `in ${formatDuration(t - now)} (${new Date(t).toISOString()})`);
    lines.push(...formatTable(['key', 'taskId', 'expires', 'source'], r.expiring.slice(0, LIST_MAX).map((t) => [t.key, t.taskId ?? '', when(t.expiresAt), t.source]), { width }));
    more(lines, r.expiring.length);
  }
  if (r.stuck.length > 0) {
    lines.push('', `stuck (${r.stuck.length}):`);
    lines.push(...formatTable(['key', 'state', 'since', 'taskId', 'why'], r.stuck.slice(0, LIST_MAX).map((t) => [t.key, t.state, ago(now, t.since), t.taskId ?? '', t.why]), { width }));
    more(lines, r.stuck.length);
  }
  if (r.gallery) lines.push('', `gallery: ${r.gallery}`);
  lines.push('', `next: ${r.next}`);
  return lines.join('\n');
}

interface StatusFlags extends RunSelectionFlags {
  json?: boolean;
  stuckAfter: number;
}

export function statusCommand(): Command {
  return addRunSelection(new Command('status').description('show where a run stands: counts by state, failed and in_doubt tasks, expiring results, stuck tasks, what to do next'))
    .option('--stuck-after <ms>', 'list tasks generating or waiting for download longer than this (as `run --stuck-after`)', positiveInt, 600_000)
    .option('--json', 'print JSON (counts keyed by lifecycle state, and every list in full)')
    .addHelpText('after', `
Examples:
  $ vidbatch status
  $ vidbatch status --run nightly-2026-11-25
  $ vidbatch status --out /srv/videos --stuck-after 1800000     stuck: still generating 30 min after submit
  $ vidbatch status --json | jq .counts`)
    .action((flags: StatusFlags) => {
      const { store, info, dir } = openRun(flags);
      try {
        const now = Date.now();
        const report = statusReport(store, info.name, { now, stuckAfterMs: flags.stuckAfter, dir });
        const width = process.stdout.isTTY ? process.stdout.columns : undefined;
        process.stdout.write(flags.json ? JSON.stringify(report, null, 2) + '\n' : formatStatus(report, { now, ...(width ? { width } : {}) }) + '\n');
      } finally {
        store.close();
      }
    });
}
