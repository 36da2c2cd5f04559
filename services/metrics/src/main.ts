/**
 * Composition root of the metrics service run on its own (distributed
 * mode): evaluates alert rules on their schedule (one active evaluator
 * across processes: a lease in the warehouse) and sends their
 * notifications, and serves /healthz, /readyz and /metrics on
 * `CDP_METRICS_PORT`. The API serves the metric and alert routes itself
 * (they are warehouse reads and writes).
 */
import { hostname } from 'node:os';
import { Registry, collectDefaultMetrics } from 'prom-client';
import {
  createLogger,
  loadConfig,
  mergeConfigSchemas,
  platformConfigSchema,
  type JSONSchemaType,
} from '@cdp/core';
import { openBus } from '@cdp/bus';
import { createHttpServer, registerHealthRoutes } from '@cdp/http';
import { loadSecretBox } from '@cdp/segment-exporter';
import { openWarehouse } from '@cdp/warehouse';
import { createAlertService } from './alerts.js';
import { metricsConfigSchema } from './config.js';
import { createAlertScheduler } from './scheduler.js';
import { createMetricsService } from './service.js';

const config = loadConfig(
  mergeConfigSchemas(mergeConfigSchemas(platformConfigSchema, metricsConfigSchema), {
    type: 'object',
    properties: {
      CDP_METRICS_PORT: { type: 'integer', default: 8085, minimum: 0, maximum: 65535 },
      CDP_SECRETS_KEY: { type: 'string', default: '' },
    },
    required: [],
    additionalProperties: false,
  } as unknown as JSONSchemaType<{ CDP_METRICS_PORT: number; CDP_SECRETS_KEY: string }>),
  process.env,
  { ownPrefixes: ['CDP_', 'KAFKA_', 'CLICKHOUSE_'] },
);
const logger = createLogger({ service: 'metrics', level: config.LOG_LEVEL });
const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'cdp_' });

const warehouse = await openWarehouse(config, logger);
await warehouse.migrate();
const bus = await openBus(config, logger);
const metrics = createMetricsService({
  warehouse,
  conversionEvent: config.CDP_METRICS_CONVERSION_EVENT,
});
const alerts = createAlertService({
  warehouse,
  metrics,
  secrets: await loadSecretBox({ envKey: config.CDP_SECRETS_KEY, dataDir: config.CDP_DATA_DIR }),
  logger,
  holder: `${hostname()}:${process.pid}`,
});
const scheduler = createAlertScheduler({
  alerts,
  intervalMs: config.CDP_ALERTS_INTERVAL_MS,
  logger,
});
if (config.CDP_ALERTS_ENABLED) scheduler.start();

const app = createHttpServer({ logger, trustProxy: false, bodyLimit: 64 * 1024 });
registerHealthRoutes(app, { bus, warehouse, registry });
await app.listen({ port: config.CDP_METRICS_PORT, host: '0.0.0.0' });
logger.info({ port: config.CDP_METRICS_PORT }, 'metrics_started');

const shutdown = async (signal: string): Promise<void> => {
  logger.info({ signal }, 'metrics_stopping');
  await app.close();
  await scheduler.stop();
  await bus.close();
  await warehouse.close();
  process.exit(0);
};
process.once('SIGTERM', (s) => void shutdown(s));
process.once('SIGINT', (s) => void shutdown(s));
