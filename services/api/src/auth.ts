import type { FastifyRequest } from 'fastify';
import { CdpError } from '@cdp/core';
import { requireAdmin } from '@cdp/http';
import { secretsEqual } from '@cdp/sources';

export { requireAdmin };

/** The API's tokens: the admin token, and an optional read-only analytics token. */
export interface ApiTokens {
  readonly admin: string;
  /** `CDP_ANALYTICS_TOKEN`; empty or absent: no such token. */
  readonly analytics?: string | undefined;
}

/**
 * Route options of what the analytics token may call: queries and reads
 * (SQL, analytics, people, tags), never management (sources, tag
 * definitions, runs, splitting or erasing people). A route without it is the
 * admin token's only, so a new route is closed until it says otherwise.
 */
export const ANALYTICS_READ = { config: { analytics: true } } as const;

function bearer(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  return typeof h === 'string' && h.slice(0, 7).toLowerCase() === 'bearer '
    ? h.slice(7).trim()
    : undefined;
}

/**
 * Checks the token of a request to the API: the admin token may call every
 * route, the analytics token only routes with {@link ANALYTICS_READ} (else a
 * 403 `CDP_ERR_API_FORBIDDEN`); anything else is a 401, as for the admin
 * token alone.
 */
export function authorizeApiRequest(tokens: ApiTokens, req: FastifyRequest): void {
  const analytics = tokens.analytics ?? '';
  const token = bearer(req);
  if (analytics === '' || token === undefined || !secretsEqual(token, analytics)) {
    requireAdmin(tokens.admin, req);
    return;
  }
  if (req.routeOptions.config.analytics !== true) {
    throw new CdpError('CDP_ERR_API_FORBIDDEN', {
      field: 'authorization',
      message: `The analytics token can query and read (SQL, analytics, people, tags), not ${req.method} ${req.routeOptions.url ?? req.url}: use the admin token`,
    });
  }
}
