export { Store, type TransitionFields, type TransitionOptions, type StateCounts, type RunInfo, type PlannedRun } from './store.js';
export type { TaskRow, FailReason } from './rows.js';
export { SCHEMA_VERSION } from './schema.js';
