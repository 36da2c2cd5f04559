/**
 * Test helpers shared by the workspace: temp dirs, polling, free ports,
 * fast-check seeds, and a real Kafka broker for integration tests.
 */
export { freePort } from './free-port.js';
export { tempDir, tempDirSync, type TempDir } from './temp-dir.js';
export { waitFor, type WaitForOptions } from './wait-for.js';
export { fcParameters, fcSeed } from './fast-check.js';
export { refusal } from './refusal.js';
// The front itself (clickhouse-front.ts) loads chDB: it runs in its own process.
export { spawnClickHouseFront, type SpawnedClickHouseFront } from './spawn-clickhouse-front.js';

export { isCi, kafkaBrokersForTest, kafkaUnavailableReason } from './kafka/brokers-for-test.js';
export type { KafkaHandle } from './kafka/handle.js';
export { KafkaUnavailableError, startKafka, type StartKafkaOptions } from './kafka/start-kafka.js';
export {
  startJvmBroker,
  BrokerStartError,
  DEFAULT_BROKER_JVM_ARGS,
  type JvmBrokerOptions,
} from './kafka/jvm-broker.js';
export {
  cachedKafkaLibs,
  fetchKafkaLibs,
  type FetchKafkaOptions,
  type KafkaLibs,
} from './kafka/fetch.js';
export { KAFKA_VERSION, kafkaCacheDir } from './kafka/paths.js';
export { probeKafka } from './kafka/probe.js';
export {
  browserUnavailableReason,
  BrowserUnavailableError,
  CHROMIUM_ARGS,
  CHROMIUM_PATH,
  launchBrowser,
  type LaunchBrowserOptions,
} from './browser.js';
