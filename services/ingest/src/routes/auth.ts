import { CdpError } from '@cdp/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { IngestContext } from '../context.js';
import { originAllowed, type Source } from '@cdp/sources';

declare module 'fastify' {
  interface FastifyRequest {
    /** The source a collection request authenticated as, once known. */
    cdpSource: Source | undefined;
  }
}

/** The write key from HTTP Basic (`base64(writeKey + ":")`) or, failing that, the body's `writeKey`. */
export function writeKeyOf(
  req: FastifyRequest,
  body: Record<string, unknown> | undefined,
): string | undefined {
  const h = req.headers.authorization;
  if (typeof h === 'string' && h.slice(0, 6).toLowerCase() === 'basic ') {
    const decoded = Buffer.from(h.slice(6).trim(), 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    const key = i === -1 ? decoded : decoded.slice(0, i);
    if (key !== '') return key;
  }
  const fromBody = body?.['writeKey'];
  return typeof fromBody === 'string' && fromBody !== '' ? fromBody : undefined;
}

/** Resolves the request's source by write key, or throws the auth error a client can act on. */
export function authenticateSource(
  ctx: IngestContext,
  req: FastifyRequest,
  writeKey: string | undefined,
): Source {
  if (writeKey === undefined)
    throw new CdpError('CDP_ERR_INGEST_AUTH_MISSING', { field: 'writeKey' });
  const source = ctx.deps.sources.byWriteKey(writeKey);
  if (!source) throw new CdpError('CDP_ERR_INGEST_AUTH_INVALID', { field: 'writeKey' });
  req.cdpSource = source;
  return source;
}

/**
 * Browser requests carry an Origin: it must be on the source's allowed
 * origins, and the response then names it for CORS. Server-side clients send
 * no Origin and pass.
 */
export function checkOrigin(req: FastifyRequest, reply: FastifyReply, source: Source): void {
  const origin = req.headers.origin;
  if (typeof origin !== 'string' || origin === '') return;
  if (!originAllowed(source, origin)) {
    throw new CdpError('CDP_ERR_INGEST_ORIGIN_NOT_ALLOWED', {
      field: 'origin',
      message: `Origin ${origin} is not on the allowed origins of this source`,
    });
  }
  void reply
    .header('access-control-allow-origin', origin)
    .header('access-control-expose-headers', 'Retry-After')
    .header('vary', 'Origin');
}
