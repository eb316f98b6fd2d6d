import { mkdir, open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { writeDurable } from './disk.js';
import type { TaskRow } from '../store/index.js';
import type { DownloadedFile } from './download.js';

/** What is written beside each MP4 and appended to results.jsonl. */
export interface Sidecar {
  run: string;
  key: string;
  taskId: string;
  model: string;
  provider: string;
  /** Exactly the `input` object that was POSTed. */
  input: TaskRow['input'];
  take: number;
  source: TaskRow['source'];
  labels: Record<string, string>;
  file: string;
  sourceUrl: string;
  sha256: string;
  bytes: number;
  createTime: number | null;
  completeTime: number | null;
  costTime: number | null;
  media: DownloadedFile['media'];
  archivedAt: string;
}

/**
 * A portable file name: ASCII letters, digits and dashes only, short enough for every
 * file system, unique by the task key. Nothing taken from a prompt can leave the folder.
 */
export function videoFileName(task: Pick<TaskRow, 'seq' | 'key' | 'input' | 'take'>): string {
  const slug = task.input.prompt
    .normalize('NFKD')
    .replace(/[^\p{L}\p{N}]+/gu, '-')
    .replace(/[^a-zA-Z0-9-]/g, '')
    .toLowerCase()
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 48)
    .replace(/-$/, '');
  const take = task.take > 1 ? `-take${task.take}` : '';
  return `${String(task.seq).padStart(4, '0')}-${slug || 'video'}${take}-${task.key.slice(0, 8)}.mp4`;
}

export function runDir(out: string, run: string): string {
  return join(out, run);
}

/**
 * Sidecar first (via rename, so it is never half-written: `.part`, fsync, rename), then one
 * line in results.jsonl. The whole of it is one request to a disk worker (see disk.ts), so
 * its fsync never holds a thread the other file operations need.
 */
export async function writeSidecar(dir: string, sidecar: Sidecar): Promise<string> {
  const path = join(dir, sidecar.file.replace(/\.mp4$/, '.json'));
  await writeDurable(path, JSON.stringify(sidecar, null, 2) + '\n', { path: join(dir, 'results.jsonl'), data: JSON.stringify(sidecar) + '\n' });
  return path;
}

/** The sidecar of an archived task, built from its row alone (so results.jsonl can be rebuilt). */
export function sidecarFromRow(row: TaskRow): Sidecar {
  return {
    run: row.run,
    key: row.key,
    taskId: row.taskId ?? '',
    model: row.model,
    provider: row.provider,
    input: row.input,
    take: row.take,
    source: row.source,
    labels: row.labels,
    file: row.file ?? videoFileName(row),
    sourceUrl: row.resultUrls?.[0] ?? '',
    sha256: row.sha256 ?? '',
    bytes: row.bytes ?? 0,
    createTime: row.createTime,
    completeTime: row.completeTime,
    costTime: row.costTime,
    media: row.media as unknown as DownloadedFile['media'],
    archivedAt: new Date(row.updatedAt).toISOString(),
  };
}

/**
 * results.jsonl is appended to as videos arrive (so it can be tailed), and rewritten from
 * the store at the end of every run, so a crash between the two writes leaves neither a
 * missing nor a doubled line for long.
 */
export async function rewriteResults(dir: string, rows: Iterable<TaskRow>): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, 'results.jsonl');
  const tmp = `${path}.part`;
  const fh = await open(tmp, 'w');
  try {
    for (const r of rows) if (r.state === 'archived') await fh.write(JSON.stringify(sidecarFromRow(r)) + '\n');
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  return path;
}
