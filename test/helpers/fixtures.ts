import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/sim/index.js';
import type { RunOptions } from '../../src/run/options.js';
import type { RunEvent } from '../../src/run/events.js';

export const TEST_KEY = 'sk-test-0123456789abcdef';

/** A simulator on 127.0.0.1:0 with time compressed 200-fold, closed after the test. */
export async function simulator(t: { after: (fn: () => Promise<void>) => void }, opts: SimulatorOptions = {}): Promise<Simulator> {
  const sim = await startSimulator({ timeScale: 0.005, seed: 7, ...opts });
  t.after(() => sim.close());
  return sim;
}

/** A YAML manifest with `n` text-to-video tasks (5 s and 10 s alternating) plus `extra` task lines. */
export function writeManifest(dir: string, n: number, extra: string[] = [], name = 'manifest.yaml'): string {
  const lines = ['name: e2e', 'defaults:', '  aspect_ratio: "16:9"', 'tasks:'];
  for (let i = 0; i < n; i++) lines.push(`  - prompt: "a red fox number ${i} runs through snow"`, `    duration: ${i % 2 === 0 ? 5 : 10}`);
  lines.push(...extra);
  const file = join(dir, name);
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

/** Run options fitted to the compressed simulator: first poll and interval in tens of ms. */
export function runOptions(sim: Simulator, dir: string, manifest: string, events: RunEvent[] = [], extra: Partial<RunOptions> = {}): RunOptions {
  return {
    manifest,
    out: join(dir, 'out'),
    baseUrl: sim.url,
    apiKey: TEST_KEY,
    firstPollMs: 150,
    pollIntervalMs: 25,
    retryBaseMs: 20,
    onEvent: (e) => events.push(e),
    ...extra,
  };
}

/** How many tasks the simulator created per distinct input: every value must be 1. */
export function submissionsPerInput(sim: Simulator): number[] {
  return [...sim.stats().submissionsByInput.values()];
}
