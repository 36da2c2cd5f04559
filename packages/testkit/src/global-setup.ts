/**
 * Vitest global setup for the `int` project. Starts ONE Kafka broker for the
 * whole run (see `startKafka` for where it comes from, fetching the broker
 * jars first on a fresh machine), hands its address to the test workers, and
 * stops it at the end.
 *
 * Workers get the address twice: in `process.env.CDP_TEST_KAFKA_BROKERS`
 * (vitest 4 builds each fork's environment from `process.env` after global
 * setup has run, so child processes that tests spawn see it too) and as
 * `inject('kafkaBrokers')`. It is deliberately not `KAFKA_BROKERS`: that
 * switches services from the embedded bus to Kafka, and tests of the
 * embedded mode must not change meaning because a broker happens to be up.
 *
 * With no broker to be had, CI fails here; elsewhere Kafka tests skip (see
 * `kafkaBrokersForTest`).
 */
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { BROKERS_ENV, isCi, UNAVAILABLE_ENV } from './kafka/brokers-for-test.js';
import type { KafkaHandle } from './kafka/handle.js';
import { KafkaUnavailableError, startKafka } from './kafka/start-kafka.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Comma-separated bootstrap brokers, or '' when none (tests then skip outside CI). */
    kafkaBrokers: string;
  }
}

let handle: KafkaHandle | undefined;

const log = (line: string): void => {
  process.stderr.write(`[testkit] ${line}\n`);
};

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (!handle) {
    try {
      handle = await startKafka({ log });
    } catch (err) {
      if (isCi() || !(err instanceof KafkaUnavailableError)) throw err;
      const reason = err.reasons.join('; ');
      process.env[UNAVAILABLE_ENV] = reason;
      log(`no Kafka broker, Kafka tests will skip: ${reason}`);
    }
  }
  const brokers = handle?.brokers.join(',') ?? '';
  if (brokers) process.env[BROKERS_ENV] = brokers;
  project.provide('kafkaBrokers', brokers);

  return async () => {
    const h = handle;
    handle = undefined;
    delete process.env[BROKERS_ENV];
    if (h) {
      const started = Date.now();
      await h.stop();
      log(`kafka: ${h.kind} broker stopped in ${Date.now() - started} ms`);
    }
  };
}
