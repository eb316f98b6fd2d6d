// One phase of `npm run bench:plan` (see plan.ts), on the built code in a plain node, so
// that its wall time, CPU time and peak RSS are those of the `vidbatch` command.
//   node bench/planChild.mjs expand|sqlite MANIFEST DB   → one JSON line on stdout
import { readFileSync, statSync } from 'node:fs';
import { streamManifest } from '../dist/manifest/index.js';
import { planRun } from '../dist/run/plan.js';

const [phase, manifest, db] = process.argv.slice(2);
const started = performance.now();
let tasks = 0;
let duplicates = 0;
let planned;
if (phase === 'expand') {
  // The manifest stage alone, on this thread: read, expand, validate, hash, dedupe.
  ({ count: tasks, duplicates } = streamManifest(manifest, readFileSync(manifest), () => {}));
} else {
  // Exactly what `vidbatch run` does before its first request.
  const plan = await planRun(manifest, db);
  planned = performance.now();
  await plan.store.backgroundCheckpoint;
  plan.store.releaseRunLock(plan.name);
  plan.store.close();
  tasks = plan.added;
  duplicates = plan.manifest.duplicates;
}
const ms = (planned ?? performance.now()) - started;
const usage = process.resourceUsage();
const result = { phase, tasks, duplicates, ms, maxRssMiB: usage.maxRSS / 1024, cpuS: (usage.userCPUTime + usage.systemCPUTime) / 1e6 };
if (planned !== undefined) result.checkpointMs = performance.now() - planned;
if (phase === 'sqlite') result.dbMiB = (statSync(db).size + (statSync(`${db}-wal`, { throwIfNoEntry: false })?.size ?? 0)) / 1048576;
process.stdout.write(JSON.stringify(result) + '\n');
