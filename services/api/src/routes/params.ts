import { CdpError } from '@cdp/core';

/** A `limit` query parameter (or another count, `field`): an integer from 1 to `max` (default `dflt`), else a 400 naming the field. */
export function limitParam(
  raw: string | undefined,
  dflt: number,
  max = 1000,
  field = 'limit',
): number {
  if (raw === undefined) return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new CdpError('CDP_ERR_API_BAD_REQUEST', {
      field,
      message: `${field} must be an integer from 1 to ${max}`,
    });
  return n;
}
