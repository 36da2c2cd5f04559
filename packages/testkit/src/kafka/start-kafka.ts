import {
  dockerAnswers,
  dockerMaybePresent,
  DEFAULT_KAFKA_IMAGE,
  startContainerBroker,
} from './container-broker.js';
import { cachedKafkaLibs, fetchKafkaLibs } from './fetch.js';
import type { KafkaHandle } from './handle.js';
import { startJvmBroker, type JvmBrokerOptions } from './jvm-broker.js';
import { KAFKA_VERSION } from './paths.js';
import { probeKafka } from './probe.js';

export interface StartKafkaOptions {
  /** Environment to read (default `process.env`). */
  readonly env?: NodeJS.ProcessEnv;
  /** Fetch the broker jars with Maven when they are not cached (default true). */
  readonly fetch?: boolean;
  /** Progress lines (default: none). */
  readonly log?: (line: string) => void;
  /** Passed to the JVM broker. */
  readonly jvm?: Omit<JvmBrokerOptions, 'libsDir' | 'log'>;
}

/** No way to get a Kafka broker on this machine; `reasons` says what was tried. */
export class KafkaUnavailableError extends Error {
  constructor(readonly reasons: readonly string[]) {
    super(`No Kafka broker for tests: ${reasons.join('; ')}`);
    this.name = 'KafkaUnavailableError';
  }
}

/**
 * Gets a Kafka cluster for tests, in this order:
 *
 * 1. `KAFKA_BROKERS` (comma-separated) when set: used as is, after a probe;
 *    a set but unreachable `KAFKA_BROKERS` is an error, never a fallback.
 * 2. A container through testcontainers, when a Docker engine answers.
 * 3. Apache Kafka's own jars (fetched once with Maven into `.cache/kafka/`)
 *    run on the local JDK in KRaft mode.
 *
 * `CDP_TEST_KAFKA=jvm` or `=container` picks one of 2 and 3 directly.
 * Throws `KafkaUnavailableError` when none works; whether that fails the run
 * or skips Kafka tests is the caller's decision (CI must fail).
 */
export async function startKafka(opts: StartKafkaOptions = {}): Promise<KafkaHandle> {
  const env = opts.env ?? process.env;
  const log = opts.log;
  const external = env['KAFKA_BROKERS']?.trim();
  if (external) {
    const brokers = external
      .split(',')
      .map((b) => b.trim())
      .filter((b) => b.length > 0);
    await probeKafka(brokers, 10_000).catch((err: unknown) => {
      throw new Error(
        `KAFKA_BROKERS=${external} is set but does not answer: ${err instanceof Error ? err.message : String(err)}`,
        {
          cause: err,
        },
      );
    });
    log?.(`kafka: using KAFKA_BROKERS=${external}`);
    return { kind: 'external', brokers, stop: () => Promise.resolve() };
  }

  const mode = env['CDP_TEST_KAFKA'] ?? 'auto';
  if (mode !== 'auto' && mode !== 'jvm' && mode !== 'container') {
    throw new Error(`CDP_TEST_KAFKA must be auto, jvm or container (got "${mode}")`);
  }
  const reasons: string[] = [];

  if (mode !== 'jvm') {
    if ((mode === 'container' || dockerMaybePresent(env)) && (await dockerAnswers())) {
      try {
        const image = env['CDP_TEST_KAFKA_IMAGE'] ?? DEFAULT_KAFKA_IMAGE;
        log?.(`kafka: starting ${image} with testcontainers`);
        return await startContainerBroker(image);
      } catch (err) {
        reasons.push(`testcontainers: ${err instanceof Error ? err.message : String(err)}`);
      }
    } else {
      reasons.push('no Docker engine answers');
    }
    if (mode === 'container') throw new KafkaUnavailableError(reasons);
  }

  let libsDir = cachedKafkaLibs();
  if (!libsDir && opts.fetch !== false) {
    try {
      libsDir = (await fetchKafkaLibs(log ? { log } : {})).libsDir;
    } catch (err) {
      reasons.push(
        `fetching Kafka ${KAFKA_VERSION} jars: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  } else if (!libsDir) {
    reasons.push(`Kafka ${KAFKA_VERSION} jars are not cached (run npm run kafka:fetch)`);
  }
  if (libsDir) {
    try {
      return await startJvmBroker({ ...opts.jvm, libsDir, ...(log ? { log } : {}) });
    } catch (err) {
      reasons.push(`JVM broker: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  throw new KafkaUnavailableError(reasons);
}
