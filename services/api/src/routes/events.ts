import type { FastifyInstance } from 'fastify';
import { CdpError } from '@cdp/core';
import { clickHouseTimeIso, type Warehouse } from '@cdp/warehouse';
import { ANALYTICS_READ } from '../auth.js';
import type { ApiArea, ApiContext } from '../context.js';
import { limitParam } from './params.js';

type Query = { Querystring: Record<string, string | undefined> };

const DAY_MS = 86_400_000;

/** `since`: an ISO time no older than 30 days (default: a day before now), else a 400 naming it. */
function sinceParam(raw: string | undefined, now: number): number {
  if (raw === undefined || raw === '') return now - DAY_MS;
  const t = Date.parse(raw);
  if (!Number.isFinite(t) || t < now - 30 * DAY_MS)
    throw new CdpError('CDP_ERR_API_BAD_REQUEST', {
      field: 'since',
      message: 'since must be an ISO date-time within the last 30 days',
    });
  return t;
}

/** An optional text filter (at most 200 characters; absent: ''). */
function textParam(raw: string | undefined, field: string): string {
  if (raw === undefined) return '';
  if (raw.length > 200)
    throw new CdpError('CDP_ERR_API_BAD_REQUEST', {
      field,
      message: `${field} must be at most 200 characters`,
    });
  return raw;
}

function parseJson(text: unknown): unknown {
  if (typeof text !== 'string' || text === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

interface EventRow {
  message_id: string;
  source_id: string;
  type: string;
  event: string;
  name: string;
  one_id: string;
  user_id: string;
  anonymous_id: string;
  channel: string;
  page_path: string;
  ts: string;
  received: string;
  properties: string;
}

/** The latest stored events, newest receipt first (each message once). */
async function latestEvents(
  wh: Warehouse,
  q: Record<string, string | undefined>,
  now: number,
): Promise<unknown> {
  const limit = limitParam(q['limit'], 50, 500);
  const rows = await wh.query<EventRow>(
    `SELECT message_id, source_id, type, event, name, one_id, user_id, anonymous_id, channel,
            page_path, toString(timestamp) AS ts, toString(received_at) AS received, properties
       FROM events
      WHERE received_at >= fromUnixTimestamp64Milli({since:Int64})
        AND ({source:String} = '' OR source_id = {source:String})
        AND ({type:String} = '' OR type = {type:String})
        AND ({event:String} = '' OR event = {event:String} OR name = {event:String})
        AND ({person:String} = '' OR one_id = {person:String} OR user_id = {person:String}
             OR anonymous_id = {person:String})
      ORDER BY received_at DESC, message_id
      LIMIT 1 BY message_id
      LIMIT {limit:UInt32}`,
    {
      since: sinceParam(q['since'], now),
      source: textParam(q['source'], 'source'),
      type: textParam(q['type'], 'type'),
      event: textParam(q['event'], 'event'),
      person: textParam(q['person'], 'person'),
      limit,
    },
  );
  return {
    events: rows.map((r) => ({
      messageId: r.message_id,
      sourceId: r.source_id,
      type: r.type,
      event: r.event || r.name,
      oneId: r.one_id,
      userId: r.user_id,
      anonymousId: r.anonymous_id,
      channel: r.channel,
      pagePath: r.page_path,
      timestamp: clickHouseTimeIso(r.ts),
      receivedAt: clickHouseTimeIso(r.received),
      properties: parseJson(r.properties),
    })),
  };
}

interface DeadLetterRow {
  id: string;
  received: string;
  source_id: string;
  code: string;
  field: string;
  reason: string;
  payload: string;
}

/** The latest dead letters (events ingest refused), newest first, with their code and reason. */
async function latestDeadLetters(
  wh: Warehouse,
  q: Record<string, string | undefined>,
  now: number,
): Promise<unknown> {
  const limit = limitParam(q['limit'], 50, 500);
  const rows = await wh.query<DeadLetterRow>(
    `SELECT id, toString(received_at) AS received, source_id, code, field, reason,
            substring(payload, 1, 4096) AS payload
       FROM events_invalid
      WHERE received_at >= fromUnixTimestamp64Milli({since:Int64})
        AND ({source:String} = '' OR source_id = {source:String})
        AND ({code:String} = '' OR code = {code:String})
      ORDER BY received_at DESC, id
      LIMIT 1 BY id
      LIMIT {limit:UInt32}`,
    {
      since: sinceParam(q['since'], now),
      source: textParam(q['source'], 'source'),
      code: textParam(q['code'], 'code'),
      limit,
    },
  );
  return {
    deadLetters: rows.map((r) => ({
      id: r.id,
      receivedAt: clickHouseTimeIso(r.received),
      sourceId: r.source_id,
      code: r.code,
      field: r.field,
      reason: r.reason,
      payload: r.payload,
    })),
  };
}

/** How many of the latest events are read for property names (a sample, not a scan). */
const CATALOG_SAMPLE_ROWS = 50_000;

/**
 * The event names of the last `days` (default 30) with their counts, and the
 * property names seen on each in a sample of the latest events: what the
 * audience builder's pickers offer.
 */
async function eventCatalog(
  wh: Warehouse,
  q: Record<string, string | undefined>,
  now: number,
): Promise<unknown> {
  const days = limitParam(q['days'], 30, 365, 'days');
  const since = now - days * DAY_MS;
  const [names, keys] = await Promise.all([
    wh.query<{ event: string; count: string | number }>(
      `SELECT if(type = 'track', event, concat(type, ':', name)) AS event, count() AS count
         FROM events
        WHERE timestamp >= fromUnixTimestamp64Milli({since:Int64})
          AND (type = 'track' AND event != '' OR type IN ('page', 'screen') AND name != '')
        GROUP BY event ORDER BY count DESC, event LIMIT 500`,
      { since },
    ),
    wh.query<{ event: string; keys: string[] }>(
      `SELECT event, arraySort(groupUniqArray(100)(k)) AS keys
         FROM (SELECT event, properties FROM events
                WHERE type = 'track' AND timestamp >= fromUnixTimestamp64Milli({since:Int64})
                LIMIT {sample:UInt32})
        ARRAY JOIN JSONExtractKeys(properties) AS k
        GROUP BY event`,
      { since, sample: CATALOG_SAMPLE_ROWS },
    ),
  ]);
  const keysOf = new Map(keys.map((k) => [k.event, k.keys]));
  return {
    days,
    events: names.map((n) => {
      // Page and screen names are kept apart from track events of the same text.
      const page = /^(page|screen):/.exec(n.event);
      return page
        ? {
            event: n.event.slice(page[0].length),
            type: page[1],
            count: Number(n.count),
            properties: [],
          }
        : {
            event: n.event,
            type: 'track',
            count: Number(n.count),
            properties: keysOf.get(n.event) ?? [],
          };
    }),
  };
}

/**
 * Recent events and dead letters, as a developer wiring a source needs them
 * (the console's Live events page), and the event catalogue the audience
 * builder offers. Reads, so the analytics token may call them too.
 */
export function registerEventRoutes(admin: FastifyInstance, ctx: ApiContext): void {
  const wh = ctx.deps.warehouse;
  admin.get<Query>('/v1/events', ANALYTICS_READ, async (req) =>
    latestEvents(wh, req.query, ctx.now()),
  );
  admin.get<Query>('/v1/events/catalog', ANALYTICS_READ, async (req) =>
    eventCatalog(wh, req.query, ctx.now()),
  );
  admin.get<Query>('/v1/dead-letters', ANALYTICS_READ, async (req) =>
    latestDeadLetters(wh, req.query, ctx.now()),
  );
}

export const eventsArea: ApiArea = { name: 'events', register: registerEventRoutes };
