import { createHash } from 'node:crypto';
import { CLIENT_JS } from './client.js';
import type { GalleryData } from './model.js';

/** Text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/**
 * JSON that is safe inside a `<script type="application/json">`: no `<` can close the
 * element or open a comment, whatever a prompt contains; JSON.parse reads it unchanged.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
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
`;

/** The whole page: one file, relative links only, working from file://. */
export function renderGalleryHtml(data: GalleryData): string {
  // The page runs exactly this script and nothing else: an injected <script> or on* attribute would be refused.
  const scriptHash = createHash('sha256').update(CLIENT_JS).digest('base64');
  const csp = `default-src 'none'; script-src 'sha256-${scriptHash}'; style-src 'unsafe-inline'; img-src * data: file:; media-src * data: file:; base-uri 'none'; form-action 'none'`;
  const order = ['archived', 'failed', 'in_doubt', 'succeeded', 'submitted', 'submitting', 'planned'];
  const counts = Object.entries(data.counts)
    .filter(([, n]) => n > 0)
    .sort(([a], [b]) => order.indexOf(a) - order.indexOf(b))
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
</header>
<main id="grid"><noscript>This gallery needs JavaScript to lay out the videos.</noscript></main>
<script type="application/json" id="gallery-data">${jsonForScript(data)}</script>
<script>${CLIENT_JS}</script>
</body>
</html>
`;
}
