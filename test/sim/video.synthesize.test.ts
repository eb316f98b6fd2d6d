import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ASPECT_RATIOS, DURATIONS } from '../../src/core/types.js';
import { synthesizeMp4, withTrailer } from '../../src/sim/video/synthesize.js';
import { verifyMp4File } from '../../src/fetch/verify.js';
import { tempDir } from '../helpers/tmp.js';

const EXPECTED_SIZE = { '16:9': [256, 144], '9:16': [144, 256], '1:1': [192, 192] } as const;

/** Reads a u32 field `at` bytes after the fourcc of the first `type` box (all our boxes are version 0). */
function field(mp4: Buffer, type: string, at: number): number {
  const i = mp4.indexOf(type, 0, 'latin1');
  assert.ok(i > 0, `no '${type}' box`);
  return mp4.readUInt32BE(i + at);
}

for (const aspectRatio of ASPECT_RATIOS) {
  for (const durationSec of DURATIONS) {
    test(`a ${durationSec} s ${aspectRatio} file verifies with its exact duration and size`, async (t) => {
      const mp4 = synthesizeMp4({ durationSec, aspectRatio, variant: 1 });
      const file = join(tempDir(t), 'v.mp4');
      writeFileSync(file, mp4);
      const info = await verifyMp4File(file);
      const [width, height] = EXPECTED_SIZE[aspectRatio];
      assert.deepEqual(info, { durationSec, width, height, codec: 'avc1.42c01e', brands: ['isom', 'iso2', 'avc1', 'mp41'] });

      // Every duration field, not only the movie's, must say exactly durationSec.
      assert.equal(field(mp4, 'mvhd', 20) / field(mp4, 'mvhd', 16), durationSec);
      assert.equal(field(mp4, 'tkhd', 24) / field(mp4, 'mvhd', 16), durationSec);
      assert.equal(field(mp4, 'mdhd', 20) / field(mp4, 'mdhd', 16), durationSec);
      assert.equal(field(mp4, 'stsz', 12), durationSec * 24, '24 frames a second');
      assert.equal(field(mp4, 'stss', 8), durationSec, 'one IDR a second');
      // faststart: the moov comes before the mdat, so a player can start from the first bytes.
      assert.ok(mp4.indexOf('moov', 0, 'latin1') < mp4.indexOf('mdat', 0, 'latin1'));
      assert.ok(mp4.length < 80_000 * durationSec, `${mp4.length} bytes is more than expected`);
    });
  }
}

test('distinct variants give distinct files; variant wraps modulo 8', () => {
  const files = Array.from({ length: 8 }, (_, variant) => synthesizeMp4({ durationSec: 5, aspectRatio: '16:9', variant }));
  assert.equal(new Set(files.map((f) => f.toString('base64'))).size, 8);
  assert.ok(synthesizeMp4({ durationSec: 5, aspectRatio: '16:9', variant: 8 }).equals(files[0]!));
  assert.ok(synthesizeMp4({ durationSec: 5, aspectRatio: '16:9', variant: -1 }).equals(files[7]!));
});

test('each call returns its own copy, so a caller cannot corrupt the cache', () => {
  const a = synthesizeMp4({ durationSec: 5, aspectRatio: '1:1', variant: 2 });
  const before = Buffer.from(a);
  a.fill(0);
  assert.ok(synthesizeMp4({ durationSec: 5, aspectRatio: '1:1', variant: 2 }).equals(before));
});

test('withTrailer appends a free box holding the text, and the file still verifies', async (t) => {
  const mp4 = synthesizeMp4({ durationSec: 5, aspectRatio: '9:16', variant: 4 });
  const text = 'task 7f3a · prompt "a cat"';
  const out = withTrailer(mp4, text);
  const body = Buffer.from(text, 'utf8');
  assert.equal(out.length, mp4.length + 8 + body.length);
  assert.ok(out.subarray(0, mp4.length).equals(mp4));
  assert.equal(out.readUInt32BE(mp4.length), 8 + body.length);
  assert.equal(out.toString('latin1', mp4.length + 4, mp4.length + 8), 'free');
  assert.equal(out.subarray(mp4.length + 8).toString('utf8'), text);

  const file = join(tempDir(t), 'v.mp4');
  writeFileSync(file, out);
  const info = await verifyMp4File(file);
  assert.equal(info.durationSec, 5);
  assert.equal(info.width, 144);
});

test('durations that cannot be exact are refused', () => {
  for (const durationSec of [0, -5, 2.5, Number.NaN, 3601]) {
    assert.throws(() => synthesizeMp4({ durationSec, aspectRatio: '16:9', variant: 0 }), RangeError, String(durationSec));
  }
});

test('ffmpeg decodes every frame without an error', (t) => {
  const probe = spawnSync('ffmpeg', ['-version']);
  if (probe.error) {
    t.skip('ffmpeg is not installed on this machine; the decode check needs it (apt-get install ffmpeg)');
    return;
  }
  const dir = tempDir(t);
  for (const aspectRatio of ASPECT_RATIOS) {
    const file = join(dir, `${aspectRatio.replace(':', 'x')}.mp4`);
    writeFileSync(file, withTrailer(synthesizeMp4({ durationSec: 5, aspectRatio, variant: 5 }), 'trailer'));
    const run = spawnSync('ffmpeg', ['-v', 'error', '-i', file, '-f', 'null', '-'], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stderr, '', `ffmpeg reported problems decoding ${aspectRatio}`);
    // 120 decoded frames, and the picture changes once a second (5 distinct frame hashes).
    const md5 = spawnSync('ffmpeg', ['-v', 'error', '-i', file, '-f', 'framemd5', '-'], { encoding: 'utf8' });
    const hashes = md5.stdout.split('\n').filter((l) => /^\d/.test(l)).map((l) => l.split(',').at(-1)!.trim());
    assert.equal(hashes.length, 120);
    assert.equal(new Set(hashes).size, 5);
  }
});
