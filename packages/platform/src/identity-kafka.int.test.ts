import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { createLogger, topics as topicNames } from '@cdp/core';
import { createIdentityRules } from '@cdp/identity';
import { createIdentityService, type IdentityService } from '@cdp/identity-service';
import { kafkaBrokersForTest, waitFor } from '@cdp/testkit';
import { sql, startTestPlatform } from './e2e-scenarios.js';
import { onPlatform, runIdentityScenarios, type IdentityCtx } from './identity-scenarios.js';

const brokers = kafkaBrokersForTest();
/** The second stamper's metrics: it must have stamped its share. */
const secondRegistry = new Registry();
let second: IdentityService | undefined;

/** Events a stamper counted as stamped, from Prometheus text. */
const stampedIn = (metrics: string): number =>
  [...metrics.matchAll(/^cdp_identity_stamped_total\{[^}]*\} (\d+)$/gm)].reduce(
    (n, x) => n + Number(x[1]),
    0,
  );
const stampedBy = async (c: IdentityCtx): Promise<{ first: number; second: number }> => ({
  first: stampedIn(await (await fetch(`${c.url}/metrics`)).text()),
  second: stampedIn(await secondRegistry.getSingleMetricAsString('cdp_identity_stamped_total')),
});

// Skipped only outside CI: in CI, kafkaBrokersForTest throws when no broker can be had.
describe.skipIf(!brokers)('on a real Kafka broker, with two stampers in one group', () => {
  const prefix = `id${Date.now().toString(36)}.`;
  runIdentityScenarios(
    'Kafka, chDB, two stampers',
    onPlatform(async () => {
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
    }),
    prefix,
    (c) => {
      it('shares the events topic between the two stampers', async () => {
        const before = await stampedBy(c);
        // 40 people, keyed by anonymous id over the 4 partitions: each
        // stamper holds some of them.
        const run = Math.random().toString(36).slice(2, 10);
        const res = await fetch(`${c.url}/v1/batch`, {
          method: 'POST',
          headers: {
            authorization: `Basic ${Buffer.from(`${c.writeKey}:`).toString('base64')}`,
            'content-type': 'application/json',
          },
          body: JSON.stringify({
            batch: Array.from({ length: 40 }, (_, i) => ({
              type: 'track',
              event: 'Shared',
              messageId: `${run}-${i}`,
              anonymousId: `shared-${run}-${i}`,
            })),
          }),
        });
        expect(res.status).toBe(200);
        await waitFor(
          async () => {
            const r = await sql(
              c,
              'SELECT uniqExact(message_id) AS n FROM events WHERE message_id LIKE {p:String}',
              { p: `${run}-%` },
            );
            expect(r).toEqual([{ n: 40 }]);
          },
          { timeoutMs: 30_000, what: 'the 40 events to be stamped and loaded' },
        );
        await waitFor(async () => {
          const after = await stampedBy(c);
          expect(after.first).toBeGreaterThan(before.first);
          expect(after.second).toBeGreaterThan(before.second);
        });
      });
    },
  );
});
