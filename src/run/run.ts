import { basename, extname, join } from 'node:path';
import { ApixoClient } from '../api/index.js';
import { UsageError } from '../core/errors.js';
import { readManifest } from '../manifest/index.js';
import { Store, type StateCounts } from '../store/index.js';
import { createDownloadAgent } from '../fetch/download.js';
import { rewriteResults } from '../fetch/archive.js';
import type { RunOutcome } from './events.js';
import { RunLoop } from './loop.js';
import { resolveRunOptions, type RunOptions } from './options.js';

export interface RunResult {
  run: string;
  outcome: RunOutcome;
  counts: StateCounts;
  /** Where the videos, sidecars and results.jsonl are. */
  dir: string;
  db: string;
  results: string;
}

/** Run names become folder names: keep them portable and inside the output folder. */
export function runNameFrom(name: string): string {
  const clean = name.normalize('NFKD').replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[.-]+|[.-]+$/g, '').slice(0, 80);
  if (!clean) throw new UsageError(`run name '${name}' has no letters or digits left once made safe for a folder name; pass --run NAME`);
  return clean;
}

/**
 * Make every video of a manifest, or continue a run that was interrupted: tasks already
 * stored keep their state, and nothing done is redone.
 */
export async function run(options: RunOptions): Promise<RunResult> {
  const o = resolveRunOptions(options);
  const manifest = await readManifest(o.manifest); // a broken manifest stops here, before anything is written or sent
  const name = runNameFrom(o.run ?? manifest.name ?? basename(o.manifest, extname(o.manifest)));
  const dir = join(o.out, name);
  const store = Store.open(o.db, { now: o.now });
  const client = new ApixoClient({ baseUrl: o.baseUrl, apiKey: o.apiKey });
  const downloadAgent = createDownloadAgent();
  const started = o.now();
  let locked = false;
  try {
    const runInfo = store.ensureRun(name, o.manifest, manifest.hash);
    store.acquireRunLock(name);
    locked = true;
    const recoveredInDoubt = store.recoverInterrupted(name);
    const { added, existing } = store.addTasks(name, manifest.tasks);
    const notInManifest = store.countNotIn(name, new Set(manifest.tasks.map((t) => t.key)));
    o.onEvent({
      type: 'run-start', run: name, db: o.db, out: dir, manifest: o.manifest,
      total: manifest.tasks.length, added, existing, notInManifest,
      manifestChanged: runInfo.manifestChanged, recoveredInDoubt, counts: store.counts(name),
    });
    const outcome = await new RunLoop({ options: o, run: name, store, client, downloadAgent }).execute();
    const results = await rewriteResults(dir, store.listTasks(name));
    const counts = store.counts(name);
    o.onEvent({ type: 'run-end', run: name, counts, outcome, elapsedMs: o.now() - started });
    return { run: name, outcome, counts, dir, db: o.db, results };
  } finally {
    if (locked) store.releaseRunLock(name);
    store.close();
    await Promise.allSettled([client.close(), downloadAgent.close()]);
  }
}
