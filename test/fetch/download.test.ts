import { test, type TestContext } from 'node:test';
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DownloadError } from '../../src/core/errors.js';
import { downloadVerified, ResultDownloadError } from '../../src/fetch/download.js';
import { synthesizeMp4 } from '../../src/sim/video/synthesize.js';
import { tempDir } from '../helpers/tmp.js';
import { simulator } from '../helpers/fixtures.js';

const video = synthesizeMp4({ durationSec: 5, aspectRatio: '9:16', variant: 3 });
const sha = createHash('sha256').update(video).digest('hex');

type Handler = (req: IncomingMessage, res: ServerResponse, n: number) => void;

async function serve(t: TestContext, handler: Handler): Promise<{ url: string; seen: IncomingMessage['headers'][] }> {
  const seen: IncomingMessage['headers'][] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers);
    handler(req, res, seen.length);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v.mp4`, seen };
}

/** Serves `video` honouring Range; the first `cuts` answers stop part-way. */
function cutting(cuts: number, opts: { ignoreRange?: boolean; etag?: string } = {}): Handler {
  return (req, res, n) => {
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = m && !opts.ignoreRange ? Number(m[1]) : 0;
    const body = video.subarray(start);
    const headers: Record<string, string | number> = { 'content-type': 'video/mp4', 'content-length': body.length, etag: opts.etag ?? '"v1"' };
    if (start > 0) headers['content-range'] = `bytes ${start}-${video.length - 1}/${video.length}`;
    res.writeHead(start > 0 ? 206 : 200, headers);
    if (n <= cuts) res.write(body.subarray(0, Math.floor(body.length / 3)), () => res.destroy());
    else res.end(body);
  };
}

function files(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir) : [];
}

test('a cut body is resumed with Range and If-Range; the result is whole, hashed and verified', async (t) => {
  const dir = tempDir(t);
  const s = await serve(t, cutting(2));
  const got = await downloadVerified(s.url, join(dir, 'a.mp4'));
  assert.equal(got.resumes, 2);
  assert.equal(got.bytes, video.length);
  assert.equal(got.sha256, sha);
  assert.equal(createHash('sha256').update(readFileSync(join(dir, 'a.mp4'))).digest('hex'), sha);
  assert.equal(s.seen[0]?.range, undefined);
  assert.match(String(s.seen[1]?.range), /^bytes=\d+-$/);
  assert.equal(s.seen[1]?.['if-range'], '"v1"');
  assert.deepEqual(files(dir), ['a.mp4']);
});

test('media facts come from the file: duration, size, codec', async (t) => {
  const dir = tempDir(t);
  const s = await serve(t, cutting(0));
  const got = await downloadVerified(s.url, join(dir, 'a.mp4'));
  assert.equal(Math.round(got.media.durationSec), 5);
  assert.ok(got.media.height > got.media.width, '9:16 is portrait');
  assert.match(got.media.codec, /^avc1\./);
});

test('a server that answers a Range with the whole file is started over, not spliced', async (t) => {
  const dir = tempDir(t);
  const s = await serve(t, cutting(1, { ignoreRange: true }));
  const got = await downloadVerified(s.url, join(dir, 'a.mp4'));
  assert.equal(got.sha256, sha);
  assert.equal(got.bytes, video.length);
});

test('cut after cut: after maxResumes it fails and leaves neither the file nor a .part', async (t) => {
  const dir = tempDir(t);
  const s = await serve(t, cutting(100));
  await assert.rejects(downloadVerified(s.url, join(dir, 'a.mp4'), { maxResumes: 2 }), (e: unknown) => e instanceof ResultDownloadError && e.code === 'E_DOWNLOAD');
  assert.equal(s.seen.length, 3);
  assert.deepEqual(files(dir), []);
});

test('fewer bytes than Content-Length announced, connection closed: never accepted', async (t) => {
  const dir = tempDir(t);
  const tcp = createTcpServer((sock) => {
    sock.once('data', () => {
      sock.write(`HTTP/1.1 200 OK\r\ncontent-type: video/mp4\r\ncontent-length: ${video.length}\r\nconnection: close\r\n\r\n`);
      sock.end(video.subarray(0, 1000));
    });
  });
  await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
  t.after(() => tcp.close());
  const url = `http://127.0.0.1:${(tcp.address() as AddressInfo).port}/v.mp4`;
  await assert.rejects(downloadVerified(url, join(dir, 'a.mp4'), { maxResumes: 1 }), DownloadError);
  assert.deepEqual(files(dir), []);
});

test('a whole answer that is a cut-off MP4 fails verification: no file, no .part', async (t) => {
  const dir = tempDir(t);
  const cutFile = video.subarray(0, video.length - 500);
  const s = await serve(t, (_req, res) => {
    res.writeHead(200, { 'content-length': cutFile.length });
    res.end(cutFile);
  });
  await assert.rejects(downloadVerified(s.url, join(dir, 'a.mp4')), { code: 'E_INVALID_MEDIA' });
  assert.deepEqual(files(dir), []);
});

test('error answers carry the status and Retry-After; a refused connection its code', async (t) => {
  const dir = tempDir(t);
  const gone = await serve(t, (_req, res) => res.writeHead(410).end('Gone'));
  await assert.rejects(downloadVerified(gone.url, join(dir, 'a.mp4')), (e: unknown) => e instanceof ResultDownloadError && e.status === 410);
  const busy = await serve(t, (_req, res) => res.writeHead(503, { 'retry-after': '7' }).end());
  await assert.rejects(downloadVerified(busy.url, join(dir, 'a.mp4')), (e: unknown) => e instanceof ResultDownloadError && e.status === 503 && e.retryAfterMs === 7000);
  const later = await serve(t, (_req, res) => res.writeHead(429, { 'retry-after': new Date(Date.now() + 30_000).toUTCString() }).end());
  await assert.rejects(downloadVerified(later.url, join(dir, 'a.mp4')), (e: unknown) => e instanceof ResultDownloadError && e.status === 429 && e.retryAfterMs! > 25_000 && e.retryAfterMs! <= 30_000);
  const closed = createTcpServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((r) => closed.close(r));
  await assert.rejects(downloadVerified(`http://127.0.0.1:${port}/v.mp4`, join(dir, 'a.mp4')), (e: unknown) => e instanceof ResultDownloadError && e.status === 0 && e.networkCode === 'ECONNREFUSED');
  assert.deepEqual(files(dir), []);
});

test('against the simulator cutting every other download, files arrive whole', async (t) => {
  const dir = tempDir(t);
  const sim = await simulator(t, { faults: { truncateDownload: 0.5 }, seed: 11 });
  const res = await fetch(`${sim.url}/api/v1/generateTask/kling-2-5-turbo-pro`, {
    method: 'POST',
    headers: { authorization: 'Bearer sk-fetch-test', 'content-type': 'application/json' },
    body: JSON.stringify({ request_type: 'async', input: { mode: 'text-to-video', prompt: 'cut me', duration: 10 } }),
  });
  const taskId = ((await res.json()) as { data: { taskId: string } }).data.taskId;
  await new Promise((r) => setTimeout(r, 400));
  const url = `${sim.url}/results/${taskId}.mp4`;
  for (let i = 0; i < 4; i++) {
    const got = await downloadVerified(url, join(dir, `v${i}.mp4`), { maxResumes: 20 });
    assert.equal(Math.round(got.media.durationSec), 10);
  }
  assert.ok(sim.stats().faults.truncateDownload > 0);
  assert.equal(new Set(readdirSync(dir).map((f) => createHash('sha256').update(readFileSync(join(dir, f))).digest('hex'))).size, 1);
});
