/**
 * Decides whether a downloaded file is a complete, playable MP4 before it may be
 * renamed into the output folder. Two independent checks, because each one alone
 * lets a broken file through:
 *   1. our own walk of the top-level boxes: every box must fit in the file exactly.
 *      mp4box reports a faststart file as ready as soon as it has the moov, even when
 *      the mdat after it was cut off halfway.
 *   2. mp4box parses the moov: there must be a video track with samples, and every
 *      sample must lie inside an mdat that is really in the file.
 *
 * Both checks run on one `Mp4Verifier`, fed the file's bytes in order. The download feeds
 * it the body as it streams to disk (so the file is never read back); `verifyMp4File`
 * feeds it a file, reading only the ranges it asks for (box headers, the moov).
 * The verdict is the same either way: it depends on the bytes, not on how they were cut.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { createFile, MP4BoxBuffer, type Movie, type Sample } from 'mp4box';
import { DownloadError, ERROR_CODES } from '../core/errors.js';

export interface Mp4Info {
  durationSec: number;
  width: number;
  height: number;
  /** RFC 6381 codec string, e.g. `avc1.42c01e`. */
  codec: string;
  /** Major brand first, then the compatible brands, as mp4box reports them. */
  brands: string[];
}

interface TopBox {
  type: string;
  start: number;
  end: number;
}

const CHUNK_SIZE = 1 << 20;
/** Large enough for a 64-bit box header. */
const HEADER_SIZE = 16;
/**
 * What mp4box may be handed before it has the movie header. mp4box is never fed an
 * mdat's payload (it asks to skip it), so this bounds the boxes before and including the
 * moov: a short video's moov is tens of KiB, a two-hour film's a few MiB. Above this a
 * body is refused rather than held in memory.
 */
const MAX_HEADER_BYTES = 64 << 20;
/** mp4box is handed bytes in pieces of at least this much (byte-sized pieces cost it quadratic time). */
const FEED_BYTES = 64 << 10;

class Invalid extends Error {}

/**
 * Verifies that the file at `path` is a complete MP4 with a video track.
 * Throws DownloadError(E_INVALID_MEDIA) with `url` set to `path` when it is not.
 * File system errors (ENOENT, EACCES, EMFILE…) are rethrown unchanged; anything else
 * unexpected while reading the structure becomes E_INVALID_MEDIA with it as `cause`.
 */
export async function verifyMp4File(path: string): Promise<Mp4Info> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(path, 'r');
    const { size } = await fh.stat();
    const v = new Mp4Verifier();
    for (let pos = v.needed(); pos !== undefined && pos < size; pos = v.needed()) {
      const length = Math.min(CHUNK_SIZE, size - pos);
      const chunk = Buffer.allocUnsafe(length);
      const { bytesRead } = await fh.read(chunk, 0, length, pos);
      if (bytesRead !== length) throw new Invalid(`short read at offset ${pos}`);
      v.push(chunk, pos);
    }
    return v.finish(path, size);
  } catch (e) {
    throw asVerdict(e, path);
  } finally {
    await fh?.close();
  }
}

function asVerdict(e: unknown, path: string): unknown {
  if (e instanceof DownloadError) return e;
  if (e instanceof Invalid) {
    return new DownloadError(ERROR_CODES.INVALID_MEDIA, `${path} is not a complete MP4: ${e.message}`, { url: path });
  }
  // A missing file or EMFILE says nothing about the media; the caller must see it as is.
  if (isSystemError(e)) return e;
  const why = e instanceof Error ? e.message : String(e);
  return new DownloadError(ERROR_CODES.INVALID_MEDIA, `${path} could not be verified as an MP4: ${why}`, { url: path, cause: e });
}

function isSystemError(e: unknown): e is NodeJS.ErrnoException {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string' && typeof (e as NodeJS.ErrnoException).syscall === 'string';
}

/** A top-level box header as it was seen: its offset and its first bytes (up to 16). */
interface SeenHeader {
  start: number;
  bytes: Buffer;
}

/**
 * Verifies an MP4 from its bytes, pushed in file order (`push(chunk, at)`; ranges it does
 * not need — `needed()` says where the next one is — may be left out). Memory stays small
 * whatever the file's size: it keeps the top-level box headers, and mp4box gets the boxes
 * up to the moov but never the media data. `finish(label, size)` gives the verdict.
 */
export class Mp4Verifier {
  // ---- our walk of the top-level boxes ----
  readonly #headers: SeenHeader[] = [];
  /** Offset of the header being gathered; Infinity once the walk has nowhere further to go. */
  #hs = 0;
  readonly #hb = Buffer.alloc(HEADER_SIZE);
  /** Bytes of it gathered so far. */
  #hn = 0;
  /** A header no MP4 has was seen: the verdict is known, mp4box need not read on. */
  #broken = false;

  // ---- mp4box ----
  readonly #iso: ReturnType<typeof createFile> = createFile(false);
  #movie: Movie | undefined;
  #problem: string | undefined;
  /** Where mp4box wants its next bytes from; undefined once it has the movie header or gave up. */
  #want: number | undefined = 0;
  #fed = 0;
  /** Bytes from `#partsAt` on, gathered for mp4box (it is fed in FEED_BYTES pieces, never byte by byte). */
  #parts: Uint8Array[] = [];
  #partBytes = 0;
  #partsAt = 0;
  /** The mdat boxes the walk has seen: mp4box may skip over them. */
  readonly #mdats: { start: number; end: number }[] = [];

  constructor() {
    this.#iso.onReady = (movie) => {
      this.#movie = movie;
    };
    this.#iso.onError = (module, message) => {
      this.#problem ??= `mp4box reported ${module}: ${message}`;
    };
  }

  /** The lowest file offset still wanted, or undefined when nothing more is (the rest may be skipped). */
  needed(): number | undefined {
    const walk = this.#hs === Infinity ? undefined : this.#hs + this.#hn;
    const mp4box = this.#want === undefined ? undefined : this.#partBytes > 0 ? this.#partsAt + this.#partBytes : this.#want;
    if (walk === undefined) return mp4box;
    return mp4box === undefined ? walk : Math.min(walk, mp4box);
  }

  /** The bytes at file offset `at` (the next ones after the last push, or further on but not past `needed()`). */
  push(chunk: Uint8Array, at: number): void {
    if (chunk.length === 0) return;
    this.#walk(chunk, at);
    this.#feed(chunk, at);
  }

  #walk(chunk: Uint8Array, at: number): void {
    const end = at + chunk.length;
    while (this.#hs < end) {
      const from = this.#hs + this.#hn;
      if (from < at) throw new Error(`Mp4Verifier: bytes at ${from} were skipped`);
      const take = Math.min(HEADER_SIZE - this.#hn, end - from);
      this.#hb.set(chunk.subarray(from - at, from - at + take), this.#hn);
      this.#hn += take;
      if (this.#hn < 8) return;
      const size32 = this.#hb.readUInt32BE(0);
      if (size32 === 1 && this.#hn < 16) return;
      // Enough to know where the next box starts (or that there is none to look for).
      this.#headers.push({ start: this.#hs, bytes: Buffer.from(this.#hb.subarray(0, this.#hn)) });
      const typed = this.#hb.subarray(4, 8).every((b) => b >= 0x20 && b <= 0x7e);
      let boxSize = 0;
      if (!typed) boxSize = 0;
      else if (size32 === 1) {
        const large = this.#hb.readBigUInt64BE(8);
        boxSize = large >= 16n && large <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(large) : 0;
      } else if (size32 >= 8) boxSize = size32;
      if (typed && this.#hb.toString('latin1', 4, 8) === 'mdat') {
        this.#mdats.push({ start: this.#hs, end: size32 === 0 ? Infinity : this.#hs + boxSize });
      }
      // 0: a bad header (finish() says why) or a box to the end of the file: the walk stops here.
      if (boxSize === 0) {
        this.#broken = !typed || size32 !== 0;
        this.#hs = Infinity;
        this.#hn = 0;
        return;
      }
      // The header bytes past a box shorter than 16 bytes are the start of the next header.
      const keep = Math.max(0, this.#hn - boxSize);
      if (keep > 0) this.#hb.copyWithin(0, boxSize, this.#hn);
      this.#hs += boxSize;
      this.#hn = keep;
    }
  }

  #feed(chunk: Uint8Array, at: number): void {
    const end = at + chunk.length;
    if (this.#want === undefined || end <= this.#want) return;
    if (this.#broken) {
      this.#want = undefined;
      this.#parts = [];
      this.#partBytes = 0;
      return;
    }
    const from = Math.max(this.#want, at);
    if (this.#partBytes > 0 && from !== this.#partsAt + this.#partBytes) this.#flushFeed();
    if (this.#want === undefined) return;
    if (this.#partBytes === 0) this.#partsAt = from;
    this.#parts.push(chunk.subarray(from - at));
    this.#partBytes += end - from;
    if (this.#partBytes >= FEED_BYTES) this.#flushFeed();
  }

  /** Hands the gathered bytes to mp4box as one buffer. */
  #flushFeed(): void {
    if (this.#partBytes === 0 || this.#want === undefined) return;
    const from = this.#partsAt;
    const end = from + this.#partBytes;
    // mp4box keeps what it is given until it has parsed it: a private copy, never a view of a reused buffer.
    const ab = new ArrayBuffer(this.#partBytes);
    const view = new Uint8Array(ab);
    let o = 0;
    for (const p of this.#parts) {
      view.set(p, o);
      o += p.length;
    }
    this.#parts = [];
    this.#partBytes = 0;
    this.#fed += ab.byteLength;
    let next: number | undefined;
    try {
      next = this.#iso.appendBuffer(MP4BoxBuffer.fromArrayBuffer(ab, from), false);
    } catch (e) {
      this.#problem ??= `mp4box could not parse it (${e instanceof Error ? e.message : String(e)})`;
    }
    if (this.#movie !== undefined || this.#problem !== undefined) {
      this.#want = undefined;
    } else if (this.#fed > MAX_HEADER_BYTES) {
      this.#problem = `no complete movie header in the first ${MAX_HEADER_BYTES} bytes of boxes before the media data`;
      this.#want = undefined;
    } else {
      // mp4box names the next position it wants. Past an mdat (whose data it discards)
      // that is a skip; but for a box it has only begun it names the box's end (it wants
      // everything up to there), and skipping would starve it. So only a jump that lands
      // inside or at the end of an mdat our walk has seen is taken; otherwise the bytes
      // keep coming in order. Never back: re-feeding overlapping ranges could loop forever.
      const skip = typeof next === 'number' && Number.isFinite(next) && next > end && this.#mdats.some((m) => m.start < end && next! <= m.end);
      this.#want = skip ? next : end;
    }
  }

  /**
   * The verdict on a file of `size` bytes whose bytes were all pushed (or skipped as
   * `needed()` allowed). Throws DownloadError(E_INVALID_MEDIA) naming `label` (the path).
   */
  finish(label: string, size: number): Mp4Info {
    try {
      this.#flushFeed();
      const boxes = this.#topLevel(size);
      return this.#judge(boxes);
    } catch (e) {
      throw asVerdict(e, label);
    }
  }

  #topLevel(size: number): TopBox[] {
    if (size === 0) throw new Invalid('the file is empty');
    // A header still being gathered when the bytes ran out is judged with what there was.
    if (this.#hs < size && this.#hn > 0) {
      this.#headers.push({ start: this.#hs, bytes: Buffer.from(this.#hb.subarray(0, this.#hn)) });
      this.#hs = Infinity;
      this.#hn = 0;
    }
    const boxes: TopBox[] = [];
    let pos = 0;
    let next = 0;
    while (pos < size) {
      const remaining = size - pos;
      if (remaining < 8) throw new Invalid(`${remaining} stray bytes at offset ${pos}, too few for a box header`);
      const seen = this.#headers[next++];
      if (seen?.start !== pos) throw new Invalid(`short read at offset ${pos}`);
      const header = seen.bytes.subarray(0, Math.min(HEADER_SIZE, remaining));
      if (header.length < 8) throw new Invalid(`short read at offset ${pos}`);
      const size32 = header.readUInt32BE(0);
      const typeBytes = header.subarray(4, 8);
      // Real box types are four printable characters; anything else means we are not in an MP4.
      if (!typeBytes.every((b) => b >= 0x20 && b <= 0x7e)) {
        throw new Invalid(`no box type at offset ${pos} (bytes ${typeBytes.toString('hex')})`);
      }
      const type = typeBytes.toString('latin1');
      let boxSize: number;
      if (size32 === 1) {
        if (header.length < 16) throw new Invalid(`box '${type}' at offset ${pos} is cut off in its 64-bit size`);
        const large = header.readBigUInt64BE(8);
        if (large < 16n) throw new Invalid(`box '${type}' at offset ${pos} declares a 64-bit size of ${large}, below its header`);
        if (large > BigInt(remaining)) throw new Invalid(`box '${type}' at offset ${pos} declares ${large} bytes but only ${remaining} remain`);
        boxSize = Number(large);
      } else if (size32 === 0) {
        boxSize = remaining; // "extends to the end of the file"
      } else {
        if (size32 < 8) throw new Invalid(`box '${type}' at offset ${pos} declares a size of ${size32}, below its header`);
        if (size32 > remaining) throw new Invalid(`box '${type}' at offset ${pos} declares ${size32} bytes but only ${remaining} remain`);
        boxSize = size32;
      }
      boxes.push({ type, start: pos, end: pos + boxSize });
      pos += boxSize;
    }
    for (const required of ['ftyp', 'moov', 'mdat']) {
      if (!boxes.some((b) => b.type === required)) {
        throw new Invalid(`no '${required}' box (top-level boxes: ${boxes.map((b) => b.type).join(', ') || 'none'})`);
      }
    }
    return boxes;
  }

  #judge(boxes: TopBox[]): Mp4Info {
    const iso = this.#iso;
    if (this.#movie === undefined && this.#problem === undefined) {
      try {
        iso.flush();
      } catch (e) {
        throw new Invalid(`mp4box could not parse it (${e instanceof Error ? e.message : String(e)})`);
      }
    }
    if (this.#problem !== undefined) throw new Invalid(this.#problem);
    // mp4box stays silent on some broken input: no answer by the end of the file is a no.
    if (this.#movie === undefined) throw new Invalid('mp4box found no complete movie header');
    const movie: Movie = this.#movie;

    // The provider delivers progressive files; samples of a fragmented file live in moofs
    // that this check does not read, so it cannot vouch for them.
    if (movie.isFragmented) throw new Invalid('fragmented MP4 (moof boxes) is not supported');
    const track = movie.videoTracks[0];
    if (!track) throw new Invalid(`no video track (tracks: ${movie.tracks.map((t) => t.type ?? 'unknown').join(', ') || 'none'})`);
    if (track.nb_samples === 0) throw new Invalid(`video track ${track.id} has no samples`);
    if (!(movie.timescale > 0) || !(movie.duration > 0)) {
      throw new Invalid(`movie duration is ${movie.duration} at timescale ${movie.timescale}`);
    }
    const width = track.video?.width ?? track.track_width;
    const height = track.video?.height ?? track.track_height;
    if (!(width > 0) || !(height > 0)) throw new Invalid(`video track ${track.id} has no picture size (${width}x${height})`);

    const mdats = boxes.filter((b) => b.type === 'mdat');
    for (const t of movie.tracks) {
      // Typed as always present, but mp4box returns undefined for a track it does not know.
      const samples: Sample[] | undefined = iso.getTrackSamplesInfo(t.id);
      for (const s of samples ?? []) {
        if (!mdats.some((m) => s.offset >= m.start + 8 && s.offset + s.size <= m.end)) {
          throw new Invalid(`sample ${s.number + 1} of track ${t.id} (${s.size} bytes at offset ${s.offset}) lies outside every mdat`);
        }
      }
    }

    return {
      durationSec: movie.duration / movie.timescale,
      width,
      height,
      codec: track.codec,
      // mp4box lists the major brand and then the compatible ones, which usually repeat it.
      brands: [...new Set(movie.brands)],
    };
  }
}
