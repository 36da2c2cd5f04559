/**
 * Composition root of the loader run on its own (distributed mode): consumes
 * the event topics into the warehouse and serves /healthz and /metrics.
 */
import { Registry, collectDefaultMetrics } from 'prom-client';
import { backboneTopicSpecs, createLogger, startOpsServer, topics as topicNames } from '@cdp/core';
import { createConsumerHealth, describeStuck, openBus } from '@cdp/bus';
import { openWarehouse } from '@cdp/warehouse';
import { loadLoaderConfig } from './config.js';
import { createLoader } from './loader.js';

const config = loadLoaderConfig(process.env);
const logger = createLogger({ service: 'loader', level: config.LOG_LEVEL });
const t = topicNames(config.CDP_TOPIC_PREFIX);
const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'cdp_' });
const health = createConsumerHealth({ registry });

const warehouse = await openWarehouse(config, logger);
await warehouse.migrate();
const bus = await openBus(config, logger);
await bus.ensureTopics(backboneTopicSpecs(config.CDP_TOPIC_PREFIX, config.CDP_TOPIC_PARTITIONS));
const loader = createLoader({
  bus,
  warehouse,
  topics: t,
  // The identity service stamps one_id on every event on the way.
  eventsTopic: t.eventsResolved,
  logger,
  flushIntervalMs: config.CDP_LOADER_FLUSH_MS,
  maxRows: config.CDP_LOADER_MAX_ROWS,
  registry,
  groupPrefix: config.CDP_TOPIC_PREFIX,
  health,
});
await loader.start();

const http = await startOpsServer({
  port: config.CDP_LOADER_PORT,
  ready: async () => {
    await Promise.all([bus.ping(), warehouse.ping()]);
    const stuck = health.stuck();
    if (stuck.length > 0) throw new Error(`stuck: ${describeStuck(stuck)}`);
  },
  registry,
});

const shutdown = async (signal: string): Promise<void> => {
  logger.info({ signal }, 'loader_stopping');
  await new Promise((resolve) => http.close(resolve));
  await loader.stop();
  await bus.close();
  await warehouse.close();
  process.exit(0);
};
process.once('SIGTERM', (s) => void shutdown(s));
process.once('SIGINT', (s) => void shutdown(s));
