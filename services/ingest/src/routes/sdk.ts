import type { FastifyInstance } from 'fastify';
import { CdpError } from '@cdp/core';
import type { IngestContext } from '../context.js';

/**
 * Serves the browser SDK at `CDP_SDK_PATH` (default `/s/c.js`: no word that
 * ad blockers' lists match, such as "analytics", "track" or "event"). Cached
 * by browsers for 5 minutes and revalidated by ETag, gzipped when accepted.
 */
export function registerSdkRoute(app: FastifyInstance, ctx: IngestContext): void {
  const script = ctx.deps.sdkScript;
  app.get(ctx.limits.CDP_SDK_PATH, async (req, reply) => {
    if (script === undefined) {
      throw new CdpError('CDP_ERR_API_NOT_FOUND', {
        message:
          'The browser SDK has not been built: run `npm run build` (packages/sdk-browser/dist/cdp.min.js)',
      });
    }
    void reply
      .header('content-type', 'application/javascript; charset=utf-8')
      .header('cache-control', 'public, max-age=300')
      .header('etag', script.etag)
      .header('vary', 'Accept-Encoding')
      .header('access-control-allow-origin', '*')
      .header('x-content-type-options', 'nosniff');
    if (req.headers['if-none-match'] === script.etag) return reply.code(304).send();
    const accepts = req.headers['accept-encoding'];
    if (typeof accepts === 'string' && /\bgzip\b/.test(accepts)) {
      return reply.header('content-encoding', 'gzip').send(script.gzip);
    }
    return reply.send(script.body);
  });
}
