/**
 * The manifest stage in a worker thread (see worker.ts): reads the manifest, streams its
 * tasks to the parent as batches of flat records, then its summary — or its error.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { TaskRecordBatch } from '../core/taskRecord.js';
import { readManifestBytes, streamManifest } from './index.js';
import { BATCH_TASKS, FLOW_CONSUMED, FLOW_POSTED, MAX_BATCHES_AHEAD, serializeError, type WorkerData, type WorkerMessage } from './workerProtocol.js';

const data = workerData as WorkerData;
const port = parentPort!;
const flow = new Int32Array(data.flow);
const post = (m: WorkerMessage) => port.postMessage(m);

const batch = new TaskRecordBatch();

function flush(): void {
  if (batch.size === 0) return;
  // Wait while the parent is behind: memory stays flat whatever the sheet's size.
  for (;;) {
    const consumed = Atomics.load(flow, FLOW_CONSUMED);
    if (Atomics.load(flow, FLOW_POSTED) - consumed < MAX_BATCHES_AHEAD) break;
    Atomics.wait(flow, FLOW_CONSUMED, consumed, 1000);
  }
  post({ type: 'records', joined: batch.take() });
  Atomics.add(flow, FLOW_POSTED, 1);
}

try {
  const bytes = readManifestBytes(data.file);
  const summary = streamManifest(
    data.file,
    bytes,
    (t, inputJson, labelsJson) => {
      batch.add(t, inputJson, labelsJson);
      if (batch.size >= BATCH_TASKS) flush();
    },
    { maxIssues: data.maxIssues, onName: (name) => post({ type: 'name', name }), dedupe: false },
  );
  flush();
  post({ type: 'done', summary });
} catch (e) {
  post({ type: 'error', error: serializeError(e) });
}
