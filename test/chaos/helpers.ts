/** Child `vidbatch` processes, and the end-of-run checks every chaos test shares. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { strict as assert } from 'node:assert';
import type { Store, TaskRow } from '../../src/store/index.js';

export const CLI = resolve('src/cli/main.ts');

export interface Child {
  child: ChildProcess;
  done: Promise<number | null>;
  stdout: () => string;
  stderr: () => string;
}

/** `node --import tsx src/cli/main.ts ARGS` with `env` added to this process's environment. */
export function cli(args: string[], env: Record<string, string | undefined> = {}): Child {
  const fullEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete fullEnv[k];
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { env: fullEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const done = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  return { child, done, stdout: () => out, stderr: () => err };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Resolves once `cond` holds, or once `until` settles (whichever first); false if it never held. */
export async function waitFor(cond: () => boolean, until: Promise<unknown>, ms = 60_000): Promise<boolean> {
  let settled = false;
  void until.then(() => (settled = true));
  const end = Date.now() + ms;
  while (!cond()) {
    if (settled || Date.now() > end) return false;
    await sleep(10);
  }
  return true;
}

/** Every file under `dir`, recursively. */
export function allFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...allFiles(p));
    else out.push(p);
  }
  return out;
}

/**
 * The promises a run keeps on disk: no partial file anywhere; one MP4 and one sidecar per
 * archived task, each MP4's sha256 and size as recorded in the store and the sidecar.
 */
export function assertArchiveIntact(store: Store, run: string, runDir: string): TaskRow[] {
  const files = allFiles(runDir);
  assert.deepEqual(files.filter((f) => f.endsWith('.part')), [], 'no partial files');
  const archived = store.listByState(run, 'archived');
  assert.equal(files.filter((f) => f.endsWith('.mp4')).length, archived.length, 'one MP4 per archived task, no other');
  for (const r of archived) {
    const mp4 = join(runDir, r.file!);
    const bytes = readFileSync(mp4);
    assert.equal(createHash('sha256').update(bytes).digest('hex'), r.sha256, `${r.file}: sha256`);
    assert.equal(statSync(mp4).size, r.bytes);
    const sidecar = JSON.parse(readFileSync(mp4.replace(/\.mp4$/, '.json'), 'utf8')) as { sha256: string; taskId: string; media: { durationSec: number } };
    assert.equal(sidecar.sha256, r.sha256);
    assert.equal(sidecar.taskId, r.taskId);
    assert.equal(Math.round(sidecar.media.durationSec), r.input.duration);
  }
  return archived;
}
