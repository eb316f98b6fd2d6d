/**
 * The disk side of downloads, off the main thread: a small pool of worker threads that
 * write each `.part` file, hash it (sha256) as it is written, fsync it, close it and rename
 * it into place, and write sidecars durably.
 *
 * Why not the libuv thread pool (fs/promises)? It has 4 threads shared by every file
 * system call of the process, and an fsync holds its thread for milliseconds (tens of
 * them on a busy disk): with a few downloads finishing at once the pool is all fsyncs,
 * and every other open, write or rename waits behind them; and each of the six calls a
 * file needs (mkdir, open, write, fsync, close, rename) is a hand-off between threads.
 * Here a video smaller than a block costs one request (create, write, hash, fsync, close,
 * rename in one go), a larger one a request per MiB more; fsyncs of different files
 * overlap up to the pool's size; and the sha256 of every byte is computed beside the main
 * thread, not on it. Video data goes to the disk with O_DIRECT where it can (see below).
 *
 * Order is kept per file (one worker owns a file for its whole life, and a port delivers
 * in order), so a file is hashed exactly as it is written. System errors come back as
 * Errors with their `code`, `syscall`, `errno` and `path`, as fs/promises would give them.
 * Should a worker die (it cannot throw: every request is caught), its requests fail, the
 * downloads concerned remove their `.part` and are retried, and the next request starts
 * a fresh worker.
 */
import { unlink } from 'node:fs';
import { Worker } from 'node:worker_threads';

/** Worker threads in the pool: enough to overlap the fsyncs of a download pool. */
const POOL_SIZE = 4;
/** Blocks (of up to WRITE_BLOCK_BYTES each) of one file that may wait in its worker before the download waits. */
const MAX_BLOCKS_IN_FLIGHT = 2;

// Plain JavaScript, run with `eval`: no module resolution, so it works alike from src
// (tsx) and from dist.
const WORKER_SOURCE = String.raw`
'use strict';
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const { dirname } = require('node:path');
const { createHash } = require('node:crypto');

/** file id (chosen by the main thread) -> the file's state (see fileOf). */
const files = new Map();

function writeAll(fd, buf, offset, length, position) {
  let done = 0;
  while (done < length) {
    const n = fs.writeSync(fd, buf, offset + done, length - done, position + done);
    if (n <= 0) throw Object.assign(new Error('write wrote nothing'), { code: 'EIO', syscall: 'write' });
    done += n;
  }
}

/** Opens for writing, making the folder first when it is missing (mkdir -p, as before every download). */
function openCreating(path, flags) {
  try {
    return fs.openSync(path, flags, 0o666);
  } catch (e) {
    if (e.code !== 'ENOENT') throw e;
    fs.mkdirSync(dirname(path), { recursive: true });
    return fs.openSync(path, flags, 0o666);
  }
}

// Video data is written with O_DIRECT where the file system takes it: straight from this
// worker's buffer to the device, not copied into the page cache first. That copy is most
// of the CPU a write costs (more in a VM, where every fresh page-cache page is faulted in
// by the host), and gigabytes of videos nobody reads back would only push other data out
// of the cache. O_DIRECT wants offsets, lengths and the buffer's address aligned, so the
// bytes are staged in an aligned buffer (a WebAssembly memory starts on a page) and the
// last partial block is written padded, then the file is truncated to its size. Where
// O_DIRECT is refused (EINVAL: some network or FUSE file systems, old tmpfs), the file is
// written through the page cache instead, as it is everywhere with VIDBATCH_DIRECT_IO=0
// in the environment. Durability is the same either way: fsync before rename.
const ALIGN = 4096;
const STAGE_BYTES = 2 << 20;
const O_DIRECT = process.env.VIDBATCH_DIRECT_IO === '0' ? undefined : fs.constants.O_DIRECT;
// For tests: a file system that takes O_DIRECT at open but refuses the writes (EINVAL)
// after this many of a file's direct writes, as some FUSE and network ones do.
const DIRECT_WRITES_TAKEN = /^\d+$/.test(process.env.VIDBATCH_TEST_DIRECT_WRITES ?? '') ? Number(process.env.VIDBATCH_TEST_DIRECT_WRITES) : Infinity;
function writeAligned(f, buf, length, position) {
  if (f.directWrites++ >= DIRECT_WRITES_TAKEN) throw Object.assign(new Error('EINVAL: invalid argument, write (test)'), { code: 'EINVAL', syscall: 'write' });
  writeAll(f.fd, buf, 0, length, position);
}
const WRITE_FLAGS = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC;
let stage;
function stageBuffer() {
  stage ??= Buffer.from(new WebAssembly.Memory({ initial: Math.ceil((STAGE_BYTES + ALIGN) / 65536) }).buffer);
  return stage;
}

/** The file a request is about, opened (created or emptied) by the first request that needs it. */
function fileOf(m) {
  let f = files.get(m.file);
  if (!f) {
    // pos: where the next aligned write goes; carry: the bytes after it, fewer than ALIGN, not yet written.
    f = { fd: -1, part: m.part, direct: false, directWrites: 0, pos: 0, carry: Buffer.alloc(0), hash: createHash('sha256'), written: 0, error: undefined };
    files.set(m.file, f);
    try {
      if (O_DIRECT) {
        try {
          f.fd = openCreating(m.part, WRITE_FLAGS | O_DIRECT);
          f.direct = true;
        } catch (e) {
          if (e.code !== 'EINVAL') throw e;
        }
      }
      if (!f.direct) f.fd = openCreating(m.part, WRITE_FLAGS);
    } catch (e) {
      f.error = e;
    }
  }
  if (f.error) throw f.error;
  return f;
}

/** Leaves O_DIRECT for this file: reopened through the page cache (nothing written is lost). */
function buffered(f) {
  fs.closeSync(f.fd);
  f.fd = -1;
  f.fd = fs.openSync(f.part, fs.constants.O_WRONLY);
  f.direct = false;
}

/** Writes 'bytes' (which follow the carry) with O_DIRECT, keeping the unaligned tail as the new carry. */
function writeDirect(f, bytes) {
  const st = stageBuffer();
  let i = 0;
  while (i < bytes.length) {
    st.set(f.carry, 0);
    let n = f.carry.length;
    const take = Math.min(bytes.length - i, STAGE_BYTES - n);
    bytes.copy(st, n, i, i + take);
    n += take;
    i += take;
    const aligned = n - (n % ALIGN);
    if (aligned > 0) {
      try {
        writeAligned(f, st, aligned, f.pos);
      } catch (e) {
        if (e.code !== 'EINVAL') throw e;
        buffered(f);
        writeAll(f.fd, st, 0, n, f.pos);
        f.pos += n;
        f.carry = Buffer.alloc(0);
        const rest = bytes.subarray(i);
        writeAll(f.fd, rest, 0, rest.length, f.pos);
        f.pos += rest.length;
        return;
      }
    }
    f.pos += aligned;
    f.carry = Buffer.from(st.subarray(aligned, n));
  }
}

/** The carry, padded to a whole block, then the file cut to its real length. */
function finishDirect(f) {
  if (f.carry.length === 0) return;
  const st = stageBuffer();
  const n = f.carry.length;
  st.set(f.carry, 0);
  st.fill(0, n, ALIGN);
  try {
    writeAligned(f, st, ALIGN, f.pos);
    fs.ftruncateSync(f.fd, f.pos + n);
  } catch (e) {
    if (e.code !== 'EINVAL') throw e;
    buffered(f);
    writeAll(f.fd, st, 0, n, f.pos);
    // The padded block may have gone in before the refusal: the file ends at its last byte.
    fs.ftruncateSync(f.fd, f.pos + n);
  }
  f.pos += n;
  f.carry = Buffer.alloc(0);
}

function writeBlock(f, data, length, position) {
  if (position !== f.written) throw new Error('disk worker: write at ' + position + ' after ' + f.written + ' bytes');
  const buf = Buffer.from(data, 0, length);
  f.hash.update(buf);
  f.written += buf.length;
  try {
    if (f.direct) writeDirect(f, buf);
    else {
      writeAll(f.fd, buf, 0, buf.length, f.pos);
      f.pos += buf.length;
    }
  } catch (e) {
    f.error = e;
    throw e;
  }
}

const ops = {
  write(m) {
    writeBlock(fileOf(m), m.data, m.length, m.position);
  },
  truncate(m) {
    const f = fileOf(m);
    fs.ftruncateSync(f.fd, 0);
    f.hash = createHash('sha256');
    f.written = 0;
    f.pos = 0;
    f.carry = Buffer.alloc(0);
  },
  commit(m) {
    const f = fileOf(m);
    if (m.data) writeBlock(f, m.data, m.length, m.position);
    if (f.written !== m.bytes) throw new Error('disk worker: ' + f.written + ' bytes written, ' + m.bytes + ' expected');
    if (f.direct) finishDirect(f);
    fs.fsyncSync(f.fd);
    fs.closeSync(f.fd);
    f.fd = -1;
    files.delete(m.file);
    fs.renameSync(f.part, m.dest);
    return f.hash.digest('hex');
  },
  abort(m) {
    const f = files.get(m.file);
    files.delete(m.file);
    if (f && f.fd >= 0) {
      try { fs.closeSync(f.fd); } catch {}
    }
    try {
      fs.unlinkSync(m.part);
    } catch (e) {
      // Nothing there, or no folder for it to be in.
      if (e.code !== 'ENOENT' && e.code !== 'ENOTDIR') throw e;
    }
  },
  durable(m) {
    const tmp = m.path + '.part';
    const fd = openCreating(tmp, WRITE_FLAGS);
    try {
      const buf = Buffer.from(m.data, 'utf8');
      writeAll(fd, buf, 0, buf.length, 0);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, m.path);
    if (m.appendPath) fs.appendFileSync(m.appendPath, m.appendData);
  },
};

function plain(e) {
  if (!(e instanceof Error)) return { message: String(e) };
  const out = { name: e.name, message: e.message, stack: e.stack };
  for (const k of ['code', 'syscall', 'errno', 'path', 'dest']) if (e[k] !== undefined) out[k] = e[k];
  return out;
}

parentPort.on('message', (m) => {
  // A block goes back to the main thread to be filled again: memory stays a few blocks per file.
  const give = m.data instanceof ArrayBuffer ? [m.data] : [];
  let value;
  try {
    value = ops[m.op](m);
  } catch (e) {
    // A write nobody waits for still fails the file: its next request reports it.
    parentPort.postMessage({ id: m.id, error: plain(e), block: give[0] }, give);
    return;
  }
  parentPort.postMessage({ id: m.id, value, block: give[0] }, give);
});
`;

interface SerializedError {
  name?: string;
  message: string;
  stack?: string;
  code?: string;
  syscall?: string;
  errno?: number;
  path?: string;
  dest?: string;
}

function revive(e: SerializedError): Error {
  const err = new Error(e.message) as NodeJS.ErrnoException & { dest?: string };
  if (e.name) err.name = e.name;
  if (e.stack) err.stack = e.stack;
  if (e.code !== undefined) err.code = e.code;
  if (e.syscall !== undefined) err.syscall = e.syscall;
  if (e.errno !== undefined) err.errno = e.errno;
  if (e.path !== undefined) err.path = e.path;
  if (e.dest !== undefined) err.dest = e.dest;
  return err;
}

type Request = { op: 'write'; file: number; part: string; data: ArrayBuffer; length: number; position: number }
  | { op: 'truncate'; file: number; part: string }
  | { op: 'commit'; file: number; part: string; dest: string; bytes: number; data?: ArrayBuffer; length?: number; position?: number }
  | { op: 'abort'; file: number; part: string }
  | { op: 'durable'; path: string; data: string; appendPath?: string; appendData?: string };

class DiskWorker {
  readonly #worker: Worker;
  readonly #waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #next = 1;
  #dead: Error | undefined;
  /** Files open in this worker (for choosing the least busy one). */
  open = 0;

  constructor(onDeath: (w: DiskWorker) => void) {
    this.#worker = new Worker(WORKER_SOURCE, { eval: true, name: 'vidbatch-disk' });
    // Idle workers never keep the process alive; one with requests in flight does (see #send).
    this.#worker.unref();
    this.#worker.on('message', (m: { id: number; value?: unknown; error?: SerializedError; block?: ArrayBuffer }) => {
      if (m.block) giveBack(m.block);
      const w = this.#waiting.get(m.id);
      if (!w) return;
      this.#waiting.delete(m.id);
      if (this.#waiting.size === 0) this.#worker.unref();
      if (m.error) w.reject(revive(m.error));
      else w.resolve(m.value);
    });
    const die = (err: Error) => {
      if (this.#dead) return;
      this.#dead = err;
      onDeath(this);
      for (const w of this.#waiting.values()) w.reject(err);
      this.#waiting.clear();
    };
    this.#worker.on('error', (err) => die(err instanceof Error ? err : new Error(String(err))));
    this.#worker.on('exit', (code) => die(new Error(`the disk worker exited (code ${code})`)));
  }

  get dead(): boolean {
    return this.#dead !== undefined;
  }

  send<T>(req: Request, transfer: ArrayBuffer[] = []): Promise<T> {
    if (this.#dead) return Promise.reject(this.#dead);
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      if (this.#waiting.size === 0) this.#worker.ref();
      this.#waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.#worker.postMessage({ id, ...req }, transfer);
    });
  }
}

let pool: DiskWorker[] = [];
/** Names a file in its worker (a descriptor number would not do: the kernel reuses them). */
let nextFileId = 1;

function pick(): DiskWorker {
  const live = pool.filter((w) => !w.dead);
  if (live.length < POOL_SIZE) {
    const w = new DiskWorker((dead) => {
      pool = pool.filter((x) => x !== dead);
    });
    pool.push(w);
    return w;
  }
  return live.reduce((a, b) => (b.open < a.open ? b : a));
}

/**
 * Blocks travel to a worker and back (transferred, never copied): a worker's heap would
 * otherwise hold every block it was given until its own garbage collector ran, which an
 * idle worker rarely does — hundreds of MB across the pool while gigabytes pass.
 */
const BLOCK_CAPACITY = (1 << 20) + (256 << 10);
const MAX_FREE_BLOCKS = 8;
const freeBlocks: ArrayBuffer[] = [];

function giveBack(ab: ArrayBuffer): void {
  if (ab.byteLength === BLOCK_CAPACITY && freeBlocks.length < MAX_FREE_BLOCKS) freeBlocks.push(ab);
}

/**
 * A `.part` file written by a disk worker. Nothing touches the disk until there is a
 * block to write: a file smaller than a block costs one request in all (`commit`: create
 * the `.part`, write, hash, fsync, close, rename). Blocks go in order and the worker
 * hashes them as it writes them; `commit` resolves to the sha256 of everything written.
 * `abort` closes the `.part` and removes it (also one left by an earlier, killed process).
 */
export class PartFile {
  readonly part: string;
  readonly #id = nextFileId++;
  #worker: DiskWorker | undefined;
  #inFlight: Promise<unknown>[] = [];
  #done = false;
  /** The block being filled (a pooled buffer), `#fill` bytes of it so far. */
  #block: ArrayBuffer | undefined;
  #view: Uint8Array | undefined;
  #fill = 0;
  /** Bytes handed to the worker before the current block. */
  #handed = 0;

  constructor(part: string) {
    this.part = part;
  }

  /** Bytes appended and not yet handed to the worker. */
  get buffered(): number {
    return this.#fill;
  }

  #send<T>(req: Request, transfer: ArrayBuffer[] = []): Promise<T> {
    if (!this.#worker) {
      this.#worker = pick();
      this.#worker.open++;
    }
    return this.#worker.send<T>(req, transfer);
  }

  /**
   * Copies `chunk` into the current block right away (so the network's buffers die young),
   * handing the block to the worker once it holds `blockBytes`. Returns a promise only when
   * the caller must wait (earlier blocks of this file still queued in the worker).
   */
  append(chunk: Uint8Array, blockBytes: number): Promise<void> | undefined {
    if (this.#fill + chunk.length > BLOCK_CAPACITY && this.#fill > 0) {
      const wait = this.#handOver();
      if (wait) return wait.then(() => this.append(chunk, blockBytes));
    }
    if (!this.#view) {
      this.#block = chunk.length <= BLOCK_CAPACITY ? (freeBlocks.pop() ?? new ArrayBuffer(BLOCK_CAPACITY)) : new ArrayBuffer(chunk.length);
      this.#view = new Uint8Array(this.#block);
    }
    this.#view.set(chunk, this.#fill);
    this.#fill += chunk.length;
    return this.#fill >= blockBytes ? this.#handOver() : undefined;
  }

  /** Sends the current block; returns a promise when too many blocks of this file are queued. */
  #handOver(): Promise<void> | undefined {
    const data = this.#block!;
    const length = this.#fill;
    const position = this.#handed;
    this.#block = undefined;
    this.#view = undefined;
    this.#fill = 0;
    this.#handed += length;
    const ack = this.#send({ op: 'write', file: this.#id, part: this.part, data, length, position }, [data]);
    // Failures are reported by the next request on the file too; this keeps the unwaited ones quiet.
    ack.catch(() => {});
    this.#inFlight.push(ack);
    if (this.#inFlight.length > MAX_BLOCKS_IN_FLIGHT) return this.#inFlight.shift()!.then(() => undefined);
    return undefined;
  }

  /** Empties the file, to start it over (the hash starts over too). */
  async truncate(): Promise<void> {
    this.#release();
    this.#handed = 0;
    if (!this.#worker) return;
    const earlier = this.#inFlight;
    this.#inFlight = [];
    await Promise.all(earlier);
    await this.#send({ op: 'truncate', file: this.#id, part: this.part });
  }

  /** The last block, then fsync, close, rename to `dest`; resolves to the sha256 of the `bytes` written. */
  async commit(dest: string, bytes: number): Promise<string> {
    const data = this.#fill > 0 ? this.#block : undefined;
    const length = this.#fill;
    const position = this.#handed;
    this.#block = undefined;
    this.#view = undefined;
    this.#fill = 0;
    this.#handed += length;
    const sha256 = await this.#send<string>(
      { op: 'commit', file: this.#id, part: this.part, dest, bytes, ...(data ? { data, length, position } : {}) },
      data ? [data] : [],
    );
    this.#finished();
    return sha256;
  }

  /** Closes and removes the `.part`, whatever state it is in. */
  async abort(): Promise<void> {
    this.#release();
    const worker = this.#worker;
    const done = this.#done;
    this.#finished();
    if (!worker || done || worker.dead) {
      await removeForce(this.part);
      return;
    }
    await worker.send({ op: 'abort', file: this.#id, part: this.part });
  }

  #release(): void {
    if (this.#block) giveBack(this.#block);
    this.#block = undefined;
    this.#view = undefined;
    this.#fill = 0;
  }

  #finished(): void {
    if (this.#done) return;
    this.#done = true;
    this.#inFlight = [];
    if (this.#worker) this.#worker.open--;
  }
}

function removeForce(path: string): Promise<void> {
  return new Promise((resolve, reject) =>
    unlink(path, (err) => (err && err.code !== 'ENOENT' && err.code !== 'ENOTDIR' ? reject(err) : resolve())),
  );
}

/**
 * Writes `data` to `path` durably (to `path.part`, fsync, rename: never half-written),
 * making the folder when missing; then, when given, appends `append.data` to `append.path`.
 */
export async function writeDurable(path: string, data: string, append?: { path: string; data: string }): Promise<void> {
  const worker = pick();
  await worker.send({ op: 'durable', path, data, ...(append ? { appendPath: append.path, appendData: append.data } : {}) });
}
