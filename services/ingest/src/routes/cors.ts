import type { FastifyInstance } from 'fastify';
import type { IngestContext } from '../context.js';

/**
 * CORS preflights for the collection API. A preflight carries no write key,
 * so it is answered for any origin that some source allows; the real request
 * is then checked against its own source's origins (see `checkOrigin`).
 */
export function registerCors(app: FastifyInstance, ctx: IngestContext): void {
  app.options('/v1/*', async (req, reply) => {
    const origin = req.headers.origin;
    if (typeof origin !== 'string' || !ctx.deps.sources.anyAllowsOrigin(origin)) {
      return reply.code(403).header('vary', 'Origin').send();
    }
    const reqHeaders = req.headers['access-control-request-headers'];
    return (
      reply
        .code(204)
        .header('access-control-allow-origin', origin)
        .header('access-control-allow-methods', 'GET, POST, OPTIONS')
        .header(
          'access-control-allow-headers',
          typeof reqHeaders === 'string' && reqHeaders !== ''
            ? reqHeaders
            : 'Content-Type, Authorization',
        )
        // Browsers cap this (Chromium at 2 hours); ask for a day.
        .header('access-control-max-age', '86400')
        .header('vary', 'Origin, Access-Control-Request-Headers')
        .send()
    );
  });
}
