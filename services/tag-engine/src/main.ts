/**
 * Composition root of the tag engine run on its own (distributed mode):
 * runs tags on a schedule with its own warehouse connection, sends tier
 * changes to ingest, and serves /healthz, /readyz, /metrics and
 * `POST /v1/tags/recompute` (admin token; the API forwards runs on demand).
 */
import { Registry, collectDefaultMetrics } from 'prom-client';
import { createHttpEventSink, createLogger, topics as topicNames } from '@cdp/core';
import { openBus } from '@cdp/bus';
import {
  cdpErrorHandler,
  createHttpServer,
  jsonBody,
  registerByteBodies,
  registerHealthRoutes,
  requireAdmin,
} from '@cdp/http';
import { startSources } from '@cdp/sources';
import { openWarehouse } from '@cdp/warehouse';
import { loadTagEngineConfig } from './config.js';
import { createTagEngineRunner } from './runner.js';

const config = loadTagEngineConfig(process.env);
const logger = createLogger({ service: 'tag-engine', level: config.LOG_LEVEL });
const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'cdp_' });

const warehouse = await openWarehouse(config, logger);
await warehouse.migrate();
const bus = await openBus(config, logger);
const { sources, credentials } = await startSources({ warehouse, logger, config });
sources.stop();
const runner = createTagEngineRunner({
  warehouse,
  bus,
  topics: topicNames(config.CDP_TOPIC_PREFIX),
  logger,
  events: createHttpEventSink({
    ingestUrl: config.CDP_INGEST_URL,
    adminToken: credentials.adminToken,
    code: 'CDP_ERR_TAG_RUN_FAILED',
  }),
  intervalMs: config.CDP_TAGS_INTERVAL * 1000,
  definitionsDir: config.CDP_TAGS_DIR,
  loadMarginMs: config.CDP_TAGS_LOAD_MARGIN_MS,
  maxThreads: config.CDP_TAGS_MAX_THREADS,
  partitions: config.CDP_TOPIC_PARTITIONS,
});
await runner.start();

const app = createHttpServer({ logger, trustProxy: false, bodyLimit: 64 * 1024 });
registerHealthRoutes(app, { bus, warehouse, registry });
await app.register(async (api) => {
  registerByteBodies(api, 64 * 1024);
  api.setErrorHandler(cdpErrorHandler());
  api.addHook('onRequest', async (req) => requireAdmin(credentials.adminToken, req));
  api.post('/v1/tags/recompute', async (req) => ({
    run: await runner.engine.run({ full: jsonBody(req)['full'] === true }),
  }));
});
await app.listen({ port: config.CDP_TAGS_PORT, host: '0.0.0.0' });

const shutdown = async (signal: string): Promise<void> => {
  logger.info({ signal }, 'tag_engine_stopping');
  await app.close();
  await runner.stop();
  await bus.close();
  await warehouse.close();
  process.exit(0);
};
process.once('SIGTERM', (s) => void shutdown(s));
process.once('SIGINT', (s) => void shutdown(s));
