import type { FastifyInstance } from 'fastify';
import { jsonBody } from '@cdp/http';
import { ANALYTICS_READ } from '../auth.js';
import type { ApiArea, ApiContext } from '../context.js';
import { createAnalyticsService, type AnalyticsService } from '../analytics-service.js';

/**
 * The analytics data API, behind the admin token or the analytics token: multi-touch attribution
 * (`GET /v1/attribution`), funnels (`POST /v1/funnels`) and paths for a
 * Sankey chart (`POST /v1/paths`).
 */
export function registerAnalyticsRoutes(
  admin: FastifyInstance,
  ctx: ApiContext,
  service: AnalyticsService = createAnalyticsService({
    warehouse: ctx.deps.warehouse,
    now: ctx.now,
  }),
): void {
  admin.get<{ Querystring: Record<string, string | undefined> }>(
    '/v1/attribution',
    ANALYTICS_READ,
    async (req) => service.attribution(req.query),
  );
  admin.post('/v1/funnels', ANALYTICS_READ, async (req) => service.funnel(jsonBody(req)));
  admin.post('/v1/paths', ANALYTICS_READ, async (req) => service.paths(jsonBody(req)));
}

export const analyticsArea: ApiArea = {
  name: 'analytics',
  register: (admin, ctx) => registerAnalyticsRoutes(admin, ctx),
};
