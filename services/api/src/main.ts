/**
 * Composition root of the API service run on its own (distributed mode):
 * reads settings, opens the bus and the warehouse, serves the management and
 * data API on `CDP_API_PORT`, and shuts down in reverse order on SIGTERM.
 */
import { backboneTopicSpecs, createLogger, topics as topicNames } from '@cdp/core';
import { openBus } from '@cdp/bus';
import { identityRulesFrom } from '@cdp/identity';
import { startSources } from '@cdp/sources';
import { createDefinitionStore, createRemoteRecompute, createTagService } from '@cdp/tag-store';
import {
  createAudienceService,
  createDestinationService,
  createRemoteRefresh,
  loadSecretBox,
} from '@cdp/segment-exporter';
import { createAlertService, createMetricsService } from '@cdp/metrics-service';
import { openWarehouse } from '@cdp/warehouse';
import { buildApiApp } from './app.js';
import { adhocLaneFrom, loadApiConfig, sqlLimitsFrom } from './config.js';

const config = loadApiConfig(process.env);
const logger = createLogger({ service: 'api', level: config.LOG_LEVEL });
const t = topicNames(config.CDP_TOPIC_PREFIX);

const warehouse = await openWarehouse(config, logger, { adhoc: adhocLaneFrom(config) });
await warehouse.migrate();
const bus = await openBus(config, logger);
await bus.ensureTopics(backboneTopicSpecs(config.CDP_TOPIC_PREFIX, config.CDP_TOPIC_PARTITIONS));
// The same first-start credentials as ingest's: with a shared data directory
// (docker-compose.yml) whichever starts first writes them, the other reads.
const { sources, credentials: creds } = await startSources({ warehouse, logger, config });
// Audiences are defined, previewed and read here; runs happen in the exporter.
const audiences = createAudienceService({
  warehouse,
  bus,
  changesTopic: t.audiencesChanges,
  logger,
  remoteRefresh: createRemoteRefresh({
    url: config.CDP_EXPORTER_URL,
    adminToken: creds.adminToken,
  }),
});
// Metric series and alert rules are read and written here; the alerts'
// schedule runs in the metrics service (services/metrics).
const secrets = await loadSecretBox({
  envKey: config.CDP_SECRETS_KEY,
  dataDir: config.CDP_DATA_DIR,
});
const metrics = createMetricsService({ warehouse });
const app = await buildApiApp({
  bus,
  warehouse,
  sources,
  topics: t,
  logger,
  adminToken: creds.adminToken,
  identityRules: identityRulesFrom(config),
  sqlLimits: sqlLimitsFrom(config),
  consoleOrigin: config.CDP_CONSOLE_ORIGIN,
  analyticsToken: config.CDP_ANALYTICS_TOKEN,
  // Definitions and values are read here; runs happen in the tag engine service.
  tags: createTagService({
    warehouse,
    definitions: createDefinitionStore({ warehouse, logger }),
    logger,
    recompute: createRemoteRecompute({
      url: config.CDP_TAG_ENGINE_URL,
      adminToken: creds.adminToken,
    }),
  }),
  audiences,
  // Destinations are configured here; syncs run in the exporter (each tick).
  destinations: createDestinationService({
    warehouse,
    bus,
    secrets,
    logger,
    audienceExists: (name) => audiences.get(name),
    syncHere: false,
  }),
  metrics,
  alerts: createAlertService({ warehouse, metrics, secrets, logger }),
});
await app.listen({ port: config.CDP_API_PORT, host: config.CDP_API_HOST });

const shutdown = async (signal: string): Promise<void> => {
  logger.info({ signal }, 'api_stopping');
  await app.close();
  sources.stop();
  await bus.close();
  await warehouse.close();
  process.exit(0);
};
process.once('SIGTERM', (s) => void shutdown(s));
process.once('SIGINT', (s) => void shutdown(s));
