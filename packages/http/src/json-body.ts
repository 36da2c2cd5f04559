import type { FastifyRequest } from 'fastify';
import { CdpError } from '@cdp/core';
import { parseJsonBody } from './parse-body.js';

/** The JSON object body of a management/data API request, or a 400 naming `body`. */
export function jsonBody(req: FastifyRequest): Record<string, unknown> {
  if (!Buffer.isBuffer(req.body))
    throw new CdpError('CDP_ERR_API_BAD_REQUEST', {
      field: 'body',
      message: 'Send a JSON body (application/json)',
    });
  return parseJsonBody(req.body);
}
