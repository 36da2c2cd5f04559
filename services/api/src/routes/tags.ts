import { CdpError } from '@cdp/core';
import type { FastifyInstance } from 'fastify';
import { jsonBody } from '@cdp/http';
import type { TagService } from '@cdp/tag-store';
import { ANALYTICS_READ } from '../auth.js';
import type { ApiArea, ApiContext } from '../context.js';

type NameParams = { Params: { name: string } };

function serviceOf(ctx: ApiContext): TagService {
  const tags = ctx.deps.tags;
  if (!tags)
    throw new CdpError('CDP_ERR_API_NOT_FOUND', { message: 'The tag engine is not enabled here' });
  return tags;
}

/**
 * Tags, behind the admin token: definitions (list, read, create, replace,
 * delete; a bad one is a 400 naming the field), a run on demand (answers
 * when it is done, with what it did), the run history, and how a tag's
 * values are spread.
 */
export function registerTagRoutes(admin: FastifyInstance, ctx: ApiContext): void {
  // Reads are open to the analytics token; definitions and runs are the admin's.
  admin.get('/v1/tags', ANALYTICS_READ, async () => ({ tags: await serviceOf(ctx).list() }));
  admin.post('/v1/tags', async (req, reply) =>
    reply.code(201).send({ tag: await serviceOf(ctx).create(jsonBody(req)) }),
  );
  admin.post('/v1/tags/recompute', async (req) => {
    const body = jsonBody(req);
    for (const k of Object.keys(body))
      if (k !== 'full')
        throw new CdpError('CDP_ERR_API_BAD_REQUEST', {
          field: k,
          message: `Unknown field ${k} (allowed: full)`,
        });
    if (body['full'] !== undefined && typeof body['full'] !== 'boolean')
      throw new CdpError('CDP_ERR_API_BAD_REQUEST', {
        field: 'full',
        message: 'full must be a boolean',
      });
    return { run: await serviceOf(ctx).recompute({ full: body['full'] === true }) };
  });
  admin.get<{ Querystring: { limit?: string } }>('/v1/tags/runs', ANALYTICS_READ, async (req) => {
    const limit = req.query.limit === undefined ? 20 : Number(req.query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
      throw new CdpError('CDP_ERR_API_BAD_REQUEST', {
        field: 'limit',
        message: 'limit must be an integer from 1 to 1000',
      });
    return { runs: await serviceOf(ctx).runs(limit) };
  });
  admin.get<NameParams>('/v1/tags/:name', ANALYTICS_READ, async (req) => ({
    tag: await serviceOf(ctx).get(req.params.name),
  }));
  admin.put<NameParams>('/v1/tags/:name', async (req) => ({
    tag: await serviceOf(ctx).replace(req.params.name, jsonBody(req)),
  }));
  admin.delete<NameParams>('/v1/tags/:name', async (req, reply) => {
    await serviceOf(ctx).remove(req.params.name);
    return reply.code(204).send();
  });
  admin.get<NameParams>('/v1/tags/:name/distribution', ANALYTICS_READ, async (req) =>
    serviceOf(ctx).distribution(req.params.name),
  );
}

export const tagsArea: ApiArea = { name: 'tags', register: registerTagRoutes };
