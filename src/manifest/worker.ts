/**
 * The manifest stage on a thread of its own, so that reading, expanding and hashing a
 * huge sheet runs beside the SQLite inserts instead of before them (on two cores, a
 * 2,000,000-task plan in about half the time). Same tasks, same order, same errors as
 * `streamManifest`; tasks arrive as batches of flat records (core/taskRecord.ts).
 *
 * Repeated tasks are removed here, on the receiving thread, not in the worker: the worker
 * is the busier of the two, and the key set's memory reads are a tenth of its work.
 */
import type { Worker } from 'node:worker_threads';
import { TASK_RECORD_FIELDS, splitTaskRecords } from '../core/taskRecord.js';
import { startWorker } from '../core/worker.js';
import type { ManifestSummary } from './index.js';
import { KeySet } from './keyset.js';
import { deserializeError, FLOW_CONSUMED, type WorkerData, type WorkerMessage } from './workerProtocol.js';

export class ManifestWorker {
  readonly #worker: Worker;
  readonly #flow: Int32Array;
  readonly #pending: string[] = [];
  #onRecords: ((records: string[]) => void) | undefined;
  #settled = false;
  #failed = false;
  #deliveryError: Error | undefined;
  #yamlName: string | undefined;
  #fail: (e: Error) => void = () => {};
  // Room for 2,097,152 keys from the start (48 MB of address space): the pages are zero
  // until touched, so a small manifest costs a few of them, and a large one is spared the
  // copies of growing (each leaving the table before it for the garbage collector: a
  // 2,000,000-task plan peaked 25 MB higher).
  readonly #seen = new KeySet(1 << 21);
  /** Unique tasks delivered. */
  #unique = 0;
  /**
   * The YAML `name` (undefined when it has none), known once the first tasks or the
   * summary arrive; rejects with the manifest's error when it fails before any task.
   */
  readonly name: Promise<string | undefined>;
  readonly #done: Promise<ManifestSummary>;

  /** Start reading `file` at once; tasks wait (a few batches at most) until `drain` is called. */
  constructor(file: string, options: { maxIssues?: number } = {}) {
    const flow = new SharedArrayBuffer(8);
    this.#flow = new Int32Array(flow);
    const data: WorkerData = { file, maxIssues: options.maxIssues, flow };
    this.#worker = startWorker(import.meta.url, './workerEntry', data);
    let nameKnown!: (n: string | undefined) => void;
    let nameFailed!: (e: Error) => void;
    this.name = new Promise((resolve, reject) => ((nameKnown = resolve), (nameFailed = reject)));
    this.name.catch(() => {}); // the same error also rejects `drain`
    this.#done = new Promise<ManifestSummary>((resolve, reject) => {
      const fail = (this.#fail = (e: Error) => {
        if (this.#settled) return;
        this.#settled = true;
        this.#failed = true;
        nameFailed(e);
        reject(e);
        void this.#worker.terminate();
      });
      this.#worker.on('message', (m: WorkerMessage) => {
        if (this.#failed) return;
        if (m.type === 'name') this.#yamlName = m.name;
        else if (m.type === 'records') {
          nameKnown(this.#yamlName);
          if (this.#onRecords) this.#deliver(m.joined);
          else this.#pending.push(m.joined);
        } else if (m.type === 'done') {
          this.#settled = true;
          nameKnown(m.summary.name);
          // The worker counted every task it made; the repeats were dropped here.
          resolve({ ...m.summary, count: this.#unique, duplicates: m.summary.expanded - this.#unique });
        } else fail(deserializeError(m.error));
      });
      this.#worker.on('error', fail);
      this.#worker.on('exit', (code) => fail(new Error(`the manifest worker stopped (exit code ${code}) before it finished`)));
    });
    this.#done.catch(() => {});
  }

  /**
   * Hand every batch to `onRecords` as it comes (those already waiting first); resolves
   * with the summary once all are delivered, or rejects with the manifest's error.
   */
  drain(onRecords: (records: string[]) => void): Promise<ManifestSummary> {
    this.#onRecords = onRecords;
    for (const joined of this.#pending.splice(0)) this.#deliver(joined);
    return this.#done.then((summary) => {
      if (this.#deliveryError) throw this.#deliveryError;
      return summary;
    });
  }

  /** Stop the worker (after an error on the caller's side). */
  async terminate(): Promise<void> {
    this.#settled = true;
    this.#failed = true;
    await this.#worker.terminate();
  }

  /** The records whose key was not seen before, in order (the array itself, shortened when needed). */
  #firstOfEach(r: string[]): string[] {
    let kept = 0;
    for (let i = 0; i + TASK_RECORD_FIELDS <= r.length; i += TASK_RECORD_FIELDS) {
      if (!this.#seen.add(r[i]!)) continue;
      if (kept !== i) for (let f = 0; f < TASK_RECORD_FIELDS; f++) r[kept + f] = r[i + f]!;
      kept += TASK_RECORD_FIELDS;
    }
    this.#unique += kept / TASK_RECORD_FIELDS;
    r.length = kept;
    return r;
  }

  #deliver(joined: string): void {
    if (this.#failed) return;
    try {
      this.#onRecords!(this.#firstOfEach(splitTaskRecords(joined)));
    } catch (e) {
      // The caller could not take them (its database failed): stop, and say why.
      this.#deliveryError ??= e instanceof Error ? e : new Error(String(e));
      this.#failed = true;
      this.#fail(this.#deliveryError);
    } finally {
      Atomics.add(this.#flow, FLOW_CONSUMED, 1);
      Atomics.notify(this.#flow, FLOW_CONSUMED);
    }
  }
}
