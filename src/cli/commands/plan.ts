import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { ManifestError } from '../../core/errors.js';
import type { Duration, Mode, TaskSpec } from '../../core/types.js';
import { checkManifestName, streamManifest, type ManifestSummary } from '../../manifest/index.js';
import { issueAt } from '../../manifest/raw.js';
import { DEFAULTS } from '../../run/options.js';
import { positiveInt } from '../parse.js';

/** The provider's documented limits and generation times. */
export const DOCUMENTED = {
  rpm: 10_000,
  concurrency: 1_000,
  /** Seconds from submit to completion, [fastest, slowest], by video duration. */
  generation: { 5: [30, 45], 10: [45, 60] } as Record<Duration, readonly [number, number]>,
} as const;

export interface PlanLimits {
  rpm: number;
  concurrency: number;
  /** First poll after submit, for 5 s videos (10 s videos: × 1.5, as the run loop does). */
  firstPollMs: number;
  pollIntervalMs: number;
}

export interface WallTimeEstimate {
  /** Seconds, with every video as fast as documented … as slow as documented. */
  low: number;
  high: number;
  /** What limits the pace: the in-flight cap, the requests per minute, or (a run smaller than the cap) one generation time. */
  bound: 'concurrency' | 'requests' | 'generation';
  rpm: number;
  concurrency: number;
  /** Requests (submit + polls) per task, fastest … slowest. */
  requestsPerTask: [number, number];
  notes: string[];
}

/**
 * How long a run of these tasks takes under the limits, from the documented generation
 * times. A task holds an in-flight slot from its submit until a poll sees it finished:
 * the first poll at `firstPoll`, then every `pollInterval`. So for generation time g:
 * polls = 1 + ceil((g − first) / interval), slot time = first + (polls − 1) × interval.
 * The run then takes the longest of: slot-seconds / concurrency (the in-flight cap),
 * requests / rate (the request budget), and the time to submit everything plus one slot
 * time (a run smaller than the cap). Downloads are not counted: they overlap generation.
 */
export function estimateWallTime(byDuration: ReadonlyMap<Duration, number>, limits: PlanLimits): WallTimeEstimate {
  const notes: string[] = [];
  const rpm = Math.min(limits.rpm, DOCUMENTED.rpm);
  const concurrency = Math.min(limits.concurrency, DOCUMENTED.concurrency);
  if (limits.rpm > DOCUMENTED.rpm) notes.push(`--rpm ${limits.rpm} is above the documented ${DOCUMENTED.rpm}: the provider answers 429 beyond it; estimated at ${DOCUMENTED.rpm}`);
  if (limits.concurrency > DOCUMENTED.concurrency) notes.push(`--concurrency ${limits.concurrency} is above the documented ${DOCUMENTED.concurrency}; estimated at ${DOCUMENTED.concurrency}`);
  const rate = rpm / 60;
  const at = (which: 0 | 1): { seconds: number; requests: number; bound: WallTimeEstimate['bound'] } => {
    let n = 0;
    let slotSeconds = 0;
    let requests = 0;
    let longest = 0;
    for (const [duration, count] of byDuration) {
      if (count === 0) continue;
      const g = DOCUMENTED.generation[duration][which];
      const first = (limits.firstPollMs / 1000) * (duration === 10 ? 1.5 : 1);
      const interval = limits.pollIntervalMs / 1000;
      const polls = 1 + Math.max(0, Math.ceil((g - first) / interval));
      const slot = Math.max(g, first + (polls - 1) * interval);
      n += count;
      slotSeconds += count * slot;
      requests += count * (1 + polls);
      longest = Math.max(longest, slot);
    }
    const byCap = slotSeconds / concurrency;
    const byRate = requests / rate;
    const small = n / rate + longest;
    const bound = small >= byCap && small >= byRate ? 'generation' : byRate > byCap ? 'requests' : 'concurrency';
    return { seconds: n === 0 ? 0 : Math.max(byCap, byRate, small), requests: n === 0 ? 0 : requests / n, bound };
  };
  const low = at(0);
  const high = at(1);
  return { low: low.seconds, high: high.seconds, bound: high.bound, rpm, concurrency, requestsPerTask: [low.requests, high.requests], notes };
}

export interface PlanReport extends Omit<ManifestSummary, 'count'> {
  tasks: number;
  byModeDuration: { mode: Mode; duration: Duration; tasks: number }[];
  first: { key: string; mode: Mode; duration: Duration; aspect_ratio?: string; take: number; prompt: string; labels: Record<string, string>; source: string }[];
  estimate: WallTimeEstimate;
}

/** Validate and expand a manifest, and say what a run of it would do. Sends nothing, writes nothing. */
export async function planManifest(file: string, limits: PlanLimits, show = 10): Promise<PlanReport> {
  checkManifestName(file);
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ManifestError([issueAt(file, { line: 0, column: 0 }, '', `cannot read the manifest: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`)]);
  }
  const groups = new Map<string, { mode: Mode; duration: Duration; tasks: number }>();
  const byDuration = new Map<Duration, number>();
  const first: PlanReport['first'] = [];
  const summary = streamManifest(file, bytes, (t: TaskSpec) => {
    const duration = t.input.duration ?? 5;
    const id = `${t.input.mode} ${duration}`;
    const g = groups.get(id) ?? { mode: t.input.mode, duration, tasks: 0 };
    g.tasks++;
    groups.set(id, g);
    byDuration.set(duration, (byDuration.get(duration) ?? 0) + 1);
    if (first.length < show) {
      first.push({
        key: t.key,
        mode: t.input.mode,
        duration,
        ...(t.input.aspect_ratio ? { aspect_ratio: t.input.aspect_ratio } : {}),
        take: t.take,
        prompt: t.input.prompt,
        labels: t.labels,
        source: `${t.source.file}:${t.source.line}`,
      });
    }
  });
  const { count, ...rest } = summary;
  const byModeDuration = [...groups.values()].sort((a, b) => a.mode.localeCompare(b.mode) * -1 || a.duration - b.duration);
  return { ...rest, tasks: count, byModeDuration, first, estimate: estimateWallTime(byDuration, limits) };
}

const n = (x: number): string => x.toLocaleString('en-US');

export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  const h = Math.floor(m / 60);
  return h < 48 ? `${h} h ${String(m % 60).padStart(2, '0')} min` : `${(h / 24).toFixed(1)} days`;
}

const BOUND: Record<WallTimeEstimate['bound'], string> = {
  concurrency: 'the in-flight cap',
  requests: 'the request rate',
  generation: 'the generation time: fewer tasks than the in-flight cap',
};

export function formatPlan(r: PlanReport): string {
  const lines: string[] = [];
  const dup = r.duplicates > 0 ? `${n(r.expanded)} expanded, ${n(r.duplicates)} duplicate(s) removed` : 'no duplicates';
  lines.push(`${r.file}: ${n(r.tasks)} task(s) to make (${dup})${r.name ? `, run name '${r.name}'` : ''}`);
  if (r.sampledFrom !== undefined) lines.push(`sample: drawn from ${n(r.sampledFrom)} variation(s)`);
  lines.push('', '  mode            duration     tasks');
  for (const g of r.byModeDuration) lines.push(`  ${g.mode.padEnd(16)}${`${g.duration} s`.padEnd(9)}${n(g.tasks).padStart(9)}`);
  if (r.first.length > 0) {
    lines.push('', `first ${r.first.length} task(s):`);
    r.first.forEach((t, i) => {
      const prompt = t.prompt.length > 70 ? `${t.prompt.slice(0, 67)}...` : t.prompt;
      const what = `${t.mode} ${t.duration} s${t.aspect_ratio ? ` ${t.aspect_ratio}` : ''}${t.take > 1 ? ` take ${t.take}` : ''}`;
      lines.push(`  ${String(i + 1).padStart(3)}. ${t.key.slice(0, 8)}  ${what}  ${JSON.stringify(prompt.replace(/\s+/g, ' '))}`);
      const labels = Object.entries(t.labels).map(([k, v]) => `${k}=${v.length > 40 ? `${v.slice(0, 37)}...` : v}`);
      lines.push(`       ${labels.length > 0 ? `${labels.join('  ')}  ` : ''}(${t.source})`);
    });
  }
  const e = r.estimate;
  const range = e.low === e.high ? formatDuration(e.high) : `${formatDuration(e.low)} – ${formatDuration(e.high)}`;
  lines.push(
    '',
    `estimated wall time: ${range} at ${n(e.rpm)} requests/min and ${n(e.concurrency)} tasks in flight (bound by ${BOUND[e.bound]})`,
    `  from the documented generation times (5 s video 30–45 s, 10 s video 45–60 s), ${e.requestsPerTask.map((x) => x.toFixed(1)).join('–')} requests a task; downloads overlap`,
    ...e.notes.map((x) => `  note: ${x}`),
    '',
    `nothing was sent and nothing was written; to make them: vidbatch run ${r.file}`,
  );
  return lines.join('\n');
}

export function planCommand(): Command {
  return new Command('plan')
    .description('validate and expand a manifest, show the tasks and what a run would take; sends nothing, writes nothing')
    .argument('<manifest>', 'manifest file (.yaml, .yml, .csv, .tsv or .jsonl)')
    .option('--rpm <n>', 'requests per minute the run would use', positiveInt, DEFAULTS.rpm)
    .option('--concurrency <n>', 'tasks in flight the run would allow', positiveInt, DEFAULTS.concurrency)
    .option('--show <n>', 'how many of the first tasks to list', (v) => (v === '0' ? 0 : positiveInt(v)), 10)
    .option('--json', 'print the plan as JSON')
    .addHelpText('after', `
Examples:
  $ vidbatch plan manifests/variations.yaml
  $ vidbatch plan nightly.yaml --json | jq .tasks
  $ vidbatch plan big.yaml --rpm 5000 --concurrency 500`)
    .action(async (manifest: string, flags: { rpm: number; concurrency: number; show: number; json?: boolean }) => {
      const limits: PlanLimits = { rpm: flags.rpm, concurrency: flags.concurrency, firstPollMs: DEFAULTS.firstPollMs, pollIntervalMs: DEFAULTS.pollIntervalMs };
      const report = await planManifest(manifest, limits, flags.show);
      process.stdout.write((flags.json ? JSON.stringify(report, null, 2) : formatPlan(report)) + '\n');
    });
}
