/**
 * Composition root of the ingest service run on its own (distributed mode):
 * reads settings, opens the bus and the warehouse, serves HTTP, and shuts
 * down in reverse order on SIGTERM.
 */
import { backboneTopicSpecs, createLogger, topics as topicNames } from '@cdp/core';
import { openBus } from '@cdp/bus';
import { openWarehouse } from '@cdp/warehouse';
import { startSources } from '@cdp/sources';
import { buildApp } from './app.js';
import { loadIngestConfig } from './config.js';
import { loadSdkScript } from './sdk-script.js';

const config = loadIngestConfig(process.env);
const logger = createLogger({ service: 'ingest', level: config.LOG_LEVEL });
const t = topicNames(config.CDP_TOPIC_PREFIX);

const warehouse = await openWarehouse(config, logger);
await warehouse.migrate();
const bus = await openBus(config, logger);
await bus.ensureTopics(backboneTopicSpecs(config.CDP_TOPIC_PREFIX, config.CDP_TOPIC_PARTITIONS));
// Ingest only reads write keys; the first start also creates the default
// source and credentials.json, whose admin token the API service uses.
const { sources, credentials: creds } = await startSources({ warehouse, logger, config });
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
  limits: config,
  sdkScript: await loadSdkScript(),
  // The tag engine's tier changes come in on /v1/derived/batch with it.
  derivedToken: creds.adminToken,
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
