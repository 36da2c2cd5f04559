/** Set by the int project's global setup: the brokers it started or borrowed. */
export const BROKERS_ENV = 'CDP_TEST_KAFKA_BROKERS';
/** Set by the global setup when it found no broker: why. */
export const UNAVAILABLE_ENV = 'CDP_TEST_KAFKA_UNAVAILABLE';

/** Whether this is a CI run (`CI` set to anything but empty, `0` or `false`). */
export function isCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const ci = env['CI']?.trim().toLowerCase();
  return ci !== undefined && ci !== '' && ci !== '0' && ci !== 'false';
}

let warned = false;

/**
 * The Kafka brokers a test should use: the ones the int project's global
 * setup started (or `KAFKA_BROKERS` when run without it). Returns `undefined`
 * only outside CI when no broker could be had, so the test can skip
 * (`describe.skipIf(!brokers)`); in CI it throws, so the run fails instead of
 * skipping Kafka quietly.
 */
export function kafkaBrokersForTest(env: NodeJS.ProcessEnv = process.env): string[] | undefined {
  const list = env[BROKERS_ENV] || env['KAFKA_BROKERS'];
  if (list) {
    return list
      .split(',')
      .map((b) => b.trim())
      .filter((b) => b.length > 0);
  }
  const why =
    env[UNAVAILABLE_ENV] ??
    'the int project global setup did not run here and KAFKA_BROKERS is not set';
  if (isCi(env)) throw new Error(`Kafka is required in CI but none is available: ${why}`);
  if (!warned) {
    warned = true;
    process.stderr.write(`[testkit] skipping Kafka tests: ${why}\n`);
  }
  return undefined;
}

/** Why `kafkaBrokersForTest()` returned `undefined`, for skip messages. */
export function kafkaUnavailableReason(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env[BROKERS_ENV] || env['KAFKA_BROKERS']
    ? undefined
    : (env[UNAVAILABLE_ENV] ?? 'no Kafka broker');
}
