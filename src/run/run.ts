import { existsSync } from 'node:fs';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { ApixoClient } from '../api/index.js';
import { UsageError } from '../core/errors.js';
import type { StateCounts } from '../store/index.js';
import { planRun } from './plan.js';
import { createDownloadAgent } from '../fetch/download.js';
import { rewriteResults } from '../fetch/archive.js';
import { openRunLog } from '../log/runLog.js';
import { GALLERY_FILE, writeGallery } from '../report/gallery.js';
import { startCallbackReceiver, type CallbackReceiver } from '../callback/receiver.js';
import { callbackSecret, redactSecret, withSecret } from '../callback/secret.js';
import type { RunOutcome } from './events.js';
import { RunLoop } from './loop.js';
import { resolveRunOptions, type ResolvedRunOptions, type RunOptions } from './options.js';

export interface RunResult {
  run: string;
  outcome: RunOutcome;
  counts: StateCounts;
  /** Where the videos, sidecars and results.jsonl are. */
  dir: string;
  db: string;
  results: string;
  /** The gallery, `<dir>/index.html`; undefined if it could not be written (the reason is in run.log). */
  gallery: string | undefined;
  /** The JSON-lines log of the run, `<dir>/run.log`. */
  log: string;
}

export { runNameFrom } from './runName.js';

/**
 * Make every video of a manifest, or continue a run that was interrupted: tasks already
 * stored keep their state, and nothing done is redone.
 */
export async function run(options: RunOptions): Promise<RunResult> {
  const o = resolveRunOptions(options);
  // A broken manifest stops in here, with nothing written or sent. Afterwards the run
  // exists, holds its tasks and is locked by this process.
  const plan = await planRun(o.manifest, o.db, { ...(o.run !== undefined ? { run: o.run } : {}), now: o.now });
  const { name, store } = plan;
  const dir = join(o.out, name);
  let log: ReturnType<typeof openRunLog>;
  try {
    log = openRunLog(dir, { run: name, secrets: [o.apiKey] });
  } catch (e) {
    store.releaseRunLock(name);
    store.close();
    throw e;
  }
  o.onEvent = log.wrap(o.onEvent); // every event also goes to <dir>/run.log
  const client = new ApixoClient({ baseUrl: o.baseUrl, apiKey: o.apiKey });
  const downloadAgent = createDownloadAgent();
  const started = o.now();
  let archivedNow = 0;
  let transitionsNow = 0;
  const listener = o.onEvent;
  o.onEvent = (e) => {
    if (e.type === 'archived') archivedNow++;
    if (e.type === 'transition') transitionsNow++;
    listener(e);
  };
  let locked = true;
  let receiver: CallbackReceiver | undefined;
  const { added, existing, notInManifest } = plan;
  try {
    const recoveredInDoubt = store.recoverInterrupted(name);
    o.onEvent({
      type: 'run-start', run: name, db: o.db, out: dir, manifest: o.manifest,
      total: plan.manifest.count, added, existing, notInManifest,
      manifestChanged: plan.manifestChanged, recoveredInDoubt, counts: store.counts(name),
    });
    let loop: RunLoop | undefined;
    const callbacks = await startCallbacks(o, name, (taskId) => loop?.hint(taskId));
    receiver = callbacks?.receiver;
    loop = new RunLoop({ options: o, run: name, store, client, downloadAgent, callbackUrl: callbacks?.url });
    const outcome = await loop.execute().finally(() => receiver?.close());
    const counts = store.counts(name);
    // A re-run that archived nothing keeps a results.jsonl that is already right: reading
    // and rewriting 100,000 rows would take seconds to decide that nothing was to be done.
    const resultsFile = join(dir, 'results.jsonl');
    const results = archivedNow === 0 && (await linesIfComplete(resultsFile)) === counts.archived ? resultsFile : await rewriteResults(dir, store.iterateTasks(name, 'archived'));
    o.onEvent({ type: 'run-end', run: name, counts, outcome, elapsedMs: o.now() - started });
    // Likewise a gallery of a run in which nothing moved is already right.
    const galleryFile = join(dir, GALLERY_FILE);
    const gallery =
      transitionsNow === 0 && added === 0 && existsSync(galleryFile)
        ? galleryFile
        : // Streamed from the store, a card at a time: a 100,000-task run ends at about the memory it ran in.
          await writeGallery(dir, name, () => store.iterateTasks(name)).then((g) => g.file, (e: unknown) => void log.error(e, 'the gallery could not be written'));
    return { run: name, outcome, counts, dir, db: o.db, results, gallery, log: log.file };
  } catch (err) {
    log.error(err, 'the run stopped on an error');
    throw err;
  } finally {
    if (locked) store.releaseRunLock(name);
    store.close();
    await Promise.allSettled([client.close(), downloadAgent.close(), log.close(), receiver?.close()]);
  }
}

/**
 * Callback mode: the URL given to the provider (the public URL plus the run's secret
 * path segment) and, when told where to listen, the built-in receiver whose hints the
 * loop verifies.
 */
async function startCallbacks(
  o: ResolvedRunOptions,
  run: string,
  onHint: (taskId: string) => void,
): Promise<{ url: string; receiver: CallbackReceiver | undefined } | undefined> {
  if (o.requestType !== 'callback' || !o.callbackUrl) return undefined;
  const secret = callbackSecret(o.apiKey, run);
  let url = withSecret(o.callbackUrl, secret);
  if (!o.listen) return { url, receiver: undefined };
  const { host, port } = o.listen;
  let receiver: CallbackReceiver;
  try {
    receiver = await startCallbackReceiver({ host, port, secret, onHint, onRejected: (reason) => o.onEvent({ type: 'callback-rejected', reason }) });
  } catch (err) {
    throw new UsageError(`the callback receiver cannot listen on ${host}:${port} (${(err as Error).message}); pass --listen HOST:PORT, where the callback URL is forwarded to`);
  }
  // Port 0 in both the URL and --listen (tests, the bench): the URL gets the port picked.
  const u = new URL(url);
  if (u.port === '0' && port === 0) {
    u.port = new URL(receiver.origin).port;
    url = u.toString();
  }
  o.onEvent({ type: 'callback-listening', listen: receiver.origin, callbackUrl: redactSecret(url, secret) });
  return { url, receiver };
}

/**
 * The number of lines of a file that ends with a newline, or -1 (missing, or a last line
 * cut off by a crash). A crash between appending a line and recording the task archived
 * leaves one line too many, never one too few, so an equal count means nothing to repair.
 */
async function linesIfComplete(file: string): Promise<number> {
  let lines = 0;
  let last = -1;
  try {
    for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
      if (chunk.length > 0) last = chunk[chunk.length - 1] as number;
    }
  } catch {
    return -1;
  }
  return last === -1 || last === 10 ? lines : -1;
}
