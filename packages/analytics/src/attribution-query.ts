import { MODEL_NAMES, type ModelName, type PathTransformName } from '@cdp/attribution';
import { EVENTS_SCAN_SETTINGS_SQL, eventsByPersonSql } from '@cdp/warehouse';
import {
  channelIndexSql,
  channelNamesSql,
  CHANNEL_CLASSIFIERS,
  isChannelClassifier,
  type ChannelClassifier,
} from './channel-rules.js';
import { checkRange, InputIssues, parseIntIn, parseIsoTime, parseName } from './input.js';
import {
  DEFAULT_SESSION_GAP_MS,
  packedTouchSql,
  sessionsSql,
  TIME_RANGE_SQL,
  TOUCH_TYPES_SQL,
} from './sessions-sql.js';

const DAY_MS = 86_400_000;
/** Default conversion event. */
export const DEFAULT_CONVERSION_EVENT = 'Order Completed';
/** Default value property of the conversion event. */
export const DEFAULT_VALUE_PROPERTY = 'revenue';
/** Default path lookback before each conversion, in days. */
export const DEFAULT_LOOKBACK_DAYS = 30;
/** Default conversion window when `from` is missing: the 30 days before `to`. */
export const DEFAULT_RANGE_DAYS = 30;
/** Default number of top paths listed. */
export const DEFAULT_TOP_PATHS = 20;
const TRANSFORMS: readonly PathTransformName[] = ['unique', 'exposure', 'first', 'frequency'];

/** A validated attribution request. Times are epoch ms; `toMs` is exclusive. */
export interface AttributionQuery {
  readonly conversion: string;
  readonly valueProperty: string;
  readonly fromMs: number;
  readonly toMs: number;
  readonly lookbackDays: number;
  readonly models: readonly ModelName[];
  /** Overrides every model's own default transform when set. */
  readonly transform: PathTransformName | undefined;
  readonly classifier: ChannelClassifier;
  readonly limit: number;
}

/**
 * Validates `GET /v1/attribution`'s query string; every problem is reported
 * at once with its field. `now` (epoch ms) is the default `to`.
 */
export function parseAttributionQuery(
  q: Readonly<Record<string, string | undefined>>,
  now: number,
): AttributionQuery {
  const issues = new InputIssues();
  const known = [
    'conversion',
    'valueProperty',
    'from',
    'to',
    'lookbackDays',
    'models',
    'transform',
    'classifier',
    'limit',
  ];
  for (const k of Object.keys(q))
    if (!known.includes(k)) issues.add(k, `unknown parameter; use ${known.join(', ')}`);
  const conversion =
    q['conversion'] === undefined
      ? DEFAULT_CONVERSION_EVENT
      : parseName(q['conversion'], 'conversion', issues);
  const valueProperty =
    q['valueProperty'] === undefined
      ? DEFAULT_VALUE_PROPERTY
      : parseName(q['valueProperty'], 'valueProperty', issues);
  const toMs = q['to'] === undefined ? now : parseIsoTime(q['to'], 'to', issues, true);
  const fromMs =
    q['from'] === undefined
      ? toMs === undefined
        ? undefined
        : toMs - DEFAULT_RANGE_DAYS * DAY_MS
      : parseIsoTime(q['from'], 'from', issues);
  checkRange(fromMs, toMs, 'to', issues);
  const lookbackDays =
    q['lookbackDays'] === undefined
      ? DEFAULT_LOOKBACK_DAYS
      : parseIntIn(q['lookbackDays'], 'lookbackDays', 1, 365, issues);
  const limit =
    q['limit'] === undefined ? DEFAULT_TOP_PATHS : parseIntIn(q['limit'], 'limit', 1, 1000, issues);
  let models: ModelName[] = [...MODEL_NAMES];
  if (q['models'] !== undefined) {
    const names = q['models']
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    if (names.length === 0) issues.add('models', 'give at least one model');
    for (const n of names)
      if (!(MODEL_NAMES as readonly string[]).includes(n))
        issues.add('models', `unknown model "${n}"; use ${MODEL_NAMES.join(', ')}`);
    models = [...new Set(names)] as ModelName[];
  }
  const transform = q['transform'];
  if (transform !== undefined && !(TRANSFORMS as readonly string[]).includes(transform))
    issues.add('transform', `must be one of ${TRANSFORMS.join(', ')}`);
  const classifier = q['classifier'] ?? 'ga4';
  if (!isChannelClassifier(classifier))
    issues.add('classifier', `must be one of ${CHANNEL_CLASSIFIERS.join(', ')}`);
  issues.throwIfAny();
  return {
    conversion: conversion as string,
    valueProperty: valueProperty as string,
    fromMs: fromMs as number,
    toMs: toMs as number,
    lookbackDays: lookbackDays as number,
    models,
    transform: transform as PathTransformName | undefined,
    classifier: classifier as ChannelClassifier,
    limit: limit as number,
  };
}

/** A query and its parameters. User input only ever travels in `params`. */
export interface SqlQuery {
  readonly sql: string;
  readonly params: Record<string, string | number>;
}

/**
 * Events to distinct paths, all in ClickHouse: one row per distinct channel
 * path with `conversions`, `value`, `nulls` and `msBefore` (per touch, the
 * mean ms between the touch and the conversion, over converting journeys).
 *
 * Per person (`events_by_person`), events in `[from - lookback, to)`: the
 * touch events (not the conversion event) are packed and sorted by time —
 * never by `groupArray` order — and cut into sessions (sessions-sql); the
 * conversions in `[from, to)` are sorted too. Each conversion takes the
 * sessions that started in `[t - lookback, t]`; a person without one
 * contributes one null journey: the sessions in the lookback before their
 * last session (fractribution's non-conversion paths). Conversions without
 * a session come back as the empty path. Paths are grouped as channel
 * numbers and named at the end.
 */
export function buildAttributionSql(q: AttributionQuery): SqlQuery {
  const lookbackMs = q.lookbackDays * DAY_MS;
  const conversion = `type = 'track' AND event = {conversion:String}`;
  const sql = `
SELECT
  arrayMap(c -> ${channelNamesSql(q.classifier)}[c], channels) AS path,
  toUInt32(countIf(j.1 = 1)) AS conversions,
  sumIf(j.3, j.1 = 1) AS value,
  toUInt32(countIf(j.1 = 0)) AS nulls,
  avgForEachIf(arrayMap(s -> toFloat64(j.2 - s.1), p), j.1 = 1) AS msBefore
FROM
(
  SELECT
    arrayJoin(if(empty(convs),
      if(empty(touches), [], [(toUInt8(0), touches[-1].1, toFloat64(0))]),
      arrayMap(c -> (toUInt8(1), c.1, c.2), convs))) AS j,
    arrayFilter(s -> s.1 <= j.2 AND s.1 >= j.2 - {lookbackMs:Int64}, touches) AS p,
    arrayMap(s -> s.2, p) AS channels
  FROM
  (
    SELECT
      arraySort(groupArrayIf(${packedTouchSql(channelIndexSql(q.classifier))}, NOT (${conversion}))) AS te,
      ${sessionsSql('te', 'te')} AS touches,
      arraySort(groupArrayIf(
        (toUnixTimestamp64Milli(timestamp), JSONExtractFloat(properties, {valueProperty:String})),
        ${conversion} AND timestamp >= fromUnixTimestamp64Milli({fromMs:Int64}, 'UTC'))) AS convs
    FROM ${eventsByPersonSql(`${TIME_RANGE_SQL} AND ${TOUCH_TYPES_SQL}`)}
    WHERE person_id != ''
    GROUP BY person_id
  )
)
GROUP BY channels
${EVENTS_SCAN_SETTINGS_SQL}`;
  return {
    sql,
    params: {
      conversion: q.conversion,
      valueProperty: q.valueProperty,
      fromMs: q.fromMs,
      loMs: q.fromMs - lookbackMs,
      hiMs: q.toMs,
      lookbackMs,
      sessionGapMs: DEFAULT_SESSION_GAP_MS,
    },
  };
}
