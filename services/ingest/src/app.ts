import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { CdpError, isCdpError, type Logger, type Topics } from '@cdp/core';
import type { Bus } from '@cdp/bus';
import type { Warehouse } from '@cdp/warehouse';
import { createEventValidator } from '@cdp/schemas';
import {
  createCollector,
  type Collector,
  type IngestStamper,
  type RequestContext,
} from './collector.js';
import type { IngestOwnConfig } from './config.js';
import { createIngestMetrics, type IngestMetrics } from './metrics.js';
import type { SourceRegistry } from './sources/source-registry.js';
import { registerCollectRoutes } from './routes/collect.js';
import { registerPixelRoutes } from './routes/pixel.js';
import { registerAdminRoutes } from './routes/admin.js';
import { registerPersonRoutes } from './routes/persons.js';
import { registerAnalyticsRoutes } from './routes/analytics.js';
import type { IdentityRules } from '@cdp/identity';
import { registerHealthRoutes } from './routes/health.js';
import { registerCors } from './routes/cors.js';
import { registerSdkRoute } from './routes/sdk.js';
import { decodeBody, looksLikeJsonObject } from './pipeline/decode-body.js';
import type { SdkScript } from './sdk-script.js';

export type IngestLimits = Pick<
  IngestOwnConfig,
  | 'CDP_MAX_EVENT_BYTES'
  | 'CDP_MAX_BATCH_BYTES'
  | 'CDP_MAX_BATCH_EVENTS'
  | 'CDP_MAX_DEPTH'
  | 'CDP_MAX_FUTURE_MS'
  | 'CDP_TRUST_PROXY'
  | 'CDP_SDK_PATH'
>;

export const DEFAULT_LIMITS: IngestLimits = {
  CDP_MAX_EVENT_BYTES: 32 * 1024,
  CDP_MAX_BATCH_BYTES: 500 * 1024,
  CDP_MAX_BATCH_EVENTS: 2500,
  CDP_MAX_DEPTH: 32,
  CDP_MAX_FUTURE_MS: 3_600_000,
  CDP_TRUST_PROXY: false,
  CDP_SDK_PATH: '/s/c.js',
};

export interface IngestDeps {
  readonly bus: Bus;
  readonly warehouse: Warehouse;
  readonly sources: SourceRegistry;
  readonly topics: Topics;
  readonly logger: Logger;
  /** The admin token that the management and data APIs require. */
  readonly adminToken: string;
  readonly limits?: Partial<IngestLimits>;
  readonly metrics?: IngestMetrics;
  readonly now?: () => number;
  /** OneID rules (normalisation, priority) for the Person API; must match the resolver's. Default: the defaults. */
  readonly identityRules?: IdentityRules | undefined;
  /** Stamp `one_id` in ingest (the all-in-one runner; see `CollectorDeps.stamper`). */
  readonly stamper?: IngestStamper | undefined;
  /** The built browser SDK served at `CDP_SDK_PATH` (see `loadSdkScript`). */
  readonly sdkScript?: SdkScript | undefined;
}

/** What the routes share. */
export interface IngestContext {
  readonly deps: IngestDeps;
  readonly limits: IngestLimits;
  readonly collector: Collector;
  readonly metrics: IngestMetrics;
  readonly now: () => number;
  /** Who sent this request (source resolved later by the route). */
  requestContext(req: FastifyRequest, source: RequestContext['source']): RequestContext;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Collection routes dead-letter request-level rejections. */
    collect?: boolean;
  }
}

/** Maps framework errors to catalogue codes, so every rejection carries a stable code. */
export function toCdpError(err: unknown): CdpError {
  if (isCdpError(err)) return err;
  const e = err as { code?: string; statusCode?: number; message?: string };
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new CdpError('CDP_ERR_INGEST_BODY_TOO_LARGE', { field: 'body' });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new CdpError('CDP_ERR_INGEST_CONTENT_TYPE', { field: 'content-type' });
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new CdpError('CDP_ERR_INGEST_MALFORMED_JSON', {
        field: 'body',
        message: 'The body is empty',
      });
    case undefined:
    default:
      if (e.statusCode !== undefined && e.statusCode >= 400 && e.statusCode < 500) {
        return new CdpError('CDP_ERR_API_BAD_REQUEST', {
          message: e.message ?? 'Bad request',
          statusCode: e.statusCode,
        });
      }
      return new CdpError('CDP_ERR_INTERNAL', { cause: err });
  }
}

function headerOf(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Builds the ingest + management app without listening (tests use `app.inject()`). */
export async function buildApp(deps: IngestDeps): Promise<FastifyInstance> {
  const limits: IngestLimits = { ...DEFAULT_LIMITS, ...deps.limits };
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
  });

  // pino's Logger is a FastifyBaseLogger; typing it so keeps the default instance type.
  const fastifyLogger: FastifyBaseLogger = deps.logger;
  const app: FastifyInstance = Fastify({
    loggerInstance: fastifyLogger,
    // One log line per request would cost more than the request at 10k/s.
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: limits.CDP_TRUST_PROXY,
    // Hard cap; the per-route limits are checked in the handlers so that an
    // oversize body is still dead-lettered with its start.
    bodyLimit: limits.CDP_MAX_BATCH_BYTES * 4,
    return503OnClosing: true,
  });

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

  // Bodies are kept as bytes: handlers check UTF-8, JSON and limits themselves
  // and dead-letter what fails, with the raw payload.
  app.removeAllContentTypeParsers();
  const maxDecoded = limits.CDP_MAX_BATCH_BYTES * 4;
  app.addContentTypeParser(
    ['application/json', 'text/plain', 'application/x-www-form-urlencoded'],
    { parseAs: 'buffer' },
    (req, raw, done) => {
      try {
        const body = decodeBody(raw as Buffer, headerOf(req, 'content-encoding'), maxDecoded);
        const type = headerOf(req, 'content-type') ?? '';
        if (type.startsWith('application/x-www-form-urlencoded') && !looksLikeJsonObject(body)) {
          throw new CdpError('CDP_ERR_INGEST_CONTENT_TYPE', {
            field: 'content-type',
            message:
              'Form data is not accepted: send a JSON body as application/json or text/plain',
          });
        }
        done(null, body);
      } catch (e) {
        done(e as Error, undefined);
      }
    },
  );

  app.setErrorHandler(async (err: unknown, req: FastifyRequest, reply: FastifyReply) => {
    const e = toCdpError(err);
    if (e.code === 'CDP_ERR_INTERNAL') req.log.error({ err }, 'request_failed');
    // A refused request is dead-lettered; a retryable failure (503) is not:
    // the client was told to send it again, so nothing is lost.
    if (req.routeOptions.config.collect === true && !e.retryable) {
      const body = Buffer.isBuffer(req.body) ? req.body : '';
      await collector.deadLetter(
        [{ code: e.code, field: e.field ?? '', reason: e.message, payload: body }],
        ctx.requestContext(req, req.cdpSource),
      );
    }
    if (e.retryable) void reply.header('retry-after', '1');
    // Browsers hide a cross-origin answer without these headers, and a
    // hidden 4xx looks like a network error that an SDK would retry for ever.
    // An error body carries nothing secret, so any origin may read it.
    const origin = req.headers.origin;
    if (req.routeOptions.config.collect === true && typeof origin === 'string' && origin !== '') {
      void reply
        .header('access-control-allow-origin', origin)
        .header('access-control-expose-headers', 'Retry-After')
        .header('vary', 'Origin');
    }
    return reply.code(e.statusCode).send(e.toJSON());
  });
  app.setNotFoundHandler(async (req, reply) =>
    reply.code(404).send(
      new CdpError('CDP_ERR_API_NOT_FOUND', {
        message: `No route ${req.method} ${req.url.split('?')[0] ?? ''}`,
      }).toJSON(),
    ),
  );

  app.addHook('onResponse', (req, reply, done) => {
    metrics.requests.inc({
      route: req.routeOptions.url ?? 'unmatched',
      status: String(reply.statusCode),
    });
    done();
  });

  registerCors(app, ctx);
  registerHealthRoutes(app, ctx);
  registerCollectRoutes(app, ctx);
  registerPixelRoutes(app, ctx);
  registerAdminRoutes(app, ctx);
  registerPersonRoutes(app, ctx, deps.identityRules ? { rules: deps.identityRules } : {});
  registerAnalyticsRoutes(app, ctx);
  registerSdkRoute(app, ctx);
  return app;
}
