import { test, type TestContext } from 'node:test';
import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DownloadError } from '../../src/core/errors.js';
import { verifyMp4File } from '../../src/fetch/verify.js';
import { synthesizeMp4 } from '../../src/sim/video/synthesize.js';
import { tempDir } from '../helpers/tmp.js';

interface TopBox {
  type: string;
  start: number;
  size: number;
}

function topBoxes(mp4: Buffer): TopBox[] {
  const boxes: TopBox[] = [];
  for (let at = 0; at < mp4.length; ) {
    const size = mp4.readUInt32BE(at);
    boxes.push({ type: mp4.toString('latin1', at + 4, at + 8), start: at, size });
    at += size;
  }
  return boxes;
}

function boxOf(mp4: Buffer, type: string): TopBox {
  const b = topBoxes(mp4).find((x) => x.type === type);
  assert.ok(b, `no top-level '${type}'`);
  return b;
}

function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v);
  return b;
}

/** Deterministic noise, so a failure reproduces. */
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

async function expectInvalid(t: TestContext, bytes: Buffer, message?: RegExp): Promise<void> {
  const file = join(tempDir(t), 'f.mp4.part');
  writeFileSync(file, bytes);
  await assert.rejects(verifyMp4File(file), (e: unknown) => {
    assert.ok(e instanceof DownloadError, `expected DownloadError, got ${String(e)}`);
    assert.equal(e.code, 'E_INVALID_MEDIA');
    assert.equal(e.url, file);
    if (message) assert.match(e.message, message);
    return true;
  });
}

async function verifyBytes(t: TestContext, bytes: Buffer) {
  const file = join(tempDir(t), 'f.mp4');
  writeFileSync(file, bytes);
  return verifyMp4File(file);
}

test('a complete file verifies', async (t) => {
  assert.deepEqual(await verifyBytes(t, good), {
    durationSec: 5, width: 256, height: 144, codec: 'avc1.42c01e', brands: ['isom', 'iso2', 'avc1', 'mp41'],
  });
});

test('a file cut in the middle of the mdat is refused, although mp4box alone would accept it', async (t) => {
  const mdat = boxOf(good, 'mdat');
  await expectInvalid(t, good.subarray(0, mdat.start + Math.floor(mdat.size / 2)), /'mdat' at offset \d+ declares \d+ bytes but only \d+ remain/);
  await expectInvalid(t, good.subarray(0, good.length - 1), /'mdat'/);
  await expectInvalid(t, good.subarray(0, mdat.start + 4), /stray bytes/);
});

test('a file cut inside the moov is refused', async (t) => {
  const moov = boxOf(good, 'moov');
  await expectInvalid(t, good.subarray(0, moov.start + Math.floor(moov.size / 2)), /'moov'/);
  await expectInvalid(t, good.subarray(0, moov.start + 3), /stray bytes/);
});

test('garbage after the file that declares a box larger than the rest is refused', async (t) => {
  await expectInvalid(t, Buffer.concat([good, u32(1 << 20), Buffer.from('free'), Buffer.from('1234')]), /'free' .* declares 1048576 bytes but only 12 remain/);
  // The same with a 64-bit size.
  const large = Buffer.alloc(16);
  large.writeUInt32BE(1, 0);
  large.write('skip', 4, 'latin1');
  large.writeBigUInt64BE(1n << 40n, 8);
  await expectInvalid(t, Buffer.concat([good, large]), /'skip' .* 64-bit|'skip' .* declares 1099511627776/);
  // A size below the header itself could never end.
  await expectInvalid(t, Buffer.concat([good, u32(4), Buffer.from('free')]), /below its header/);
});

test('random bytes, an empty file and a PNG are refused', async (t) => {
  await expectInvalid(t, noise(64 * 1024, 42));
  await expectInvalid(t, Buffer.alloc(0), /empty/);
  const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), u32(13), Buffer.from('IHDR'), Buffer.alloc(17)]);
  await expectInvalid(t, png, /no box type/);
  await expectInvalid(t, Buffer.from('<html><body>404 Not Found</body></html>\n'));
});

test('ftyp, moov and mdat are all required', async (t) => {
  const [ftyp, moov, mdat] = ['ftyp', 'moov', 'mdat'].map((type) => {
    const b = boxOf(good, type);
    return good.subarray(b.start, b.start + b.size);
  }) as [Buffer, Buffer, Buffer];
  await expectInvalid(t, Buffer.concat([ftyp, mdat]), /no 'moov' box \(top-level boxes: ftyp, mdat\)/);
  await expectInvalid(t, Buffer.concat([moov, mdat]), /no 'ftyp' box/);
  await expectInvalid(t, Buffer.concat([ftyp, moov]), /no 'mdat' box/);
});

test('an mdat shortened with a consistent header is refused: its samples point outside it', async (t) => {
  const mdat = boxOf(good, 'mdat');
  const cut = Buffer.from(good.subarray(0, mdat.start + 1000));
  cut.writeUInt32BE(1000, mdat.start);
  await expectInvalid(t, cut, /sample \d+ of track 1 .* outside every mdat/);
});

test('a movie without a video track is refused', async (t) => {
  // mp4box classifies a track by its sample entry type. An unknown type is not video;
  // 'mp4a' would be too, but mp4box then prints parse noise about the avcC left inside.
  const noVideo = Buffer.from(good);
  noVideo.write('zzzz', noVideo.indexOf('avc1', noVideo.indexOf('stsd', 0, 'latin1'), 'latin1'), 'latin1');
  await expectInvalid(t, noVideo, /no video track \(tracks: metadata\)/);
});

test('a last box whose size is 0 (to the end of the file) is accepted', async (t) => {
  const mdat = boxOf(good, 'mdat');
  const toEnd = Buffer.from(good);
  toEnd.writeUInt32BE(0, mdat.start);
  assert.equal((await verifyBytes(t, toEnd)).durationSec, 5);
});

test('a file with its moov at the end (larger than one read chunk) verifies', async (t) => {
  const big = synthesizeMp4({ durationSec: 20, aspectRatio: '16:9', variant: 3 });
  assert.ok(big.length > 1 << 20, 'needs more than one 1 MiB chunk to exercise the skip over the mdat');
  const [ftypB, moovB, mdatB] = ['ftyp', 'moov', 'mdat'].map((type) => boxOf(big, type)) as [TopBox, TopBox, TopBox];
  const ftyp = big.subarray(ftypB.start, ftypB.start + ftypB.size);
  const moov = Buffer.from(big.subarray(moovB.start, moovB.start + moovB.size));
  const mdat = big.subarray(mdatB.start, mdatB.start + mdatB.size);
  // The mdat moves up by the moov's size: every chunk offset does too.
  const stco = moov.indexOf('stco', 0, 'latin1');
  const count = moov.readUInt32BE(stco + 8);
  for (let i = 0; i < count; i++) {
    const at = stco + 12 + 4 * i;
    moov.writeUInt32BE(moov.readUInt32BE(at) - moov.length, at);
  }
  const info = await verifyBytes(t, Buffer.concat([ftyp, mdat, moov]));
  assert.equal(info.durationSec, 20);
  await expectInvalid(t, Buffer.concat([ftyp, mdat, moov.subarray(0, 500)]), /'moov'/);
});

test('a missing file is a file system error, not a media verdict', async (t) => {
  await assert.rejects(verifyMp4File(join(tempDir(t), 'absent.mp4')), { code: 'ENOENT' });
});
