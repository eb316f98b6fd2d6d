import type { ProgressSnapshot } from './progressModel.js';

/** `42 s`, `3 min 05 s`, `2 h 07 min`, `3 d 4 h`; `—` when unknown. */
export function formatDuration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '—';
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${String(m % 60).padStart(2, '0')} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

export function formatRate(perMinute: number): string {
  if (perMinute === 0) return '— /min';
  return perMinute >= 10 ? `${Math.round(perMinute)}/min` : `${perMinute.toFixed(1)}/min`;
}

/** The per-state counters, in lifecycle order, zeros included for the states that matter. */
export function formatCounters(p: ProgressSnapshot): string {
  const c = p.counts;
  const parts = [
    `archived ${c.archived}`,
    `failed ${c.failed}`,
    `in_doubt ${c.in_doubt}`,
    `in flight ${p.inFlight}`,
    `downloading ${c.succeeded}`,
    `planned ${c.planned}`,
  ];
  if (p.rateLimited > 0) parts.push(`429s ${p.rateLimited}`);
  if (p.retries > 0) parts.push(`retries ${p.retries}`);
  return parts.join(' · ');
}

/** One line for logs and cron mail: `[12:03:04] run 'x': 340/1000 done (34%) · … · 25/min · ETA 4 min`. */
export function formatSummaryLine(p: ProgressSnapshot, now: Date): string {
  const pct = p.total === 0 ? 100 : Math.floor((p.done / p.total) * 100);
  const clock = now.toTimeString().slice(0, 8);
  return `[${clock}] run '${p.run}': ${p.done}/${p.total} done (${pct}%) · ${formatCounters(p)} · ${formatRate(p.perMinute)} · ETA ${formatDuration(p.etaMs)}`;
}
