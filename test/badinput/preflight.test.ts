/**
 * --check-images against a local image host serving real files (read in place from
 * ../shared/data/dynamicrafter, including a `.png` that is really WebP) and the ways an
 * image URL goes wrong: 404, a GIF, an HTML error page, too large, no server, no host.
 */
import { test, type TestContext } from 'node:test';
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import { join, resolve } from 'node:path';
import { ManifestError } from '../../src/core/errors.js';
import { readManifest } from '../../src/manifest/index.js';
import { checkImage, MAX_IMAGE_BYTES, preflightImages, sniffImage } from '../../src/preflight/images.js';
import { tempDir } from '../helpers/tmp.js';
import { writeFileSync } from 'node:fs';

const IMAGES = resolve('../shared/data/dynamicrafter/256');

async function imageHost(t: TestContext, opts: { ignoreRange?: boolean } = {}): Promise<{ url: string; ranges: (string | undefined)[] }> {
  const ranges: (string | undefined)[] = [];
  const big = Buffer.alloc(MAX_IMAGE_BYTES + 1024, 0);
  readFileSync(join(IMAGES, 'bear.png')).copy(big);
  const files: Record<string, { body: Buffer; type: string } | undefined> = {
    '/bear.png': { body: readFileSync(join(IMAGES, 'bear.png')), type: 'image/png' },
    '/girl3.jpeg': { body: readFileSync(join(IMAGES, 'girl3.jpeg')), type: 'image/jpeg' },
    '/boy.png': { body: readFileSync(join(IMAGES, 'boy.png')), type: 'image/png' }, // really WebP
    '/anim.gif': { body: Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;', 'latin1'), type: 'image/gif' },
    '/login.jpg': { body: Buffer.from('<!doctype html><title>Sign in</title>'), type: 'image/jpeg' },
    '/huge.png': { body: big, type: 'image/png' },
  };
  const server = createHttpServer((req, res) => {
    ranges.push(req.headers.range);
    if (req.url === '/moved.jpg') return void res.writeHead(302, { location: '/girl3.jpeg' }).end();
    const f = files[req.url ?? ''];
    if (!f) return void res.writeHead(404).end('no');
    const m = opts.ignoreRange ? null : /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
    if (m) {
      const end = Math.min(Number(m[2]), f.body.length - 1);
      res.writeHead(206, { 'content-type': f.type, 'content-range': `bytes ${m[1]}-${end}/${f.body.length}`, 'content-length': end - Number(m[1]) + 1 });
      return void res.end(f.body.subarray(Number(m[1]), end + 1));
    }
    // Without Range support, and without saying its length: the checker must count.
    res.writeHead(200, { 'content-type': f.type });
    res.end(f.body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, ranges };
}

test('signatures decide, not names: JPG, PNG, WebP pass; GIF, HTML, ISO media do not', () => {
  assert.deepEqual(sniffImage(readFileSync(join(IMAGES, 'girl3.jpeg')).subarray(0, 32)), { type: 'jpeg' });
  assert.deepEqual(sniffImage(readFileSync(join(IMAGES, 'bear.png')).subarray(0, 32)), { type: 'png' });
  assert.deepEqual(sniffImage(readFileSync(join(IMAGES, 'boy.png')).subarray(0, 32)), { type: 'webp' });
  assert.ok('other' in sniffImage(Buffer.from('GIF89a')));
  assert.ok('other' in sniffImage(Buffer.from('  <svg xmlns="http://www.w3.org/2000/svg">')));
  assert.ok('other' in sniffImage(Buffer.from('\0\0\0\x1cftypheic\0\0\0\0', 'latin1')));
  assert.ok('other' in sniffImage(Buffer.alloc(0)));
});

for (const ignoreRange of [false, true]) {
  test(`each URL is checked by its first bytes and size (server ${ignoreRange ? 'ignores' : 'honours'} Range)`, async (t) => {
    const host = await imageHost(t, { ignoreRange });
    const ok = async (path: string, type: string) => {
      const r = await checkImage(host.url + path);
      assert.equal(r.ok, true, `${path}: ${r.problem}`);
      assert.equal(r.type, type);
    };
    await ok('/bear.png', 'png');
    await ok('/girl3.jpeg', 'jpeg');
    await ok('/boy.png', 'webp');
    await ok('/moved.jpg', 'jpeg');
    const bad = async (path: string, problem: RegExp) => {
      const r = await checkImage(host.url + path);
      assert.equal(r.ok, false, path);
      assert.match(r.problem ?? '', problem);
    };
    await bad('/missing.jpg', /HTTP 404/);
    await bad('/anim.gif', /GIF, not JPG, PNG or WebP/);
    await bad('/login.jpg', /HTML/);
    await bad('/huge.png', /over the 10 MB limit/);
    if (!ignoreRange) assert.equal(host.ranges[0], 'bytes=0-31', 'a cooperative server sends 32 bytes, not the image');
  });
}

test('unreachable hosts and non-http URLs are reported, not thrown', async () => {
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((r) => closed.close(r));
  assert.match((await checkImage(`http://127.0.0.1:${port}/a.jpg`)).problem ?? '', /unreachable \(ECONNREFUSED\)/);
  assert.match((await checkImage('https://photos.example.invalid/a.jpg')).problem ?? '', /unreachable/);
  assert.match((await checkImage('ftp://example.com/a.jpg')).problem ?? '', /not an http/);
});

test('preflightImages: every bad image at once, positioned at the task that uses it; good ones pass', async (t) => {
  const host = await imageHost(t);
  const dir = tempDir(t);
  const file = join(dir, 'm.yaml');
  writeFileSync(file, [
    'tasks:',
    '  - prompt: good pair',
    `    image_urls: [${host.url}/bear.png, ${host.url}/boy.png]`,
    '  - prompt: a gif',
    `    image_urls: [${host.url}/girl3.jpeg, ${host.url}/anim.gif]`,
    '  - prompt: gone',
    `    image_urls: [${host.url}/missing.jpg]`,
    '    takes: 2',
    '  - prompt: no images at all',
    '',
  ].join('\n'));
  const tasks = (await readManifest(file)).tasks;
  await assert.rejects(preflightImages(tasks), (e: unknown) => {
    assert.ok(e instanceof ManifestError);
    assert.deepEqual(e.issues.map((i) => [i.line, i.field]), [[4, 'image_urls[1]'], [6, 'image_urls[0]']]);
    assert.ok(e.issues.every((i) => i.file === file));
    assert.match(e.message, /anim\.gif is GIF/);
    return true;
  });
  assert.equal((await preflightImages(tasks.slice(0, 1))).length, 2);
});
