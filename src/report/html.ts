import { createHash } from 'node:crypto';
import { CLIENT_JS } from './client.js';
import type { StateCounts } from '../store/index.js';
import type { GalleryData } from './model.js';

/** One page of a paged gallery, as the pager links it. */
export interface GalleryPageLink {
  /** Its file, beside index.html. */
  file: string;
  /** Its first and last task by position in the run (from 1). */
  from: number;
  to: number;
  /** How many of its tasks are in each state. */
  counts: StateCounts;
}

/** Text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/**
 * JSON that is safe inside a `<script type="application/json">`: no `<` can close the
 * element or open a comment, whatever a prompt contains; JSON.parse reads it unchanged.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const CSS = `
:root { color-scheme: light dark; --bg: #f6f6f4; --fg: #1d1d1b; --muted: #6b6b66; --card: #fff; --line: #dddcd6; --bad: #b3261e; --warn: #8a5a00; }
@media (prefers-color-scheme: dark) { :root { --bg: #161615; --fg: #ecebe6; --muted: #a3a29b; --card: #22221f; --line: #3a3a36; --bad: #ff8a80; --warn: #ffcc80; } }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; background: var(--bg); color: var(--fg); }
header { position: sticky; top: 0; z-index: 2; background: var(--bg); border-bottom: 1px solid var(--line); padding: 10px 16px; }
h1 { font-size: 18px; margin: 0 0 6px; }
.counts span { margin-right: 12px; color: var(--muted); }
.counts .failed, .counts .in_doubt { color: var(--bad); font-weight: 600; }
.bar { display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: center; margin-top: 6px; }
.bar label { display: inline-flex; gap: 6px; align-items: center; }
.bar label > span { color: var(--muted); }
select, button { font: inherit; }
select { max-width: 16em; }
#filters { display: contents; }
#shown { color: var(--muted); }
main { padding: 12px 16px; overflow-x: auto; }
table.xy { border-collapse: collapse; }
table.xy th { text-align: left; vertical-align: top; padding: 6px 8px; color: var(--muted); font-weight: 600; max-width: 360px; }
table.xy th.col { border-bottom: 1px solid var(--line); }
table.xy th.rowhead { border-right: 1px solid var(--line); min-width: 90px; }
.rowctl { display: flex; gap: 4px; margin-top: 6px; }
td.cell { vertical-align: top; padding: 8px; border-bottom: 1px solid var(--line); }
figure.item { width: 300px; margin: 0 0 10px; background: var(--card); border: 1px solid var(--line); border-radius: 6px; overflow: hidden; }
figure.item video { display: block; width: 100%; max-height: 340px; background: #000; }
.placeholder { display: flex; flex-direction: column; gap: 6px; justify-content: center; min-height: 120px; padding: 12px; background: repeating-linear-gradient(45deg, transparent 0 8px, rgba(127,127,127,.08) 8px 16px); }
.state-failed .placeholder .state, .state-in_doubt .placeholder .state { color: var(--bad); }
.placeholder .note { word-break: break-word; }
figcaption { padding: 8px 10px; }
.prompt { margin: 0 0 6px; display: -webkit-box; -webkit-line-clamp: 4; -webkit-box-orient: vertical; overflow: hidden; cursor: pointer; white-space: pre-wrap; word-break: break-word; }
.prompt.open { display: block; }
.labels { margin: 0 0 6px; display: flex; flex-wrap: wrap; gap: 4px; }
.chip { border: 1px solid var(--line); border-radius: 10px; padding: 0 8px; font-size: 12px; }
dl.params { display: grid; grid-template-columns: auto 1fr; gap: 0 8px; margin: 0 0 6px; font-size: 12px; }
dl.params dt { color: var(--muted); }
dl.params dd { margin: 0; word-break: break-all; }
.meta { margin: 0; font-size: 11px; color: var(--muted); word-break: break-all; }
.empty { color: var(--muted); }
table.xy.flow { width: 100%; }
.flow .cards { display: flex; flex-wrap: wrap; gap: 0 10px; align-items: flex-start; }
nav.pager { display: flex; flex-wrap: wrap; gap: 4px 12px; align-items: baseline; margin-top: 6px; }
nav.pager .off { color: var(--muted); }
nav.pager .hint { color: var(--muted); font-size: 12px; }
nav.pager details { flex-basis: 100%; }
nav.pager ol { columns: 13em; max-height: 40vh; overflow: auto; margin: 6px 0; padding-left: 3.5em; font-size: 12px; }
nav.pager li .failed, nav.pager li .in_doubt { color: var(--bad); }
nav.pager li span { color: var(--muted); margin-left: 4px; }
`;

/** States in the order the counts show them: what is done, then what needs a look, then what waits. */
const STATE_ORDER = ['archived', 'failed', 'in_doubt', 'succeeded', 'submitted', 'submitting', 'planned'];

function countsOf(counts: StateCounts, skip: readonly string[] = []): [string, number][] {
  return Object.entries(counts)
    .filter(([s, n]) => n > 0 && !skip.includes(s))
    .sort(([a], [b]) => STATE_ORDER.indexOf(a) - STATE_ORDER.indexOf(b));
}

const num = (n: number): string => n.toLocaleString('en-US');

/**
 * The links between the pages of a gallery too big for one: previous and next, and every
 * page with the tasks it holds and those of them that are not archived (where to look).
 * Links carry `data-page` so the page script can add the current view (#x=…&f.…) to them.
 */
function renderPager(data: GalleryPageHead, pages: readonly GalleryPageLink[]): string {
  const p = data.paging;
  if (!p || pages.length < 2) return '';
  const link = (n: number, text: string, rel?: string): string => {
    const target = pages[n - 1];
    if (n < 1 || n > pages.length || n === p.page || !target) return `<span class="off">${escapeHtml(text)}</span>`;
    const f = escapeHtml(target.file);
    return `<a href="${f}" data-page="${f}"${rel ? ` rel="${rel}"` : ''}>${escapeHtml(text)}</a>`;
  };
  const list = pages
    .map((pg, i) => {
      const range = `${num(pg.from)}\u2013${num(pg.to)}`;
      const extra = countsOf(pg.counts, ['archived'])
        .map(([s, n]) => `<span class="${escapeHtml(s)}">${num(n)} ${escapeHtml(s)}</span>`)
        .join('');
      const f = escapeHtml(pg.file);
      return i + 1 === p.page
        ? `<li aria-current="page"><strong>${range}</strong>${extra}</li>`
        : `<li><a href="${f}" data-page="${f}">${range}</a>${extra}</li>`;
    })
    .join('');
  return `<nav class="pager" aria-label="pages">
${link(1, '\u00ab first')}${link(p.page - 1, '\u2039 previous', 'prev')}
<strong id="page">page ${num(p.page)} of ${num(p.pages)}</strong><span>tasks ${num(p.from)}\u2013${num(p.to)} of ${num(p.total)}</span>
${link(p.page + 1, 'next \u203a', 'next')}${link(p.pages, 'last \u00bb')}
<span class="hint">axes and filters apply to this page; every task, one a row: vidbatch export --run ${escapeHtml(data.run)}</span>
<details><summary>all ${num(p.pages)} pages (tasks that are not archived yet are counted beside their page)</summary><ol>${list}</ol></details>
</nav>`;
}

/**
 * The whole page: one file, relative links only, working from file://. A page of a paged
 * gallery (`data.paging`) also links the others, listed in `pages`.
 */
export function renderGalleryHtml(data: GalleryData, pages: readonly GalleryPageLink[] = []): string {
  return galleryHtmlHead(data, pages) + jsonForScript(data) + GALLERY_HTML_TAIL;
}

/** What the top of a page shows: all but its cards and their dimensions, which go in the data island. */
export type GalleryPageHead = Omit<GalleryData, 'items' | 'dimensions'>;

/** The page's script, after the data island (which `galleryHtmlHead` opens). */
export const GALLERY_HTML_TAIL = `</script>
<script>${CLIENT_JS}</script>
</body>
</html>
`;

/**
 * A page up to its data island, left open: the island (the JSON of a GalleryData) and
 * GALLERY_HTML_TAIL complete it. So a page can be written a card at a time.
 */
export function galleryHtmlHead(data: GalleryPageHead, pages: readonly GalleryPageLink[] = []): string {
  // The page runs exactly this script and nothing else: an injected <script> or on* attribute would be refused.
  const scriptHash = createHash('sha256').update(CLIENT_JS).digest('base64');
  const csp = `default-src 'none'; script-src 'sha256-${scriptHash}'; style-src 'unsafe-inline'; img-src * data: file:; media-src * data: file:; base-uri 'none'; form-action 'none'`;
  const counts = countsOf(data.counts)
    .map(([s, n]) => `<span class="${escapeHtml(s)}">${escapeHtml(s)} ${n}</span>`)
    .join('');
  const title = `vidbatch · ${data.run}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">
<meta name="generator" content="vidbatch">
<title>${escapeHtml(title)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>${escapeHtml(title)}</h1>
<div class="counts">${counts}<span>generated ${escapeHtml(data.generatedAt)}</span></div>
<div class="bar">
<label><span>X</span><select id="axis-x" data-axis="x"></select></label>
<label><span>Y</span><select id="axis-y" data-axis="y"></select></label>
<span id="filters"></span>
<button type="button" id="play-all">▶ all</button>
<button type="button" id="pause-all">❚❚ all</button>
<label><input type="checkbox" id="sync" checked> play/pause a row together</label>
<span id="shown"></span>
</div>
${renderPager(data, pages)}
</header>
<main id="grid"><noscript>This gallery needs JavaScript to lay out the videos.</noscript></main>
<script type="application/json" id="gallery-data">`;
}
