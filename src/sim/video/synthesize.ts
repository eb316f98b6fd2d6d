/**
 * Real, playable MP4 files for the simulator, made without ffmpeg.
 *
 * The H.264 stream is Constrained Baseline written by hand: one IDR per second whose
 * macroblocks are all I_PCM (raw samples, so no transform or entropy coder is needed),
 * and P slices between them made of one mb_skip_run over the whole picture, which a
 * decoder turns into an exact copy of the previous frame. The result decodes cleanly in
 * ffmpeg and Chromium, and costs ~55 KB per second at 256x144.
 *
 * The picture is made for a person comparing results side by side: a gradient whose
 * hue is chosen by `variant`, `variant % 8 + 1` small squares in the top-left corner,
 * a white block that steps diagonally once a second, and a progress bar at the bottom.
 */
import type { AspectRatio } from '../../core/types.js';

export interface SynthesizeOptions {
  /** Whole seconds, 1..3600: whole seconds keep every duration field exact. */
  durationSec: number;
  aspectRatio: AspectRatio;
  /** Picks the hue; only `variant % 8` matters. */
  variant: number;
}

const FPS = 24;
/** mdhd timescale: a multiple of FPS so that every sample lasts a whole number of ticks. */
const MEDIA_TIMESCALE = FPS * 1000;
const MOVIE_TIMESCALE = 1000;
const PROFILE_IDC = 66; // Baseline
const CONSTRAINT_FLAGS = 0xc0; // set0 + set1: Constrained Baseline, decodable by Main decoders too
const LEVEL_IDC = 30; // 3.0: I_PCM IDRs are ~440 kbit, far above the budget of levels 1.x
const LOG2_MAX_FRAME_NUM = 8;

const SIZES: Record<AspectRatio, { width: number; height: number }> = {
  '16:9': { width: 256, height: 144 },
  '9:16': { width: 144, height: 256 },
  '1:1': { width: 192, height: 192 },
};

// ---------------------------------------------------------------------------
// H.264 bitstream

class BitWriter {
  readonly #bytes: number[] = [];
  #cur = 0;
  #nbits = 0;

  u(n: number, value: number): void {
    for (let i = n - 1; i >= 0; i--) {
      this.#cur = (this.#cur << 1) | (Math.floor(value / 2 ** i) & 1);
      if (++this.#nbits === 8) {
        this.#bytes.push(this.#cur);
        this.#cur = 0;
        this.#nbits = 0;
      }
    }
  }

  ue(value: number): void {
    const v = value + 1;
    const len = Math.floor(Math.log2(v));
    this.u(len, 0);
    this.u(len + 1, v);
  }

  se(value: number): void {
    this.ue(value > 0 ? 2 * value - 1 : -2 * value);
  }

  get aligned(): boolean {
    return this.#nbits === 0;
  }

  alignZero(): void {
    while (this.#nbits !== 0) this.u(1, 0);
  }

  /** Raw bytes; only valid when byte-aligned (PCM samples). */
  raw(data: Uint8Array): void {
    if (!this.aligned) throw new Error('BitWriter.raw needs byte alignment');
    for (const b of data) this.#bytes.push(b);
  }

  /** rbsp_trailing_bits: a stop bit, then zeros to the byte boundary. */
  trailing(): Buffer {
    this.u(1, 1);
    this.alignZero();
    return Buffer.from(this.#bytes);
  }
}

/** A NAL unit: header byte, then the RBSP with emulation prevention applied. */
function nal(refIdc: number, type: number, rbsp: Buffer): Buffer {
  const out = Buffer.alloc(1 + rbsp.length + Math.ceil(rbsp.length / 2) + 1);
  out[0] = (refIdc << 5) | type;
  let n = 1;
  let zeros = 0;
  for (const b of rbsp) {
    // A start code (00 00 01) must never appear inside a NAL unit.
    if (zeros >= 2 && b <= 3) {
      out[n++] = 3;
      zeros = 0;
    }
    out[n++] = b;
    zeros = b === 0 ? zeros + 1 : 0;
  }
  return out.subarray(0, n);
}

function spsNal(mbW: number, mbH: number): Buffer {
  const w = new BitWriter();
  w.u(8, PROFILE_IDC);
  w.u(8, CONSTRAINT_FLAGS);
  w.u(8, LEVEL_IDC);
  w.ue(0); // seq_parameter_set_id
  w.ue(LOG2_MAX_FRAME_NUM - 4);
  w.ue(2); // pic_order_cnt_type 2: output order = decode order, no POC fields in slices
  w.ue(1); // max_num_ref_frames
  w.u(1, 0); // gaps_in_frame_num_value_allowed_flag
  w.ue(mbW - 1);
  w.ue(mbH - 1);
  w.u(1, 1); // frame_mbs_only_flag
  w.u(1, 1); // direct_8x8_inference_flag
  w.u(1, 0); // frame_cropping_flag: every size is a multiple of 16
  w.u(1, 0); // vui_parameters_present_flag: timing comes from the container
  return nal(3, 7, w.trailing());
}

function ppsNal(): Buffer {
  const w = new BitWriter();
  w.ue(0); // pic_parameter_set_id
  w.ue(0); // seq_parameter_set_id
  w.u(1, 0); // entropy_coding_mode_flag: CAVLC
  w.u(1, 0); // bottom_field_pic_order_in_frame_present_flag
  w.ue(0); // num_slice_groups_minus1
  w.ue(0); // num_ref_idx_l0_default_active_minus1
  w.ue(0); // num_ref_idx_l1_default_active_minus1
  w.u(1, 0); // weighted_pred_flag
  w.u(2, 0); // weighted_bipred_idc
  w.se(0); // pic_init_qp_minus26
  w.se(0); // pic_init_qs_minus26
  w.se(0); // chroma_qp_index_offset
  w.u(1, 1); // deblocking_filter_control_present_flag, so slices can turn it off
  w.u(1, 0); // constrained_intra_pred_flag
  w.u(1, 0); // redundant_pic_cnt_present_flag
  return nal(3, 8, w.trailing());
}

interface Planes {
  width: number;
  height: number;
  y: Uint8Array;
  cb: Uint8Array;
  cr: Uint8Array;
}

function idrNal(p: Planes, idrPicId: number): Buffer {
  const w = new BitWriter();
  w.ue(0); // first_mb_in_slice
  w.ue(7); // slice_type I (all slices of the picture)
  w.ue(0); // pic_parameter_set_id
  w.u(LOG2_MAX_FRAME_NUM, 0); // frame_num
  w.ue(idrPicId); // consecutive IDRs must differ here
  w.u(1, 0); // no_output_of_prior_pics_flag
  w.u(1, 0); // long_term_reference_flag
  w.se(0); // slice_qp_delta
  w.ue(1); // disable_deblocking_filter_idc: PCM edges must stay sharp
  const mbW = p.width / 16;
  const mbH = p.height / 16;
  const luma = new Uint8Array(256);
  const chroma = new Uint8Array(64);
  for (let my = 0; my < mbH; my++) {
    for (let mx = 0; mx < mbW; mx++) {
      w.ue(25); // mb_type I_PCM
      w.alignZero(); // pcm_alignment_zero_bit
      for (let r = 0; r < 16; r++) {
        const at = (my * 16 + r) * p.width + mx * 16;
        luma.set(p.y.subarray(at, at + 16), r * 16);
      }
      w.raw(luma);
      for (const plane of [p.cb, p.cr]) {
        for (let r = 0; r < 8; r++) {
          const at = (my * 8 + r) * (p.width / 2) + mx * 8;
          chroma.set(plane.subarray(at, at + 8), r * 8);
        }
        w.raw(chroma);
      }
    }
  }
  return nal(3, 5, w.trailing());
}

function pSkipNal(frameNum: number, mbCount: number): Buffer {
  const w = new BitWriter();
  w.ue(0); // first_mb_in_slice
  w.ue(5); // slice_type P (all slices of the picture)
  w.ue(0); // pic_parameter_set_id
  w.u(LOG2_MAX_FRAME_NUM, frameNum);
  w.u(1, 0); // num_ref_idx_active_override_flag
  w.u(1, 0); // ref_pic_list_modification_flag_l0
  w.u(1, 0); // adaptive_ref_pic_marking_mode_flag
  w.se(0); // slice_qp_delta
  w.ue(1); // disable_deblocking_filter_idc
  w.ue(mbCount); // mb_skip_run: every macroblock copies the reference picture
  return nal(2, 1, w.trailing());
}

// ---------------------------------------------------------------------------
// The picture

type Rgb = [number, number, number];

function hsv(h: number, s: number, v: number): Rgb {
  const f = (n: number): number => {
    const k = (n + h / 60) % 6;
    return v - v * s * Math.max(0, Math.min(k, 4 - k, 1));
  };
  return [f(5), f(3), f(1)];
}

/** Draws second `second` of `seconds`; BT.601 limited range keeps every sample in 16..240. */
function paint(width: number, height: number, variant: number, second: number, seconds: number): Planes {
  const hue = variant * 45;
  const block = 32;
  const t = seconds > 1 ? second / (seconds - 1) : 0;
  const bx = Math.round(t * (width - block));
  // Starts below the variant marker and stops above the progress bar.
  const by = 12 + Math.round(t * (height - block - 12 - 12));
  const barEnd = Math.round(((second + 1) / seconds) * width);
  const rgbAt = (x: number, y: number): Rgb => {
    if (y >= height - 8) return x < barEnd ? [1, 1, 1] : [0.1, 0.1, 0.1];
    if (x >= bx && x < bx + block && y >= by && y < by + block) {
      const edge = x < bx + 2 || x >= bx + block - 2 || y < by + 2 || y >= by + block - 2;
      return edge ? [0, 0, 0] : [1, 1, 1];
    }
    // Variant marker: one 6x6 square per variant step, so hue is not the only cue.
    if (y >= 4 && y < 10 && x >= 4 && (x - 4) % 10 < 6 && Math.floor((x - 4) / 10) <= variant) return [1, 1, 1];
    return hsv(hue + (30 * x) / width, 0.75, 0.95 - (0.4 * y) / height);
  };
  const y = new Uint8Array(width * height);
  const cb = new Uint8Array((width / 2) * (height / 2));
  const cr = new Uint8Array((width / 2) * (height / 2));
  const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, Math.round(v)));
  for (let j = 0; j < height; j += 2) {
    for (let i = 0; i < width; i += 2) {
      let sb = 0;
      let sr = 0;
      for (const [dx, dy] of [[0, 0], [1, 0], [0, 1], [1, 1]] as const) {
        const [r, g, b] = rgbAt(i + dx, j + dy);
        y[(j + dy) * width + i + dx] = clamp(16 + 65.481 * r + 128.553 * g + 24.966 * b, 16, 235);
        sb += 128 - 37.797 * r - 74.203 * g + 112 * b;
        sr += 128 + 112 * r - 93.786 * g - 18.214 * b;
      }
      const c = (j / 2) * (width / 2) + i / 2;
      cb[c] = clamp(sb / 4, 16, 240);
      cr[c] = clamp(sr / 4, 16, 240);
    }
  }
  return { width, height, y, cb, cr };
}

// ---------------------------------------------------------------------------
// ISO BMFF container

function u8(v: number): Buffer {
  return Buffer.from([v & 0xff]);
}
function u16(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v);
  return b;
}
function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0);
  return b;
}
function box(type: string, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  return Buffer.concat([u32(8 + body.length), Buffer.from(type, 'latin1'), body]);
}
function fullBox(type: string, version: number, flags: number, ...parts: Buffer[]): Buffer {
  return box(type, u32((version << 24) | flags), ...parts);
}

const MATRIX = Buffer.concat([0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000].map(u32));

interface Layout {
  width: number;
  height: number;
  durationSec: number;
  sps: Buffer;
  pps: Buffer;
  sampleSizes: number[];
  /** 1-based sample numbers of the IDR frames. */
  syncSamples: number[];
  /** Where each chunk (one per second of samples) starts in the file. */
  chunkOffsets: number[];
}

function moovBox(l: Layout): Buffer {
  const mediaDuration = l.sampleSizes.length * (MEDIA_TIMESCALE / FPS);
  const movieDuration = l.durationSec * MOVIE_TIMESCALE;
  const mvhd = fullBox('mvhd', 0, 0, u32(0), u32(0), u32(MOVIE_TIMESCALE), u32(movieDuration),
    u32(0x00010000), u16(0x0100), Buffer.alloc(10), MATRIX, Buffer.alloc(24), u32(2));
  const tkhd = fullBox('tkhd', 0, 3, u32(0), u32(0), u32(1), u32(0), u32(movieDuration), Buffer.alloc(8),
    u16(0), u16(0), u16(0), u16(0), MATRIX, u32(l.width * 0x10000), u32(l.height * 0x10000));
  const mdhd = fullBox('mdhd', 0, 0, u32(0), u32(0), u32(MEDIA_TIMESCALE), u32(mediaDuration), u16(0x55c4) /* und */, u16(0));
  const hdlr = fullBox('hdlr', 0, 0, u32(0), Buffer.from('vide'), Buffer.alloc(12), Buffer.from('VideoHandler\0'));
  const avcC = box('avcC', u8(1), u8(PROFILE_IDC), u8(CONSTRAINT_FLAGS), u8(LEVEL_IDC), u8(0xff), u8(0xe1),
    u16(l.sps.length), l.sps, u8(1), u16(l.pps.length), l.pps);
  const compressor = Buffer.alloc(32);
  compressor.write('\x08vidbatch', 'latin1');
  const avc1 = box('avc1', Buffer.alloc(6), u16(1), Buffer.alloc(16), u16(l.width), u16(l.height),
    u32(0x00480000), u32(0x00480000), u32(0), u16(1), compressor, u16(0x18), u16(0xffff), avcC);
  const stbl = box('stbl',
    fullBox('stsd', 0, 0, u32(1), avc1),
    fullBox('stts', 0, 0, u32(1), u32(l.sampleSizes.length), u32(MEDIA_TIMESCALE / FPS)),
    fullBox('stss', 0, 0, u32(l.syncSamples.length), ...l.syncSamples.map(u32)),
    fullBox('stsc', 0, 0, u32(1), u32(1), u32(FPS), u32(1)),
    fullBox('stsz', 0, 0, u32(0), u32(l.sampleSizes.length), ...l.sampleSizes.map(u32)),
    fullBox('stco', 0, 0, u32(l.chunkOffsets.length), ...l.chunkOffsets.map(u32)),
  );
  const minf = box('minf',
    fullBox('vmhd', 0, 1, u16(0), u16(0), u16(0), u16(0)),
    box('dinf', fullBox('dref', 0, 0, u32(1), fullBox('url ', 0, 1))),
    stbl,
  );
  return box('moov', mvhd, box('trak', tkhd, box('mdia', mdhd, hdlr, minf)));
}

function build(durationSec: number, aspectRatio: AspectRatio, variant: number): Buffer {
  const { width, height } = SIZES[aspectRatio];
  const mbCount = (width / 16) * (height / 16);
  const samples: Buffer[] = [];
  const syncSamples: number[] = [];
  const withLength = (n: Buffer): Buffer => Buffer.concat([u32(n.length), n]);
  // Every P frame of every second is the same bytes: encode it once per frame_num.
  const pFrames = Array.from({ length: FPS }, (_, i) => (i === 0 ? Buffer.alloc(0) : withLength(pSkipNal(i, mbCount))));
  for (let s = 0; s < durationSec; s++) {
    syncSamples.push(samples.length + 1);
    samples.push(withLength(idrNal(paint(width, height, variant, s, durationSec), s % 256)));
    for (let f = 1; f < FPS; f++) samples.push(pFrames[f]!);
  }
  const ftyp = box('ftyp', Buffer.from('isom'), u32(0x200), Buffer.from('isomiso2avc1mp41'));
  const chunkStarts: number[] = [];
  let at = 0;
  samples.forEach((s, i) => {
    if (i % FPS === 0) chunkStarts.push(at);
    at += s.length;
  });
  const layout: Layout = {
    width, height, durationSec,
    sps: spsNal(width / 16, height / 16), pps: ppsNal(),
    sampleSizes: samples.map((s) => s.length), syncSamples, chunkOffsets: chunkStarts,
  };
  // stco entries are fixed-size, so the moov measured with relative offsets has its final size.
  const moovSize = moovBox(layout).length;
  const mdatPayload = ftyp.length + moovSize + 8;
  const moov = moovBox({ ...layout, chunkOffsets: chunkStarts.map((c) => c + mdatPayload) });
  const mdatBody = Buffer.concat(samples);
  return Buffer.concat([ftyp, moov, u32(8 + mdatBody.length), Buffer.from('mdat'), mdatBody]);
}

const cache = new Map<string, Buffer>();

/**
 * A faststart MP4 (moov before mdat) of exactly `durationSec` seconds at 24 fps.
 * Returns a fresh copy each call; the encoded bytes are cached per
 * (durationSec, aspectRatio, variant % 8).
 */
export function synthesizeMp4(opts: SynthesizeOptions): Buffer {
  const { durationSec, aspectRatio } = opts;
  if (!Number.isInteger(durationSec) || durationSec < 1 || durationSec > 3600) {
    throw new RangeError(`Expected \`durationSec\` to be a whole number from 1 to 3600, got \`${durationSec}\` (${typeof durationSec})`);
  }
  if (!(aspectRatio in SIZES)) {
    throw new RangeError(`Expected \`aspectRatio\` to be one of ${Object.keys(SIZES).join(', ')}, got \`${String(aspectRatio)}\``);
  }
  if (!Number.isFinite(opts.variant)) {
    throw new RangeError(`Expected \`variant\` to be a finite number, got \`${opts.variant}\``);
  }
  const variant = ((Math.trunc(opts.variant) % 8) + 8) % 8;
  const key = `${durationSec}|${aspectRatio}|${variant}`;
  let mp4 = cache.get(key);
  if (!mp4) {
    mp4 = build(durationSec, aspectRatio, variant);
    cache.set(key, mp4);
  }
  return Buffer.from(mp4);
}

/**
 * Appends a top-level `free` box holding `text` (UTF-8). Players skip `free` boxes,
 * so the file stays valid while its bytes (and hash) become unique per task.
 */
export function withTrailer(mp4: Buffer, text: string): Buffer {
  return Buffer.concat([mp4, box('free', Buffer.from(text, 'utf8'))]);
}
