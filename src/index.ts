/**
 * The library API: the CLI is a thin layer over these.
 *
 *   import { plan, run, createRunUi } from 'vidbatch';
 *   const result = await run({ manifest: 'nightly.yaml', baseUrl, apiKey, onEvent: (e) => console.log(e.type) });
 *   // result.outcome, result.counts, result.dir, result.gallery, result.log
 *
 *   const p = await plan('nightly.yaml', { rpm: 9500, concurrency: 980, firstPollMs: 30_000, pollIntervalMs: 5000 });
 *   // p.tasks, p.byModeDuration, p.estimate — validated and expanded; nothing sent, nothing written
 */
export { run, runNameFrom, type RunResult } from './run/run.js';
// `vidbatch plan` as a function (owned by the manifest language: src/cli/commands/plan.ts).
export { planManifest as plan, type PlanReport, type PlanLimits } from './cli/commands/plan.js';
export { DEFAULTS, type RunOptions } from './run/options.js';
export type { RunEvent, RunOutcome, RunEventListener, StopReason } from './run/events.js';
export { readManifest, parseManifest, streamManifest, taskKey, type Manifest } from './manifest/index.js';
export { ApixoClient, resolveApiConfig, type ApixoClientOptions } from './api/index.js';
export { startSimulator, type Simulator, type SimulatorOptions, type SimulatorStats } from './sim/index.js';
export { Store, type TaskRow, type StateCounts, type RunInfo } from './store/index.js';
export { TASK_STATES, TRANSITIONS, type TaskState } from './core/lifecycle.js';
export { EXIT, type ExitCode } from './core/exitCodes.js';
export { redact } from './core/redact.js';
export * from './core/errors.js';
export * from './core/types.js';

// The user's surface: where a run stands, its gallery, its exports, its log, its progress display.
export { statusReport, formatStatus, type StatusReport, type StatusOptions } from './cli/commands/status.js';
export {
  writeGallery,
  buildGallery,
  renderGalleryHtml,
  formatExport,
  exportLines,
  toCsv,
  toJsonl,
  exportRecord,
  EXPORT_FORMATS,
  type GalleryOptions,
  type GalleryResult,
  type GalleryData,
  type GalleryItem,
  type GalleryDimension,
  type ExportFormat,
  type ExportRecord,
} from './report/index.js';
export { openRunLog, RUN_LOG_FILE, type RunLog } from './log/runLog.js';
export { createRunUi, chooseUiMode, ProgressModel, type RunUi, type RunUiOptions, type UiMode, type ProgressSnapshot } from './cli/ui/index.js';
