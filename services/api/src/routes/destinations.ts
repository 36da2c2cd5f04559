import { CdpError } from '@cdp/core';
import type { FastifyInstance } from 'fastify';
import { jsonBody } from '@cdp/http';
import type { DestinationService } from '@cdp/segment-exporter';
import type { ApiArea, ApiContext } from '../context.js';
import { limitParam } from './params.js';

type IdParams = { Params: { id: string } };
type ConnParams = { Params: { name: string; id: string } };

function serviceOf(ctx: ApiContext): DestinationService {
  const d = ctx.deps.destinations;
  if (!d)
    throw new CdpError('CDP_ERR_API_NOT_FOUND', { message: 'Destinations are not enabled here' });
  return d;
}

/**
 * Destinations, behind the admin token: where audiences are delivered
 * (secrets shown masked), the audiences connected to them (the first sync
 * starts at once) and the export runs.
 */
export function registerDestinationRoutes(admin: FastifyInstance, ctx: ApiContext): void {
  admin.get('/v1/destinations', async () => ({ destinations: await serviceOf(ctx).list() }));
  admin.post('/v1/destinations', async (req, reply) =>
    reply.code(201).send({ destination: await serviceOf(ctx).create(jsonBody(req)) }),
  );
  admin.get<IdParams>('/v1/destinations/:id', async (req) => ({
    destination: await serviceOf(ctx).get(req.params.id),
  }));
  admin.put<IdParams>('/v1/destinations/:id', async (req) => ({
    destination: await serviceOf(ctx).replace(req.params.id, jsonBody(req)),
  }));
  admin.delete<IdParams>('/v1/destinations/:id', async (req, reply) => {
    await serviceOf(ctx).remove(req.params.id);
    return reply.code(204).send();
  });
  admin.get<IdParams & { Querystring: { limit?: string } }>(
    '/v1/destinations/:id/runs',
    async (req) => ({
      runs: await serviceOf(ctx).runs(req.params.id, limitParam(req.query.limit, 20)),
    }),
  );
  admin.get<{ Params: { name: string } }>('/v1/audiences/:name/destinations', async (req) => ({
    connections: await serviceOf(ctx).connections(req.params.name),
  }));
  admin.post<{ Params: { name: string } }>('/v1/audiences/:name/destinations', async (req, reply) =>
    reply
      .code(201)
      .send({ connection: await serviceOf(ctx).connect(req.params.name, jsonBody(req)) }),
  );
  admin.delete<ConnParams>('/v1/audiences/:name/destinations/:id', async (req, reply) => {
    await serviceOf(ctx).disconnect(req.params.name, req.params.id);
    return reply.code(204).send();
  });
  admin.post<ConnParams>('/v1/audiences/:name/destinations/:id/sync', async (req) => ({
    run: (await serviceOf(ctx).sync(req.params.name, req.params.id)) ?? null,
  }));
}

export const destinationsArea: ApiArea = {
  name: 'destinations',
  register: registerDestinationRoutes,
};
