/**
 * The Kafka `Bus` adapter, on kafkajs. The only module (with its neighbours in
 * this folder) that imports kafkajs; kafkajs errors are translated here into
 * `CdpError`s that say whether a retry can help.
 */
import { CdpError, createLogger, type Logger } from '@cdp/core';
import { CompressionTypes, Kafka, logLevel, type Admin, type Producer } from 'kafkajs';
import type { Bus, ProduceRecord, SubscribeOptions, Subscription, TopicSpec } from '../bus.js';
import { translateKafkaError, type KafkaOperation } from './errors.js';
import { kafkajsLogCreator } from './kafkajs-logger.js';
import { resolveKafkaOptions, type KafkaBusOptions, type ResolvedKafkaOptions } from './options.js';
import { stablePartitioner } from './partitioner.js';
import { ProduceBatcher } from './produce-batcher.js';
import { ProducerSession } from './producer-session.js';
import { subscribeKafka } from './subscription.js';

/** Same rule as Kafka's own: 1-249 of a-z A-Z 0-9 . _ - */
const TOPIC_NAME_RE = /^[a-zA-Z0-9._-]{1,249}$/;

/**
 * Connects to Kafka and returns a `Bus` on it. The producer is idempotent
 * and waits for all in-sync replicas (`acks=-1`); keys pick partitions with
 * the Java client's murmur2 partitioner, so other Kafka clients agree; a
 * keyless record keeps its partition across retries (`stablePartitioner`).
 *
 * Throws `CDP_ERR_CONFIG_INVALID` for bad options and a retryable
 * `CDP_ERR_BUS_UNAVAILABLE` when the brokers cannot be reached.
 */
export async function createKafkaBus(opts: KafkaBusOptions): Promise<Bus> {
  const o = resolveKafkaOptions(opts);
  const logger = o.logger ?? createLogger({ service: 'bus', level: 'silent' });
  const kafka = new Kafka({
    clientId: o.clientId,
    brokers: [...o.brokers],
    connectionTimeout: o.connectionTimeoutMs,
    requestTimeout: o.requestTimeoutMs,
    retry: { retries: o.retries, initialRetryTime: 100, maxRetryTime: 2_000 },
    logLevel: logLevel.WARN,
    logCreator: kafkajsLogCreator(logger),
  });
  const admin = kafka.admin();
  const newProducer = (): Producer =>
    kafka.producer({
      idempotent: true,
      // kafkajs keeps per-partition sequence numbers right only with one request in flight.
      maxInFlightRequests: 1,
      createPartitioner: stablePartitioner,
      allowAutoTopicCreation: false,
      // kafkajs refuses an idempotent producer without retries. Finite retries
      // (rather than its default of forever) are what let produce() report an
      // unreachable broker; the broker still deduplicates the retries it sees.
      retry: { retries: Math.max(1, o.retries), initialRetryTime: 100, maxRetryTime: 2_000 },
    });
  const producer = newProducer();
  try {
    await Promise.all([admin.connect(), producer.connect()]);
  } catch (err) {
    await Promise.allSettled([producer.disconnect(), admin.disconnect()]);
    throw translateKafkaError(err, 'connect');
  }
  logger.info({ brokers: o.brokers, clientId: o.clientId }, 'bus_kafka_connected');
  return new KafkaBus(kafka, admin, new ProducerSession(producer, newProducer, logger), o, logger);
}

type State = 'open' | 'closing' | 'closed';

class KafkaBus implements Bus {
  readonly kind = 'kafka' as const;
  private state: State = 'open';
  private closing: Promise<void> | undefined;
  private readonly batcher: ProduceBatcher;
  private readonly subscriptions = new Set<Subscription>();
  /** Topics known to exist (created here, or found existing). */
  private readonly known = new Set<string>();
  private readonly creating = new Map<string, Promise<void>>();

  constructor(
    private readonly kafka: Kafka,
    private readonly admin: Admin,
    private readonly producer: ProducerSession,
    private readonly o: ResolvedKafkaOptions,
    private readonly logger: Logger,
  ) {
    const compression = o.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
    this.batcher = new ProduceBatcher({
      lingerMs: o.lingerMs,
      maxRequestBytes: o.maxRequestBytes,
      maxMessageBytes: o.maxMessageBytes,
      maxQueuedBytes: o.maxQueuedBytes,
      produceTimeoutMs: o.produceTimeoutMs,
      translate: (err) => this.fail(err, 'produce'),
      send: async (request) => {
        await this.producer.send({
          acks: -1,
          compression,
          topicMessages: request.map(({ topic, records }) => ({
            topic,
            messages: records.map((r) =>
              r.headers
                ? { key: r.key, value: r.value, headers: { ...r.headers } }
                : { key: r.key, value: r.value },
            ),
          })),
        });
      },
    });
  }

  async ensureTopics(specs: readonly TopicSpec[]): Promise<void> {
    this.assertOpen();
    for (const s of specs) {
      validateTopic(s.name);
      if (
        s.partitions !== undefined &&
        (!Number.isSafeInteger(s.partitions) || s.partitions < 1 || s.partitions > 10_000)
      ) {
        throw new CdpError('CDP_ERR_CONFIG_INVALID', {
          message: `Topic ${s.name}: partitions must be an integer from 1 to 10000`,
          field: 'partitions',
        });
      }
    }
    await Promise.all(
      specs.map((s) => this.ensureTopic(s.name, s.partitions ?? this.o.defaultPartitions)),
    );
  }

  produce(topic: string, records: readonly ProduceRecord[]): Promise<void> {
    if (this.state !== 'open') return Promise.reject(new CdpError('CDP_ERR_BUS_CLOSED'));
    try {
      validateTopic(topic);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    if (this.known.has(topic)) return this.batcher.produce(topic, records);
    return this.ensureTopic(topic, this.o.defaultPartitions).then(() =>
      this.batcher.produce(topic, records),
    );
  }

  async subscribe(opts: SubscribeOptions): Promise<Subscription> {
    this.assertOpen();
    validateTopic(opts.topic);
    await this.ensureTopic(opts.topic, this.o.defaultPartitions);
    let sub: Subscription;
    try {
      sub = await subscribeKafka(this.kafka, this.o, this.logger, opts);
    } catch (err) {
      throw this.fail(err, 'consume');
    }
    // A subscription made while the bus was closing is closed with it.
    if (this.state !== 'open') {
      await sub.close();
      throw new CdpError('CDP_ERR_BUS_CLOSED');
    }
    const tracked: Subscription = {
      close: async () => {
        await sub.close();
        this.subscriptions.delete(tracked);
      },
    };
    this.subscriptions.add(tracked);
    return tracked;
  }

  async purgeConsumed(topics: readonly string[]): Promise<number> {
    this.assertOpen();
    try {
      const existing = new Set(await this.admin.listTopics());
      const wanted = topics.filter((t) => existing.has(t));
      if (wanted.length === 0) return 0;
      // The lowest committed offset per partition over the groups that read
      // each topic (a group with no commit on a topic does not hold it back).
      const lowest = new Map<string, Map<number, number>>();
      const { groups } = await this.admin.listGroups();
      for (const { groupId } of groups) {
        const offsets = await this.admin.fetchOffsets({ groupId, topics: wanted });
        for (const { topic, partitions } of offsets) {
          if (partitions.every((p) => Number(p.offset) < 0)) continue;
          const byPart = lowest.get(topic) ?? new Map<number, number>();
          lowest.set(topic, byPart);
          for (const p of partitions) {
            const o = Math.max(0, Number(p.offset));
            byPart.set(p.partition, Math.min(o, byPart.get(p.partition) ?? o));
          }
        }
      }
      let purged = 0;
      for (const [topic, byPart] of lowest) {
        const starts = new Map(
          (await this.admin.fetchTopicOffsets(topic)).map((p) => [p.partition, Number(p.low)]),
        );
        const partitions = [...byPart]
          .filter(([partition, offset]) => offset > (starts.get(partition) ?? 0))
          .map(([partition, offset]) => ({ partition, offset: String(offset) }));
        if (partitions.length === 0) continue;
        await this.admin.deleteTopicRecords({ topic, partitions });
        purged += partitions.length;
      }
      if (purged > 0)
        this.logger.info({ topics: wanted, partitions: purged }, 'bus_consumed_purged');
      return purged;
    } catch (err) {
      throw this.fail(err, 'admin');
    }
  }

  async ping(): Promise<void> {
    this.assertOpen();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.admin.describeCluster(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new CdpError('CDP_ERR_BUS_UNAVAILABLE', {
                  message: `Kafka did not answer within ${this.o.pingTimeoutMs} ms`,
                  retryable: true,
                }),
              ),
            this.o.pingTimeoutMs,
          );
        }),
      ]);
    } catch (err) {
      throw this.fail(err, 'ping');
    } finally {
      clearTimeout(timer);
    }
  }

  close(): Promise<void> {
    return (this.closing ??= (async () => {
      this.state = 'closing';
      // Consumers first (they finish and commit their batch), then what was produced, then the clients.
      await Promise.allSettled([...this.subscriptions].map((s) => s.close()));
      await this.batcher.close();
      const results = await Promise.allSettled([
        this.producer.disconnect(),
        this.admin.disconnect(),
      ]);
      for (const r of results)
        if (r.status === 'rejected')
          this.logger.warn({ err: r.reason as unknown }, 'bus_kafka_disconnect_failed');
      this.state = 'closed';
      this.logger.info('bus_kafka_closed');
    })());
  }

  private ensureTopic(name: string, partitions: number): Promise<void> {
    if (this.known.has(name)) return Promise.resolve();
    let pending = this.creating.get(name);
    if (pending === undefined) {
      pending = this.createTopic(name, partitions).finally(() => this.creating.delete(name));
      this.creating.set(name, pending);
    }
    return pending;
  }

  private async createTopic(name: string, partitions: number): Promise<void> {
    let created: boolean;
    try {
      created = await this.admin.createTopics({
        topics: [
          { topic: name, numPartitions: partitions, replicationFactor: this.o.replicationFactor },
        ],
        // kafkajs's own wait gives up on the first "unknown topic" answer, which a
        // KRaft broker gives until its metadata catches up with the controller.
        waitForLeaders: false,
        timeout: this.o.requestTimeoutMs,
      });
    } catch (err) {
      const e = translateKafkaError(err, 'admin');
      // A client allowed to use a topic but not to create topics (ACLs) is
      // fine as long as the topic is there.
      if (e.retryable || !(await this.topicExists(name))) throw this.fail(err, 'admin');
      created = false;
    }
    await this.waitForLeaders(name);
    if (created) this.logger.info({ topic: name, partitions }, 'bus_kafka_topic_created');
    this.known.add(name);
  }

  private async topicExists(topic: string): Promise<boolean> {
    try {
      return (await this.admin.listTopics()).includes(topic);
    } catch {
      return false;
    }
  }

  /** Polls metadata until every partition of `topic` has a leader (or `requestTimeoutMs` passes). */
  private async waitForLeaders(topic: string): Promise<void> {
    const deadline = Date.now() + this.o.requestTimeoutMs;
    let last: unknown;
    for (;;) {
      try {
        const { topics } = await this.admin.fetchTopicMetadata({ topics: [topic] });
        const parts = topics.find((t) => t.name === topic)?.partitions ?? [];
        if (parts.length > 0 && parts.every((p) => p.leader >= 0)) return;
        last = undefined;
      } catch (err) {
        const e = translateKafkaError(err, 'admin');
        if (!e.retryable) throw this.fail(err, 'admin');
        last = err;
      }
      if (Date.now() > deadline) {
        throw new CdpError('CDP_ERR_BUS_UNAVAILABLE', {
          message: `Topic ${topic} has partitions without a leader after ${this.o.requestTimeoutMs} ms`,
          retryable: true,
          cause: last,
        });
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  private assertOpen(): void {
    if (this.state !== 'open') throw new CdpError('CDP_ERR_BUS_CLOSED');
  }

  private fail(err: unknown, op: KafkaOperation): CdpError {
    const e = translateKafkaError(err, op);
    if (!(err instanceof CdpError))
      this.logger.warn(
        { err, code: e.code, retryable: e.retryable, op },
        'bus_kafka_operation_failed',
      );
    return e;
  }
}

function validateTopic(name: string): void {
  if (typeof name !== 'string' || !TOPIC_NAME_RE.test(name) || name === '.' || name === '..') {
    throw new CdpError('CDP_ERR_CONFIG_INVALID', {
      message: `Invalid topic name ${JSON.stringify(name)}: use 1-249 of a-z A-Z 0-9 . _ -`,
      field: 'topic',
    });
  }
}
