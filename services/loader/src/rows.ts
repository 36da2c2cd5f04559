/**
 * Pure mapping from topic messages to warehouse rows. A message that does not
 * map throws; the loader dead-letters it instead of blocking the partition.
 */

export interface EventRow extends Record<string, unknown> {
  message_id: string;
  source_id: string;
  type: string;
  event: string;
  name: string;
  anonymous_id: string;
  user_id: string;
  one_id: string;
  group_id: string;
  previous_id: string;
  timestamp: number;
  received_at: number;
  sent_at: number | null;
  original_timestamp: number | null;
  clock_skew_flag: string;
  channel: string;
  utm_source: string;
  utm_medium: string;
  utm_campaign: string;
  utm_term: string;
  utm_content: string;
  page_url: string;
  page_path: string;
  referrer: string;
  ip: string;
  user_agent: string;
  is_bot: boolean;
  properties: string;
  traits: string;
  context: string;
}

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

const str = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const obj = (v: unknown): Record<string, unknown> | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
const json = (v: unknown): string => (obj(v) ? JSON.stringify(v) : '{}');

/** Maps a `cdp.events.raw` (or resolved) message to an `events` row. */
export function eventRow(value: Buffer | string): EventRow {
  const m = obj(JSON.parse(typeof value === 'string' ? value : value.toString('utf8')));
  if (!m || m['schemaVersion'] !== 1) throw new Error('not a schemaVersion 1 event message');
  const e = obj(m['event']);
  const x = obj(m['enriched']);
  const messageId = str(m['messageId']);
  const receivedAt = num(m['receivedAt']);
  if (!e || !x || messageId === '' || receivedAt === null) throw new Error('event message lacks event, enriched, messageId or receivedAt');
  const timestamp = num(x['timestamp']) ?? receivedAt;
  const type = str(m['type']);
  // Segment puts page/screen names in `name`, and identify/group traits at the top level.
  const traits = type === 'identify' || type === 'group' ? e['traits'] : (obj(e['context'])?.['traits'] ?? e['traits']);
  return {
    message_id: messageId,
    source_id: str(m['sourceId']),
    type,
    event: str(e['event']),
    name: str(e['name']),
    anonymous_id: str(e['anonymousId']),
    user_id: str(e['userId']),
    one_id: str(m['oneId']),
    group_id: str(e['groupId']),
    previous_id: str(e['previousId']),
    timestamp,
    received_at: receivedAt,
    sent_at: num(x['sent_at']),
    original_timestamp: num(x['original_timestamp']),
    clock_skew_flag: str(x['clock_skew_flag']),
    channel: str(x['channel']),
    utm_source: str(x['utm_source']),
    utm_medium: str(x['utm_medium']),
    utm_campaign: str(x['utm_campaign']),
    utm_term: str(x['utm_term']),
    utm_content: str(x['utm_content']),
    page_url: str(x['page_url']),
    page_path: str(x['page_path']),
    referrer: str(x['referrer']),
    ip: str(x['ip']),
    user_agent: str(x['user_agent']),
    is_bot: x['is_bot'] === true,
    properties: json(e['properties']),
    traits: json(traits),
    context: json(e['context']),
  };
}

/** Maps a `cdp.events.invalid` message to an `events_invalid` row. */
export function invalidRow(value: Buffer | string): InvalidRow {
  const m = obj(JSON.parse(typeof value === 'string' ? value : value.toString('utf8')));
  if (!m || m['schemaVersion'] !== 1 || str(m['id']) === '') throw new Error('not a schemaVersion 1 dead letter');
  return {
    id: str(m['id']),
    received_at: num(m['receivedAt']) ?? Date.now(),
    source_id: str(m['sourceId']),
    code: str(m['code']),
    field: str(m['field']),
    reason: m['truncated'] === true ? `${str(m['reason'])} (payload cut at 64 KiB)` : str(m['reason']),
    payload: str(m['payload']),
    ip: str(m['ip']),
  };
}
