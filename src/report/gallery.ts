import { open, rename } from 'node:fs/promises';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TaskRow } from '../store/index.js';
import { renderGalleryHtml } from './html.js';
import { buildGallery } from './model.js';
import { makePosters, type PosterOptions } from './posters.js';

export const GALLERY_FILE = 'index.html';

export interface GalleryOptions {
  /** Dimension for the columns (a label, or aspect_ratio, duration, take…). @default the first that varies */
  x?: string;
  /** Dimension for the rows. @default the next that varies */
  y?: string;
  /** Make poster frames with ffmpeg when it is on PATH. @default true */
  posters?: boolean;
  poster?: PosterOptions;
  now?: Date;
}

export interface GalleryResult {
  file: string;
  items: number;
  videos: number;
  posters: number;
}

/**
 * Write `<dir>/index.html`, the run's gallery (through a temporary file and a rename, so a
 * reader never sees half a page). `dir` is the run's folder, where its videos are.
 */
export async function writeGallery(dir: string, run: string, rows: readonly TaskRow[], options: GalleryOptions = {}): Promise<GalleryResult> {
  mkdirSync(dir, { recursive: true });
  const archived = rows.filter((r) => r.state === 'archived' && r.file !== null).map((r) => ({ key: r.key, file: r.file! }));
  const posters = options.posters === false ? new Map<string, string>() : await makePosters(dir, archived, options.poster);
  const data = buildGallery(run, rows, {
    dir,
    posters,
    ...(options.x !== undefined ? { x: options.x } : {}),
    ...(options.y !== undefined ? { y: options.y } : {}),
    ...(options.now !== undefined ? { now: options.now } : {}),
  });
  const file = join(dir, GALLERY_FILE);
  const tmp = `${file}.part`;
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(renderGalleryHtml(data));
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
  return { file, items: data.items.length, videos: data.items.filter((i) => i.file !== null).length, posters: posters.size };
}
