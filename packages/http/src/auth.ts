import type { FastifyRequest } from 'fastify';
import { CdpError } from '@cdp/core';
import { secretsEqual } from '@cdp/sources';

/** Guards the management and data APIs: `Authorization: Bearer <admin token>`, never a write key. */
export function requireAdmin(adminToken: string, req: FastifyRequest): void {
  const h = req.headers.authorization;
  if (typeof h !== 'string' || h.slice(0, 7).toLowerCase() !== 'bearer ') {
    throw new CdpError('CDP_ERR_API_UNAUTHORIZED', { field: 'authorization' });
  }
  if (!secretsEqual(h.slice(7).trim(), adminToken)) {
    throw new CdpError('CDP_ERR_API_UNAUTHORIZED', {
      field: 'authorization',
      message: 'The admin token is not valid (write keys cannot use the management API)',
    });
  }
}
