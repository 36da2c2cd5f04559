import { Readable } from 'node:stream';
import { CdpError } from '@cdp/core';
import type { FastifyInstance } from 'fastify';
import { jsonBody } from '@cdp/http';
import type { AudienceService } from '@cdp/segment-exporter';
import { ANALYTICS_READ } from '../auth.js';
import type { ApiArea, ApiContext } from '../context.js';

type NameParams = { Params: { name: string } };
type MembersQuery = NameParams & {
  Querystring: { cursor?: string; limit?: string; format?: string };
};

function serviceOf(ctx: ApiContext): AudienceService {
  const a = ctx.deps.audiences;
  if (!a)
    throw new CdpError('CDP_ERR_API_NOT_FOUND', { message: 'Audiences are not enabled here' });
  return a;
}

function intParam(raw: string | undefined, field: string, dflt: number, max: number): number {
  if (raw === undefined) return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new CdpError('CDP_ERR_API_BAD_REQUEST', {
      field,
      message: `${field} must be an integer from 1 to ${max}`,
    });
  return n;
}

/** CSV of every member (`person_id,entered_at`), page after page. */
function membersCsv(service: AudienceService, name: string): Readable {
  async function* lines(): AsyncGenerator<string> {
    yield 'person_id,entered_at\n';
    let cursor: string | undefined;
    do {
      const page = await service.members(name, cursor, 10_000);
      yield page.members.map((m) => `${m.personId},${m.enteredAt}\n`).join('');
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
  }
  return Readable.from(lines());
}

/**
 * Audiences, behind the admin token: definitions (a bad one is a 400 naming
 * the path in the tree), a preview of a definition not saved (size, a
 * sample, by channel and RFM group), members page by page or as CSV, the
 * run history, a run on demand (answers when done) and lookalikes.
 */
export function registerAudienceRoutes(admin: FastifyInstance, ctx: ApiContext): void {
  admin.get('/v1/audiences', ANALYTICS_READ, async () => ({
    audiences: await serviceOf(ctx).list(),
  }));
  admin.post('/v1/audiences', async (req, reply) =>
    reply.code(201).send({ audience: await serviceOf(ctx).create(jsonBody(req)) }),
  );
  admin.post('/v1/audiences/preview', ANALYTICS_READ, async (req) =>
    serviceOf(ctx).preview(jsonBody(req)),
  );
  admin.get<NameParams>('/v1/audiences/:name', ANALYTICS_READ, async (req) => ({
    audience: await serviceOf(ctx).get(req.params.name),
  }));
  admin.put<NameParams>('/v1/audiences/:name', async (req) => ({
    audience: await serviceOf(ctx).replace(req.params.name, jsonBody(req)),
  }));
  admin.delete<NameParams>('/v1/audiences/:name', async (req, reply) => {
    await serviceOf(ctx).remove(req.params.name);
    return reply.code(204).send();
  });
  admin.get<MembersQuery>('/v1/audiences/:name/members', ANALYTICS_READ, async (req, reply) => {
    const service = serviceOf(ctx);
    const format = req.query.format ?? 'json';
    if (format !== 'json' && format !== 'csv')
      throw new CdpError('CDP_ERR_API_BAD_REQUEST', {
        field: 'format',
        message: 'format must be json or csv',
      });
    if (format === 'csv') {
      await service.get(req.params.name);
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${req.params.name}.csv"`)
        .send(membersCsv(service, req.params.name));
    }
    const limit = intParam(req.query.limit, 'limit', 1000, 10_000);
    return service.members(req.params.name, req.query.cursor, limit);
  });
  admin.get<NameParams & { Querystring: { limit?: string } }>(
    '/v1/audiences/:name/runs',
    ANALYTICS_READ,
    async (req) => ({
      runs: await serviceOf(ctx).runs(
        req.params.name,
        intParam(req.query.limit, 'limit', 20, 1000),
      ),
    }),
  );
  admin.post<NameParams>('/v1/audiences/:name/refresh', async (req) => ({
    run: await serviceOf(ctx).refresh(req.params.name),
  }));
  // A new audience of the people most like this one's members (201: it
  // was saved and has run; posting again with the same name rebuilds it).
  admin.post<NameParams>('/v1/audiences/:name/lookalike', async (req, reply) =>
    reply.code(201).send(await serviceOf(ctx).lookalike(req.params.name, jsonBody(req))),
  );
}

export const audiencesArea: ApiArea = { name: 'audiences', register: registerAudienceRoutes };
