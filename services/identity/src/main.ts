/**
 * Composition root of the identity service run on its own (distributed
 * mode): stampers on `cdp.events.raw` with an LRU over `identities`, and the
 * resolver on `cdp.identity.links` (one partition: with several instances,
 * one resolver is active and the others stand by). Serves /healthz, /readyz
 * and /metrics.
 */
import { Registry, collectDefaultMetrics } from 'prom-client';
import { backboneTopicSpecs, createLogger, startOpsServer, topics as topicNames } from '@cdp/core';
import { createConsumerHealth, describeStuck, openBus } from '@cdp/bus';
import { openWarehouse } from '@cdp/warehouse';
import { identityRulesFrom, loadIdentityConfig } from './config.js';
import { createIdentityService } from './service.js';

const config = loadIdentityConfig(process.env);
const logger = createLogger({ service: 'identity', level: config.LOG_LEVEL });
const t = topicNames(config.CDP_TOPIC_PREFIX);
const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'cdp_' });
const health = createConsumerHealth({ registry });

const warehouse = await openWarehouse(config, logger);
await warehouse.migrate();
const bus = await openBus(config, logger);
await bus.ensureTopics(backboneTopicSpecs(config.CDP_TOPIC_PREFIX, config.CDP_TOPIC_PARTITIONS));
const identity = createIdentityService({
  bus,
  warehouse,
  topics: t,
  logger,
  rules: identityRulesFrom(config),
  registry,
  groupPrefix: config.CDP_TOPIC_PREFIX,
  health,
  stamperCache: 'warehouse',
});
await identity.start();

const http = await startOpsServer({
  port: config.CDP_IDENTITY_PORT,
  ready: async () => {
    await Promise.all([bus.ping(), warehouse.ping()]);
    const stuck = health.stuck();
    if (stuck.length > 0) throw new Error(`stuck: ${describeStuck(stuck)}`);
  },
  registry,
});

const shutdown = async (signal: string): Promise<void> => {
  logger.info({ signal }, 'identity_stopping');
  await new Promise((resolve) => http.close(resolve));
  await identity.stop();
  await bus.close();
  await warehouse.close();
  process.exit(0);
};
process.once('SIGTERM', (s) => void shutdown(s));
process.once('SIGINT', (s) => void shutdown(s));
