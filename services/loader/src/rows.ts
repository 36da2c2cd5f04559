/**
 * Pure mapping from dead-letter messages to `events_invalid` rows. (Event
 * messages are parsed by ClickHouse itself: migration 004.) A message that
 * does not map throws; the loader dead-letters it instead of blocking.
 */
import { wellFormed } from '@cdp/core';
import { deadLetterIdentifierHashes } from '@cdp/identity';

export interface InvalidRow extends Record<string, unknown> {
  id: string;
  received_at: number;
  source_id: string;
  code: string;
  field: string;
  reason: string;
  payload: string;
  ip: string;
  /** Hashes of the identifiers in the payload: what a GDPR delete or export finds it by. */
  identifier_hashes: string[];
}

// Well-formed: one lone surrogate would make ClickHouse refuse the whole insert.
const str = (v: unknown): string =>
  typeof v === 'string' ? wellFormed(v) : typeof v === 'number' ? String(v) : '';
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const obj = (v: unknown): Record<string, unknown> | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;

/** Maps a `cdp.events.invalid` message to an `events_invalid` row. */
export function invalidRow(value: Buffer | string): InvalidRow {
  const m = obj(JSON.parse(typeof value === 'string' ? value : value.toString('utf8')));
  if (!m || m['schemaVersion'] !== 1 || str(m['id']) === '')
    throw new Error('not a schemaVersion 1 dead letter');
  return {
    id: str(m['id']),
    received_at: num(m['receivedAt']) ?? Date.now(),
    source_id: str(m['sourceId']),
    code: str(m['code']),
    field: str(m['field']),
    reason:
      m['truncated'] === true
        ? `${str(m['reason'])} (payload cut at ${str(m['payload']).length} characters)`
        : str(m['reason']),
    payload: str(m['payload']),
    ip: str(m['ip']),
    identifier_hashes: deadLetterIdentifierHashes(str(m['payload'])),
  };
}

/** A `person_overrides` row. */
export interface OverrideRow extends Record<string, unknown> {
  from_one_id: string;
  into_one_id: string;
  reason: string;
  version: number;
  is_deleted: 0 | 1;
}

/**
 * Maps a `cdp.identity.merges` message (`{from, into, reason, version,
 * deleted?}`) to a `person_overrides` row; `undefined` when it is not one.
 */
export function overrideRow(value: Buffer | string): OverrideRow | undefined {
  let m: Record<string, unknown> | undefined;
  try {
    m = obj(JSON.parse(typeof value === 'string' ? value : value.toString('utf8')));
  } catch {
    return undefined;
  }
  if (!m || str(m['from']) === '' || num(m['version']) === null) return undefined;
  return {
    from_one_id: str(m['from']),
    into_one_id: str(m['into']),
    reason: str(m['reason']),
    version: num(m['version']) ?? 0,
    is_deleted: m['deleted'] === true ? 1 : 0,
  };
}
