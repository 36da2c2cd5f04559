import { isUtf8 } from 'node:buffer';
import { CdpError } from '@cdp/core';

/** Deepest object/array nesting an event may have (Segment's own limit is similar). */
export const DEFAULT_MAX_DEPTH = 32;

/**
 * Decodes a request body: valid UTF-8, valid JSON, a JSON object. Throws a
 * `CdpError` naming what is wrong; never returns partial data.
 */
export function parseJsonBody(body: Buffer): Record<string, unknown> {
  if (!isUtf8(body)) throw new CdpError('CDP_ERR_INGEST_INVALID_UTF8', { field: 'body' });
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw new CdpError('CDP_ERR_INGEST_MALFORMED_JSON', {
      field: 'body',
      message: `The body is not valid JSON: ${(e as Error).message}`,
    });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new CdpError('CDP_ERR_EVENT_INVALID_TYPE', {
      field: 'body',
      message: 'The body must be a JSON object',
    });
  }
  return value as Record<string, unknown>;
}

/** Depth of the deepest nesting in a parsed JSON value, stopping early past `limit`. */
export function depthExceeds(value: unknown, limit: number): boolean {
  const walk = (v: unknown, depth: number): boolean => {
    if (v === null || typeof v !== 'object') return false;
    if (depth > limit) return true;
    if (Array.isArray(v)) {
      for (const x of v) if (walk(x, depth + 1)) return true;
      return false;
    }
    for (const k in v) if (walk((v as Record<string, unknown>)[k], depth + 1)) return true;
    return false;
  };
  return walk(value, 1);
}
