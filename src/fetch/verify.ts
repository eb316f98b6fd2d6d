/**
 * Decides whether a downloaded file is a complete, playable MP4 before it may be
 * renamed into the output folder. Two independent checks, because each one alone
 * lets a broken file through:
 *   1. our own walk of the top-level boxes: every box must fit in the file exactly.
 *      mp4box reports a faststart file as ready as soon as it has the moov, even when
 *      the mdat after it was cut off halfway.
 *   2. mp4box parses the moov: there must be a video track with samples, and every
 *      sample must lie inside an mdat that is really in the file.
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
    const boxes = await walkTopLevel(fh, size);
    return await parseWithMp4box(fh, size, boxes);
  } catch (e) {
    if (e instanceof Invalid) {
      throw new DownloadError(ERROR_CODES.INVALID_MEDIA, `${path} is not a complete MP4: ${e.message}`, { url: path });
    }
    // A missing file or EMFILE says nothing about the media; the caller must see it as is.
    if (isSystemError(e)) throw e;
    const why = e instanceof Error ? e.message : String(e);
    throw new DownloadError(ERROR_CODES.INVALID_MEDIA, `${path} could not be verified as an MP4: ${why}`, { url: path, cause: e });
  } finally {
    await fh?.close();
  }
}

function isSystemError(e: unknown): e is NodeJS.ErrnoException {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string' && typeof (e as NodeJS.ErrnoException).syscall === 'string';
}

async function walkTopLevel(fh: FileHandle, size: number): Promise<TopBox[]> {
  if (size === 0) throw new Invalid('the file is empty');
  const boxes: TopBox[] = [];
  const header = Buffer.alloc(HEADER_SIZE);
  let pos = 0;
  while (pos < size) {
    const remaining = size - pos;
    if (remaining < 8) throw new Invalid(`${remaining} stray bytes at offset ${pos}, too few for a box header`);
    const { bytesRead } = await fh.read(header, 0, Math.min(HEADER_SIZE, remaining), pos);
    if (bytesRead < 8) throw new Invalid(`short read at offset ${pos}`);
    const size32 = header.readUInt32BE(0);
    const typeBytes = header.subarray(4, 8);
    // Real box types are four printable characters; anything else means we are not in an MP4.
    if (!typeBytes.every((b) => b >= 0x20 && b <= 0x7e)) {
      throw new Invalid(`no box type at offset ${pos} (bytes ${typeBytes.toString('hex')})`);
    }
    const type = typeBytes.toString('latin1');
    let boxSize: number;
    if (size32 === 1) {
      if (bytesRead < 16) throw new Invalid(`box '${type}' at offset ${pos} is cut off in its 64-bit size`);
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

async function parseWithMp4box(fh: FileHandle, size: number, boxes: TopBox[]): Promise<Mp4Info> {
  const iso = createFile(false);
  let info: Movie | undefined;
  let problem: string | undefined;
  iso.onReady = (movie) => {
    info = movie;
  };
  iso.onError = (module, message) => {
    problem ??= `${module}: ${message}`;
  };
  let pos = 0;
  while (pos < size && info === undefined && problem === undefined) {
    const length = Math.min(CHUNK_SIZE, size - pos);
    const chunk = new ArrayBuffer(length);
    const { bytesRead } = await fh.read(new Uint8Array(chunk), 0, length, pos);
    if (bytesRead !== length) throw new Invalid(`short read at offset ${pos}`);
    const end = pos + length;
    let next: number | undefined;
    try {
      next = iso.appendBuffer(MP4BoxBuffer.fromArrayBuffer(chunk, pos), end === size);
    } catch (e) {
      throw new Invalid(`mp4box could not parse it (${e instanceof Error ? e.message : String(e)})`);
    }
    // mp4box asks to skip ahead over an mdat whose data it discards; never go back,
    // since re-feeding overlapping ranges could loop forever on a hostile file.
    pos = typeof next === 'number' && Number.isFinite(next) && next > end ? next : end;
  }
  if (info === undefined && problem === undefined) {
    try {
      iso.flush();
    } catch (e) {
      throw new Invalid(`mp4box could not parse it (${e instanceof Error ? e.message : String(e)})`);
    }
  }
  if (problem !== undefined) throw new Invalid(`mp4box reported ${problem}`);
  // mp4box stays silent on some broken input: no answer by the end of the file is a no.
  if (info === undefined) throw new Invalid('mp4box found no complete movie header');
  const movie: Movie = info;

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
