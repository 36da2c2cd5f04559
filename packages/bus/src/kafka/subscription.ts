import { CdpError, type Logger } from '@cdp/core';
import type { Consumer, EachBatchPayload, IHeaders, Kafka, KafkaMessage } from 'kafkajs';
import type { BusMessage, MessageBatch, SubscribeOptions, Subscription } from '../bus.js';
import type { ResolvedKafkaOptions } from './options.js';

const DEFAULT_MAX_BATCH_SIZE = 10_000;
const DEFAULT_MAX_WAIT_MS = 100;

/**
 * Runs one kafkajs consumer for one `subscribe()`: commit after handle
 * (at-least-once), in offset order per partition, several partitions at once.
 *
 * - A fetched batch is cut into runs of at most `maxBatchSize`; each run's
 *   offset (last + 1) is committed as soon as its handler resolves, before
 *   the next run of that partition is handed over.
 * - A handler that throws gets the same run again after a backoff (doubling
 *   up to `maxRetryBackoffMs`), for as long as this member owns the
 *   partition; nothing after it is handed over or committed meanwhile. If the
 *   partition moves to another member, that member starts from the last
 *   commit, so it sees the run again too.
 * - Heartbeats continue while a handler runs or backs off, so slow handlers
 *   do not cost the group its members.
 * - A group with no commits starts at the beginning of each partition.
 */
export async function subscribeKafka(
  kafka: Kafka,
  o: ResolvedKafkaOptions,
  logger: Logger,
  opts: SubscribeOptions,
): Promise<Subscription> {
  const maxBatchSize = opts.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE;
  const maxWaitMs = opts.maxWaitMs ?? DEFAULT_MAX_WAIT_MS;
  if (typeof opts.group !== 'string' || opts.group === '') {
    throw new CdpError('CDP_ERR_CONFIG_INVALID', {
      message: 'subscribe: group must be a non-empty string',
      field: 'group',
    });
  }
  if (!Number.isSafeInteger(maxBatchSize) || maxBatchSize <= 0) {
    throw new CdpError('CDP_ERR_CONFIG_INVALID', {
      message: 'subscribe: maxBatchSize must be a positive integer',
      field: 'maxBatchSize',
    });
  }
  if (!Number.isFinite(maxWaitMs) || maxWaitMs < 0) {
    throw new CdpError('CDP_ERR_CONFIG_INVALID', {
      message: 'subscribe: maxWaitMs must be >= 0',
      field: 'maxWaitMs',
    });
  }
  const log = logger.child({ topic: opts.topic, group: opts.group });
  const consumer = kafka.consumer({
    groupId: opts.group,
    sessionTimeout: o.sessionTimeoutMs,
    rebalanceTimeout: o.rebalanceTimeoutMs,
    heartbeatInterval: o.heartbeatIntervalMs,
    maxWaitTimeInMs: maxWaitMs,
    maxBytesPerPartition: o.maxBytesPerPartition,
    // The topic is created by the bus (with its partition count) before this.
    allowAutoTopicCreation: false,
    retry: { retries: o.retries, initialRetryTime: 100, maxRetryTime: 2_000 },
  });
  const sub = new KafkaSubscription(consumer, opts, maxBatchSize, o, log);
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    // kafkajs restarts the consumer itself for retriable errors; otherwise it is gone.
    const level = payload.restart ? 'warn' : 'error';
    log[level]({ err: payload.error, restart: payload.restart }, 'bus_kafka_consumer_crashed');
  });
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [opts.topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: o.partitionsConsumedConcurrently,
      eachBatch: (payload) => sub.handle(payload),
    });
  } catch (err) {
    await consumer.disconnect().catch(() => undefined);
    throw err;
  }
  return sub;
}

class KafkaSubscription implements Subscription {
  private closing = false;
  private closed: Promise<void> | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  /** Wakes backoff sleeps when closing. */
  private readonly wake = new Set<() => void>();

  constructor(
    private readonly consumer: Consumer,
    private readonly opts: SubscribeOptions,
    private readonly maxBatchSize: number,
    private readonly o: ResolvedKafkaOptions,
    private readonly log: Logger,
  ) {}

  close(): Promise<void> {
    return (this.closed ??= (async () => {
      this.closing = true;
      for (const w of this.wake) w();
      // kafkajs's stop() leaves the group without waiting for a running
      // eachBatch, so a handler finishing afterwards could not commit. Stop
      // fetching (pause), let running handlers finish and commit while still
      // a member, and only then leave.
      try {
        this.consumer.pause([{ topic: this.opts.topic }]);
      } catch (err) {
        this.log.warn({ err }, 'bus_kafka_consumer_pause_failed');
      }
      while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
      await this.consumer
        .disconnect()
        .catch((err: unknown) => this.log.warn({ err }, 'bus_kafka_consumer_disconnect_failed'));
    })());
  }

  handle(payload: EachBatchPayload): Promise<void> {
    const run = this.process(payload);
    this.inFlight.add(run);
    return run.finally(() => this.inFlight.delete(run));
  }

  private async process(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const { topic, partition } = batch;
    const heartbeat = (): Promise<void> => payload.heartbeat();
    const gone = (): boolean => this.closing || !payload.isRunning() || payload.isStale();
    const all = batch.messages;
    for (let i = 0; i < all.length; i += this.maxBatchSize) {
      if (gone()) return;
      const messages = all
        .slice(i, i + this.maxBatchSize)
        .map((m) => toBusMessage(topic, partition, m));
      const run: MessageBatch = { topic, partition, messages };
      for (let attempt = 0; ; attempt++) {
        const failure = await this.withHeartbeats(heartbeat, () => this.opts.handleBatch(run));
        if (failure === undefined) break;
        try {
          this.opts.onError?.(failure.err, run);
        } catch (err) {
          this.log.warn({ err }, 'bus_kafka_on_error_threw');
        }
        const backoff = Math.min(
          this.o.retryBackoffMs * 2 ** Math.min(attempt, 20),
          this.o.maxRetryBackoffMs,
        );
        this.log.warn(
          {
            err: failure.err,
            partition,
            firstOffset: messages[0]?.offset,
            count: messages.length,
            attempt: attempt + 1,
            backoffMs: backoff,
          },
          'bus_kafka_handler_failed',
        );
        if (gone()) return;
        await this.withHeartbeats(heartbeat, () => this.sleep(backoff));
        if (gone()) return;
      }
      const next = (BigInt(messages[messages.length - 1]!.offset) + 1n).toString();
      try {
        await this.consumer.commitOffsets([{ topic, partition, offset: next }]);
      } catch (err) {
        // Not committed: whoever owns the partition next starts before this
        // run and hands it over again (at-least-once). kafkajs rejoins the
        // group on rebalance errors thrown from here.
        this.log.warn({ err, partition, offset: next }, 'bus_kafka_commit_failed');
        if (this.closing) return;
        throw err;
      }
      // The next fetch of this partition starts after what was resolved.
      payload.resolveOffset(messages[messages.length - 1]!.offset);
    }
  }

  /** Runs `fn`, heartbeating meanwhile; resolves with its error instead of throwing. */
  private async withHeartbeats(
    heartbeat: () => Promise<void>,
    fn: () => Promise<void>,
  ): Promise<{ err: unknown } | undefined> {
    const timer = setInterval(
      () => {
        // kafkajs throttles heartbeats to heartbeatIntervalMs; a rebalance
        // error here surfaces again at its own next heartbeat after this batch.
        heartbeat().catch(() => undefined);
      },
      Math.max(100, Math.floor(this.o.heartbeatIntervalMs / 2)),
    );
    try {
      await fn();
      return undefined;
    } catch (err) {
      return { err };
    } finally {
      clearInterval(timer);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wake.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake.add(done);
    });
  }
}

function toBusMessage(topic: string, partition: number, m: KafkaMessage): BusMessage {
  return {
    topic,
    partition,
    offset: m.offset,
    key: m.key === null ? null : m.key.toString('utf8'),
    value: m.value ?? Buffer.alloc(0),
    timestamp: Number(m.timestamp),
    headers: m.headers ? toHeaders(m.headers) : {},
  };
}

function toHeaders(h: IHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k in h) {
    const v = h[k];
    if (v === undefined) continue;
    // Kafka allows repeated header keys; the port has one value per key: the last wins.
    const last = Array.isArray(v) ? v[v.length - 1] : v;
    if (last !== undefined) out[k] = typeof last === 'string' ? last : last.toString('utf8');
  }
  return out;
}
