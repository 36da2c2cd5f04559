/**
 * One segment file of a partition's journal: an append-only run of record
 * frames (see `record-codec.ts`) whose first record has the offset in the file
 * name (`00000000000000001234.log`). Keeps a sparse in-memory index
 * (offset -> file position) so a reader can start mid-segment without
 * scanning from the top.
 */
import { constants, open, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import {
  FRAME_CORRUPT,
  FRAME_INCOMPLETE,
  declaredFrameSize,
  frameOffset,
  frameSize,
} from './record-codec.js';

const NAME_RE = /^(\d{20})\.log$/;
/** Bytes between sparse index entries. */
const INDEX_INTERVAL_BYTES = 64 * 1024;
/** Chunk size for scans (recovery, index building). */
const SCAN_CHUNK_BYTES = 4 * 1024 * 1024;

/** The file name of the segment whose first offset is `baseOffset`. */
export function segmentFileName(baseOffset: number): string {
  return `${String(baseOffset).padStart(20, '0')}.log`;
}

/** The base offset encoded in a segment file name, or `undefined` for other files. */
export function parseSegmentFileName(name: string): number | undefined {
  const m = NAME_RE.exec(name);
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

/** What a recovery scan found. */
export interface RecoveryResult {
  /** Offset after the last valid record (the base offset for an empty segment). */
  readonly nextOffset: number;
  /** Bytes cut off the end because they did not form valid records (a torn tail). */
  readonly truncatedBytes: number;
}

/** One segment file. Positions are byte offsets into the file. */
export class Segment {
  /** Bytes of complete, written records: readers never look past this. */
  size: number;
  /** Set once retention removed the file; readers holding it must re-seek. */
  deleted = false;
  private fh: FileHandle | null = null;
  private opening: Promise<FileHandle> | null = null;
  private readonly idxOffsets: number[] = [];
  private readonly idxPositions: number[] = [];
  /** Whether the sparse index covers the whole file (closed segments build it lazily). */
  private indexed: boolean;

  private constructor(
    readonly dir: string,
    readonly baseOffset: number,
    size: number,
    indexed: boolean,
  ) {
    this.size = size;
    this.indexed = indexed;
  }

  /** Full path of the file. */
  get path(): string {
    return join(this.dir, segmentFileName(this.baseOffset));
  }

  /** Creates a new, empty segment file (or adopts an empty leftover of a crash during a roll). */
  static async create(dir: string, baseOffset: number): Promise<Segment> {
    const seg = new Segment(dir, baseOffset, 0, true);
    const fh = await open(seg.path, constants.O_RDWR | constants.O_CREAT, 0o644);
    const { size } = await fh.stat();
    if (size !== 0) {
      await fh.close();
      throw new Error(`segment ${seg.path} already exists and is not empty`);
    }
    seg.fh = fh;
    return seg;
  }

  /** Describes an existing segment without reading it (closed segments; the file is opened on first read). */
  static async existing(dir: string, baseOffset: number): Promise<Segment> {
    const seg = new Segment(dir, baseOffset, 0, false);
    seg.size = (await stat(seg.path)).size;
    return seg;
  }

  /**
   * Opens the last segment of a partition after a restart: verifies every
   * record (length, CRC, offsets in sequence) and truncates the file at the
   * first bad byte. A crash mid-write leaves at most a torn tail here, which
   * is exactly what gets cut; the records before it are kept.
   */
  static async recover(
    dir: string,
    baseOffset: number,
  ): Promise<{ segment: Segment; result: RecoveryResult }> {
    const seg = new Segment(dir, baseOffset, 0, true);
    const fh = await seg.handle();
    const fileSize = (await fh.stat()).size;
    let pos = 0;
    let expected = baseOffset;
    let lastIndexed = -INDEX_INTERVAL_BYTES;
    let intact = true;
    while (intact && pos < fileSize) {
      const len = Math.min(SCAN_CHUNK_BYTES, fileSize - pos);
      let buf = await readExactly(fh, pos, len);
      let p = 0;
      for (;;) {
        let n = frameSize(buf, p, buf.length);
        if (
          n === FRAME_INCOMPLETE &&
          p === 0 &&
          buf.length >= 8 &&
          pos + declaredFrameSize(buf, 0) <= fileSize
        ) {
          // One record larger than the chunk, and the file has all of it: read it whole.
          buf = await readExactly(fh, pos, declaredFrameSize(buf, 0));
          n = frameSize(buf, 0, buf.length);
        }
        if (n === FRAME_INCOMPLETE) {
          // Mid-chunk: the record continues in the next chunk. At a chunk
          // start: the file ends inside it, which is the torn tail.
          intact = p > 0;
          break;
        }
        if (n === FRAME_CORRUPT || frameOffset(buf, p) !== expected) {
          intact = false;
          break;
        }
        if (pos + p - lastIndexed >= INDEX_INTERVAL_BYTES) {
          seg.addIndexEntry(expected, pos + p);
          lastIndexed = pos + p;
        }
        expected++;
        p += n;
        if (p >= buf.length) break;
      }
      pos += p;
    }
    const truncatedBytes = fileSize - pos;
    if (truncatedBytes > 0) {
      await fh.truncate(pos);
      await fh.sync();
    }
    seg.size = pos;
    return { segment: seg, result: { nextOffset: expected, truncatedBytes } };
  }

  /** The read/write handle, opened on first use. */
  async handle(): Promise<FileHandle> {
    if (this.fh !== null) return this.fh;
    this.opening ??= open(this.path, constants.O_RDWR).then((fh) => {
      this.fh = fh;
      return fh;
    });
    return this.opening;
  }

  /** Writes `buffers` at the current end and advances nothing: the caller publishes the new size. */
  async write(buffers: readonly Buffer[], bytes: number): Promise<void> {
    const fh = await this.handle();
    const { bytesWritten } = await fh.writev(buffers as Buffer[], this.size);
    if (bytesWritten !== bytes)
      throw new Error(`short write to ${this.path}: ${bytesWritten} of ${bytes} bytes`);
  }

  /** Reads `length` bytes at `position` (fewer only if the file is shorter). */
  async read(position: number, length: number): Promise<Buffer> {
    return readExactly(await this.handle(), position, length);
  }

  /** Flushes the file's data to stable storage. */
  async sync(): Promise<void> {
    if (this.fh !== null) await this.fh.datasync();
  }

  /** Cuts the file back to `size` bytes (after a failed write). */
  async truncate(size: number): Promise<void> {
    await (await this.handle()).truncate(size);
  }

  /** Records that the record `offset` starts at `position`, every {@link INDEX_INTERVAL_BYTES} or so. */
  noteAppend(offset: number, position: number): void {
    const last =
      this.idxPositions.length === 0
        ? -INDEX_INTERVAL_BYTES
        : this.idxPositions[this.idxPositions.length - 1]!;
    if (position - last >= INDEX_INTERVAL_BYTES) this.addIndexEntry(offset, position);
  }

  /**
   * A file position at or before the record `offset` (never after it):
   * the reader scans forward from there.
   */
  async positionFor(offset: number): Promise<number> {
    if (!this.indexed) await this.buildIndex();
    const offs = this.idxOffsets;
    let lo = 0;
    let hi = offs.length - 1;
    let best = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (offs[mid]! <= offset) {
        best = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return best < 0 ? 0 : this.idxPositions[best]!;
  }

  /** Closes the file handle. */
  async close(): Promise<void> {
    const fh = this.fh ?? (this.opening === null ? null : await this.opening.catch(() => null));
    this.fh = null;
    this.opening = null;
    if (fh !== null) await fh.close();
  }

  /** Closes and deletes the file (retention). */
  async remove(): Promise<void> {
    this.deleted = true;
    await this.close();
    await rm(this.path, { force: true });
  }

  /** Last-modified time of the file (the time of its newest record, since it is append-only). */
  async modifiedMs(): Promise<number> {
    return (await stat(this.path)).mtimeMs;
  }

  private addIndexEntry(offset: number, position: number): void {
    this.idxOffsets.push(offset);
    this.idxPositions.push(position);
  }

  /** Walks the length prefixes of a closed segment to fill the sparse index. */
  private async buildIndex(): Promise<void> {
    const fh = await this.handle();
    let pos = 0;
    let lastIndexed = -INDEX_INTERVAL_BYTES;
    while (pos < this.size) {
      const buf = await readExactly(fh, pos, Math.min(SCAN_CHUNK_BYTES, this.size - pos));
      let p = 0;
      for (;;) {
        const n = frameSize(buf, p, buf.length, false);
        if (n === FRAME_CORRUPT)
          throw new Error(`corrupt record in ${this.path} at byte ${pos + p}`);
        if (n === FRAME_INCOMPLETE) {
          // A record larger than the chunk: skip over it by its declared size.
          if (p === 0 && buf.length >= 8) p = declaredFrameSize(buf, 0);
          break;
        }
        if (pos + p - lastIndexed >= INDEX_INTERVAL_BYTES) {
          this.addIndexEntry(frameOffset(buf, p), pos + p);
          lastIndexed = pos + p;
        }
        p += n;
        if (p >= buf.length) break;
      }
      if (p === 0) break;
      pos += p;
    }
    this.indexed = true;
  }
}

async function readExactly(fh: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(buf, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done === length ? buf : buf.subarray(0, done);
}
