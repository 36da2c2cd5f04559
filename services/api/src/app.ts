import type { FastifyInstance } from 'fastify';
import { Registry, collectDefaultMetrics } from 'prom-client';
import {
  cdpErrorHandler,
  createHttpServer,
  registerByteBodies,
  registerHealthRoutes,
} from '@cdp/http';
import { authorizeApiRequest } from './auth.js';
import { CdpError } from '@cdp/core';
import { loadConsoleAssets, registerConsoleRoutes } from '@cdp/console';
import type { ApiArea, ApiContext, ApiDeps } from './context.js';
import { registerAdminCors } from './cors.js';
import { analyticsArea } from './routes/analytics.js';
import { personsArea } from './routes/persons.js';
import { sourcesArea } from './routes/sources.js';
import { sqlArea } from './routes/sql.js';
import { tagsArea } from './routes/tags.js';
import { audiencesArea } from './routes/audiences.js';
import { destinationsArea } from './routes/destinations.js';
import { metricsArea } from './routes/metrics.js';
import { eventsArea } from './routes/events.js';

/** The areas every API serves; more are added with `ApiDeps.extraAreas`. */
export const API_AREAS: readonly ApiArea[] = [
  sourcesArea,
  sqlArea,
  personsArea,
  analyticsArea,
  tagsArea,
  audiencesArea,
  destinationsArea,
  metricsArea,
  eventsArea,
];

/** The default cap on a request body: ingest's default (4 x its 500 KiB batch limit). */
export const DEFAULT_API_BODY_BYTES = 4 * 500 * 1024;

/**
 * Mounts the management and data API on `app` as one encapsulated plugin
 * (and the console at `/` and `/console`, outside it):
 * every area's routes behind the admin token (`Authorization: Bearer`; the
 * analytics token, when set, for the routes marked `ANALYTICS_READ`),
 * CORS for the console's origin only (see `registerAdminCors`),
 * bodies kept as bytes for the routes to parse, and errors answered with
 * their catalogue code (nothing is dead-lettered: that is ingest's).
 */
export async function registerApi(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const ctx: ApiContext = { deps, now: deps.now ?? Date.now };
  const tokens = { admin: deps.adminToken, analytics: deps.analyticsToken };
  if (
    tokens.analytics !== undefined &&
    tokens.analytics !== '' &&
    tokens.analytics === tokens.admin
  ) {
    throw new CdpError('CDP_ERR_CONFIG_INVALID', {
      field: 'CDP_ANALYTICS_TOKEN',
      message: 'CDP_ANALYTICS_TOKEN must not be the admin token',
    });
  }
  const areas = [...API_AREAS, ...(deps.extraAreas ?? [])];
  // The console's page and assets need no token: they hold no data, and the
  // page calls this API with the token its user signs in with.
  if (deps.console !== false) registerConsoleRoutes(app, deps.console ?? loadConsoleAssets());
  await app.register(async (api) => {
    registerByteBodies(api, deps.maxBodyBytes ?? DEFAULT_API_BODY_BYTES);
    api.setErrorHandler(cdpErrorHandler());
    registerAdminCors(api, deps.consoleOrigin ?? '');
    api.addHook('onRequest', async (req) => {
      // A preflight carries no credentials; its route answers only CORS.
      if (req.routeOptions.config.preflight === true) return;
      authorizeApiRequest(tokens, req);
    });
    for (const area of areas) await area.register(api, ctx);
  });
}

/** Options of {@link buildApiApp} beyond the API's own dependencies. */
export interface ApiAppOptions extends ApiDeps {
  /** Served at `/metrics`. Default: a new registry with the process's default metrics. */
  readonly registry?: Registry;
  /** Trust X-Forwarded-For (behind a load balancer). Default false. */
  readonly trustProxy?: boolean;
}

/** Builds the standalone API app (health and metrics included) without listening. */
export async function buildApiApp(opts: ApiAppOptions): Promise<FastifyInstance> {
  const maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_API_BODY_BYTES;
  const app = createHttpServer({
    logger: opts.logger,
    trustProxy: opts.trustProxy ?? false,
    bodyLimit: maxBodyBytes,
  });
  let registry = opts.registry;
  if (registry === undefined) {
    registry = new Registry();
    collectDefaultMetrics({ register: registry, prefix: 'cdp_' });
  }
  registerHealthRoutes(app, { bus: opts.bus, warehouse: opts.warehouse, registry });
  await registerApi(app, opts);
  return app;
}
