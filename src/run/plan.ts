/**
 * Planning a run: the manifest stage, on its own thread, streams its tasks into the
 * store, which creates the run, takes its lock and stores them in one transaction. The
 * same path serves a 7-task example and a 2,000,000-task sheet (bench/plan.ts measures
 * it), so memory stays flat whatever the manifest's size.
 *
 * A manifest that is broken writes nothing: errors found before its first task (a bad
 * YAML key, an unreadable sheet) come before the database is even opened, and errors
 * found further on (a bad row deep in a sheet) roll the transaction back and remove a
 * database file and folder that planning had just created.
 */
import { mkdirSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, extname } from 'node:path';
import { ManifestError } from '../core/errors.js';
import type { ManifestSummary } from '../manifest/index.js';
import { ManifestWorker } from '../manifest/worker.js';
import { Store, type PlannedRun } from '../store/index.js';
import { runNameFrom } from './runName.js';

export interface PlanOutcome extends PlannedRun {
  /** The run's name: `run` if given, else the manifest's `name`, else its file name. */
  name: string;
  store: Store;
  manifest: ManifestSummary;
}

/**
 * Plan `manifestFile` into the database at `db` (opened here and handed back, with the
 * run's lock held: the caller releases it and closes the store).
 */
export interface PlanOptions {
  /** The run's name, instead of the manifest's. */
  run?: string;
  now?: () => number;
  /** Tasks after which a new run is bulk-loaded (Store.planRun); for tests. */
  bulkLoadFrom?: number;
}

export async function planRun(manifestFile: string, db: string, options: PlanOptions = {}): Promise<PlanOutcome> {
  const worker = new ManifestWorker(manifestFile);
  try {
    // Resolves with the first tasks (or the summary of a manifest with none): nothing is
    // written for a manifest that fails before that.
    const yamlName = await worker.name;
    const name = runNameFrom(options.run ?? yamlName ?? basename(manifestFile, extname(manifestFile)));
    const createdDir = db === ':memory:' ? undefined : mkdirSync(dirname(db), { recursive: true });
    const createdDb = db !== ':memory:' && statSync(db, { throwIfNoEntry: false }) === undefined;
    const store = Store.open(db, options.now ? { now: options.now } : {});
    let manifest: ManifestSummary | undefined;
    try {
      const planned = await store.planRun(name, manifestFile, async (add) => {
        manifest = await worker.drain(add);
        return { hash: manifest.hash };
      }, options.bulkLoadFrom === undefined ? {} : { bulkLoadFrom: options.bulkLoadFrom });
      return { name, store, manifest: manifest!, ...planned };
    } catch (e) {
      store.close();
      if (e instanceof ManifestError && createdDb) {
        for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(db + suffix, { force: true });
        if (createdDir) removeEmptyDirs(createdDir, dirname(db));
      }
      throw e;
    }
  } finally {
    await worker.terminate();
  }
}

/** Remove `dir` and its parents up to `top` (the folders mkdir created), if empty. */
function removeEmptyDirs(top: string, dir: string): void {
  for (let d = dir; ; d = dirname(d)) {
    try {
      rmdirSync(d);
    } catch {
      return; // not empty: something else lives there now
    }
    if (d === top || dirname(d) === d) return;
  }
}
