import type { FastifyInstance } from 'fastify';
import { CdpError } from '@cdp/core';

/**
 * CORS of the management and data API: no browser origin may call it except
 * the console's own (`consoleOrigin`, `CDP_CONSOLE_ORIGIN`; empty: none).
 * Preflights (`OPTIONS /v1/*`, no credentials: they are answered before the
 * token check) get a 204 for that origin and a 403 without CORS headers for
 * any other; answers to that origin carry `Access-Control-Allow-Origin`.
 * Collection routes keep their per-source CORS (ingest answers their
 * preflights on their own paths, which win over this wildcard).
 */
export function registerAdminCors(api: FastifyInstance, consoleOrigin: string): void {
  api.options('/v1/*', { config: { preflight: true } }, async (req, reply) => {
    const origin = req.headers.origin;
    if (consoleOrigin === '' || origin !== consoleOrigin) {
      return reply
        .code(403)
        .header('vary', 'Origin')
        .send(
          new CdpError('CDP_ERR_API_FORBIDDEN', {
            field: 'origin',
            message:
              consoleOrigin === ''
                ? 'No browser origin may call the management API (set CDP_CONSOLE_ORIGIN for a console)'
                : 'This origin may not call the management API (only CDP_CONSOLE_ORIGIN may)',
          }).toJSON(),
        );
    }
    return reply
      .code(204)
      .header('access-control-allow-origin', consoleOrigin)
      .header('access-control-allow-methods', 'GET, POST, PUT, PATCH, DELETE')
      .header('access-control-allow-headers', 'Authorization, Content-Type')
      .header('access-control-max-age', '600')
      .header('vary', 'Origin')
      .send();
  });
  if (consoleOrigin === '') return;
  api.addHook('onSend', async (req, reply, payload) => {
    if (req.headers.origin === consoleOrigin && req.method !== 'OPTIONS') {
      void reply
        .header('access-control-allow-origin', consoleOrigin)
        .header('access-control-expose-headers', 'Retry-After')
        .header('vary', 'Origin');
    }
    return payload;
  });
}
