import { CdpError } from '@cdp/core';
import type { FastifyInstance } from 'fastify';
import { jsonBody } from '@cdp/http';
import type { AlertService, MetricsService } from '@cdp/metrics-service';
import { ANALYTICS_READ } from '../auth.js';
import type { ApiArea, ApiContext } from '../context.js';
import { limitParam } from './params.js';

type NameParams = { Params: { name: string } };
type IdParams = { Params: { id: string } };
type Query = { Querystring: Record<string, string | undefined> };

function metricsOf(ctx: ApiContext): MetricsService {
  const m = ctx.deps.metrics;
  if (!m) throw new CdpError('CDP_ERR_API_NOT_FOUND', { message: 'Metrics are not enabled here' });
  return m;
}

function alertsOf(ctx: ApiContext): AlertService {
  const a = ctx.deps.alerts;
  if (!a) throw new CdpError('CDP_ERR_API_NOT_FOUND', { message: 'Alerts are not enabled here' });
  return a;
}

/**
 * Metrics (reads also with the analytics token): the definitions, a
 * series (`?from=&to=&interval=&breakdown=`), the last hour by minute; and
 * alert rules behind the admin token: CRUD, a test evaluation, the history.
 */
export function registerMetricRoutes(admin: FastifyInstance, ctx: ApiContext): void {
  admin.get('/v1/metrics', ANALYTICS_READ, async () => ({ metrics: await metricsOf(ctx).list() }));
  admin.post('/v1/metrics', async (req, reply) =>
    reply.code(201).send({ metric: await metricsOf(ctx).create(jsonBody(req)) }),
  );
  admin.get<Query>('/v1/metrics/live', ANALYTICS_READ, async (req) =>
    metricsOf(ctx).live(req.query),
  );
  admin.get<NameParams & Query>('/v1/metrics/:name', ANALYTICS_READ, async (req) =>
    metricsOf(ctx).series(req.params.name, req.query),
  );
  admin.put<NameParams>('/v1/metrics/:name', async (req) => ({
    metric: await metricsOf(ctx).replace(req.params.name, jsonBody(req)),
  }));
  admin.delete<NameParams>('/v1/metrics/:name', async (req, reply) => {
    // A metric an alert rule watches stays until the rule changes: the rule
    // would fail every evaluation.
    const users = ctx.deps.alerts
      ? (await ctx.deps.alerts.list()).filter((a) => a.metric === req.params.name)
      : [];
    if (users.length > 0)
      throw new CdpError('CDP_ERR_METRIC_INVALID', {
        field: 'name',
        message: `name: alert ${users.map((a) => `"${a.name}" (${a.id})`).join(', ')} uses ${req.params.name}: change or delete it first`,
      });
    await metricsOf(ctx).remove(req.params.name);
    return reply.code(204).send();
  });

  admin.get('/v1/alerts', async () => ({ alerts: await alertsOf(ctx).list() }));
  admin.post('/v1/alerts', async (req, reply) =>
    reply.code(201).send({ alert: await alertsOf(ctx).create(jsonBody(req)) }),
  );
  admin.get<IdParams>('/v1/alerts/:id', async (req) => ({
    alert: await alertsOf(ctx).get(req.params.id),
  }));
  admin.put<IdParams>('/v1/alerts/:id', async (req) => ({
    alert: await alertsOf(ctx).replace(req.params.id, jsonBody(req)),
  }));
  admin.delete<IdParams>('/v1/alerts/:id', async (req, reply) => {
    await alertsOf(ctx).remove(req.params.id);
    return reply.code(204).send();
  });
  admin.post<IdParams>('/v1/alerts/:id/test', async (req) => alertsOf(ctx).test(req.params.id));
  admin.get<IdParams & { Querystring: { limit?: string } }>(
    '/v1/alerts/:id/events',
    async (req) => ({
      events: await alertsOf(ctx).events(req.params.id, limitParam(req.query.limit, 100)),
    }),
  );
}

export const metricsArea: ApiArea = { name: 'metrics', register: registerMetricRoutes };
