import { CdpError } from '@cdp/core';
import type { FastifyInstance } from 'fastify';
import { jsonBody } from '@cdp/http';
import type { Source, SourcePatch } from '@cdp/sources';
import type { ApiArea, ApiContext } from '../context.js';

/** A source as the API shows it: never the key hash. */
export function sourceView(s: Source): Record<string, unknown> {
  return {
    id: s.id,
    name: s.name,
    writeKeyPrefix: s.writeKeyPrefix,
    allowedOrigins: s.allowedOrigins,
    redirectAllowlist: s.redirectAllowlist,
    ipPolicy: s.ipPolicy,
    createdAt: new Date(s.createdAt).toISOString(),
    updatedAt: new Date(s.updatedAt).toISOString(),
  };
}

function patchOf(body: Record<string, unknown>): SourcePatch {
  const allowed = ['name', 'allowedOrigins', 'redirectAllowlist', 'ipPolicy'];
  for (const k of Object.keys(body)) {
    if (!allowed.includes(k))
      throw new CdpError('CDP_ERR_API_BAD_REQUEST', {
        field: k,
        message: `Unknown field ${k} (allowed: ${allowed.join(', ')})`,
      });
  }
  return body;
}

/** Sources: create, list, get, update, rotate key. */
export function registerSourceRoutes(admin: FastifyInstance, ctx: ApiContext): void {
  const { sources } = ctx.deps;
  admin.get('/v1/sources', async () => ({ sources: sources.list().map(sourceView) }));
  admin.post('/v1/sources', async (req, reply) => {
    const body = jsonBody(req);
    if (typeof body['name'] !== 'string')
      throw new CdpError('CDP_ERR_API_BAD_REQUEST', {
        field: 'name',
        message: 'name is required',
      });
    const { source, writeKey } = await sources.create({ ...patchOf(body), name: body['name'] });
    return reply.code(201).send({ source: sourceView(source), writeKey });
  });
  admin.get<{ Params: { id: string } }>('/v1/sources/:id', async (req) => {
    const s = sources.get(req.params.id);
    if (!s)
      throw new CdpError('CDP_ERR_API_NOT_FOUND', {
        field: 'id',
        message: `No source with id ${req.params.id}`,
      });
    return { source: sourceView(s) };
  });
  admin.patch<{ Params: { id: string } }>('/v1/sources/:id', async (req) => ({
    source: sourceView(await sources.update(req.params.id, patchOf(jsonBody(req)))),
  }));
  admin.post<{ Params: { id: string } }>('/v1/sources/:id/rotate-key', async (req) => {
    const { source, writeKey } = await sources.rotateKey(req.params.id);
    return { source: sourceView(source), writeKey };
  });
}

export const sourcesArea: ApiArea = { name: 'sources', register: registerSourceRoutes };
