import { CdpError } from '@cdp/core';
import type { FastifyInstance } from 'fastify';
import { parseJsonBody, requireAdmin } from '@cdp/http';
import type { IngestContext } from '../context.js';
import type { DerivedEventSink } from '../derived-events.js';

/**
 * `POST /v1/derived/batch` `{batch: [track calls]}` with the admin token
 * (`Authorization: Bearer`): how the platform's services in other processes
 * send the events they derive (the tag engine's `Tier Upgraded`). They are
 * recorded under the derived source; write keys are not accepted here.
 */
export function registerDerivedRoute(
  app: FastifyInstance,
  ctx: IngestContext,
  sink: DerivedEventSink,
  token: string,
): void {
  app.post('/v1/derived/batch', async (req, reply) => {
    requireAdmin(token, req);
    if (!Buffer.isBuffer(req.body))
      throw new CdpError('CDP_ERR_INGEST_CONTENT_TYPE', { field: 'content-type' });
    if (req.body.length > ctx.limits.CDP_MAX_BATCH_BYTES)
      throw new CdpError('CDP_ERR_INGEST_BODY_TOO_LARGE', { field: 'body' });
    const body = parseJsonBody(req.body);
    const batch = body['batch'];
    if (!Array.isArray(batch) || batch.some((c) => c === null || typeof c !== 'object'))
      throw new CdpError('CDP_ERR_EVENT_INVALID_TYPE', {
        field: 'batch',
        message: 'batch must be an array of track calls',
      });
    await sink.track(batch as Record<string, unknown>[]);
    return reply.send({ success: true, accepted: batch.length });
  });
}
