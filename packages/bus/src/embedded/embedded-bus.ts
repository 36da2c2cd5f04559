/**
 * The embedded `Bus`: topics, partitions and consumer groups inside one
 * process, journaled to a data directory so that every message whose
 * `produce()` resolved survives a crash (even `kill -9`) and is delivered
 * (again, if it was not committed) when a process opens the directory next.
 *
 * Layout of the data directory:
 *
 * ```
 * LOCK                                   pid of the process that has it open
 * topics/<topic>/topic.json              partition count
 * topics/<topic>/<p>/<base offset>.log   segment files (see segment.ts)
 * groups/<group>.json                    committed offsets (see offset-store.ts)
 * ```
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CdpError, createLogger, type Logger } from '@cdp/core';
import type { Bus, ProduceRecord, SubscribeOptions, Subscription, TopicSpec } from '../bus.js';
import { acquireDirLock, type DirLock } from './dir-lock.js';
import { GroupCoordinator } from './group-coordinator.js';
import { OffsetStore } from './offset-store.js';
import { resolveOptions, type EmbeddedBusOptions, type ResolvedOptions } from './options.js';
import { encodedSize } from './record-codec.js';
import { TopicRegistry, validateTopicName, type Topic } from './topic-registry.js';
import { WriteBudget } from './write-budget.js';

/** The embedded bus: the `Bus` port plus maintenance hooks. */
export interface EmbeddedBus extends Bus {
  readonly kind: 'embedded';
  /**
   * Runs retention now (it also runs every `retentionCheckIntervalMs`):
   * deletes closed segments that are older than `retentionMs` and that every
   * known group has committed past. Resolves to the number of files deleted.
   */
  enforceRetention(): Promise<number>;
}

/**
 * Opens (or creates) the embedded bus in `opts.dir`: takes the directory
 * lock, recovers every partition journal (cutting torn tails left by a
 * crash) and loads committed offsets. Throws `CDP_ERR_CONFIG_INVALID` for bad
 * options and `CDP_ERR_BUS_UNAVAILABLE` if another bus has the directory open.
 */
export async function createEmbeddedBus(opts: EmbeddedBusOptions): Promise<EmbeddedBus> {
  const o = resolveOptions(opts);
  const logger = o.logger ?? createLogger({ service: 'bus', level: 'silent' });
  await mkdir(o.dir, { recursive: true });
  const lock = await acquireDirLock(o.dir);
  try {
    const budget = new WriteBudget(o.maxQueuedBytes);
    const topics = await TopicRegistry.open({
      dir: o.dir,
      fsync: o.fsync,
      segmentBytes: o.segmentBytes,
      readChunkBytes: o.readChunkBytes,
      budget,
      logger,
    });
    const offsets = await OffsetStore.open(join(o.dir, 'groups'), o.fsync === 'batch', logger);
    return new EmbeddedBusImpl(o, logger, lock, budget, topics, offsets);
  } catch (err) {
    await lock.release();
    throw err;
  }
}

type State = 'open' | 'closing' | 'closed';

class EmbeddedBusImpl implements EmbeddedBus {
  readonly kind = 'embedded' as const;
  private state: State = 'open';
  private closePromise: Promise<void> | null = null;
  private readonly coordinator: GroupCoordinator;
  private readonly timers: NodeJS.Timeout[] = [];
  private syncing = false;
  private retaining: Promise<number> | null = null;

  constructor(
    private readonly opts: ResolvedOptions,
    private readonly logger: Logger,
    private readonly lock: DirLock,
    private readonly budget: WriteBudget,
    private readonly topics: TopicRegistry,
    private readonly offsets: OffsetStore,
  ) {
    this.coordinator = new GroupCoordinator({
      offsets,
      retryBackoffMs: opts.retryBackoffMs,
      maxRetryBackoffMs: opts.maxRetryBackoffMs,
      logger,
    });
    if (opts.fsync === 'interval')
      this.timers.push(setInterval(() => void this.syncAll(), opts.fsyncIntervalMs).unref());
    if (opts.retentionCheckIntervalMs > 0) {
      this.timers.push(
        setInterval(() => {
          this.enforceRetention().catch((err: unknown) =>
            logger.error({ err }, 'bus_retention_failed'),
          );
        }, opts.retentionCheckIntervalMs).unref(),
      );
    }
  }

  async ensureTopics(specs: readonly TopicSpec[]): Promise<void> {
    this.assertOpen();
    for (const spec of specs) validateTopicName(spec.name);
    await Promise.all(
      specs.map((s) => this.topics.ensure(s.name, s.partitions ?? this.opts.defaultPartitions)),
    );
  }

  /**
   * Resolves once every record is written to its partition's journal (and
   * fsynced, in `batch` mode). Topics that do not exist are created with
   * the default partition count. The call is checked as a whole before
   * anything is queued (size limits, backpressure); a disk failure can still
   * leave the records of some partitions written and others not, in which
   * case the caller's retry may duplicate the written ones (at-least-once).
   */
  async produce(topic: string, records: readonly ProduceRecord[]): Promise<void> {
    // Handlers finishing during close() may still produce; new calls after close may not.
    if (this.state === 'closed') throw new CdpError('CDP_ERR_BUS_CLOSED');
    if (records.length === 0) return;
    const t =
      this.topics.get(topic) ?? (await this.topics.ensure(topic, this.opts.defaultPartitions));
    const sizes = new Array<number>(records.length);
    let total = 0;
    for (let i = 0; i < records.length; i++) {
      const size = this.measure(records[i]!, i);
      sizes[i] = size;
      total += size;
    }
    if (!this.budget.tryReserve(total)) {
      throw new CdpError('CDP_ERR_INGEST_BACKPRESSURE', {
        message: `The bus journal has ${this.budget.queuedBytes} bytes waiting to be written (limit ${this.budget.limitBytes}); retry later`,
        retryable: true,
      });
    }
    const timestamp = Date.now();
    if (records.length === 1) {
      await t.logs[t.partitioner.partition(records[0]!.key)]!.append(
        records,
        sizes,
        total,
        timestamp,
      );
      return;
    }
    await Promise.all(this.appendByPartition(t, records, sizes, timestamp));
  }

  async subscribe(opts: SubscribeOptions): Promise<Subscription> {
    this.assertOpen();
    validateTopicName(opts.topic);
    if (typeof opts.group !== 'string' || opts.group === '') {
      throw new CdpError('CDP_ERR_CONFIG_INVALID', {
        message: 'subscribe: group must be a non-empty string',
        field: 'group',
      });
    }
    if (
      opts.maxBatchSize !== undefined &&
      (!Number.isSafeInteger(opts.maxBatchSize) || opts.maxBatchSize < 1)
    ) {
      throw new CdpError('CDP_ERR_CONFIG_INVALID', {
        message: 'subscribe: maxBatchSize must be a positive integer',
        field: 'maxBatchSize',
      });
    }
    if (opts.maxWaitMs !== undefined && !(opts.maxWaitMs >= 0)) {
      throw new CdpError('CDP_ERR_CONFIG_INVALID', {
        message: 'subscribe: maxWaitMs must be >= 0',
        field: 'maxWaitMs',
      });
    }
    const t =
      this.topics.get(opts.topic) ??
      (await this.topics.ensure(opts.topic, this.opts.defaultPartitions));
    // close() may have begun while the topic was being created.
    this.assertOpen();
    // A copy: the coordinator tells members apart by identity, and the same
    // options object may be passed twice.
    const member: SubscribeOptions = { ...opts };
    await this.coordinator.join(member, t.logs);
    let closing: Promise<void> | null = null;
    return {
      close: () => (closing ??= this.coordinator.leave(member)),
    };
  }

  ping(): Promise<void> {
    if (this.state !== 'open') return Promise.reject(new CdpError('CDP_ERR_BUS_CLOSED'));
    for (const t of this.topics.all()) {
      if (t.logs.some((l) => l.broken)) {
        return Promise.reject(
          new CdpError('CDP_ERR_BUS_UNAVAILABLE', {
            message: `The bus journal of ${t.name} cannot be written`,
            retryable: true,
          }),
        );
      }
    }
    return Promise.resolve();
  }

  close(): Promise<void> {
    return (this.closePromise ??= this.shutdown());
  }

  enforceRetention(): Promise<number> {
    if (this.state !== 'open') return Promise.resolve(0);
    return (this.retaining ??= this.runRetention().finally(() => {
      this.retaining = null;
    }));
  }

  private async shutdown(): Promise<void> {
    this.state = 'closing';
    for (const t of this.timers) clearInterval(t);
    await this.coordinator.closeAll();
    await this.retaining?.catch(() => undefined);
    this.state = 'closed';
    try {
      await this.offsets.flush();
      await this.topics.close();
    } finally {
      await this.lock.release();
    }
    this.logger.info({ dir: this.opts.dir }, 'bus_closed');
  }

  async purgeConsumed(topics: readonly string[]): Promise<number> {
    this.assertOpen();
    let purged = 0;
    for (const name of topics) {
      const t = this.topics.get(name);
      if (t === undefined) continue;
      for (let p = 0; p < t.logs.length; p++) {
        // Records no group has read yet stay; neither does a topic no group reads.
        const committed = this.offsets.lowestCommitted(name, p);
        if (committed === undefined || committed <= t.logs[p]!.startOffset) continue;
        if ((await t.logs[p]!.purgeBelow(committed)) > 0) purged++;
      }
    }
    if (purged > 0) this.logger.info({ topics, partitions: purged }, 'bus_consumed_purged');
    return purged;
  }

  private async runRetention(): Promise<number> {
    const olderThan = Date.now() - this.opts.retentionMs;
    let deleted = 0;
    for (const t of this.topics.all()) {
      for (let p = 0; p < t.logs.length; p++) {
        const committed = this.offsets.lowestCommitted(t.name, p) ?? Number.POSITIVE_INFINITY;
        deleted += await t.logs[p]!.deleteSegments(committed, olderThan);
      }
    }
    return deleted;
  }

  private async syncAll(): Promise<void> {
    if (this.syncing || this.state === 'closed') return;
    this.syncing = true;
    try {
      for (const t of this.topics.all()) for (const l of t.logs) await l.syncIfDirty();
    } finally {
      this.syncing = false;
    }
  }

  private measure(record: ProduceRecord, index: number): number {
    let size: number;
    try {
      size = encodedSize(record);
    } catch (err) {
      throw new CdpError('CDP_ERR_BUS_MESSAGE_TOO_LARGE', {
        message: String((err as Error).message),
        field: `records[${index}].headers`,
        cause: err,
      });
    }
    if (size > this.opts.maxMessageBytes) {
      throw new CdpError('CDP_ERR_BUS_MESSAGE_TOO_LARGE', {
        message: `The message is ${size} bytes encoded; the bus limit is ${this.opts.maxMessageBytes}`,
        field: `records[${index}]`,
      });
    }
    return size;
  }

  private appendByPartition(
    t: Topic,
    records: readonly ProduceRecord[],
    sizes: readonly number[],
    timestamp: number,
  ): Promise<void>[] {
    const n = t.logs.length;
    const byPart: { records: ProduceRecord[]; sizes: number[]; bytes: number }[] = [];
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!;
      const p = t.partitioner.partition(r.key);
      const g = (byPart[p] ??= { records: [], sizes: [], bytes: 0 });
      g.records.push(r);
      g.sizes.push(sizes[i]!);
      g.bytes += sizes[i]!;
    }
    const writes: Promise<void>[] = [];
    for (let p = 0; p < n; p++) {
      const g = byPart[p];
      if (g !== undefined) writes.push(t.logs[p]!.append(g.records, g.sizes, g.bytes, timestamp));
    }
    return writes;
  }

  private assertOpen(): void {
    if (this.state !== 'open') throw new CdpError('CDP_ERR_BUS_CLOSED');
  }
}
