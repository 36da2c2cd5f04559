import { PropertyColumns, SqlParams, filterSql } from '@cdp/tags';
import type { BuiltinMetric } from './builtins.js';
import { BREAKDOWNS, type Breakdown, type MetricDefinition, type MetricFilter } from './types.js';

/**
 * The SQL of metric cells: one row per bucket and breakdown value with the
 * columns `bucket` (a bucket's start in epoch ms, or a range's index),
 * `key` ('' without a breakdown), `n0`, `d0` (the metric is n0 / d0; more
 * pairs when several metrics are asked at once) and `volume` (distinct
 * persons). Every value is a bound parameter.
 */

/** Buckets: aligned steps of `step` ms (multiples of it since the epoch, so UTC-aligned), or disjoint `[start, end)` ranges. */
export type Buckets =
  { readonly step: number } | { readonly ranges: readonly (readonly [number, number])[] };

export interface CellsQuery {
  readonly buckets: Buckets;
  /** `[from, to)`, epoch ms: every bucket read is inside. */
  readonly from: number;
  readonly to: number;
  readonly breakdown?: Breakdown | undefined;
  readonly filter?: MetricFilter | undefined;
}

export interface Sql {
  readonly sql: string;
  readonly params: Readonly<Record<string, unknown>>;
}

/** The bucket of a row whose time in epoch ms is `ms` (-1: in no range). */
function bucketSql(p: SqlParams, b: Buckets, ms: string): string {
  if ('step' in b) return `intDiv(${ms}, ${p.int(b.step)}) * ${p.int(b.step)}`;
  const arms = b.ranges.map(
    ([s, e], i) => `${ms} >= ${p.int(s)} AND ${ms} < ${p.int(e)}, ${p.int(i)}`,
  );
  return arms.length === 0 ? 'toInt64(-1)' : `multiIf(${arms.join(', ')}, toInt64(-1))`;
}

/**
 * The rows' time condition: `[from, to)`, and with ranges, only their union,
 * so the primary key reads the windows compared and not the days between
 * (a week-ago rule reads two hours, not eight days).
 */
function timeWhere(
  p: SqlParams,
  q: CellsQuery,
  col: (ms: string) => string,
  upper: (ms: string) => string,
): string {
  const spans = 'ranges' in q.buckets ? q.buckets.ranges : [[q.from, q.to] as const];
  const arms = spans.map(([s, e]) => `(${col(p.int(s))} AND ${upper(p.int(e))})`);
  return arms.length === 1 ? (arms[0] as string) : `(${arms.join(' OR ')})`;
}

const keySql = (b: Breakdown | undefined): string =>
  b === undefined ? "''" : `toString(${BREAKDOWNS[b]})`;

function filterWhere(p: SqlParams, f: MetricFilter | undefined): string[] {
  return Object.entries(f ?? {}).map(([k, v]) => `${BREAKDOWNS[k as Breakdown]} = ${p.str(v)}`);
}

/**
 * Cells of built-in metrics, from `metrics_minute`: one query for all of
 * them, columns `n<i>` and `d<i>` for the i-th (the live view reads six at once).
 */
export function minuteCellsSql(
  table: string,
  metrics: readonly BuiltinMetric[],
  q: CellsQuery,
  ctx: {
    readonly p: SqlParams;
    readonly conversion: string;
    readonly steps?: readonly [string, string] | undefined;
  },
): Sql {
  const p = ctx.p;
  const ms = 'toInt64(toUnixTimestamp(minute)) * 1000';
  const where = [
    timeWhere(
      p,
      q,
      (x) => `minute >= toDateTime(intDiv(${x}, 1000), 'UTC')`,
      (x) => `minute < toDateTime(intDiv(${x} + 999, 1000), 'UTC')`,
    ),
    ...filterWhere(p, q.filter),
  ];
  const c = { p, conversion: ctx.conversion, steps: ctx.steps };
  const cols = metrics.map(
    (m, i) => `toFloat64(${m.num(c)}) AS n${i}, toFloat64(${m.den ? m.den(c) : '1'}) AS d${i}`,
  );
  const volume = metrics[0]?.volume?.() ?? 'uniqExactMerge(persons)';
  const sql = `SELECT bucket, key, ${cols.join(', ')}, toFloat64(${volume}) AS volume
    FROM (SELECT *, ${bucketSql(p, q.buckets, ms)} AS bucket, ${keySql(q.breakdown)} AS key FROM ${table}
          WHERE ${where.join(' AND ')})
    WHERE bucket >= 0
    GROUP BY bucket, key
    ORDER BY bucket, key`;
  return { sql, params: { ...p.values } };
}

/**
 * Cells of a user's metric (not a ratio), from `events`: each event once
 * (`LIMIT 1 BY message_id`: a redelivered copy not merged away yet is not
 * counted twice), its properties filtered as tag filters are.
 */
export function eventCellsSql(
  table: string,
  d: MetricDefinition,
  q: CellsQuery,
  p: SqlParams,
): Sql {
  const props = new PropertyColumns(p);
  const conds = (d.where ?? []).map((f) => filterSql(p, props, f, d.event));
  const measure = d.measure ?? 'events';
  const num =
    measure === 'events'
      ? 'count()'
      : measure === 'persons'
        ? 'uniqExact(one_id)'
        : `${measure.fn}OrNull(${props.num(measure.property, d.event)})`;
  const ms = 'toUnixTimestamp64Milli(timestamp)';
  const where = [
    timeWhere(
      p,
      q,
      (x) => `timestamp >= fromUnixTimestamp64Milli(${x}, 'UTC')`,
      (x) => `timestamp < fromUnixTimestamp64Milli(${x}, 'UTC')`,
    ),
    ...(d.event !== undefined ? [`event = ${p.str(d.event)}`] : []),
    ...filterWhere(p, q.filter),
  ];
  const inner = `SELECT one_id, timestamp, channel, source_id, utm_campaign, type, event, name, properties
    FROM ${table} WHERE ${where.join(' AND ')} LIMIT 1 BY message_id`;
  const cols = ['*', ...props.selectList()].join(', ');
  // An average, minimum or maximum of no value is no value (d0 = 0: null), not 0.
  const none = typeof measure === 'object' && measure.fn !== 'sum';
  const sql = `SELECT bucket, key, toFloat64(ifNull(${num}, 0)) AS n0, ${none ? `toFloat64(isNotNull(${num}))` : 'toFloat64(1)'} AS d0,
      toFloat64(uniqExact(one_id)) AS volume
    FROM (SELECT ${cols}, ${bucketSql(p, q.buckets, ms)} AS bucket, ${keySql(q.breakdown)} AS key FROM (${inner}))
    WHERE bucket >= 0${conds.length > 0 ? ` AND ${conds.join(' AND ')}` : ''}
    GROUP BY bucket, key
    ORDER BY bucket, key`;
  return { sql, params: { ...p.values } };
}

/**
 * Dead letters (`events_invalid`) and stored events (distinct message ids
 * of `metrics_receipt_minute`), both by minute of receipt; the volume is
 * all of them.
 */
export function deadLetterSql(
  invalidTable: string,
  receiptTable: string,
  q: CellsQuery,
  p: SqlParams,
): Sql {
  const key = q.breakdown === 'source' ? 'toString(source_id)' : "''";
  const src = q.filter?.source !== undefined ? ` AND source_id = ${p.str(q.filter.source)}` : '';
  const sql = `SELECT bucket, key, sum(bad) AS n0, sum(bad) + sum(good) AS d0, sum(bad) + sum(good) AS volume FROM (
      SELECT ${bucketSql(p, q.buckets, 'toUnixTimestamp64Milli(received_at)')} AS bucket, ${key} AS key,
        toFloat64(count()) AS bad, toFloat64(0) AS good
      FROM ${invalidTable}
      WHERE ${timeWhere(
        p,
        q,
        (x) => `received_at >= fromUnixTimestamp64Milli(${x}, 'UTC')`,
        (x) => `received_at < fromUnixTimestamp64Milli(${x}, 'UTC')`,
      )}${src}
      GROUP BY bucket, key
      UNION ALL
      SELECT ${bucketSql(p, q.buckets, 'toInt64(toUnixTimestamp(minute)) * 1000')} AS bucket, ${key} AS key,
        toFloat64(0), toFloat64(uniqExactMerge(messages))
      FROM ${receiptTable}
      WHERE ${timeWhere(
        p,
        q,
        (x) => `minute >= toDateTime(intDiv(${x}, 1000), 'UTC')`,
        (x) => `minute < toDateTime(intDiv(${x} + 999, 1000), 'UTC')`,
      )}${src}
      GROUP BY bucket, key)
    WHERE bucket >= 0
    GROUP BY bucket, key
    ORDER BY bucket, key`;
  return { sql, params: { ...p.values } };
}
