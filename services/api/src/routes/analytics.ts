import type { FastifyInstance } from 'fastify';
import { jsonBody } from '@cdp/http';
import type { ApiArea, ApiContext } from '../context.js';
import { createAnalyticsService, type AnalyticsService } from '../analytics-service.js';

/**
 * The analytics data API, behind the admin token: multi-touch attribution
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
  admin.get<{ Querystring: Record<string, string | undefined> }>('/v1/attribution', async (req) =>
    service.attribution(req.query),
  );
  admin.post('/v1/funnels', async (req) => service.funnel(jsonBody(req)));
  admin.post('/v1/paths', async (req) => service.paths(jsonBody(req)));
}

export const analyticsArea: ApiArea = {
  name: 'analytics',
  register: (admin, ctx) => registerAnalyticsRoutes(admin, ctx),
};
