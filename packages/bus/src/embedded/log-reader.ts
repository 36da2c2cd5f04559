/**
 * Reading a partition log in offset order, for one consumer.
 */
import type { BusMessage } from '../bus.js';
import type { PartitionLog, PartitionLogOptions } from './partition-log.js';
import {
  FRAME_CORRUPT,
  FRAME_INCOMPLETE,
  decodeFrame,
  declaredFrameSize,
  frameOffset,
  frameSize,
} from './record-codec.js';
import type { Segment } from './segment.js';

/**
 * A sequential cursor over one partition log. It remembers its file position,
 * so reading on from where it stopped costs no seek.
 */
export class LogReader {
  private segment: Segment | null = null;
  private position = 0;
  private next: number;

  constructor(
    private readonly log: PartitionLog,
    private readonly opts: PartitionLogOptions,
    offset: number,
  ) {
    this.next = offset;
  }

  /** The offset of the next record this reader returns. */
  get nextOffset(): number {
    return this.next;
  }

  /** Reads up to `maxCount` visible records from the current position; `[]` when caught up. */
  async read(maxCount: number): Promise<BusMessage[]> {
    const out: BusMessage[] = [];
    let want = this.opts.readChunkBytes;
    while (out.length < maxCount && this.next < this.log.endOffset) {
      if (this.segment === null || this.segment.deleted || this.next < this.log.startOffset)
        await this.seek();
      const seg = this.segment!;
      if (this.position >= seg.size) {
        const following = this.log.segmentAfter(seg);
        if (following === undefined) break;
        this.segment = following;
        this.position = 0;
        continue;
      }
      const available = seg.size - this.position;
      const buf = await seg.read(this.position, Math.min(want, available));
      want = this.opts.readChunkBytes;
      let p = 0;
      let corrupt = false;
      while (out.length < maxCount) {
        const n = frameSize(buf, p, buf.length);
        if (n === FRAME_INCOMPLETE) {
          // At the chunk start, a record larger than the chunk: read exactly it next time.
          if (p === 0 && buf.length >= 8 && declaredFrameSize(buf, 0) <= available)
            want = declaredFrameSize(buf, 0);
          else if (p === 0) corrupt = true;
          break;
        }
        if (n === FRAME_CORRUPT) {
          corrupt = true;
          break;
        }
        const offset = frameOffset(buf, p);
        if (offset >= this.next) {
          out.push(decodeFrame(buf, p, this.opts.topic, this.opts.partition));
          this.next = offset + 1;
        }
        p += n;
      }
      this.position += p;
      if (corrupt) {
        // Hand over what precedes the bad record first; the next read fails on it.
        if (out.length > 0) break;
        throw new Error(`corrupt record in ${seg.path} at byte ${this.position}`);
      }
    }
    return out;
  }

  /** Points the cursor at the record `next` (or the log start, if retention removed it). */
  private async seek(): Promise<void> {
    if (this.next < this.log.startOffset) {
      this.opts.logger.warn(
        {
          topic: this.opts.topic,
          partition: this.opts.partition,
          from: this.next,
          to: this.log.startOffset,
        },
        'bus_reader_skipped_deleted_records',
      );
      this.next = this.log.startOffset;
    }
    const seg = this.log.segmentFor(this.next);
    this.segment = seg;
    this.position = await seg.positionFor(this.next);
  }
}
