import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';

/** Posters go to `<run dir>/posters/`, named after their video. */
export const POSTER_DIR = 'posters';

/** How long a gallery spends making posters unless told otherwise: the rest are made next time. */
export const DEFAULT_POSTER_BUDGET_MS = 10_000;

export interface PosterOptions {
  /** The ffmpeg binary. @default 'ffmpeg' (from PATH) */
  ffmpeg?: string;
  /** Stop starting new posters after this long; the rest are made next time. @default DEFAULT_POSTER_BUDGET_MS (10 s) */
  budgetMs?: number;
  /** Parallel ffmpeg processes. @default the number of CPUs, at most 8 */
  concurrency?: number;
}

function runFfmpeg(bin: string, args: readonly string[], timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    let child;
    try {
      child = spawn(bin, args, { stdio: 'ignore' });
    } catch {
      resolve(false);
      return;
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', () => {
      clearTimeout(timer);
      resolve(false);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code === 0);
    });
  });
}

/** Whether `ffmpeg -version` runs: posters are optional, the gallery works without them. */
export async function hasFfmpeg(bin = 'ffmpeg'): Promise<boolean> {
  return runFfmpeg(bin, ['-version'], 5000);
}

/** Where the poster of a video goes, relative to the run's folder. */
export function posterFile(video: string): string {
  return `${POSTER_DIR}/${video.replace(/\.mp4$/i, '')}.jpg`;
}

/**
 * A video of the run's folder as the gallery links it: whether it is there, and its poster
 * relative to `dir` if one exists that is not older than the video. Two stat calls.
 */
export function videoOnDisk(dir: string, video: string): { present: boolean; poster: string | null; stale: boolean } {
  const v = statSync(join(dir, video), { throwIfNoEntry: false });
  if (!v) return { present: false, poster: null, stale: false };
  const rel = posterFile(video);
  const p = statSync(join(dir, rel), { throwIfNoEntry: false });
  return p && p.mtimeMs >= v.mtimeMs ? { present: true, poster: rel, stale: false } : { present: true, poster: null, stale: true };
}

/**
 * One JPEG frame per video (half a second in, 480 px wide), made only when missing or
 * older than its video. Returns the posters that exist, by task key, relative to `dir`.
 */
export async function makePosters(dir: string, videos: readonly { key: string; file: string }[], options: PosterOptions = {}): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const bin = options.ffmpeg ?? 'ffmpeg';
  const todo: { key: string; video: string; poster: string; rel: string }[] = [];
  for (const v of videos) {
    const found = videoOnDisk(dir, v.file);
    if (!found.present) continue;
    const rel = posterFile(v.file);
    if (found.poster !== null) out.set(v.key, rel);
    else todo.push({ key: v.key, video: join(dir, v.file), poster: join(dir, rel), rel });
  }
  if (todo.length === 0 || !(await hasFfmpeg(bin))) return out;
  mkdirSync(join(dir, POSTER_DIR), { recursive: true });
  const deadline = Date.now() + (options.budgetMs ?? DEFAULT_POSTER_BUDGET_MS);
  const workers = Math.max(1, Math.min(options.concurrency ?? Math.min(8, availableParallelism()), todo.length));
  let next = 0;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (next < todo.length && Date.now() < deadline) {
        const t = todo[next++]!;
        const part = `${t.poster}.part.jpg`;
        const ok = await runFfmpeg(
          bin,
          ['-nostdin', '-v', 'error', '-y', '-ss', '0.5', '-i', t.video, '-frames:v', '1', '-vf', 'scale=480:-2', '-q:v', '5', part],
          20_000,
        );
        if (ok && existsSync(part)) {
          renameSync(part, t.poster);
          out.set(t.key, t.rel);
        } else {
          rmSync(part, { force: true });
        }
      }
    }),
  );
  return out;
}
