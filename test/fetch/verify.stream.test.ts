/**
 * Downloads check the MP4 from the bytes as they stream past (Mp4Verifier), not by reading
 * the file back. The verdict must not depend on that: for every file below — good ones and
 * each way of being broken — the stream verdict, whatever the chunk sizes the network
 * happens to deliver, is the one verifyMp4File gives for the same bytes on disk.
 */
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DownloadError } from '../../src/core/errors.js';
import { Mp4Verifier, verifyMp4File, type Mp4Info } from '../../src/fetch/verify.js';
import { synthesizeMp4, withTrailer } from '../../src/sim/video/synthesize.js';
import { tempDir } from '../helpers/tmp.js';

function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v);
  return b;
}

function box(type: string, body: Buffer): Buffer {
  return Buffer.concat([u32(8 + body.length), Buffer.from(type, 'latin1'), body]);
}

function topBox(mp4: Buffer, type: string): { start: number; size: number } {
  for (let at = 0; at < mp4.length; ) {
    const size = mp4.readUInt32BE(at);
    if (mp4.toString('latin1', at + 4, at + 8) === type) return { start: at, size };
    at += size;
  }
  throw new Error(`no ${type}`);
}

function noise(n: number, seed: number): Buffer {
  const out = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

const good = synthesizeMp4({ durationSec: 5, aspectRatio: '16:9', variant: 0 });
const mdat = topBox(good, 'mdat');
const moov = topBox(good, 'moov');
const ftypBytes = good.subarray(0, topBox(good, 'ftyp').size);
const moovBytes = good.subarray(moov.start, moov.start + moov.size);
const mdatBytes = good.subarray(mdat.start, mdat.start + mdat.size);

function large(type: string, size: bigint): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt32BE(1, 0);
  b.write(type, 4, 'latin1');
  b.writeBigUInt64BE(size, 8);
  return b;
}

/** moov moved after the mdat (chunk offsets fixed up), larger than a 1 MiB read. */
function moovAtEnd(): Buffer {
  const big = synthesizeMp4({ durationSec: 20, aspectRatio: '16:9', variant: 3 });
  const f = topBox(big, 'ftyp');
  const m = topBox(big, 'moov');
  const d = topBox(big, 'mdat');
  const mv = Buffer.from(big.subarray(m.start, m.start + m.size));
  const stco = mv.indexOf('stco', 0, 'latin1');
  for (let i = 0, n = mv.readUInt32BE(stco + 8); i < n; i++) mv.writeUInt32BE(mv.readUInt32BE(stco + 12 + 4 * i) - mv.length, stco + 12 + 4 * i);
  return Buffer.concat([big.subarray(f.start, f.start + f.size), big.subarray(d.start, d.start + d.size), mv]);
}

const shortened = Buffer.from(good.subarray(0, mdat.start + 1000));
shortened.writeUInt32BE(1000, mdat.start);
const noVideo = Buffer.from(good);
noVideo.write('zzzz', noVideo.indexOf('avc1', noVideo.indexOf('stsd', 0, 'latin1'), 'latin1'), 'latin1');
const toEnd = Buffer.from(good);
toEnd.writeUInt32BE(0, mdat.start);
const corruptMoov = Buffer.from(good);
noise(64, 5).copy(corruptMoov, moov.start + 8 + 100);
// A 64-bit mdat header, and 8-byte boxes whose headers start inside the previous 16 bytes read.
const mdat64 = Buffer.concat([ftypBytes, moovBytes, large('mdat', BigInt(mdat.size + 8)), mdatBytes.subarray(8)]);
const tinyBoxes = Buffer.concat([ftypBytes, box('free', Buffer.alloc(0)), box('skip', Buffer.alloc(0)), moovBytes, box('free', Buffer.alloc(3)), mdatBytes]);
const atEnd = moovAtEnd();

const cases: [string, Buffer][] = [
  ['a complete file', good],
  ['a file with a trailer', withTrailer(good, 'task-1234')],
  ['the moov after a large mdat', atEnd],
  ['a 64-bit mdat header', mdat64],
  ['8-byte boxes between the others', tinyBoxes],
  ['a last box of size 0', toEnd],
  ['cut in the mdat', good.subarray(0, mdat.start + Math.floor(mdat.size / 2))],
  ['cut one byte short', good.subarray(0, good.length - 1)],
  ['cut in the mdat header', good.subarray(0, mdat.start + 4)],
  ['cut in the moov', good.subarray(0, moov.start + Math.floor(moov.size / 2))],
  ['cut in the moov header', good.subarray(0, moov.start + 3)],
  ['cut in a 64-bit size', Buffer.concat([good, large('skip', 1n << 40n).subarray(0, 12)])],
  ['garbage declaring a box larger than the rest', Buffer.concat([good, u32(1 << 20), Buffer.from('free1234')])],
  ['a 64-bit size larger than the file', Buffer.concat([good, large('skip', 1n << 40n)])],
  ['a 64-bit size below its header', Buffer.concat([good, large('skip', 9n)])],
  ['a size below the header', Buffer.concat([good, u32(4), Buffer.from('free')])],
  ['random bytes', noise(64 * 1024, 42)],
  ['one byte', Buffer.from([0])],
  ['a PNG', Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), u32(13), Buffer.from('IHDR'), Buffer.alloc(17)])],
  ['an HTML page', Buffer.from('<html><body>404 Not Found</body></html>\n')],
  ['no moov', Buffer.concat([ftypBytes, mdatBytes])],
  ['no ftyp', Buffer.concat([moovBytes, mdatBytes])],
  ['no mdat', Buffer.concat([ftypBytes, moovBytes])],
  ['an mdat shortened with a consistent header', shortened],
  ['no video track', noVideo],
  ['noise inside the moov', corruptMoov],
  ['the moov after the mdat, cut', Buffer.concat([atEnd.subarray(0, atEnd.length - 300)])],
];

type Verdict = { info: Mp4Info } | { code: string; message: string };

function verdictOf(fn: () => Mp4Info): Verdict {
  try {
    return { info: fn() };
  } catch (e) {
    assert.ok(e instanceof DownloadError, `expected a DownloadError, got ${String(e)}`);
    return { code: e.code, message: e.message };
  }
}

/** Feeds `bytes` to a fresh verifier in chunks of the sizes `sizes` gives, in turn. */
function streamed(bytes: Buffer, label: string, sizes: (i: number) => number): Verdict {
  return verdictOf(() => {
    const v = new Mp4Verifier();
    for (let at = 0, i = 0; at < bytes.length; i++) {
      const n = Math.max(1, sizes(i));
      v.push(bytes.subarray(at, at + n), at);
      at += n;
    }
    return v.finish(label, bytes.length);
  });
}

const chunkings: [string, (i: number) => number][] = [
  ['the whole file at once', () => Number.MAX_SAFE_INTEGER],
  ['64 KiB', () => 65536],
  ['16 KiB', () => 16384],
  ['1 byte, then 7', (i) => (i % 2 === 0 ? 1 : 7)],
  ['uneven', (i) => [5, 4093, 17, 65536, 3, 12000, 9][i % 7]!],
];

test('the stream verdict is the file verdict, for every case and every chunking', async (t) => {
  const dir = tempDir(t);
  for (const [name, bytes] of cases) {
    const file = join(dir, 'f.mp4.part');
    writeFileSync(file, bytes);
    let expected: Verdict;
    try {
      expected = { info: await verifyMp4File(file) };
    } catch (e) {
      assert.ok(e instanceof DownloadError, `${name}: expected a DownloadError, got ${String(e)}`);
      expected = { code: e.code, message: e.message };
    }
    for (const [how, sizes] of chunkings) {
      // 1-byte chunks of a 64 KiB noise file would only slow the test down; its verdict is in the first bytes.
      assert.deepEqual(streamed(bytes, file, sizes), expected, `${name}, fed ${how}`);
    }
  }
});

test('good files give their media facts; each broken one is E_INVALID_MEDIA naming the .part', () => {
  const ok = streamed(good, 'x.part', () => 4096);
  assert.deepEqual(ok, { info: { durationSec: 5, width: 256, height: 144, codec: 'avc1.42c01e', brands: ['isom', 'iso2', 'avc1', 'mp41'] } });
  for (const [name, bytes] of cases.slice(6)) {
    const v = streamed(bytes, '/out/v.mp4.part', () => 65536);
    assert.ok('code' in v, `${name} was accepted`);
    assert.equal(v.code, 'E_INVALID_MEDIA', name);
    assert.match(v.message, /^\/out\/v\.mp4\.part (is not a complete MP4|could not be verified as an MP4): /, name);
  }
});

test('an empty body is refused', () => {
  assert.deepEqual(verdictOf(() => new Mp4Verifier().finish('e.part', 0)), { code: 'E_INVALID_MEDIA', message: 'e.part is not a complete MP4: the file is empty' });
});

test('the media data is never handed to mp4box: past the movie header, only box headers are wanted', () => {
  assert.ok(good.length > 70_000 && mdat.start < 70_000);
  const v = new Mp4Verifier();
  v.push(good.subarray(0, 70_000), 0);
  // mp4box has the moov; the walk wants the box after the mdat.
  assert.equal(v.needed(), mdat.start + mdat.size);
  // The moov after the mdat: mp4box skips the mdat too, to the moov.
  const fm = topBox(atEnd, 'mdat');
  const w = new Mp4Verifier();
  w.push(atEnd.subarray(0, 70_000), 0);
  assert.equal(w.needed(), fm.start + fm.size);
});
