import { describe } from 'vitest';
import { kafkaBrokersForTest } from '@cdp/testkit';
import { runIngestScenarios, startTestPlatform } from './e2e-scenarios.js';

const brokers = kafkaBrokersForTest();

// Skipped only outside CI: in CI, kafkaBrokersForTest throws when no broker can be had.
describe.skipIf(!brokers)('on a real Kafka broker', () => {
  runIngestScenarios('Kafka, chDB', () =>
    startTestPlatform({
      KAFKA_BROKERS: (brokers ?? []).join(','),
      // A fresh prefix per run: the broker may be shared with other runs.
      CDP_TOPIC_PREFIX: `e2e${Date.now().toString(36)}.`,
    }),
  );
});
