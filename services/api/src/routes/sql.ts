import { CdpError } from '@cdp/core';
import type { FastifyInstance } from 'fastify';
import { jsonBody } from '@cdp/http';
import { ANALYTICS_READ } from '../auth.js';
import type { ApiArea, ApiContext } from '../context.js';

/**
 * Read-only SQL over the warehouse: `POST /v1/sql` with `{query, params}`,
 * under the API's limits (a query over one is a 422 `CDP_ERR_SQL_LIMIT`
 * naming it; too many at once a 429 `CDP_ERR_SQL_BUSY`).
 */
export function registerSqlRoutes(admin: FastifyInstance, ctx: ApiContext): void {
  admin.post('/v1/sql', ANALYTICS_READ, async (req) => {
    const body = jsonBody(req);
    const query = body['query'];
    const params = body['params'] ?? {};
    if (typeof query !== 'string' || query.trim() === '')
      throw new CdpError('CDP_ERR_API_BAD_REQUEST', {
        field: 'query',
        message: 'query must be a non-empty string',
      });
    if (params === null || typeof params !== 'object' || Array.isArray(params)) {
      throw new CdpError('CDP_ERR_API_BAD_REQUEST', {
        field: 'params',
        message: 'params must be an object of {name: value} for {name:Type} placeholders',
      });
    }
    const res = await ctx.deps.warehouse.queryReadonly(
      query,
      params as Record<string, unknown>,
      ctx.deps.sqlLimits,
    );
    return { rows: res.rows, truncated: res.truncated };
  });
}

export const sqlArea: ApiArea = { name: 'sql', register: registerSqlRoutes };
