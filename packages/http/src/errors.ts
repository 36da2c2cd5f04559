import type { FastifyReply, FastifyRequest } from 'fastify';
import { CdpError, isCdpError } from '@cdp/core';

/** Maps framework errors to catalogue codes, so every rejection carries a stable code. */
export function toCdpError(err: unknown): CdpError {
  if (isCdpError(err)) return err;
  const e = err as { code?: string; statusCode?: number; message?: string };
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new CdpError('CDP_ERR_INGEST_BODY_TOO_LARGE', { field: 'body' });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new CdpError('CDP_ERR_INGEST_CONTENT_TYPE', { field: 'content-type' });
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new CdpError('CDP_ERR_INGEST_MALFORMED_JSON', {
        field: 'body',
        message: 'The body is empty',
      });
    case undefined:
    default:
      if (e.statusCode !== undefined && e.statusCode >= 400 && e.statusCode < 500) {
        return new CdpError('CDP_ERR_API_BAD_REQUEST', {
          message: e.message ?? 'Bad request',
          statusCode: e.statusCode,
        });
      }
      return new CdpError('CDP_ERR_INTERNAL', { cause: err });
  }
}

/** What a service adds to an error answer before it is sent (ingest: dead letters, CORS). */
export type BeforeErrorReply = (
  e: CdpError,
  req: FastifyRequest,
  reply: FastifyReply,
) => Promise<void> | void;

/**
 * An error handler answering with the error's catalogue JSON and status: an
 * internal error is logged, a retryable one (503, 429) carries `Retry-After`
 * (1 s unless the thrower set it).
 */
export function cdpErrorHandler(
  before?: BeforeErrorReply,
): (err: unknown, req: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply> {
  return async (err, req, reply) => {
    const e = toCdpError(err);
    if (e.code === 'CDP_ERR_INTERNAL') req.log.error({ err }, 'request_failed');
    if (before) await before(e, req, reply);
    if (e.retryable && !reply.hasHeader('retry-after')) void reply.header('retry-after', '1');
    return reply.code(e.statusCode).send(e.toJSON());
  };
}
