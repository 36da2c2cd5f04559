import { CdpError } from '@cdp/core';
import type { ProduceRecord } from '../bus.js';

/** One topic's share of a request, in the order the records were produced. */
export interface TopicRecords {
  readonly topic: string;
  readonly records: readonly ProduceRecord[];
}

/** Sends one request (all topics together) and resolves when every record in it is acknowledged. */
export type SendRequest = (request: readonly TopicRecords[]) => Promise<void>;

export interface ProduceBatcherOptions {
  readonly send: SendRequest;
  /** Turns what `send` threw into the error callers get. */
  readonly translate: (err: unknown) => CdpError;
  readonly lingerMs: number;
  readonly maxRequestBytes: number;
  readonly maxMessageBytes: number;
  readonly maxQueuedBytes: number;
  readonly produceTimeoutMs: number;
}

/** Framing of one record in a v2 record batch, upper bound (length, attributes, deltas, varint lengths). */
const RECORD_OVERHEAD = 24;
/** Framing of one header, upper bound (two varint lengths). */
const HEADER_OVERHEAD = 10;

/** Upper bound of the bytes a record takes in a Kafka record batch. */
export function recordBytes(r: ProduceRecord): number {
  let n =
    RECORD_OVERHEAD +
    (r.key === null ? 0 : Buffer.byteLength(r.key)) +
    (typeof r.value === 'string' ? Buffer.byteLength(r.value) : r.value.length);
  if (r.headers)
    for (const k in r.headers)
      n += HEADER_OVERHEAD + Buffer.byteLength(k) + Buffer.byteLength(r.headers[k] ?? '');
  return n;
}

/** One produce() call. */
interface Call {
  readonly resolve: () => void;
  readonly reject: (err: CdpError) => void;
  readonly bytes: number;
  /** Chunks neither acknowledged, failed nor dropped. */
  pending: number;
  /** Resolved or rejected (its chunks may still be queued or in flight). */
  settled: boolean;
  /** Its bytes no longer count against `maxQueuedBytes`. */
  released: boolean;
  timer: NodeJS.Timeout | undefined;
}

/** A run of one call's records small enough for one request. */
interface Chunk {
  readonly call: Call;
  readonly topic: string;
  readonly records: readonly ProduceRecord[];
  readonly bytes: number;
}

/**
 * Coalesces concurrent produce calls into few requests. At most one request
 * is in flight: calls made meanwhile queue up and leave together as soon as
 * it returns (so batches grow with load), and an idle producer waits
 * `lingerMs` for company. Requests go out strictly in call order, which with
 * one request in flight keeps the order of each key across calls.
 *
 * Each call resolves when all of its records are acknowledged, and rejects
 * (with the translated error) as soon as a request carrying any of them
 * fails or `produceTimeoutMs` passes; its records not sent by then are dropped.
 */
export class ProduceBatcher {
  private readonly queue: Chunk[] = [];
  private queuedBytes = 0;
  /** Accepted and not yet released: queued plus in flight. */
  private outstandingBytes = 0;
  private inFlight: Promise<void> | undefined;
  private lingerTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private drained: (() => void) | undefined;

  constructor(private readonly o: ProduceBatcherOptions) {}

  /** Bytes accepted and not yet acknowledged, failed or dropped. */
  get pendingBytes(): number {
    return this.outstandingBytes;
  }

  produce(topic: string, records: readonly ProduceRecord[]): Promise<void> {
    if (this.closed) return Promise.reject(new CdpError('CDP_ERR_BUS_CLOSED'));
    if (records.length === 0) return Promise.resolve();
    const sizes = new Array<number>(records.length);
    let total = 0;
    for (let i = 0; i < records.length; i++) {
      const size = recordBytes(records[i]!);
      if (size > this.o.maxMessageBytes) {
        return Promise.reject(
          new CdpError('CDP_ERR_BUS_MESSAGE_TOO_LARGE', {
            message: `Record ${i} is about ${size} bytes; the bus limit is ${this.o.maxMessageBytes}`,
            field: `records[${i}]`,
          }),
        );
      }
      sizes[i] = size;
      total += size;
    }
    // One call bigger than the whole budget still goes through when nothing else waits.
    if (this.outstandingBytes > 0 && this.outstandingBytes + total > this.o.maxQueuedBytes) {
      return Promise.reject(
        new CdpError('CDP_ERR_INGEST_BACKPRESSURE', {
          message: `The Kafka producer has ${this.outstandingBytes} bytes waiting for acknowledgement (limit ${this.o.maxQueuedBytes}); retry later`,
          retryable: true,
        }),
      );
    }

    return new Promise<void>((resolve, reject) => {
      const call: Call = {
        resolve,
        reject,
        bytes: total,
        pending: 0,
        settled: false,
        released: false,
        timer: undefined,
      };
      let start = 0;
      let bytes = 0;
      for (let i = 0; i < records.length; i++) {
        if (i > start && bytes + sizes[i]! > this.o.maxRequestBytes) {
          this.push({ call, topic, records: records.slice(start, i), bytes });
          start = i;
          bytes = 0;
        }
        bytes += sizes[i]!;
      }
      this.push({ call, topic, records: start === 0 ? records : records.slice(start), bytes });
      this.outstandingBytes += total;
      call.timer = setTimeout(() => this.timeOut(call), this.o.produceTimeoutMs);
      this.schedule();
    });
  }

  /** Refuses new calls and resolves once every accepted call has settled and nothing is in flight. */
  async close(): Promise<void> {
    this.closed = true;
    if (!this.inFlight) this.flush();
    if (!this.inFlight && this.queue.length === 0) return;
    await new Promise<void>((resolve) => (this.drained = resolve));
  }

  private push(chunk: Chunk): void {
    chunk.call.pending++;
    this.queue.push(chunk);
    this.queuedBytes += chunk.bytes;
  }

  private schedule(): void {
    if (this.inFlight) return; // the queue leaves when it returns
    if (this.queuedBytes >= this.o.maxRequestBytes || this.o.lingerMs === 0 || this.closed) {
      this.flush();
    } else {
      this.lingerTimer ??= setTimeout(() => {
        this.lingerTimer = undefined;
        this.flush();
      }, this.o.lingerMs);
    }
  }

  private flush(): void {
    if (this.inFlight) return;
    if (this.lingerTimer) {
      clearTimeout(this.lingerTimer);
      this.lingerTimer = undefined;
    }
    const taken: Chunk[] = [];
    let bytes = 0;
    while (this.queue.length > 0) {
      const next = this.queue[0]!;
      if (next.call.settled) {
        // Its call already failed or timed out: the caller will retry, so do not send it.
        this.queue.shift();
        this.queuedBytes -= next.bytes;
        this.finish(next);
        continue;
      }
      if (taken.length > 0 && bytes + next.bytes > this.o.maxRequestBytes) break;
      taken.push(this.queue.shift()!);
      this.queuedBytes -= next.bytes;
      bytes += next.bytes;
    }
    if (taken.length === 0) {
      this.maybeDrained();
      return;
    }
    const byTopic = new Map<string, ProduceRecord[]>();
    for (const c of taken) {
      const list = byTopic.get(c.topic);
      if (list) for (const r of c.records) list.push(r);
      else byTopic.set(c.topic, [...c.records]);
    }
    const request = [...byTopic].map(([topic, records]) => ({ topic, records }));
    let sent: Promise<void>;
    try {
      sent = this.o.send(request);
    } catch (err) {
      sent = Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    this.inFlight = sent.then(
      () => {
        for (const c of taken) this.finish(c);
      },
      (err: unknown) => {
        const failure = this.o.translate(err);
        for (const c of taken) this.finish(c, failure);
      },
    );
    void this.inFlight.then(() => {
      this.inFlight = undefined;
      if (this.queue.length > 0) this.flush();
      else this.maybeDrained();
    });
  }

  /** A chunk left the producer: acknowledged, failed (`failure`) or dropped. */
  private finish(chunk: Chunk, failure?: CdpError): void {
    const call = chunk.call;
    call.pending--;
    if (failure) this.reject(call, failure);
    else if (call.pending === 0 && !call.settled) {
      call.settled = true;
      clearTimeout(call.timer);
      call.resolve();
    }
    if (call.pending === 0 && !call.released) {
      call.released = true;
      this.outstandingBytes -= call.bytes;
    }
  }

  private reject(call: Call, err: CdpError): void {
    if (call.settled) return;
    call.settled = true;
    clearTimeout(call.timer);
    call.reject(err);
  }

  private timeOut(call: Call): void {
    this.reject(
      call,
      new CdpError('CDP_ERR_INGEST_BACKPRESSURE', {
        message: `Kafka did not acknowledge the records within ${this.o.produceTimeoutMs} ms; retry later`,
        retryable: true,
      }),
    );
  }

  private maybeDrained(): void {
    if (this.drained && !this.inFlight && this.queue.length === 0) {
      const done = this.drained;
      this.drained = undefined;
      done();
    }
  }
}
