/**
 * A checkpoint on a thread of its own (see Store.planRun): copies the WAL of a large
 * plan into the database file while the run goes on. PASSIVE never blocks the writer;
 * interrupted, it is simply resumed by the next checkpoint.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

const { file } = workerData as { file: string };
const db = new Database(file);
try {
  db.pragma('busy_timeout = 5000');
  const [r] = db.pragma('wal_checkpoint(PASSIVE)') as { busy: number; log: number; checkpointed: number }[];
  parentPort!.postMessage({ ok: true, log: r?.log ?? 0, checkpointed: r?.checkpointed ?? 0 });
} catch (e) {
  parentPort!.postMessage({ ok: false, message: e instanceof Error ? e.message : String(e) });
} finally {
  db.close();
}
