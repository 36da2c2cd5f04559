import { describe } from 'vitest';
import { kafkaBrokersForTest, tempDir } from '@cdp/testkit';
import { runIngestScenarios } from './e2e-scenarios.js';
import { loadRunnerConfig, startPlatform } from './platform.js';

const brokers = kafkaBrokersForTest();

describe.skipIf(!brokers)('on a real Kafka broker', () => {
  runIngestScenarios('Kafka, chDB', async () => {
    const dir = await tempDir('cdp-e2e-kafka');
    const platform = await startPlatform(
      loadRunnerConfig({
        CDP_DATA_DIR: dir.path,
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        CDP_LOADER_FLUSH_MS: '250',
        KAFKA_BROKERS: (brokers ?? []).join(','),
        // A fresh prefix per run: the broker may be shared with other runs.
        CDP_TOPIC_PREFIX: `e2e${Date.now().toString(36)}.`,
      }),
    );
    return {
      platform,
      cleanup: async () => {
        await platform.close();
        await dir.remove();
      },
    };
  });
});
