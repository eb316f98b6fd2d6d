/**
 * The library API: the CLI is a thin layer over these.
 *
 *   import { run } from 'vidbatch';
 *   const result = await run({ manifest: 'nightly.yaml', baseUrl, apiKey, onEvent: console.log });
 */
export { run, runNameFrom, type RunResult } from './run/run.js';
export { DEFAULTS, type RunOptions } from './run/options.js';
export type { RunEvent, RunOutcome, RunEventListener, StopReason } from './run/events.js';
export { readManifest, parseManifest, taskKey, type Manifest } from './manifest/index.js';
export { ApixoClient, resolveApiConfig, type ApixoClientOptions } from './api/index.js';
export { startSimulator, type Simulator, type SimulatorOptions, type SimulatorStats } from './sim/index.js';
export { Store, type TaskRow, type StateCounts } from './store/index.js';
export { TASK_STATES, TRANSITIONS, type TaskState } from './core/lifecycle.js';
export { EXIT, type ExitCode } from './core/exitCodes.js';
export * from './core/errors.js';
export * from './core/types.js';
