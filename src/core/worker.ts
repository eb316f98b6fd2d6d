/**
 * Starting one of our worker threads from its module next to the caller. Under tsx
 * (tests, benchmarks) the entry is TypeScript too, and on Node 20 a worker does not
 * inherit the loader that `--import tsx` registered, so it is registered first.
 */
import { Worker } from 'node:worker_threads';

/** `entry` is the module's name without extension, relative to `callerUrl` (import.meta.url). */
export function startWorker(callerUrl: string, entry: string, workerData: unknown): Worker {
  if (callerUrl.endsWith('.ts')) {
    const url = new URL(`${entry}.ts`, callerUrl).href;
    return new Worker(
      `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(url)}); })`,
      { eval: true, workerData },
    );
  }
  return new Worker(new URL(`${entry}.js`, callerUrl), { workerData });
}
