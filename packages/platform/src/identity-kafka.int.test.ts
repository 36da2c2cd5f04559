import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { createLogger, topics as topicNames } from '@cdp/core';
import { createIdentityRules } from '@cdp/identity';
import { createIdentityService, type IdentityService } from '@cdp/identity-service';
import { kafkaBrokersForTest } from '@cdp/testkit';
import { startTestPlatform } from './e2e-scenarios.js';
import { runIdentityScenarios } from './identity-scenarios.js';

const brokers = kafkaBrokersForTest();
/** The second stamper's metrics: it must have stamped its share. */
const secondRegistry = new Registry();
let second: IdentityService | undefined;

// Skipped only outside CI: in CI, kafkaBrokersForTest throws when no broker can be had.
describe.skipIf(!brokers)('on a real Kafka broker, with two stampers in one group', () => {
  const prefix = `id${Date.now().toString(36)}.`;
  runIdentityScenarios(
    'Kafka, chDB, two stampers',
    async () => {
      const h = await startTestPlatform({
        KAFKA_BROKERS: (brokers ?? []).join(','),
        CDP_TOPIC_PREFIX: prefix,
        CDP_TOPIC_PARTITIONS: '4',
        // The distributed topology: stampers between cdp.events.raw and
        // cdp.events.resolved (not ingest).
        CDP_IDENTITY_STAMP_IN_INGEST: 'false',
      });
      // A second identity service as another process would run it: its own
      // stamper in the same consumer group (the partitions of events.raw are
      // shared), a cache over the identities table, and a standby resolver.
      second = createIdentityService({
        bus: h.platform.bus,
        warehouse: h.platform.warehouse,
        topics: topicNames(prefix),
        logger: createLogger({ service: 'identity-2', level: 'warn' }),
        rules: createIdentityRules(),
        groupPrefix: prefix,
        stamperCache: 'warehouse',
        registry: secondRegistry,
      });
      const started = second;
      await started.start();
      return {
        platform: h.platform,
        cleanup: async () => {
          await started.stop();
          await h.cleanup();
        },
      };
    },
    prefix,
  );

  it('shared the events topic between the two stampers', async () => {
    const m = await secondRegistry.getSingleMetricAsString('cdp_identity_stamped_total');
    const stamped = [...m.matchAll(/^cdp_identity_stamped_total\{[^}]*\} (\d+)$/gm)].reduce(
      (n, x) => n + Number(x[1]),
      0,
    );
    expect(stamped).toBeGreaterThan(0);
  });
});
