/**
 * Pure mapping from dead-letter messages to `events_invalid` rows. (Event
 * messages are parsed by ClickHouse itself: migration 004.) A message that
 * does not map throws; the loader dead-letters it instead of blocking.
 */

export interface InvalidRow extends Record<string, unknown> {
  id: string;
  received_at: number;
  source_id: string;
  code: string;
  field: string;
  reason: string;
  payload: string;
  ip: string;
}

const str = (v: unknown): string =>
  typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '';
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
      m['truncated'] === true ? `${str(m['reason'])} (payload cut at 64 KiB)` : str(m['reason']),
    payload: str(m['payload']),
    ip: str(m['ip']),
  };
}
