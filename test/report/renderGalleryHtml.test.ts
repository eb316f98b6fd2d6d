import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { CLIENT_JS } from '../../src/report/client.js';
import { escapeHtml, jsonForScript, renderGalleryHtml } from '../../src/report/html.js';
import { buildGallery } from '../../src/report/model.js';
import { Store } from '../../src/store/index.js';
import { tempDir } from '../helpers/tmp.js';
import { buildRun } from './fixtures.js';

export const HOSTILE_PROMPTS = [
  '</script><script>window.__pwned = 1</script>',
  '"><img src=x onerror="window.__pwned = 2">',
  "<!-- '&amp; \u2028 \u2029 ${'`'}",
];

function page(root: string) {
  const f = buildRun(root, HOSTILE_PROMPTS.map((prompt, i) => ({ prompt, labels: { '<b>style</b>': `"v${i}"` } })), { run: 'hostile' });
  const store = Store.open(f.db);
  const rows = store.listTasks(f.run);
  store.close();
  const data = buildGallery(f.run, rows, { dir: f.dir });
  return { data, html: renderGalleryHtml(data) };
}

test('renderGalleryHtml: hostile prompts and labels never become markup; the data island reads back exactly', (t) => {
  const { data, html } = page(tempDir(t));
  // Exactly the two script elements of the page, whatever the prompts hold.
  assert.equal(html.match(/<script\b/gi)?.length, 2);
  assert.equal(html.match(/<\/script>/gi)?.length, 2);
  assert.ok(!/<img\b/i.test(html));
  assert.ok(!html.includes('onerror="window'));
  assert.ok(!html.includes('<!-- '));
  const island = /<script type="application\/json" id="gallery-data">([\s\S]*?)<\/script>/.exec(html)![1]!;
  assert.deepEqual(JSON.parse(island), JSON.parse(JSON.stringify(data)));
  assert.deepEqual(data.items.map((i) => i.prompt), HOSTILE_PROMPTS);
});

test('renderGalleryHtml: a Content-Security-Policy allows only the page script, by its hash', (t) => {
  const { html } = page(tempDir(t));
  const hash = createHash('sha256').update(CLIENT_JS).digest('base64');
  const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)![1]!.replace(/&#39;/g, "'");
  const scriptSrc = csp.split(';').map((d) => d.trim()).find((d) => d.startsWith('script-src'));
  assert.equal(scriptSrc, `script-src 'sha256-${hash}'`);
  assert.ok(html.includes(`<script>${CLIENT_JS}</script>`));
  // The inline script must be safe to inline and left untouched by template interpolation.
  assert.ok(!CLIENT_JS.includes('</script'));
});

test('escapeHtml and jsonForScript', () => {
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  const s = jsonForScript({ p: '</script><!-- & \u2028' });
  assert.ok(!/[<>&\u2028]/.test(s));
  assert.deepEqual(JSON.parse(s), { p: '</script><!-- & \u2028' });
});
