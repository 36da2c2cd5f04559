/**
 * Composition root of the ingest service run on its own (distributed mode):
 * reads settings, opens the bus and the warehouse, serves HTTP, and shuts
 * down in reverse order on SIGTERM.
 */
import { backboneTopicSpecs, createLogger, topics as topicNames } from '@cdp/core';
import { openBus } from '@cdp/bus';
import { identityRulesFrom } from '@cdp/identity';
import { openWarehouse } from '@cdp/warehouse';
import { buildApp } from './app.js';
import { bootstrapCredentials } from './bootstrap.js';
import { loadIngestConfig } from './config.js';
import { loadSdkScript } from './sdk-script.js';
import { createSourceRegistry } from './sources/source-registry.js';

const config = loadIngestConfig(process.env);
const logger = createLogger({ service: 'ingest', level: config.LOG_LEVEL });
const t = topicNames(config.CDP_TOPIC_PREFIX);

const warehouse = await openWarehouse(config, logger);
await warehouse.migrate();
const bus = await openBus(config, logger);
await bus.ensureTopics(backboneTopicSpecs(config.CDP_TOPIC_PREFIX, config.CDP_TOPIC_PARTITIONS));
const sources = createSourceRegistry({
  warehouse,
  logger,
  refreshMs: config.CDP_SOURCES_REFRESH_MS,
});
await sources.start();
const creds = await bootstrapCredentials({
  dataDir: config.CDP_DATA_DIR,
  sources,
  adminToken: config.CDP_ADMIN_TOKEN,
  logger,
});
if (creds.created)
  logger.info(
    { writeKey: creds.created.writeKey, credentials: creds.credentialsPath },
    'default_source_created',
  );
const app = await buildApp({
  bus,
  warehouse,
  sources,
  topics: t,
  logger,
  adminToken: creds.adminToken,
  limits: config,
  sdkScript: await loadSdkScript(),
  identityRules: identityRulesFrom(config),
});
await app.listen({ port: config.PORT, host: config.HOST });

const shutdown = async (signal: string): Promise<void> => {
  logger.info({ signal }, 'ingest_stopping');
  await app.close();
  sources.stop();
  await bus.close();
  await warehouse.close();
  process.exit(0);
};
process.once('SIGTERM', (s) => void shutdown(s));
process.once('SIGINT', (s) => void shutdown(s));
