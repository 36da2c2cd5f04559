import { CdpError } from '@cdp/core';

/** What the adapter was doing when kafkajs failed; it decides between backpressure and unavailability. */
export type KafkaOperation = 'connect' | 'produce' | 'admin' | 'ping' | 'consume';

/** Broker answers that mean "this record can never be taken". */
const TOO_LARGE = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE', 'MESSAGE_SIZE_TOO_LARGE']);
/** Broker answers that mean "busy, try later" rather than "gone". */
const SLOW = new Set([
  'REQUEST_TIMED_OUT',
  'NOT_ENOUGH_REPLICAS',
  'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
  'THROTTLING_QUOTA_EXCEEDED',
  'KAFKA_STORAGE_ERROR',
]);
/** Refusals no retry can fix: credentials, ACLs. */
const DENIED = new Set([
  'TOPIC_AUTHORIZATION_FAILED',
  'GROUP_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
  'SASL_AUTHENTICATION_FAILED',
  'ILLEGAL_SASL_STATE',
  'UNSUPPORTED_SASL_MECHANISM',
]);
const TIMEOUT_NAMES = new Set([
  'KafkaJSRequestTimeoutError',
  'KafkaJSTimeout',
  'KafkaJSLockTimeout',
]);
const UNREACHABLE_NAMES = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSBrokerNotFound',
  'KafkaJSNoBrokerAvailableError',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSTopicMetadataNotLoaded',
  'KafkaJSGroupCoordinatorNotFound',
]);

interface Link {
  readonly name: string;
  readonly type: string | undefined;
  readonly retriable: boolean | undefined;
  readonly message: string;
}

/** The error and what it wraps (`cause`, `originalError`, aggregate `errors`), outermost first. */
function chain(err: unknown): Link[] {
  const out: Link[] = [];
  const queue: unknown[] = [err];
  const seen = new Set<unknown>();
  while (queue.length > 0 && out.length < 16) {
    const e = queue.shift();
    if (typeof e !== 'object' || e === null || seen.has(e)) continue;
    seen.add(e);
    const o = e as {
      name?: unknown;
      type?: unknown;
      retriable?: unknown;
      message?: unknown;
      cause?: unknown;
      originalError?: unknown;
      errors?: unknown;
    };
    out.push({
      name: typeof o.name === 'string' ? o.name : 'Error',
      type: typeof o.type === 'string' ? o.type : undefined,
      retriable: typeof o.retriable === 'boolean' ? o.retriable : undefined,
      message: typeof o.message === 'string' ? o.message : 'unknown error',
    });
    queue.push(o.cause, o.originalError);
    if (Array.isArray(o.errors)) queue.push(...(o.errors as unknown[]));
  }
  return out;
}

/**
 * Translates a kafkajs error into the platform's catalogue, deciding whether
 * a retry can help:
 *
 * - record too large: `CDP_ERR_BUS_MESSAGE_TOO_LARGE`, not retryable;
 * - request timeouts and "busy" answers while producing:
 *   `CDP_ERR_INGEST_BACKPRESSURE`, retryable;
 * - no connection, no leader, retries exhausted, other retriable protocol
 *   errors: `CDP_ERR_BUS_UNAVAILABLE`, retryable;
 * - authentication and authorisation refusals: `CDP_ERR_BUS_UNAVAILABLE`, not retryable;
 * - an invalid topic name: `CDP_ERR_CONFIG_INVALID`;
 * - anything else: `CDP_ERR_INTERNAL`, not retryable.
 *
 * A `CdpError` passes through unchanged.
 */
export function translateKafkaError(err: unknown, op: KafkaOperation): CdpError {
  if (err instanceof CdpError) return err;
  const links = chain(err);
  const types = new Set(links.map((l) => l.type).filter((t): t is string => t !== undefined));
  const names = new Set(links.map((l) => l.name));
  const detail = links[0]?.message ?? (typeof err === 'string' ? err : 'unknown error');
  const innermost = links[links.length - 1];
  const text = `Kafka ${op} failed: ${detail}${innermost && innermost.message !== detail ? ` (${innermost.message})` : ''}`;

  if ([...types].some((t) => TOO_LARGE.has(t))) {
    return new CdpError('CDP_ERR_BUS_MESSAGE_TOO_LARGE', {
      message: text,
      retryable: false,
      cause: err,
    });
  }
  if ([...types].some((t) => DENIED.has(t)) || names.has('KafkaJSSASLAuthenticationError')) {
    return new CdpError('CDP_ERR_BUS_UNAVAILABLE', { message: text, retryable: false, cause: err });
  }
  if (types.has('INVALID_TOPIC_EXCEPTION')) {
    return new CdpError('CDP_ERR_CONFIG_INVALID', {
      message: text,
      field: 'topic',
      retryable: false,
      cause: err,
    });
  }
  const timedOut =
    [...names].some((n) => TIMEOUT_NAMES.has(n)) || [...types].some((t) => SLOW.has(t));
  const unreachable =
    [...names].some((n) => UNREACHABLE_NAMES.has(n)) ||
    /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND/.test(text);
  if (op === 'produce' && timedOut && !unreachable) {
    return new CdpError('CDP_ERR_INGEST_BACKPRESSURE', {
      message: text,
      retryable: true,
      cause: err,
    });
  }
  const retriable =
    timedOut ||
    unreachable ||
    names.has('KafkaJSNumberOfRetriesExceeded') ||
    links.some((l) => l.retriable === true);
  if (retriable)
    return new CdpError('CDP_ERR_BUS_UNAVAILABLE', { message: text, retryable: true, cause: err });
  return new CdpError('CDP_ERR_INTERNAL', { message: text, retryable: false, cause: err });
}
