/**
 * `npm run bench:plan`: plan a generated 1,000,000-row CSV, crossed with a small vars
 * product, into SQLite; print wall time and peak RSS.
 *
 *   npm run bench:plan                          1,000,000 rows × duration [5, 10] = 2,000,000 tasks
 *   npm run bench:plan -- --rows 200000 --product 1
 *
 * Each phase runs in a child process of its own, so that its peak RSS is its own:
 *   expand   the manifest stage alone, on one thread: read, expand, validate, hash, dedupe
 *   sqlite   planning a run as `vidbatch run` does (src/run/plan.ts): the manifest stage on
 *            a worker thread streaming into a fresh SQLite file, one transaction
 * The sheet, manifest and database go to a temporary folder, removed at the end.
 */
import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

interface Result {
  phase: string;
  tasks: number;
  duplicates: number;
  ms: number;
  maxRssMiB: number;
  cpuS: number;
  /** After the plan is committed: its WAL copied into the database file, on a thread of its own. */
  checkpointMs?: number;
  dbMiB?: number;
}

const SCENES = ['a fishing harbour', 'a neon-lit alley', 'a pine forest', 'a desert highway', 'a rooftop garden', 'a snowy pass', 'a night market'];
const CAMERAS = ['slow dolly in', 'aerial orbit', 'handheld follow', 'locked-off wide', 'crane up'];
const LIGHT = ['at dawn', 'at golden hour', 'under heavy rain', 'at blue hour', 'in thick fog'];

async function generate(dir: string, rows: number, product: number): Promise<string> {
  const csv = join(dir, 'sheet.csv');
  const out = createWriteStream(csv);
  out.write('prompt,scene,camera\n');
  let chunk = '';
  for (let i = 0; i < rows; i++) {
    const scene = SCENES[i % SCENES.length]!;
    const camera = CAMERAS[(i >> 3) % CAMERAS.length]!;
    // Quoted, with a comma inside: the common shape of a real prompt sheet.
    chunk += `"Shot ${i}: ${scene} ${LIGHT[i % LIGHT.length]}, ${camera}, cinematic",${scene},${camera}\n`;
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'finish');
  const durations = product >= 2 ? '\nvars:\n  duration: [5, 10]\n' : '\n';
  const manifest = join(dir, 'bench.yaml');
  const yaml = `name: bench-plan\nmax_tasks: ${rows * Math.max(1, product) + 1}${durations}sheets:\n  - file: sheet.csv\n    negative_prompt: blurry, watermark\n`;
  writeFileSync(manifest, yaml);
  return manifest;
}

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} expects a whole number from 1, got ${process.argv[i + 1]}`);
  return v;
}

async function main(): Promise<void> {
  const rows = flag('rows', 1_000_000);
  const product = flag('product', 2);
  const dir = mkdtempSync(join(tmpdir(), 'vidbatch-bench-plan-'));
  try {
    const t = performance.now();
    const manifest = await generate(dir, rows, product);
    const size = statSync(join(dir, 'sheet.csv')).size / 1048576;
    console.log(`generated ${rows.toLocaleString('en-US')} rows (${size.toFixed(0)} MiB) × ${product} in ${((performance.now() - t) / 1000).toFixed(1)} s: ${dir}`);
    for (const phase of ['expand', 'sqlite']) {
      // The built code (dist/, what the `vidbatch` command runs) in a plain node: the
      // TypeScript loader would add its own memory to the peak RSS measured.
      const out = execFileSync(process.execPath, [fileURLToPath(new URL('./planChild.mjs', import.meta.url)), phase, manifest, join(dir, 'bench.db')], { encoding: 'utf8', maxBuffer: 1 << 20 });
      const r = JSON.parse(out.trim().split('\n').pop()!) as Result;
      const rate = Math.round(r.tasks / (r.ms / 1000)).toLocaleString('en-US');
      const db = r.dbMiB === undefined ? '' : `, database ${r.dbMiB.toFixed(0)} MiB`;
      const ck = r.checkpointMs === undefined ? '' : ` (then ${(r.checkpointMs / 1000).toFixed(2)} s of checkpoint in the background)`;
      console.log(`${phase.padEnd(7)} ${r.tasks.toLocaleString('en-US')} tasks (${r.duplicates} duplicates): wall ${(r.ms / 1000).toFixed(2)} s (${rate} tasks/s), CPU ${r.cpuS.toFixed(1)} s, peak RSS ${r.maxRssMiB.toFixed(0)} MiB${db}${ck}`);
    }
    console.log('targets on the 2-core machine: ≤ 10 s and ≤ 300 MB for the sqlite phase');
  } finally {
    if (!process.argv.includes('--keep')) rmSync(dir, { recursive: true, force: true });
  }
}

await main();
