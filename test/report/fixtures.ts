import { createHash } from 'node:crypto';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TaskState } from '../../src/core/lifecycle.js';
import type { TaskSpec, VideoInput } from '../../src/core/types.js';
import { videoFileName } from '../../src/fetch/archive.js';
import { synthesizeMp4, withTrailer } from '../../src/sim/video/synthesize.js';
import { Store } from '../../src/store/index.js';

export interface FixtureTask {
  prompt?: string;
  input?: Partial<VideoInput>;
  labels?: Record<string, string>;
  take?: number;
  /** Where the task ends up. @default 'archived' */
  end?: Extract<TaskState, 'planned' | 'in_doubt' | 'submitted' | 'succeeded' | 'archived' | 'failed'>;
  failCode?: string;
  failMsg?: string;
  /** Do not write the MP4 of an archived task (a file the user deleted). */
  noFile?: boolean;
}

export interface FixtureRun {
  out: string;
  db: string;
  run: string;
  dir: string;
}

export function fixtureSpec(i: number, t: FixtureTask): TaskSpec {
  const input: VideoInput = { mode: 'text-to-video', prompt: t.prompt ?? `a lighthouse at night, shot ${i}`, duration: 5, aspect_ratio: '16:9', ...t.input };
  return {
    key: createHash('sha256').update(JSON.stringify([i, input, t.labels ?? {}, t.take ?? 1])).digest('hex').slice(0, 24),
    model: 'kling-2-5-turbo-pro',
    provider: 'auto',
    input,
    take: t.take ?? 1,
    source: { file: 'grid.yaml', line: 10 + i },
    labels: t.labels ?? {},
  };
}

/**
 * A run as the run loop leaves it: a real SQLite checkpoint whose tasks went through the
 * real lifecycle transitions, and real playable MP4 files (2 s, made by the simulator's
 * encoder) for the archived ones.
 */
export function buildRun(root: string, tasks: readonly FixtureTask[], options: { run?: string; now?: () => number } = {}): FixtureRun {
  const out = join(root, 'out');
  const run = options.run ?? 'grid';
  const dir = join(out, run);
  mkdirSync(dir, { recursive: true });
  const db = join(out, 'vidbatch.db');
  const store = Store.open(db, options.now ? { now: options.now } : {});
  try {
    store.ensureRun(run, 'grid.yaml', 'hash');
    const specs = tasks.map((t, i) => fixtureSpec(i, t));
    store.addTasks(run, specs);
    tasks.forEach((t, i) => {
      const s = specs[i]!;
      const end = t.end ?? 'archived';
      if (end === 'planned') return;
      store.transition(run, s.key, 'planned', 'submitting', {}, { countSubmit: true });
      if (end === 'in_doubt') {
        store.transition(run, s.key, 'submitting', 'in_doubt', {}, { detail: 'socket reset after the body was sent' });
        return;
      }
      const taskId = `task_${s.key.slice(0, 16)}`;
      const at = (options.now ?? Date.now)();
      store.transition(run, s.key, 'submitting', 'submitted', { task_id: taskId, submitted_at: at });
      if (end === 'submitted') return;
      if (end === 'failed') {
        store.transition(run, s.key, 'submitted', 'failed', { fail_reason: 'provider', fail_code: t.failCode ?? 'CONTENT_VIOLATION', fail_msg: t.failMsg ?? 'Content does not meet safety guidelines' });
        return;
      }
      store.transition(run, s.key, 'submitted', 'succeeded', {
        result_urls_json: JSON.stringify([`https://r2.example/${taskId}.mp4`]),
        complete_time: at,
        expires_at: at + 15 * 24 * 3600 * 1000,
      });
      if (end === 'succeeded') return;
      const row = store.getTask(run, s.key)!;
      const file = videoFileName(row);
      const bytes = withTrailer(synthesizeMp4({ durationSec: 2, aspectRatio: s.input.aspect_ratio ?? '16:9', variant: i }), s.key);
      if (!t.noFile) writeFileSync(join(dir, file), bytes);
      store.transition(run, s.key, 'succeeded', 'archived', {
        file,
        sha256: createHash('sha256').update(bytes).digest('hex'),
        bytes: bytes.length,
      });
    });
  } finally {
    store.close();
  }
  return { out, db, run, dir };
}

/** style × subject × take: the 3 × 2 × 2 comparison a person makes the morning after. */
export function styleGrid(extra: FixtureTask[] = []): FixtureTask[] {
  const tasks: FixtureTask[] = [];
  for (const style of ['noir', 'pastel', 'neon']) {
    for (const subject of ['fox', 'owl']) {
      for (const take of [1, 2]) tasks.push({ prompt: `a ${subject} in ${style} style`, labels: { style, subject }, take });
    }
  }
  return [...tasks, ...extra];
}
