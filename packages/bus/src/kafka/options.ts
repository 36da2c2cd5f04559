import { CdpError, type Logger } from '@cdp/core';

/** Settings of the Kafka bus. Only `brokers` is required; defaults are listed. */
export interface KafkaBusOptions {
  /** Bootstrap brokers, `host:port`. */
  readonly brokers: readonly string[];
  /** Client id the brokers see in their logs and quotas (default `cdp`). */
  readonly clientId?: string;
  /** Logger for the adapter, and for kafkajs's own warnings (default: silent). */
  readonly logger?: Logger;
  /** Partitions of a topic created without an explicit count (default 4). */
  readonly defaultPartitions?: number;
  /** Replication factor of created topics (default -1: the broker's `default.replication.factor`). */
  readonly replicationFactor?: number;

  // Producer
  /**
   * How long a produce call waits for others to share its request (default
   * 2 ms). While a request is in flight, calls queue up and go together in
   * the next one as soon as it returns, so under load batches grow by
   * themselves; the linger only matters when the producer is idle.
   */
  readonly lingerMs?: number;
  /**
   * Most record bytes in one produce request (default 1,000,000). Keeps every
   * partition's record batch under the broker's `message.max.bytes` (1 MiB by
   * default); a produce call with more is split over several requests.
   */
  readonly maxRequestBytes?: number;
  /**
   * Largest record accepted (key, value, headers and framing; default
   * 1,000,000). Larger records are refused with `CDP_ERR_BUS_MESSAGE_TOO_LARGE`
   * before anything is sent. Keep it at or under the topic's `max.message.bytes`.
   */
  readonly maxMessageBytes?: number;
  /**
   * Bytes accepted but not yet acknowledged above which `produce()` is refused
   * at once with a retryable `CDP_ERR_INGEST_BACKPRESSURE` (default 64 MiB).
   */
  readonly maxQueuedBytes?: number;
  /**
   * A produce call not acknowledged within this long rejects with a retryable
   * `CDP_ERR_INGEST_BACKPRESSURE` (default 30,000 ms). Records already sent
   * may still land, so a retry can duplicate them (at-least-once).
   */
  readonly produceTimeoutMs?: number;
  /** Record batch compression (default `none`; `gzip` needs no native code but costs CPU). */
  readonly compression?: 'none' | 'gzip';

  // Client
  /** TCP connect timeout per broker (default 3,000 ms). */
  readonly connectionTimeoutMs?: number;
  /** How long a request may wait for its response (default 30,000 ms). */
  readonly requestTimeoutMs?: number;
  /**
   * Retries of a failed request, with exponential backoff from 100 ms up to
   * 2 s (default 5, about 3 s in all). When they run out the caller gets a
   * retryable `CDP_ERR_BUS_UNAVAILABLE`. The idempotent producer always gets
   * at least 1 (kafkajs requires it).
   */
  readonly retries?: number;
  /** `ping()` fails when the cluster does not answer within this long (default 2,000 ms). */
  readonly pingTimeoutMs?: number;

  // Consumers
  /** A group member that sends no heartbeat for this long is removed (default 30,000 ms). */
  readonly sessionTimeoutMs?: number;
  /** Heartbeat period, also while a handler runs (default 3,000 ms). Lower it for faster rebalances. */
  readonly heartbeatIntervalMs?: number;
  /** How long members get to rejoin during a rebalance (default 60,000 ms). */
  readonly rebalanceTimeoutMs?: number;
  /** Partitions of one subscription handled at the same time (default 4). */
  readonly partitionsConsumedConcurrently?: number;
  /** Largest fetch per partition (default 1 MiB). */
  readonly maxBytesPerPartition?: number;
  /** First delay before a failed batch is handed to the handler again; doubles per failure (default 100 ms). */
  readonly retryBackoffMs?: number;
  /** Cap of that delay (default 5,000 ms). */
  readonly maxRetryBackoffMs?: number;
}

/** Options with defaults applied, validated and frozen. */
export type ResolvedKafkaOptions = Readonly<
  Required<Omit<KafkaBusOptions, 'logger' | 'brokers'>>
> & {
  readonly brokers: readonly string[];
  readonly logger: Logger | undefined;
};

const DEFAULTS = {
  clientId: 'cdp',
  defaultPartitions: 4,
  replicationFactor: -1,
  lingerMs: 2,
  maxRequestBytes: 1_000_000,
  maxMessageBytes: 1_000_000,
  maxQueuedBytes: 64 * 1024 * 1024,
  produceTimeoutMs: 30_000,
  compression: 'none',
  connectionTimeoutMs: 3_000,
  requestTimeoutMs: 30_000,
  retries: 5,
  pingTimeoutMs: 2_000,
  sessionTimeoutMs: 30_000,
  heartbeatIntervalMs: 3_000,
  rebalanceTimeoutMs: 60_000,
  partitionsConsumedConcurrently: 4,
  maxBytesPerPartition: 1024 * 1024,
  retryBackoffMs: 100,
  maxRetryBackoffMs: 5_000,
} as const satisfies Omit<ResolvedKafkaOptions, 'brokers' | 'logger'>;

const KNOWN = new Set<string>(['brokers', 'logger', ...Object.keys(DEFAULTS)]);

/**
 * Applies defaults and checks every setting, reporting all problems in one
 * `CDP_ERR_CONFIG_INVALID` error. Unknown keys are refused (typos).
 */
export function resolveKafkaOptions(input: KafkaBusOptions): ResolvedKafkaOptions {
  const problems: string[] = [];
  for (const key of Object.keys(input))
    if (!KNOWN.has(key)) problems.push(`${key}: unknown option`);
  const brokers = Array.isArray(input.brokers)
    ? input.brokers.map((b) => String(b).trim()).filter((b) => b !== '')
    : [];
  if (brokers.length === 0) problems.push('brokers: required, at least one host:port');
  for (const b of brokers)
    if (!/^[^\s:]+:\d{1,5}$/.test(b) && !/^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(b))
      problems.push(`brokers: "${b}" is not host:port`);
  const merged = { ...DEFAULTS, ...stripUndefined(input) };
  if (typeof merged.clientId !== 'string' || merged.clientId === '')
    problems.push('clientId: must be a non-empty string');
  const positive = [
    'defaultPartitions',
    'maxRequestBytes',
    'maxMessageBytes',
    'maxQueuedBytes',
    'produceTimeoutMs',
    'connectionTimeoutMs',
    'requestTimeoutMs',
    'pingTimeoutMs',
    'sessionTimeoutMs',
    'heartbeatIntervalMs',
    'rebalanceTimeoutMs',
    'partitionsConsumedConcurrently',
    'maxBytesPerPartition',
    'retryBackoffMs',
    'maxRetryBackoffMs',
  ] as const;
  for (const key of positive) {
    const v = merged[key];
    if (!Number.isSafeInteger(v) || v <= 0)
      problems.push(`${key}: must be a positive integer, got ${String(v)}`);
  }
  for (const key of ['lingerMs', 'retries'] as const) {
    const v = merged[key];
    if (!Number.isSafeInteger(v) || v < 0)
      problems.push(`${key}: must be a non-negative integer, got ${String(v)}`);
  }
  if (
    !Number.isSafeInteger(merged.replicationFactor) ||
    (merged.replicationFactor < 1 && merged.replicationFactor !== -1)
  ) {
    problems.push(
      `replicationFactor: must be -1 or a positive integer, got ${String(merged.replicationFactor)}`,
    );
  }
  if (merged.compression !== 'none' && merged.compression !== 'gzip')
    problems.push(`compression: must be none or gzip, got ${String(merged.compression)}`);
  if (merged.heartbeatIntervalMs >= merged.sessionTimeoutMs)
    problems.push('heartbeatIntervalMs: must be below sessionTimeoutMs');
  if (merged.maxRequestBytes < merged.maxMessageBytes)
    problems.push('maxRequestBytes: must be at least maxMessageBytes');
  if (problems.length > 0) {
    throw new CdpError('CDP_ERR_CONFIG_INVALID', {
      message: `Invalid Kafka bus options: ${problems.join('; ')}`,
    });
  }
  return Object.freeze({ ...merged, brokers: Object.freeze(brokers), logger: input.logger });
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
