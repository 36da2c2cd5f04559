import { CdpError } from '@cdp/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { IngestContext } from '../context.js';
import { parseJsonBody } from '@cdp/http';
import { batchItems, typeFromPath } from '../pipeline/normalize.js';
import { authenticateSource, checkOrigin, writeKeyOf } from './auth.js';

const SINGLE = [
  'track',
  'identify',
  'page',
  'screen',
  'group',
  'alias',
  't',
  'i',
  'p',
  's',
  'g',
  'a',
];
const BATCH = ['batch', 'b', 'import'];

/** Paths of the collection routes a browser posts to (and preflights). */
export const COLLECT_PATHS: readonly string[] = [...SINGLE, ...BATCH].map((seg) => `/v1/${seg}`);

function bodyOf(req: FastifyRequest): Buffer {
  if (!Buffer.isBuffer(req.body)) {
    throw new CdpError('CDP_ERR_INGEST_CONTENT_TYPE', {
      field: 'content-type',
      message: 'Send a JSON body as application/json or text/plain',
    });
  }
  return req.body;
}

/** Segment's HTTP tracking API: `/v1/track|identify|page|screen|group|alias|batch` and the short forms. */
export function registerCollectRoutes(app: FastifyInstance, ctx: IngestContext): void {
  app.decorateRequest('cdpSource', undefined);
  const { collector, limits } = ctx;

  const single = async (req: FastifyRequest, reply: FastifyReply, segment: string) => {
    const type = typeFromPath(segment);
    const body = bodyOf(req);
    if (body.length > limits.CDP_MAX_EVENT_BYTES) {
      throw new CdpError('CDP_ERR_INGEST_EVENT_TOO_LARGE', {
        field: 'body',
        message: `The event is over ${limits.CDP_MAX_EVENT_BYTES} bytes`,
      });
    }
    const obj = parseJsonBody(body);
    const source = authenticateSource(ctx, req, writeKeyOf(req, obj));
    checkOrigin(req, reply, source);
    const res = await collector.accept(
      [{ raw: obj, ...(type ? { type } : {}) }],
      ctx.requestContext(req, source),
    );
    const r = res.rejected[0];
    if (r) {
      const status = r.code === 'CDP_ERR_INGEST_EVENT_TOO_LARGE' ? 413 : 400;
      return reply
        .code(status)
        .send({ success: false, code: r.code, field: r.field, message: r.message });
    }
    return reply.send({ success: true });
  };

  const batch = async (req: FastifyRequest, reply: FastifyReply) => {
    const body = bodyOf(req);
    if (body.length > limits.CDP_MAX_BATCH_BYTES) {
      throw new CdpError('CDP_ERR_INGEST_BODY_TOO_LARGE', {
        field: 'body',
        message: `The batch body is over ${limits.CDP_MAX_BATCH_BYTES} bytes`,
      });
    }
    const obj = parseJsonBody(body);
    const source = authenticateSource(ctx, req, writeKeyOf(req, obj));
    checkOrigin(req, reply, source);
    const items = batchItems(obj);
    if (!Array.isArray(items))
      throw new CdpError(items.code, { field: items.field, message: items.message });
    if (items.length === 0) throw new CdpError('CDP_ERR_INGEST_BATCH_EMPTY', { field: 'batch' });
    if (items.length > limits.CDP_MAX_BATCH_EVENTS) {
      throw new CdpError('CDP_ERR_INGEST_BATCH_TOO_MANY', {
        field: 'batch',
        message: `The batch has ${items.length} events; at most ${limits.CDP_MAX_BATCH_EVENTS} are allowed`,
      });
    }
    const res = await collector.accept(
      items.map((raw) => ({ raw })),
      ctx.requestContext(req, source),
    );
    if (res.accepted === 0) {
      const first = res.rejected[0];
      return reply.code(400).send({
        success: false,
        code: first?.code,
        field: first?.field,
        message: 'No event in the batch was valid',
        accepted: 0,
        rejected: res.rejected,
      });
    }
    return reply.send({ success: true, accepted: res.accepted, rejected: res.rejected });
  };

  for (const seg of SINGLE) {
    app.post(`/v1/${seg}`, { config: { collect: true } }, (req, reply) => single(req, reply, seg));
  }
  for (const seg of BATCH) app.post(`/v1/${seg}`, { config: { collect: true } }, batch);
}
