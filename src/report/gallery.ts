import { open, rename } from 'node:fs/promises';
import { closeSync, existsSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_STATES } from '../core/lifecycle.js';
import type { StateCounts, TaskRow } from '../store/index.js';
import { GALLERY_HTML_TAIL, galleryHtmlHead, jsonForScript, type GalleryPageHead, type GalleryPageLink } from './html.js';
import { galleryItem, GalleryScan, PageDimensions, type GalleryItem, type MediaOf } from './model.js';
import { DEFAULT_POSTER_BUDGET_MS, makePosters, videoOnDisk, type PosterOptions } from './posters.js';

export const GALLERY_FILE = 'index.html';

/**
 * Cards on one page. A browser lays out a few hundred videos (each loads its metadata)
 * without trouble; 100,000 on one page would not open at all.
 */
export const GALLERY_PAGE_SIZE = 500;

/** Page n (from 1) of the gallery: index.html, then index-2.html, index-3.html… */
export function galleryPageFile(n: number): string {
  return n === 1 ? GALLERY_FILE : `index-${n}.html`;
}

/**
 * The run's rows in manifest order (by seq). The gallery reads them twice, first to sum
 * the run up, then to write its cards: pass a function that starts a new pass each time it
 * is called (`() => store.iterateTasks(run)`) to stream them; an array is read twice; a
 * one-shot iterator is held in memory.
 */
export type GalleryRows = Iterable<TaskRow> | (() => Iterable<TaskRow>);

export interface GalleryOptions {
  /** Dimension for the columns (a label, or aspect_ratio, duration, take…). @default the first that varies */
  x?: string;
  /** Dimension for the rows. @default the next that varies */
  y?: string;
  /** Make poster frames with ffmpeg when it is on PATH. @default true */
  posters?: boolean;
  poster?: PosterOptions;
  /** Cards on one page; a run with more tasks gets index-2.html, index-3.html… linked from each page. @default 500 */
  pageSize?: number;
  now?: Date;
}

export interface GalleryResult {
  /** `<dir>/index.html`, the first page. */
  file: string;
  items: number;
  videos: number;
  posters: number;
  /** How many pages: index.html, then index-2.html… */
  pages: number;
}

function passesOf(rows: GalleryRows): () => Iterable<TaskRow> {
  if (typeof rows === 'function') return rows;
  // An iterator that is its own iterable (a generator, a database cursor) can be read once.
  if ((rows as { [Symbol.iterator]: () => unknown })[Symbol.iterator]() !== rows) return () => rows;
  const held = [...rows];
  return () => held;
}

const noCounts = (): StateCounts => Object.fromEntries(ALL_STATES.map((s) => [s, 0])) as StateCounts;

/**
 * Write the run's gallery: `<dir>/index.html` and, past `pageSize` tasks, `index-2.html`…,
 * each page a self-contained gallery of its tasks that links to the others. `dir` is the
 * run's folder, where its videos are.
 *
 * Memory does not grow with the run, nor with the page: one pass sums the run up (labels,
 * axes, counts per page), then each card is written out as its row comes, and dropped. Each
 * page goes to a temporary file first, and they are renamed, index.html last, only once all
 * are written, so a reader never sees half a page.
 */
export async function writeGallery(dir: string, run: string, rows: GalleryRows, options: GalleryOptions = {}): Promise<GalleryResult> {
  mkdirSync(dir, { recursive: true });
  const pass = passesOf(rows);
  const pageSize = Math.max(1, Math.floor(options.pageSize ?? GALLERY_PAGE_SIZE));
  const withPosters = options.posters !== false;
  // ffmpeg makes at most a few hundred posters a second: candidates past what the budget
  // allows would wait for the next gallery anyway, so only the first pages' are kept.
  const posterCandidates = Math.max(100, Math.ceil((options.poster?.budgetMs ?? DEFAULT_POSTER_BUDGET_MS) / 5));

  // Pass 1: the run in sum; nothing kept per task.
  const scan = new GalleryScan();
  const pageCounts: StateCounts[] = [];
  const missingPosters: { key: string; file: string }[] = [];
  for (const r of pass()) {
    if (scan.total % pageSize === 0) pageCounts.push(noCounts());
    pageCounts[pageCounts.length - 1]![r.state]++;
    scan.add(r);
    if (withPosters && missingPosters.length < posterCandidates && r.state === 'archived' && r.file !== null && videoOnDisk(dir, r.file).stale) {
      missingPosters.push({ key: r.key, file: r.file });
    }
  }
  const total = scan.total;
  const { x, y } = scan.axes({ ...(options.x !== undefined ? { x: options.x } : {}), ...(options.y !== undefined ? { y: options.y } : {}) });
  if (missingPosters.length > 0) await makePosters(dir, missingPosters, options.poster);

  // Pass 2: one page at a time. Synchronous, so that no database cursor stays open across an await.
  const pages = Math.max(1, pageCounts.length);
  const links: GalleryPageLink[] = pageCounts.map((counts, i) => ({
    file: galleryPageFile(i + 1),
    from: i * pageSize + 1,
    to: Math.min(total, (i + 1) * pageSize),
    counts,
  }));
  const generatedAt = (options.now ?? new Date()).toISOString();
  const media: MediaOf = (r) => {
    const v = videoOnDisk(dir, r.file!);
    return { present: v.present, poster: withPosters ? v.poster : null };
  };
  const parts: string[] = [];
  let page: PageWriter | undefined;
  let cards = 0;
  let videos = 0;
  let posters = 0;
  try {
    for (const r of pass()) {
      // Tasks added since the first pass have no page in the pager: the next gallery shows them.
      if (cards === total) break;
      if (!page) {
        const n = parts.length + 1;
        const from = (n - 1) * pageSize + 1;
        parts.push(join(dir, `${galleryPageFile(n)}.part`));
        page = new PageWriter(parts[n - 1]!, scan, {
          run, generatedAt, x, y, counts: scan.counts,
          ...(pages > 1 ? { paging: { page: n, pages, from, to: Math.min(total, from + pageSize - 1), total } } : {}),
        }, links);
      }
      const it = galleryItem(r, scan, media);
      if (it.file !== null) videos++;
      if (it.poster !== null) posters++;
      cards++;
      page.add(it);
      if (page.cards === pageSize) page = page.end();
    }
    if (parts.length === 0) {
      // A run with no task still has its page, which says so.
      parts.push(join(dir, `${GALLERY_FILE}.part`));
      page = new PageWriter(parts[0]!, scan, { run, generatedAt, x, y, counts: scan.counts }, links);
    }
    page = page?.end();
    // Durable, then visible: the other pages first, so that index.html never links to a page not there yet.
    for (const part of [...parts.slice(1), parts[0]!]) {
      const fh = await open(part, 'r+');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(part, part.slice(0, -'.part'.length));
    }
  } finally {
    page?.close();
    for (const part of parts) rmSync(part, { force: true });
  }
  // Pages left by an earlier gallery with more of them (another page size).
  for (let n = parts.length + 1; existsSync(join(dir, galleryPageFile(n))); n++) rmSync(join(dir, galleryPageFile(n)), { force: true });
  return { file: join(dir, GALLERY_FILE), items: cards, videos, posters, pages: parts.length };
}

/**
 * One page, written as its cards come: the top of the page, then each card's JSON into the
 * data island as it is added, then the page's dimensions and its script. Synchronous, in
 * blocks of 256 KiB.
 */
class PageWriter {
  cards = 0;
  readonly #fd: number;
  readonly #head: GalleryPageHead;
  readonly #dims: PageDimensions;
  #buffer: string[] = [];
  #buffered = 0;
  #closed = false;

  constructor(file: string, scan: GalleryScan, head: GalleryPageHead, links: readonly GalleryPageLink[]) {
    this.#fd = openSync(file, 'w');
    this.#head = head;
    this.#dims = new PageDimensions(scan);
    // The island is the page's GalleryData with its items first: JSON does not mind the order.
    this.#write(`${galleryHtmlHead(head, links)}{"items":[`);
  }

  add(item: GalleryItem): void {
    this.#dims.add(item);
    this.#write(`${this.cards++ === 0 ? '' : ','}${jsonForScript(item)}`);
  }

  /** Finish the page and close its file. */
  end(): undefined {
    const rest = jsonForScript({ ...this.#head, dimensions: this.#dims.dimensions() });
    this.#write(`],${rest.slice(1)}${GALLERY_HTML_TAIL}`);
    this.#flush();
    this.close();
    return undefined;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeSync(this.#fd);
  }

  #write(text: string): void {
    this.#buffer.push(text);
    this.#buffered += text.length;
    if (this.#buffered >= 256 * 1024) this.#flush();
  }

  #flush(): void {
    writeSync(this.#fd, this.#buffer.join(''));
    this.#buffer = [];
    this.#buffered = 0;
  }
}
