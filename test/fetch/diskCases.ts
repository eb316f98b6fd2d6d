/**
 * What a user sees of the disk path, whichever way the bytes reach the disk (O_DIRECT or
 * the page cache): run by download.disk.test.ts and, with VIDBATCH_DIRECT_IO=0, by
 * download.buffered.test.ts.
 */
import { test, type TestContext } from 'node:test';
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeSidecar, type Sidecar } from '../../src/fetch/archive.js';
import { downloadVerified, ResultDownloadError } from '../../src/fetch/download.js';
import { synthesizeMp4 } from '../../src/sim/video/synthesize.js';
import { tempDir } from '../helpers/tmp.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** `mp4` followed by a `free` box that brings it to exactly `length` bytes. */
function padded(mp4: Buffer, length: number): Buffer {
  const pad = length - mp4.length;
  assert.ok(pad >= 8, 'the target is too close to the video');
  const free = Buffer.alloc(pad);
  free.writeUInt32BE(pad, 0);
  free.write('free', 4, 'latin1');
  return Buffer.concat([mp4, free]);
}

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

/** Serves `body` honouring Range, in writes of `piece` bytes; the first `cuts` answers stop after `cutAt` bytes of the body. */
function serving(body: Buffer, opts: { cuts?: number; cutAt?: number; ignoreRange?: boolean; piece?: number } = {}): Handler {
  return (req, res, n) => {
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = m && !opts.ignoreRange ? Number(m[1]) : 0;
    const rest = body.subarray(start);
    const headers: Record<string, string | number> = { 'content-type': 'video/mp4', 'content-length': rest.length, etag: '"v1"' };
    if (start > 0) headers['content-range'] = `bytes ${start}-${body.length - 1}/${body.length}`;
    res.writeHead(start > 0 ? 206 : 200, headers);
    const cut = n <= (opts.cuts ?? 0) ? Math.min(rest.length - 1, opts.cutAt ?? Math.floor(rest.length / 2)) : undefined;
    const send = cut === undefined ? rest : rest.subarray(0, cut);
    const piece = opts.piece ?? 65536;
    for (let at = 0; at < send.length; at += piece) res.write(send.subarray(at, at + piece));
    if (cut === undefined) res.end();
    else res.write(Buffer.alloc(0), () => res.destroy());
  };
}

export function diskCases(mode: string): void {
  const small = synthesizeMp4({ durationSec: 5, aspectRatio: '16:9', variant: 1 });
  const mid = synthesizeMp4({ durationSec: 20, aspectRatio: '16:9', variant: 2 });
  const long = synthesizeMp4({ durationSec: 60, aspectRatio: '9:16', variant: 4 });

  test(`${mode}: every size arrives byte for byte, hashed right — on a block boundary, either side of one, and past several`, async (t) => {
    const dir = tempDir(t);
    const bodies = [
      small,
      padded(small, 77 * 4096),
      padded(small, 77 * 4096 + 1),
      padded(small, 78 * 4096 - 1),
      padded(mid, 1 << 20 + 1), // 2 MiB: the worker's staging size
      padded(mid, (1 << 21) + 4097),
      long,
    ];
    for (const [i, body] of bodies.entries()) {
      const s = await serve(t, serving(body, { piece: [65536, 1000, 4096, 7][i % 4] }));
      const dest = join(dir, `v${i}.mp4`);
      const got = await downloadVerified(s.url, dest);
      assert.equal(got.bytes, body.length, `file ${i}`);
      assert.equal(got.sha256, sha(body), `file ${i}`);
      assert.ok(readFileSync(dest).equals(body), `file ${i} differs on disk`);
    }
    assert.deepEqual(readdirSync(dir).sort(), bodies.map((_, i) => `v${i}.mp4`).sort(), 'no .part left behind');
  });

  test(`${mode}: a cut after more than a block resumes with Range; the file is whole and its sha256 right`, async (t) => {
    const dir = tempDir(t);
    const s = await serve(t, serving(long, { cuts: 2, cutAt: (1 << 20) + 12345 }));
    const got = await downloadVerified(s.url, join(dir, 'a.mp4'));
    assert.equal(got.resumes, 2);
    assert.equal(got.sha256, sha(long));
    assert.ok(readFileSync(join(dir, 'a.mp4')).equals(long));
    assert.equal(s.seen[1]?.range, `bytes=${(1 << 20) + 12345}-`);
    assert.equal(s.seen[2]?.range, `bytes=${2 * ((1 << 20) + 12345)}-`);
  });

  test(`${mode}: a server that answers the resume with the whole file: the written part is discarded, not spliced`, async (t) => {
    const dir = tempDir(t);
    const s = await serve(t, serving(long, { cuts: 1, cutAt: (1 << 21) + 3, ignoreRange: true }));
    const got = await downloadVerified(s.url, join(dir, 'a.mp4'));
    assert.equal(got.bytes, long.length);
    assert.equal(got.sha256, sha(long));
    assert.ok(readFileSync(join(dir, 'a.mp4')).equals(long));
  });

  test(`${mode}: a corrupt video (right length, noise in its movie header) is refused; nothing is left, not even an old .part`, async (t) => {
    const dir = tempDir(t);
    const bad = Buffer.from(long);
    const moov = bad.indexOf('moov', 0, 'latin1');
    bad.fill(0xa5, moov + 200, moov + 400);
    writeFileSync(join(dir, 'a.mp4.part'), 'left by a killed run');
    const s = await serve(t, serving(bad));
    await assert.rejects(downloadVerified(s.url, join(dir, 'a.mp4')), { code: 'E_INVALID_MEDIA' });
    assert.deepEqual(readdirSync(dir), []);
  });

  test(`${mode}: a missing output folder is made; one that cannot be is an E_DOWNLOAD error with its code`, async (t) => {
    const dir = tempDir(t);
    const s = await serve(t, serving(small));
    const got = await downloadVerified(s.url, join(dir, 'new', 'deeper', 'a.mp4'));
    assert.equal(got.sha256, sha(small));
    writeFileSync(join(dir, 'plain-file'), 'x');
    await assert.rejects(downloadVerified(s.url, join(dir, 'plain-file', 'a.mp4')), (e: unknown) => e instanceof ResultDownloadError && e.code === 'E_DOWNLOAD' && e.networkCode === 'ENOTDIR');
  });

  test(`${mode}: the sidecar records the sha256 of the file on disk, and results.jsonl gets one line per video`, async (t) => {
    const dir = tempDir(t);
    const out = join(dir, 'run');
    const s = await serve(t, serving(mid, { piece: 3000 }));
    for (const name of ['0001-a.mp4', '0002-b.mp4']) {
      const got = await downloadVerified(s.url, join(out, name));
      const sidecar: Sidecar = {
        run: 'r', key: name, taskId: 't', model: 'm', provider: 'p', input: { mode: 'text-to-video', prompt: 'x' }, take: 1,
        source: { file: 'f', line: 1 }, labels: {}, file: name, sourceUrl: s.url, sha256: got.sha256, bytes: got.bytes,
        createTime: null, completeTime: null, costTime: null, media: got.media, archivedAt: new Date(0).toISOString(),
      };
      const path = await writeSidecar(out, sidecar);
      const written = JSON.parse(readFileSync(path, 'utf8')) as Sidecar;
      assert.equal(written.sha256, sha(readFileSync(join(out, name))));
      assert.equal(written.media.durationSec, 20);
    }
    const lines = readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Sidecar);
    assert.deepEqual(lines.map((l) => l.file), ['0001-a.mp4', '0002-b.mp4']);
    assert.ok(!readdirSync(out).some((f) => f.endsWith('.part')));
  });

  test(`${mode}: a script that downloads and archives ends by itself once done, and not before`, (t) => {
    const dir = tempDir(t);
    const src = fileURLToPath(new URL('../../src/', import.meta.url));
    const script = join(dir, 'once.mts');
    writeFileSync(script, [
      `import { createServer } from 'node:http';`,
      `import { synthesizeMp4 } from ${JSON.stringify(join(src, 'sim/video/synthesize.ts'))};`,
      `import { downloadVerified } from ${JSON.stringify(join(src, 'fetch/download.ts'))};`,
      `import { writeSidecar } from ${JSON.stringify(join(src, 'fetch/archive.ts'))};`,
      `const body = synthesizeMp4({ durationSec: 20, aspectRatio: '1:1', variant: 5 });`,
      `const server = createServer((_req, res) => { res.writeHead(200, { 'content-length': body.length }); res.end(body); }).listen(0, '127.0.0.1');`,
      `await new Promise((r) => server.once('listening', r));`,
      `const got = await downloadVerified('http://127.0.0.1:' + server.address().port + '/v.mp4', ${JSON.stringify(join(dir, 'v.mp4'))});`,
      `server.close();`,
      `await writeSidecar(${JSON.stringify(dir)}, { file: 'v.mp4', sha256: got.sha256 });`,
      `console.log('archived ' + got.sha256);`,
    ].join('\n'));
    const r = spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: fileURLToPath(new URL('../..', import.meta.url)), encoding: 'utf8', timeout: 30_000, env: process.env });
    assert.equal(r.error, undefined, 'the process did not end within 30 s');
    assert.equal(r.status, 0, r.stderr);
    const body = synthesizeMp4({ durationSec: 20, aspectRatio: '1:1', variant: 5 });
    assert.equal(r.stdout.trim(), `archived ${sha(body)}`);
    assert.ok(existsSync(join(dir, 'v.json')) && readFileSync(join(dir, 'v.mp4')).equals(body));
  });
}
