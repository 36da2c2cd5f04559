import type { JSONSchemaType } from '@cdp/core';
import {
  backboneTopicSpecs,
  createLogger,
  loadConfig,
  mergeConfigSchemas,
  platformConfigSchema,
  topics as topicNames,
  type Logger,
} from '@cdp/core';
import { createConsumerHealth, openBus, type Bus } from '@cdp/bus';
import { openWarehouse, type Warehouse } from '@cdp/warehouse';
import {
  adhocLaneFrom,
  apiConfigSchema,
  registerApi,
  sqlLimitsFrom,
  type ApiConfig,
} from '@cdp/api';
import { createHttpServer } from '@cdp/http';
import {
  createIngestMetrics,
  ingestConfigSchema,
  ingestServerOptions,
  loadSdkScript,
  registerIngest,
  type IngestConfig,
} from '@cdp/ingest';
import { sourcesConfigSchema, startSources, type BootstrapResult } from '@cdp/sources';
import { createLoader, loaderConfigSchema, type LoaderConfig } from '@cdp/loader';
import {
  createIdentityService,
  identityConfigSchema,
  identityRulesFrom,
  type IdentityConfig,
  type IdentityService,
} from '@cdp/identity-service';
import {
  createTagEngineRunner,
  tagEngineConfigSchema,
  type TagEngineConfig,
  type TagEngineRunner,
} from '@cdp/tag-engine';
import {
  audiencesConfigSchema,
  createAudienceScheduler,
  createAudienceService,
  createDestinationService,
  loadSecretBox,
  type AudiencesConfig,
} from '@cdp/segment-exporter';
import {
  createAlertScheduler,
  createAlertService,
  createMetricsService,
  metricsConfigSchema,
  type MetricsConfig,
} from '@cdp/metrics-service';
import { Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Every setting of the all-in-one runner: the platform's, the sources',
 * ingest's, the API's, the loader's and identity's. The API is served on
 * ingest's `PORT`, so `CDP_API_PORT` and `CDP_API_HOST` are accepted but unused
 * here (as `CDP_LOADER_PORT` is).
 */
export type RunnerConfig = IngestConfig &
  ApiConfig &
  LoaderConfig &
  IdentityConfig &
  TagEngineConfig &
  AudiencesConfig &
  MetricsConfig;

export const runnerConfigSchema = mergeConfigSchemas(
  mergeConfigSchemas(
    mergeConfigSchemas(
      mergeConfigSchemas(
        mergeConfigSchemas(platformConfigSchema, sourcesConfigSchema),
        ingestConfigSchema,
      ),
      apiConfigSchema,
    ),
    loaderConfigSchema,
  ),
  mergeConfigSchemas(
    mergeConfigSchemas(identityConfigSchema, tagEngineConfigSchema),
    mergeConfigSchemas(audiencesConfigSchema, metricsConfigSchema),
  ),
) as JSONSchemaType<RunnerConfig>;

export function loadRunnerConfig(env: Record<string, string | undefined>): Readonly<RunnerConfig> {
  // CDP_URL is the CLI's own (where API commands send requests).
  return loadConfig(runnerConfigSchema, env, {
    ownPrefixes: ['CDP_', 'KAFKA_', 'CLICKHOUSE_'],
    known: ['CDP_URL'],
  });
}

export interface RunningPlatform {
  /** Base URL the HTTP API listens on. */
  readonly url: string;
  readonly bus: Bus;
  readonly warehouse: Warehouse;
  readonly credentials: BootstrapResult;
  readonly logger: Logger;
  /** The identity service, unless `CDP_IDENTITY_ENABLED=false`. */
  readonly identity: IdentityService | undefined;
  /** The tag engine, unless `CDP_TAGS_ENABLED=false`. */
  readonly tags: TagEngineRunner | undefined;
  /** Shuts everything down in reverse order of start. */
  close(): Promise<void>;
}

/**
 * The composition root of the all-in-one runner: every service in one
 * process, on whichever adapters the settings pick (embedded by default).
 * Each part starts in order and pushes its stop onto `stack`, which closes
 * in reverse; a further service (tag engine, audiences) is one more block
 * and one more stack entry, and its HTTP routes one more API area.
 */
export async function startPlatform(
  config: Readonly<RunnerConfig>,
  logger = createLogger({ service: 'cdp', level: config.LOG_LEVEL }),
): Promise<RunningPlatform> {
  const stack: { name: string; close: () => Promise<void> | void }[] = [];
  const closeAll = async (): Promise<void> => {
    for (const s of stack.splice(0).reverse()) {
      try {
        await s.close();
      } catch (err) {
        logger.error({ err, part: s.name }, 'shutdown_step_failed');
      }
    }
  };
  try {
    const t = topicNames(config.CDP_TOPIC_PREFIX);
    // The API's warehouse: ad-hoc SQL (POST /v1/sql) has its lane on it
    // (embedded: a chDB session per query, at most CDP_SQL_MAX_CONCURRENT).
    const warehouse = await openWarehouse(config, logger.child({ part: 'warehouse' }), {
      adhoc: adhocLaneFrom(config),
    });
    stack.push({ name: 'warehouse', close: () => warehouse.close() });
    const migrations = await warehouse.migrate();
    logger.info({ kind: warehouse.kind, applied: migrations.applied }, 'warehouse_ready');

    const bus = await openBus(config, logger.child({ part: 'bus' }));
    stack.push({ name: 'bus', close: () => bus.close() });
    await bus.ensureTopics(
      backboneTopicSpecs(config.CDP_TOPIC_PREFIX, config.CDP_TOPIC_PARTITIONS),
    );
    logger.info({ kind: bus.kind }, 'bus_ready');

    const { sources, credentials } = await startSources({ warehouse, logger, config });
    stack.push({ name: 'sources', close: () => sources.stop() });

    const identityRules = identityRulesFrom(config);
    const stampInIngest = config.CDP_IDENTITY_ENABLED && config.CDP_IDENTITY_STAMP_IN_INGEST;
    const registry = new Registry();
    collectDefaultMetrics({ register: registry, prefix: 'cdp_' });
    // How the consumers fare: cdp_consumer_* metrics, and /readyz says not
    // ready while one keeps failing.
    const health = createConsumerHealth({ registry });
    // Loading gets its own warehouse connection (on chDB, its own session),
    // so inserts do not queue behind API queries or background jobs.
    const loaderWarehouse = await openWarehouse(config, logger.child({ part: 'loader-warehouse' }));
    stack.push({ name: 'loader-warehouse', close: () => loaderWarehouse.close() });
    const loader = createLoader({
      bus,
      warehouse: loaderWarehouse,
      topics: t,
      // Ingest stamps one_id on the events it puts on cdp.events.raw, unless
      // a stamper does it on the way to cdp.events.resolved.
      eventsTopic: config.CDP_IDENTITY_ENABLED && !stampInIngest ? t.eventsResolved : t.eventsRaw,
      logger: logger.child({ component: 'loader' }),
      flushIntervalMs: config.CDP_LOADER_FLUSH_MS,
      maxRows: config.CDP_LOADER_MAX_ROWS,
      groupPrefix: config.CDP_TOPIC_PREFIX,
      registry,
      health,
    });
    await loader.start();
    stack.push({ name: 'loader', close: () => loader.stop() });

    // OneID: in one process ingest stamps events itself, reading the
    // resolver's graph (no stamper hop through the bus); the resolver takes
    // the links from cdp.identity.links as it does distributed.
    let identity: IdentityService | undefined;
    if (config.CDP_IDENTITY_ENABLED) {
      identity = createIdentityService({
        bus,
        warehouse,
        topics: t,
        logger: logger.child({ component: 'identity' }),
        rules: identityRules,
        registry,
        groupPrefix: config.CDP_TOPIC_PREFIX,
        // On Kafka other identity processes may share the resolver's group:
        // when one of them is the active resolver, this process's graph is
        // behind, so a stamper here reads the identities table (and drops
        // what cdp.identity.changes says changed) instead of it.
        stamperCache: bus.kind === 'kafka' ? 'warehouse' : 'graph',
        stamper: !stampInIngest,
        health,
      });
      const started = identity;
      await started.start();
      stack.push({ name: 'identity', close: () => started.stop() });
    } else {
      logger.warn('identity_disabled');
    }

    // One port for everything HTTP: ingest's collection routes and the API
    // are two encapsulated plugins on one server, each with its own error
    // handling (ingest dead-letters refused collection requests; the API
    // checks the admin token). A later HTTP service is one more plugin here.
    const ingestDeps = {
      bus,
      warehouse,
      sources,
      topics: t,
      logger: logger.child({ component: 'ingest' }),
      limits: config,
      metrics: createIngestMetrics({ registry }),
      consumers: health,
      sdkScript: await loadSdkScript(),
      stamper:
        identity && stampInIngest
          ? { linksTopic: t.identityLinks, options: identity.stampOptions() }
          : undefined,
    };
    const serverOptions = ingestServerOptions(ingestDeps);
    const app = createHttpServer({ logger: ingestDeps.logger, ...serverOptions });
    const ingest = await registerIngest(app, ingestDeps);

    // The tag engine: its own warehouse connection (on chDB, its own
    // session: a long tag run does not hold up loading or API queries), tier
    // changes into ingest's own path in process.
    let tags: TagEngineRunner | undefined;
    if (config.CDP_TAGS_ENABLED) {
      const tagWarehouse = await openWarehouse(config, logger.child({ part: 'tag-warehouse' }));
      stack.push({ name: 'tag-warehouse', close: () => tagWarehouse.close() });
      tags = createTagEngineRunner({
        warehouse: tagWarehouse,
        bus,
        topics: t,
        logger: logger.child({ component: 'tag-engine' }),
        events: { track: (calls) => ingest.derivedEvents.track(calls) },
        intervalMs: config.CDP_TAGS_INTERVAL * 1000,
        definitionsDir: config.CDP_TAGS_DIR,
        loadMarginMs: config.CDP_TAGS_LOAD_MARGIN_MS,
        maxThreads: config.CDP_TAGS_MAX_THREADS,
        partitions: config.CDP_TOPIC_PARTITIONS,
      });
    }
    // Audiences: their own warehouse connection (on chDB, their own session),
    // changes on cdp.audiences.changes, Audience Entered / Exited into
    // ingest's own path in process; the schedule starts with the server.
    const audienceWarehouse = await openWarehouse(
      config,
      logger.child({ part: 'audience-warehouse' }),
    );
    stack.push({ name: 'audience-warehouse', close: () => audienceWarehouse.close() });
    await bus.ensureTopics([{ name: t.audiencesChanges, partitions: config.CDP_TOPIC_PARTITIONS }]);
    const audiences = createAudienceService({
      warehouse: audienceWarehouse,
      bus,
      changesTopic: t.audiencesChanges,
      events: { track: (calls) => ingest.derivedEvents.track(calls) },
      logger: logger.child({ component: 'audiences' }),
      fullEveryMs: config.CDP_AUDIENCES_FULL_EVERY_S * 1000,
    });
    const secrets = await loadSecretBox({
      envKey: config.CDP_SECRETS_KEY,
      dataDir: config.CDP_DATA_DIR,
    });
    const destinations = createDestinationService({
      warehouse: audienceWarehouse,
      bus,
      secrets,
      logger: logger.child({ component: 'destinations' }),
      audienceExists: (name) => audiences.get(name),
    });
    // Metrics read the per-minute states the warehouse keeps; alerts are
    // evaluated here on a schedule (the one active evaluator: a lease in the
    // warehouse), notifications signed with a secret sealed like destinations'.
    const metrics = createMetricsService({
      warehouse: audienceWarehouse,
      conversionEvent: config.CDP_METRICS_CONVERSION_EVENT,
    });
    const alerts = createAlertService({
      warehouse: audienceWarehouse,
      metrics,
      secrets,
      logger: logger.child({ component: 'alerts' }),
      // The same name across restarts of this install: a restart goes on at once.
      holder: `all-in-one:${config.CDP_DATA_DIR}`,
    });
    await registerApi(app, {
      bus,
      warehouse,
      sources,
      topics: t,
      logger: logger.child({ component: 'api' }),
      adminToken: credentials.adminToken,
      identityRules,
      sqlLimits: sqlLimitsFrom(config),
      consoleOrigin: config.CDP_CONSOLE_ORIGIN,
      analyticsToken: config.CDP_ANALYTICS_TOKEN,
      maxBodyBytes: serverOptions.bodyLimit,
      tags: tags?.service,
      audiences,
      destinations,
      metrics,
      alerts,
    });
    const address = await app.listen({ port: config.PORT, host: config.HOST });
    stack.push({ name: 'http', close: () => app.close() });
    if (tags) {
      const started = tags;
      await started.start();
      stack.push({ name: 'tag-engine', close: () => started.stop() });
    }
    if (config.CDP_AUDIENCES_ENABLED) {
      const scheduler = createAudienceScheduler({
        service: audiences,
        after: () => destinations.syncDue(),
        tickMs: config.CDP_AUDIENCES_TICK_MS,
        logger: logger.child({ component: 'audiences' }),
      });
      scheduler.start();
      stack.push({ name: 'audience-schedule', close: () => scheduler.stop() });
    }
    if (config.CDP_ALERTS_ENABLED) {
      const alertSchedule = createAlertScheduler({
        alerts,
        intervalMs: config.CDP_ALERTS_INTERVAL_MS,
        logger: logger.child({ component: 'alerts' }),
      });
      alertSchedule.start();
      stack.push({ name: 'alert-schedule', close: () => alertSchedule.stop() });
    }
    const port = (app.server.address() as { port: number }).port;
    const url = `http://${config.HOST === '0.0.0.0' || config.HOST === '::' ? '127.0.0.1' : config.HOST}:${port}`;
    logger.info(
      { address, bus: bus.kind, warehouse: warehouse.kind, dataDir: config.CDP_DATA_DIR },
      'cdp_started',
    );
    return { url, bus, warehouse, credentials, logger, identity, tags, close: closeAll };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
