import { EVENTS_SCAN_SETTINGS_SQL, eventsByPersonSql } from '@cdp/warehouse';
import type { SqlQuery } from './attribution-query.js';
import {
  channelIndexSql,
  channelNamesSql,
  CHANNEL_CLASSIFIERS,
  isChannelClassifier,
  type ChannelClassifier,
} from './channel-rules.js';
import { EVENT_LABEL_SQL } from './filters.js';
import {
  bodyObject,
  checkKeys,
  checkRange,
  InputIssues,
  parseIntIn,
  parseIsoTime,
  parseName,
} from './input.js';
import {
  DEFAULT_SESSION_GAP_MS,
  packedTouchSql,
  sessionsSql,
  shiftedSql,
  TIME_RANGE_SQL,
  TOUCH_TYPES_SQL,
} from './sessions-sql.js';

/** Most steps of a path. */
export const MAX_PATH_STEPS = 10;
/** Default number of edges listed. */
export const DEFAULT_PATH_EDGES = 100;

/** A validated paths request, compiled to SQL. */
export interface PathsQuery {
  readonly by: 'event' | 'channel';
  readonly steps: number;
  readonly start: string | null;
  readonly end: string | null;
  readonly fromMs: number;
  readonly toMs: number;
  readonly classifier: ChannelClassifier;
  readonly query: SqlQuery;
}

/**
 * Validates `POST /v1/paths` and compiles it. Body: `{dateFrom, dateTo,
 * steps (2..10, default 5), by: 'event' | 'channel' (default event),
 * start?, end?, classifier?, limit?}`. Each person's sequence (event labels, or
 * session channels) has consecutive repeats collapsed; with `start` it
 * begins at the first `start`, with `end` it stops at the first `end` after
 * that (people without them are left out); it is then cut to `steps` items
 * (the last ones when only `end` is given).
 */
export function parsePathsRequest(body: unknown): PathsQuery {
  const b = bodyObject(body);
  const issues = new InputIssues();
  checkKeys(
    b,
    ['dateFrom', 'dateTo', 'steps', 'by', 'start', 'end', 'classifier', 'limit'],
    '',
    issues,
  );
  const fromMs = parseIsoTime(b['dateFrom'], 'dateFrom', issues);
  const toMs = parseIsoTime(b['dateTo'], 'dateTo', issues, true);
  checkRange(fromMs, toMs, 'dateTo', issues);
  const steps =
    b['steps'] === undefined ? 5 : parseIntIn(b['steps'], 'steps', 2, MAX_PATH_STEPS, issues);
  const limit =
    b['limit'] === undefined
      ? DEFAULT_PATH_EDGES
      : parseIntIn(b['limit'], 'limit', 1, 1000, issues);
  const by = b['by'] ?? 'event';
  if (by !== 'event' && by !== 'channel') issues.add('by', "must be 'event' or 'channel'");
  const start = b['start'] === undefined ? null : (parseName(b['start'], 'start', issues) ?? null);
  const end = b['end'] === undefined ? null : (parseName(b['end'], 'end', issues) ?? null);
  const classifier = b['classifier'] ?? 'ga4';
  if (!isChannelClassifier(classifier))
    issues.add('classifier', `must be one of ${CHANNEL_CLASSIFIERS.join(', ')}`);
  issues.throwIfAny();
  const q = {
    by: by as 'event' | 'channel',
    steps: steps as number,
    start,
    end,
    fromMs: fromMs as number,
    toMs: toMs as number,
    classifier: classifier as ChannelClassifier,
  };
  const params: SqlQuery['params'] = {
    loMs: q.fromMs,
    hiMs: q.toMs,
    steps: q.steps,
    limit: limit as number,
    sessionGapMs: DEFAULT_SESSION_GAP_MS,
  };
  if (start !== null) params['start'] = start;
  if (end !== null) params['end'] = end;
  return { ...q, query: { sql: pathsSql(q), params } };
}

function pathsSql(q: Omit<PathsQuery, 'query'>): string {
  const items =
    q.by === 'event'
      ? `arrayMap(e -> e.2, arraySort(groupArray((toUnixTimestamp64Milli(timestamp), ${EVENT_LABEL_SQL}))))`
      : `arrayMap(s -> ${channelNamesSql(q.classifier)}[s.2], ${sessionsSql('packed', 'packed')})`;
  const packed =
    q.by === 'channel'
      ? `arraySort(groupArray(${packedTouchSql(channelIndexSql(q.classifier))})) AS packed,\n      `
      : '';
  // A missing start or end gives an empty slice, so the person drops out (length < 2).
  const s1 = q.start === null ? 'c0' : 'arraySlice(c0, indexOf(c0, {start:String}))';
  const s2 = q.end === null ? 's1' : 'arraySlice(s1, 1, indexOf(s1, {end:String}))';
  const cut =
    q.end !== null && q.start === null
      ? 'arraySlice(s2, greatest(1, length(s2) - {steps:UInt8} + 1))'
      : 'arraySlice(s2, 1, {steps:UInt8})';
  return `
SELECT source, target, toUInt32(count()) AS count
FROM
(
  SELECT
    arrayJoin(arrayMap((a, b, i) -> (concat('step', toString(i), ':', a),
      concat('step', toString(i + 1), ':', b)),
      arrayPopBack(path), arrayPopFront(path), range(1, toUInt32(length(path))))) AS edge,
    edge.1 AS source, edge.2 AS target
  FROM
  (
    SELECT
      ${packed}${items} AS raw,
      arrayFilter((x, i, px) -> i = 1 OR x != px, raw, arrayEnumerate(raw), ${shiftedSql('raw', "''")}) AS c0,
      ${s1} AS s1,
      ${s2} AS s2,
      ${cut} AS path
    FROM ${eventsByPersonSql(`${TIME_RANGE_SQL} AND ${TOUCH_TYPES_SQL}`)}
    WHERE person_id != ''
    GROUP BY person_id
    HAVING length(path) >= 2
  )
)
GROUP BY source, target
ORDER BY count DESC, source, target
LIMIT {limit:UInt32}
${EVENTS_SCAN_SETTINGS_SQL}`;
}

/** One edge of the Sankey chart: `step<i>:<item>` to `step<i+1>:<item>`. */
export interface PathEdge {
  readonly source: string;
  readonly target: string;
  readonly count: number;
}

/** The answer of `POST /v1/paths`. */
export interface PathsReport {
  readonly by: 'event' | 'channel';
  readonly steps: number;
  readonly start: string | null;
  readonly end: string | null;
  readonly dateFrom: string;
  readonly dateTo: string;
  readonly edges: readonly PathEdge[];
}

/** Shapes the edge rows. */
export function buildPathsReport(
  q: PathsQuery,
  rows: readonly { source: string; target: string; count: number | string }[],
): PathsReport {
  return {
    by: q.by,
    steps: q.steps,
    start: q.start,
    end: q.end,
    dateFrom: new Date(q.fromMs).toISOString(),
    dateTo: new Date(q.toMs).toISOString(),
    edges: rows.map((r) => ({ source: r.source, target: r.target, count: Number(r.count) })),
  };
}
