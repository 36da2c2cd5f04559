import type { FastifyInstance } from 'fastify';
import type { IngestContext } from '../app.js';
import { createAnalyticsService, type AnalyticsService } from '../analytics/analytics-service.js';
import { requireAdmin } from './auth.js';
import { jsonBody } from './json-body.js';

/**
 * The analytics data API, behind the admin token: multi-touch attribution
 * (`GET /v1/attribution`), funnels (`POST /v1/funnels`) and paths for a
 * Sankey chart (`POST /v1/paths`).
 */
export function registerAnalyticsRoutes(
  app: FastifyInstance,
  ctx: IngestContext,
  service: AnalyticsService = createAnalyticsService({
    warehouse: ctx.deps.warehouse,
    now: ctx.now,
  }),
): void {
  app.register(async (admin) => {
    admin.addHook('onRequest', async (req) => requireAdmin(ctx, req));
    admin.get<{ Querystring: Record<string, string | undefined> }>('/v1/attribution', async (req) =>
      service.attribution(req.query),
    );
    admin.post('/v1/funnels', async (req) => service.funnel(jsonBody(req)));
    admin.post('/v1/paths', async (req) => service.paths(jsonBody(req)));
  });
}
