/**
 * The journal of one topic-partition: an ordered list of segment files, the
 * last one being appended to.
 *
 * Writes use group commit: records appended while a write is queued or in
 * flight are gathered and go to disk in the next single `writev`, and all of
 * their `append()` promises settle together. Offsets are assigned at append
 * time; a record becomes visible to readers only once its write completed.
 */
import { mkdir, readdir } from 'node:fs/promises';
import { CdpError, type Logger } from '@cdp/core';
import type { ProduceRecord } from '../bus.js';
import { createDeferred, type Deferred } from './async-utils.js';
import { LogReader } from './log-reader.js';
import { encodeInto } from './record-codec.js';
import { Segment, parseSegmentFileName } from './segment.js';
import type { WriteBudget } from './write-budget.js';

/** When a partition log forces its data to stable storage. */
export type FsyncMode = 'never' | 'batch' | 'interval';

/** Settings a partition log needs (resolved bus options). */
export interface PartitionLogOptions {
  readonly topic: string;
  readonly partition: number;
  readonly dir: string;
  readonly fsync: FsyncMode;
  readonly segmentBytes: number;
  readonly readChunkBytes: number;
  readonly budget: WriteBudget;
  readonly logger: Logger;
}

/** One batch of appended records waiting for the next write. */
interface PendingWrite {
  readonly buffers: Buffer[];
  bytes: number;
  /** First offset of each append, with its byte length, for the sparse index. */
  readonly appends: number[];
  /** Offset after the last record in this batch. */
  end: number;
  readonly deferred: Deferred;
}

/** The journal of one topic-partition. */
export class PartitionLog {
  private readonly segments: Segment[];
  /** Next offset to assign (includes queued, unwritten records). */
  private nextOffset: number;
  /** Offset after the last written record: what readers can see. */
  private visibleEnd: number;
  private pending: PendingWrite | null = null;
  private writing = false;
  private flushScheduled = false;
  /** A failed write left bytes past `active.size` that must be cut before the next write. */
  private needsTruncate = false;
  private dirty = false;
  private closed = false;
  private readonly waiters = new Set<() => void>();
  private idle: Deferred | null = null;

  private constructor(
    private readonly opts: PartitionLogOptions,
    segments: Segment[],
    nextOffset: number,
  ) {
    this.segments = segments;
    this.nextOffset = nextOffset;
    this.visibleEnd = nextOffset;
  }

  /** Opens (or creates) the partition directory and recovers its last segment. */
  static async open(opts: PartitionLogOptions): Promise<PartitionLog> {
    await mkdir(opts.dir, { recursive: true });
    const bases = (await readdir(opts.dir))
      .map(parseSegmentFileName)
      .filter((b): b is number => b !== undefined)
      .sort((a, b) => a - b);
    const segments: Segment[] = [];
    for (const base of bases.slice(0, -1)) segments.push(await Segment.existing(opts.dir, base));
    const lastBase = bases[bases.length - 1];
    if (lastBase === undefined) {
      segments.push(await Segment.create(opts.dir, 0));
      return new PartitionLog(opts, segments, 0);
    }
    const { segment, result } = await Segment.recover(opts.dir, lastBase);
    segments.push(segment);
    if (result.truncatedBytes > 0) {
      opts.logger.warn(
        {
          topic: opts.topic,
          partition: opts.partition,
          segment: segment.path,
          truncatedBytes: result.truncatedBytes,
        },
        'bus_journal_torn_tail_truncated',
      );
    }
    return new PartitionLog(opts, segments, result.nextOffset);
  }

  /** The first offset still on disk (retention moves it forward). */
  get startOffset(): number {
    return this.segments[0]!.baseOffset;
  }

  /** The offset after the last record readers can see. */
  get endOffset(): number {
    return this.visibleEnd;
  }

  private get active(): Segment {
    return this.segments[this.segments.length - 1]!;
  }

  /**
   * Appends records (all with the same timestamp) and resolves once they are
   * written to the segment file (and fsynced in `batch` mode). `sizes[i]` is
   * the encoded size of `records[i]` and `totalBytes` their sum, already
   * reserved in the write budget by the caller.
   */
  append(
    records: readonly ProduceRecord[],
    sizes: readonly number[],
    totalBytes: number,
    timestamp: number,
  ): Promise<void> {
    if (this.closed) {
      this.opts.budget.release(totalBytes);
      return Promise.reject(new CdpError('CDP_ERR_BUS_CLOSED'));
    }
    const buf = Buffer.allocUnsafe(totalBytes);
    const firstOffset = this.nextOffset;
    let p = 0;
    for (let i = 0; i < records.length; i++)
      p += encodeInto(buf, p, sizes[i]!, this.nextOffset++, timestamp, records[i]!);
    const pending = (this.pending ??= {
      buffers: [],
      bytes: 0,
      appends: [],
      end: 0,
      deferred: createDeferred(),
    });
    pending.buffers.push(buf);
    pending.bytes += totalBytes;
    pending.appends.push(firstOffset, totalBytes);
    pending.end = this.nextOffset;
    this.scheduleFlush();
    return pending.deferred.promise;
  }

  /** Creates a reader positioned at `offset` (clamped to what is on disk). */
  reader(offset: number): LogReader {
    return new LogReader(this, this.opts, offset);
  }

  /**
   * Resolves `true` as soon as a record at or after `offset` is visible,
   * `false` after `timeoutMs` or when `signal` aborts.
   */
  waitForAppend(offset: number, signal: AbortSignal, timeoutMs?: number): Promise<boolean> {
    if (this.visibleEnd > offset) return Promise.resolve(true);
    if (signal.aborted || this.closed) return Promise.resolve(false);
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (appended: boolean): void => {
        this.waiters.delete(check);
        signal.removeEventListener('abort', onAbort);
        if (timer !== undefined) clearTimeout(timer);
        resolve(appended);
      };
      const check = (): void => {
        if (this.visibleEnd > offset) done(true);
        else if (this.closed) done(false);
      };
      const onAbort = (): void => done(false);
      this.waiters.add(check);
      signal.addEventListener('abort', onAbort, { once: true });
      if (timeoutMs !== undefined) timer = setTimeout(() => done(false), timeoutMs);
    });
  }

  /** The segment holding `offset` (the first one if `offset` is before the start). */
  segmentFor(offset: number): Segment {
    const segs = this.segments;
    let lo = 0;
    let hi = segs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (segs[mid]!.baseOffset <= offset) lo = mid;
      else hi = mid - 1;
    }
    return segs[lo]!;
  }

  /** The segment after `segment`, if it is still part of the log. */
  segmentAfter(segment: Segment): Segment | undefined {
    const i = this.segments.indexOf(segment);
    return i < 0 ? undefined : this.segments[i + 1];
  }

  /** fsyncs the active segment if anything was written since the last sync (`interval` mode timer). */
  async syncIfDirty(): Promise<void> {
    if (!this.dirty) return;
    this.dirty = false;
    try {
      await this.active.sync();
    } catch (err) {
      this.dirty = true;
      this.opts.logger.error(
        { err, topic: this.opts.topic, partition: this.opts.partition },
        'bus_journal_fsync_failed',
      );
    }
  }

  /**
   * Deletes whole closed segments, oldest first, whose records all sit
   * below `committedBelow` and whose file was last written before
   * `olderThanMs`. Returns how many were deleted.
   */
  async deleteSegments(committedBelow: number, olderThanMs: number): Promise<number> {
    let deleted = 0;
    while (this.segments.length > 1) {
      const oldest = this.segments[0]!;
      const next = this.segments[1]!;
      if (next.baseOffset > committedBelow) break;
      if ((await oldest.modifiedMs()) > olderThanMs) break;
      this.segments.shift();
      await oldest.remove();
      deleted++;
      this.opts.logger.info(
        { topic: this.opts.topic, partition: this.opts.partition, segment: oldest.path },
        'bus_journal_segment_deleted',
      );
    }
    return deleted;
  }

  /**
   * Deletes the segment files whose records all sit below `committedBelow`,
   * whatever their age (erasure). When the segment being written holds such
   * records, it is closed first (a new, empty one takes the appends): if all
   * of its records are read, it goes now; if not, it goes at a later purge
   * once they are. Returns how many files were deleted.
   */
  async purgeBelow(committedBelow: number): Promise<number> {
    if (
      !this.closed &&
      !this.writing &&
      !this.needsTruncate &&
      this.pending === null &&
      this.active.size > 0 &&
      committedBelow > this.active.baseOffset
    ) {
      // Held like a write, so no flush appends to the old segment meanwhile.
      this.writing = true;
      try {
        await this.roll(this.visibleEnd);
      } finally {
        this.writeDone();
      }
    }
    return this.deleteSegments(committedBelow, Number.POSITIVE_INFINITY);
  }

  /** Whether `close()` was called: readers and waiters must stop. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Whether a write failure left the log unable to accept writes (readiness). */
  get broken(): boolean {
    return this.needsTruncate;
  }

  /** Writes what is queued, fsyncs, and closes every file. Appends after this reject. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.writing || this.pending !== null) {
      this.idle ??= createDeferred();
      if (!this.writing) this.scheduleFlush();
      await this.idle.promise;
    }
    for (const w of [...this.waiters]) w();
    try {
      await this.active.sync();
    } finally {
      for (const seg of this.segments) await seg.close();
    }
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.writing) return;
    this.flushScheduled = true;
    // setImmediate (not a microtask) so every produce() of the current I/O
    // turn joins this write.
    setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    this.flushScheduled = false;
    const batch = this.pending;
    if (this.writing || batch === null) return;
    this.writing = true;
    this.pending = null;
    const firstOffset = batch.appends[0]!;
    try {
      if (this.needsTruncate) {
        await this.active.truncate(this.active.size);
        this.needsTruncate = false;
      }
      if (this.active.size >= this.opts.segmentBytes) await this.roll(firstOffset);
      const seg = this.active;
      await seg.write(batch.buffers, batch.bytes);
      if (this.opts.fsync === 'batch') await seg.sync();
      else this.dirty = true;
      let pos = seg.size;
      for (let i = 0; i < batch.appends.length; i += 2) {
        seg.noteAppend(batch.appends[i]!, pos);
        pos += batch.appends[i + 1]!;
      }
      seg.size = pos;
      this.visibleEnd = batch.end;
      this.opts.budget.release(batch.bytes);
      batch.deferred.resolve();
      for (const w of [...this.waiters]) w();
    } catch (err) {
      this.failWrites(batch, err);
    } finally {
      this.writeDone();
    }
  }

  /** A write (or a roll held like one) ended: the next queued write goes, or `close()` goes on. */
  private writeDone(): void {
    this.writing = false;
    if (this.pending !== null) this.scheduleFlush();
    else if (this.idle !== null) {
      const idle = this.idle;
      this.idle = null;
      idle.resolve();
    }
  }

  /**
   * A write failed, perhaps part-way. Everything queued behind it already has
   * offsets after the failed records, so it is failed too, and the next
   * offset goes back to the last written record: no gaps, no reuse of an
   * offset a reader has seen. The file is cut back before the next write.
   */
  private failWrites(batch: PendingWrite, err: unknown): void {
    const queued = this.pending;
    this.pending = null;
    this.nextOffset = this.visibleEnd;
    this.needsTruncate = true;
    const failure = new CdpError('CDP_ERR_INGEST_BACKPRESSURE', {
      message: `The bus journal write failed for ${this.opts.topic}/${this.opts.partition}; retry later`,
      retryable: true,
      cause: err,
    });
    this.opts.logger.error(
      { err, topic: this.opts.topic, partition: this.opts.partition },
      'bus_journal_write_failed',
    );
    for (const b of queued === null ? [batch] : [batch, queued]) {
      this.opts.budget.release(b.bytes);
      b.deferred.reject(failure);
    }
  }

  private async roll(baseOffset: number): Promise<void> {
    const old = this.active;
    if (this.opts.fsync !== 'never') await old.sync();
    this.segments.push(await Segment.create(this.opts.dir, baseOffset));
    this.opts.logger.debug(
      { topic: this.opts.topic, partition: this.opts.partition, baseOffset },
      'bus_journal_segment_rolled',
    );
  }
}
