/**
 * Where the embedded store keeps engine checkpoints: one file per checkpoint,
 * `snapshots/engine-<generation>.chunks` beside the SQLite file, holding the engine's
 * chunks (src/engine/snapshot-chunks.ts) each as a u32 LE length and its bytes.
 *
 * Why files and not rows: a checkpoint of a busy engine is ~100 MB. Written into SQLite it
 * went through the write-ahead log, and every 16 MB the commit that crossed the log's
 * limit copied it into the database and synced — 100 ms and more on the event loop, more
 * than everything else a checkpoint does. A file is appended to and synced by libuv's
 * thread pool, off the event loop; SQLite only records, in one small transaction, which
 * generation is complete (after its file is synced), together with dropping the input log
 * that generation covers. A file of any other generation is a checkpoint that was replaced
 * or never completed, and is deleted.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

const FILE = /^engine-(\d+)\.chunks$/;

export class SnapshotFiles {
  readonly dir: string;

  constructor(dataDir: string) {
    this.dir = join(dataDir, 'snapshots');
  }

  path(generation: number): string {
    return join(this.dir, `engine-${generation}.chunks`);
  }

  /** Generations that have a file. */
  generations(): number[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    return names.flatMap((n) => {
      const m = FILE.exec(n);
      return m === null ? [] : [Number(m[1])];
    });
  }

  /** The chunks of a complete generation, in order (start-up). */
  read(generation: number): Uint8Array[] {
    const bytes = readFileSync(this.path(generation));
    const chunks: Uint8Array[] = [];
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let at = 0; at < bytes.length; ) {
      if (at + 4 > bytes.length) throw new Error(`engine snapshot file ${this.path(generation)} is cut short`);
      const n = view.getUint32(at, true);
      if (at + 4 + n > bytes.length) throw new Error(`engine snapshot file ${this.path(generation)} is cut short`);
      chunks.push(bytes.subarray(at + 4, at + 4 + n));
      at += 4 + n;
    }
    return chunks;
  }

  /** Writes a whole generation at once and syncs it (start-up, shutdown). */
  writeSync(generation: number, chunks: Iterable<Uint8Array>): void {
    mkdirSync(this.dir, { recursive: true });
    const fd = openSync(this.path(generation), 'w');
    try {
      for (const c of chunks) {
        writeSync(fd, lengthOf(c));
        writeSync(fd, c);
      }
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.syncDir();
  }

  /** Opens a generation's file for appending a batch of chunks at a time, off the event loop. */
  async create(generation: number): Promise<SnapshotFileWriter> {
    mkdirSync(this.dir, { recursive: true });
    const path = this.path(generation);
    return new SnapshotFileWriter(await open(path, 'w'), path, () => this.syncDir());
  }

  /** Deletes the files of every generation but `keep`. */
  removeExcept(keep: ReadonlyArray<number | null>): void {
    for (const g of this.generations()) if (!keep.includes(g)) rmSync(this.path(g), { force: true });
  }

  /** Makes the file's name durable too (its directory entry), where the platform allows. */
  private syncDir(): void {
    try {
      const fd = openSync(this.dir, 'r');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    } catch {
      // Not every platform can sync a directory; the file's own sync is what matters there.
    }
  }
}

function lengthOf(chunk: Uint8Array): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, chunk.length, true);
  return b;
}

export class SnapshotFileWriter {
  constructor(
    private readonly handle: FileHandle,
    readonly path: string,
    private readonly syncDir: () => void,
  ) {}

  async append(chunks: readonly Uint8Array[]): Promise<void> {
    const buffers: Uint8Array[] = [];
    let total = 0;
    for (const c of chunks) {
      buffers.push(lengthOf(c), c);
      total += 4 + c.length;
    }
    const { bytesWritten } = await this.handle.writev(buffers);
    if (bytesWritten < total) {
      // A short write (rare for a file): the rest, in order.
      const rest = Buffer.concat(buffers).subarray(bytesWritten);
      for (let at = 0; at < rest.length; ) at += (await this.handle.write(rest, at)).bytesWritten;
    }
  }

  /** Syncs and closes the file: after this, a crash cannot lose it. */
  async finish(): Promise<void> {
    await this.handle.sync();
    await this.handle.close();
    this.syncDir();
  }

  /** Gives up: closes and deletes the file. */
  async abandon(): Promise<void> {
    await this.handle.close().catch(() => undefined);
    await rm(this.path, { force: true });
  }
}
