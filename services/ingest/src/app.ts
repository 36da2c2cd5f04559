import type { FastifyInstance } from 'fastify';
import {
  cdpErrorHandler,
  createHttpServer,
  registerByteBodies,
  registerHealthRoutes,
} from '@cdp/http';
import { createEventValidator } from '@cdp/schemas';
import { createCollector } from './collector.js';
import {
  DEFAULT_LIMITS,
  type IngestContext,
  type IngestDeps,
  type IngestLimits,
} from './context.js';
import { createIngestMetrics } from './metrics.js';
import { registerCollectRoutes } from './routes/collect.js';
import { registerCors } from './routes/cors.js';
import { registerPixelRoutes } from './routes/pixel.js';
import { registerSdkRoute } from './routes/sdk.js';
import { registerDerivedRoute } from './routes/derived.js';
import { registerRateLimits } from './routes/rate-limit.js';
import { createDerivedEventSink, type DerivedEventSink } from './derived-events.js';

function limitsOf(deps: IngestDeps): IngestLimits {
  return { ...DEFAULT_LIMITS, ...deps.limits };
}

/** The server options ingest needs from the fastify instance it is mounted on. */
export function ingestServerOptions(deps: IngestDeps): { trustProxy: boolean; bodyLimit: number } {
  const limits = limitsOf(deps);
  return {
    trustProxy: limits.CDP_TRUST_PROXY,
    // Hard cap; the per-route limits are checked in the handlers so that an
    // oversize body is still dead-lettered with its start.
    bodyLimit: limits.CDP_MAX_BATCH_BYTES * 4,
  };
}

/**
 * Mounts the collection API on `app` (standalone: `buildApp`; all-in-one:
 * beside the management API on one port): collect routes, pixel and
 * redirect, the SDK script, CORS preflights, health and metrics. Its routes
 * are an encapsulated plugin with their own body parser and error handler,
 * which dead-letters refused collection requests. The request counter is
 * added to `app` itself, so it counts every request on the port.
 */
/** What mounting ingest gives the composition root. */
export interface IngestHandle {
  /** In-process way in for the platform's derived events (the all-in-one runner). */
  readonly derivedEvents: DerivedEventSink;
}

export async function registerIngest(
  app: FastifyInstance,
  deps: IngestDeps,
): Promise<IngestHandle> {
  const limits = limitsOf(deps);
  const metrics = deps.metrics ?? createIngestMetrics();
  const now = deps.now ?? Date.now;
  const collector = createCollector({
    bus: deps.bus,
    topics: deps.topics,
    logger: deps.logger,
    metrics,
    validate: createEventValidator(),
    maxEventBytes: limits.CDP_MAX_EVENT_BYTES,
    maxDepth: limits.CDP_MAX_DEPTH,
    maxFutureMs: limits.CDP_MAX_FUTURE_MS,
    stamper: deps.stamper,
    unauthSamplesPerMin: limits.CDP_UNAUTH_SAMPLES_PER_MIN,
    now,
  });
  const derivedEvents = createDerivedEventSink(collector, deps.logger, now);
  const ctx: IngestContext = {
    deps,
    limits,
    collector,
    metrics,
    now,
    requestContext: (req, source) => ({
      source,
      receivedAt: now(),
      ip: req.ip,
      userAgent: typeof req.headers['user-agent'] === 'string' ? req.headers['user-agent'] : '',
    }),
  };

  app.addHook('onResponse', (req, reply, done) => {
    metrics.requests.inc({
      route: req.routeOptions.url ?? 'unmatched',
      status: String(reply.statusCode),
    });
    done();
  });

  await app.register(async (ingest) => {
    // Bodies are kept as bytes: handlers check UTF-8, JSON and limits
    // themselves and dead-letter what fails, with the raw payload.
    registerByteBodies(ingest, limits.CDP_MAX_BATCH_BYTES * 4);
    // Limits per IP and write key, before any body is read.
    const limitRequest = await registerRateLimits(ingest, ctx);
    ingest.addHook('onRequest', async (req, reply) => {
      if (req.url.startsWith('/v1/')) await limitRequest(req, reply);
    });
    ingest.setErrorHandler(
      cdpErrorHandler(async (e, req, reply) => {
        if (req.routeOptions.config.collect !== true) return;
        // A refused request is dead-lettered (one without a valid write key
        // only counted and sampled: see the collector); a retryable failure
        // (503, 429) is not: the client was told to send it again.
        if (!e.retryable) {
          const body = Buffer.isBuffer(req.body) ? req.body : '';
          await collector.deadLetter(
            [{ code: e.code, field: e.field ?? '', reason: e.message, payload: body }],
            ctx.requestContext(req, req.cdpSource),
          );
        }
        // Browsers hide a cross-origin answer without these headers, and a
        // hidden 4xx looks like a network error that an SDK would retry for ever.
        // An error body carries nothing secret, so any origin may read it.
        const origin = req.headers.origin;
        if (typeof origin === 'string' && origin !== '') {
          void reply
            .header('access-control-allow-origin', origin)
            .header('access-control-expose-headers', 'Retry-After')
            .header('vary', 'Origin');
        }
      }),
    );
    registerCors(ingest, ctx);
    registerHealthRoutes(ingest, {
      bus: deps.bus,
      warehouse: deps.warehouse,
      registry: metrics.registry,
      consumers: deps.consumers,
    });
    registerCollectRoutes(ingest, ctx);
    registerPixelRoutes(ingest, ctx);
    registerSdkRoute(ingest, ctx);
    if (deps.derivedToken !== undefined && deps.derivedToken !== '')
      registerDerivedRoute(ingest, ctx, derivedEvents, deps.derivedToken);
  });
  return { derivedEvents };
}

/** Builds the standalone ingest app without listening (tests use `app.inject()`). */
export async function buildApp(deps: IngestDeps): Promise<FastifyInstance> {
  const app = createHttpServer({ logger: deps.logger, ...ingestServerOptions(deps) });
  await registerIngest(app, deps);
  return app;
}
