/**
 * The `Bus` port: topics split into partitions by key, consumer groups, and
 * commit-after-handle (at-least-once) delivery. Services talk only to this
 * interface; adapters are the embedded journaled bus and Kafka.
 */

/** A message as a consumer sees it. */
export interface BusMessage {
  readonly topic: string;
  readonly partition: number;
  /** Offset within the partition, as a decimal string (Kafka offsets are 64-bit). */
  readonly offset: string;
  readonly key: string | null;
  readonly value: Buffer;
  /** Milliseconds since the epoch at which the bus accepted the message. */
  readonly timestamp: number;
  readonly headers: Readonly<Record<string, string>>;
}

/** A message to produce. `key` picks the partition (same key, same partition, in order). */
export interface ProduceRecord {
  readonly key: string | null;
  readonly value: Buffer | string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** A run of messages from one partition, in offset order. */
export interface MessageBatch {
  readonly topic: string;
  readonly partition: number;
  readonly messages: readonly BusMessage[];
}

export interface TopicSpec {
  readonly name: string;
  /** Number of partitions (default: the adapter's default). */
  readonly partitions?: number;
}

export interface SubscribeOptions {
  readonly topic: string;
  /** Consumer group: each message is handled by one member of the group. */
  readonly group: string;
  /**
   * Handles a batch. Offsets are committed only after it resolves; if it
   * throws, the same messages are delivered again after a backoff
   * (at-least-once). Poison messages are the handler's to dead-letter.
   */
  readonly handleBatch: (batch: MessageBatch) => Promise<void>;
  /** Most messages in one batch (default 10,000). */
  readonly maxBatchSize?: number;
  /** How long to wait for a batch to fill before handing over what there is (default 100 ms). */
  readonly maxWaitMs?: number;
  /** Called when a handler failed and the batch will be retried. */
  readonly onError?: (err: unknown, batch: MessageBatch) => void;
}

export interface Subscription {
  /** Stops fetching, waits for the handler in flight, commits what was handled. */
  close(): Promise<void>;
}

export interface Bus {
  /** `embedded` or `kafka`: for logs and health output only, never for branching. */
  readonly kind: 'embedded' | 'kafka';
  /** Creates topics that do not exist yet; idempotent. */
  ensureTopics(specs: readonly TopicSpec[]): Promise<void>;
  /**
   * Appends records and resolves once they are durable (embedded: written to
   * the journal; Kafka: acknowledged by all in-sync replicas). Rejects with a
   * retryable `CdpError` when the bus cannot take them now (backpressure).
   */
  produce(topic: string, records: readonly ProduceRecord[]): Promise<void>;
  subscribe(opts: SubscribeOptions): Promise<Subscription>;
  /**
   * Deletes the records of `topics` that every consumer group reading them
   * has committed past, however recent (erasure: once handled, no copy of a
   * person's events stays on the bus). Embedded: the journal files holding
   * only such records are deleted, the one being written closed first.
   * Kafka: each partition's log start moves to the lowest committed offset
   * (DeleteRecords): nobody can read them again, and the broker removes the
   * files when their segment closes (`segment.ms`). Records not yet read by
   * every group stay. Resolves to the number of partitions purged.
   */
  purgeConsumed(topics: readonly string[]): Promise<number>;
  /** Throws when the bus is not usable (readiness). */
  ping(): Promise<void>;
  /** Closes subscriptions first, then producers. */
  close(): Promise<void>;
}
