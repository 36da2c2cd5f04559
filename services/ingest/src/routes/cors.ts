import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { IngestContext } from '../context.js';
import { COLLECT_PATHS } from './collect.js';

/** The collection routes: the only ones a source's allowed origins open to browsers. */
const PREFLIGHT_PATHS: readonly string[] = [...COLLECT_PATHS, '/v1/pixel.gif', '/v1/r'];

/**
 * CORS preflights for the collection API. A preflight carries no write key,
 * so it is answered for any origin that some source allows; the real request
 * is then checked against its own source's origins (see `checkOrigin`).
 * Only the collection routes: on one port with the management API (the
 * all-in-one runner), a source's origins (`*` by default) must not open the
 * admin routes to browsers; the API answers their preflights itself.
 */
export function registerCors(app: FastifyInstance, ctx: IngestContext): void {
  const preflight = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
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
  };
  for (const path of PREFLIGHT_PATHS) app.options(path, preflight);
}
