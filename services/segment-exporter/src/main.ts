/**
 * Composition root of the segment exporter run on its own (distributed
 * mode): runs audiences on their schedule with its own warehouse
 * connection, publishes their changes, sends Audience Entered / Exited to
 * ingest, and serves /healthz, /readyz, /metrics and
 * `POST /v1/audiences/:name/refresh` (admin token; the API forwards runs on
 * demand).
 */
import { Registry, collectDefaultMetrics } from 'prom-client';
import {
  createHttpEventSink,
  createLogger,
  loadConfig,
  mergeConfigSchemas,
  platformConfigSchema,
  topics as topicNames,
  type JSONSchemaType,
} from '@cdp/core';
import { openBus } from '@cdp/bus';
import {
  cdpErrorHandler,
  createHttpServer,
  registerByteBodies,
  registerHealthRoutes,
  requireAdmin,
} from '@cdp/http';
import { sourcesConfigSchema, startSources } from '@cdp/sources';
import { openWarehouse } from '@cdp/warehouse';
import { audiencesConfigSchema } from './config.js';
import { createAudienceScheduler } from './scheduler.js';
import { createAudienceService } from './service.js';
import { createDestinationService } from './destinations/service.js';
import { loadSecretBox } from './destinations/secrets.js';

const config = loadConfig(
  mergeConfigSchemas(
    mergeConfigSchemas(
      mergeConfigSchemas(platformConfigSchema, audiencesConfigSchema),
      sourcesConfigSchema,
    ),
    {
      type: 'object',
      properties: { CDP_INGEST_URL: { type: 'string', default: 'http://127.0.0.1:8080' } },
      required: [],
      additionalProperties: false,
    } as unknown as JSONSchemaType<{ CDP_INGEST_URL: string }>,
  ),
  process.env,
  { ownPrefixes: ['CDP_', 'KAFKA_', 'CLICKHOUSE_'] },
);
const logger = createLogger({ service: 'segment-exporter', level: config.LOG_LEVEL });
const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'cdp_' });
const t = topicNames(config.CDP_TOPIC_PREFIX);

const warehouse = await openWarehouse(config, logger);
await warehouse.migrate();
const bus = await openBus(config, logger);
await bus.ensureTopics([{ name: t.audiencesChanges, partitions: config.CDP_TOPIC_PARTITIONS }]);
const { sources, credentials } = await startSources({ warehouse, logger, config });
sources.stop();
const service = createAudienceService({
  warehouse,
  bus,
  changesTopic: t.audiencesChanges,
  events: createHttpEventSink({
    ingestUrl: config.CDP_INGEST_URL,
    adminToken: credentials.adminToken,
    code: 'CDP_ERR_AUDIENCE_RUN_FAILED',
  }),
  logger,
  fullEveryMs: config.CDP_AUDIENCES_FULL_EVERY_S * 1000,
});
const destinations = createDestinationService({
  warehouse,
  bus,
  secrets: await loadSecretBox({ envKey: config.CDP_SECRETS_KEY, dataDir: config.CDP_DATA_DIR }),
  logger,
  audienceExists: (name) => service.get(name),
});
const scheduler = createAudienceScheduler({
  service,
  after: () => destinations.syncDue(),
  tickMs: config.CDP_AUDIENCES_TICK_MS,
  logger,
});
if (config.CDP_AUDIENCES_ENABLED) scheduler.start();

const app = createHttpServer({ logger, trustProxy: false, bodyLimit: 64 * 1024 });
registerHealthRoutes(app, { bus, warehouse, registry });
await app.register(async (api) => {
  registerByteBodies(api, 64 * 1024);
  api.setErrorHandler(cdpErrorHandler());
  api.addHook('onRequest', async (req) => requireAdmin(credentials.adminToken, req));
  api.post<{ Params: { name: string } }>('/v1/audiences/:name/refresh', async (req) => ({
    run: await service.refresh(req.params.name),
  }));
});
await app.listen({ port: config.CDP_EXPORTER_PORT, host: '0.0.0.0' });
logger.info({ port: config.CDP_EXPORTER_PORT }, 'segment_exporter_started');

const shutdown = async (signal: string): Promise<void> => {
  logger.info({ signal }, 'segment_exporter_stopping');
  await app.close();
  await scheduler.stop();
  await bus.close();
  await warehouse.close();
  process.exit(0);
};
process.once('SIGTERM', (s) => void shutdown(s));
process.once('SIGINT', (s) => void shutdown(s));
