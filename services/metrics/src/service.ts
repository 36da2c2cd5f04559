/**
 * Metrics over the warehouse: the built-in metrics from `metrics_minute`
 * (merges of per-minute aggregate states, fed by a materialized view on
 * `events`), users' metrics from the events of the range, and their
 * definitions (`metric_definitions`). Routes only parse HTTP and call these.
 */
import { CdpError } from '@cdp/core';
import {
  BUILTIN_BY_NAME,
  BUILTIN_METRICS,
  INTERVALS,
  deadLetterSql,
  eventCellsSql,
  minuteCellsSql,
  parseSeriesQuery,
  validateMetricDefinition,
  valueOf,
  type Buckets,
  type Breakdown,
  type BuiltinMetric,
  type CellsQuery,
  type MetricDefinition,
  type MetricFilter,
  type Point,
  type Sql,
  type WindowValue,
} from '@cdp/metrics';
import { SqlParams } from '@cdp/tags';
import { TABLES, type Warehouse, clickHouseTimeIso } from '@cdp/warehouse';

const T = TABLES;
export const DEFAULT_CONVERSION_EVENT = 'Order Completed';
/** What `GET /v1/metrics/live` answers, by minute. */
export const LIVE_METRICS = [
  'uv',
  'events',
  'pageviews',
  'conversions',
  'conversion_rate',
  'revenue',
] as const;
const LIVE_MINUTES = 60;

export interface MetricView {
  readonly name: string;
  readonly builtin: boolean;
  readonly description: string;
  /** A user's metric as stored. */
  readonly definition?: MetricDefinition;
  readonly updatedAt?: string;
}

export interface Series {
  readonly metric: string;
  readonly interval: string;
  readonly from: string;
  readonly to: string;
  readonly breakdown?: Breakdown;
  readonly points: Point[];
}

export interface LiveView {
  readonly interval: '1m';
  readonly from: string;
  readonly to: string;
  readonly breakdown?: Breakdown;
  readonly metrics: Record<string, Point[]>;
  readonly ms: number;
}

/** Per bucket (a start in ms, or a range's index), per key: the value and persons. */
export type CellMap = Map<number, Map<string, WindowValue>>;

export interface MetricsService {
  list(): Promise<MetricView[]>;
  create(body: unknown): Promise<MetricView>;
  replace(name: string, body: unknown): Promise<MetricView>;
  remove(name: string): Promise<void>;
  /** `GET /v1/metrics/:name` from query-string values (`from`, `to`, `interval`, `breakdown`, `steps`, filters). */
  series(name: string, query: Readonly<Record<string, string | undefined>>): Promise<Series>;
  /** The last 60 minutes by minute, of every live metric, in one query. */
  live(query: Readonly<Record<string, string | undefined>>): Promise<LiveView>;
  /**
   * The metric over buckets or ranges (what alerts compare), and its value
   * where there is no data (`empty`: 0 for a count, null for a ratio of
   * nothing). Reads the users' definitions only for a user's metric.
   */
  cells(
    name: string,
    q: CellsQuery,
    steps?: readonly [string, string],
  ): Promise<{ cells: CellMap; empty: number | null }>;
}

export interface MetricsServiceDeps {
  readonly warehouse: Warehouse;
  /** The conversion event, as for attribution (default `Order Completed`). */
  readonly conversionEvent?: string | undefined;
  readonly now?: () => number;
}

interface Row {
  bucket: number | string;
  key: string;
  volume: number;
  [col: string]: number | string;
}

const iso = (ms: number): string => new Date(ms).toISOString();

export function createMetricsService(deps: MetricsServiceDeps): MetricsService {
  const wh = deps.warehouse;
  const now = deps.now ?? Date.now;
  const conversion = deps.conversionEvent ?? DEFAULT_CONVERSION_EVENT;

  const stored = async (): Promise<Map<string, { def: MetricDefinition; updatedAt: string }>> => {
    const rows = await wh.query<{ name: string; definition: string; updated_at: string }>(
      `SELECT name, definition, toString(updated_at) AS updated_at FROM ${T.metricDefinitions} FINAL ORDER BY name`,
    );
    return new Map(
      rows.map((r) => [
        r.name,
        {
          def: JSON.parse(r.definition) as MetricDefinition,
          updatedAt: clickHouseTimeIso(r.updated_at),
        },
      ]),
    );
  };

  const notFound = (name: string): CdpError =>
    new CdpError('CDP_ERR_METRIC_NOT_FOUND', {
      field: 'name',
      message: `No metric named ${name} (GET /v1/metrics lists them)`,
    });

  const run = async (
    q: Sql,
    pairs = 1,
  ): Promise<{ bucket: number; key: string; n: number[]; d: number[]; volume: number }[]> =>
    (await wh.query<Row>(q.sql, q.params)).map((r) => ({
      bucket: Number(r.bucket),
      key: String(r.key),
      n: Array.from({ length: pairs }, (_, i) => Number(r[`n${i}`])),
      d: Array.from({ length: pairs }, (_, i) => Number(r[`d${i}`])),
      volume: Number(r.volume),
    }));

  const builtinCells = async (
    m: BuiltinMetric,
    q: CellsQuery,
    steps: readonly [string, string] | undefined,
  ): Promise<CellMap> => {
    if (m.steps && steps === undefined)
      throw new CdpError('CDP_ERR_METRIC_INVALID', {
        field: 'steps',
        message: 'steps: funnel_step_rate needs two events (steps=Product Viewed,Order Completed)',
      });
    const p = new SqlParams();
    if (m.receipt) {
      if (q.breakdown !== undefined && q.breakdown !== 'source')
        throw new CdpError('CDP_ERR_METRIC_INVALID', {
          field: 'breakdown',
          message: `breakdown: ${m.name} breaks down by source only`,
        });
      for (const k of Object.keys(q.filter ?? {}))
        if (k !== 'source')
          throw new CdpError('CDP_ERR_METRIC_INVALID', {
            field: k,
            message: `${k}: ${m.name} filters by source only`,
          });
    }
    const sql = m.deadLetters
      ? deadLetterSql(T.eventsInvalid, T.metricsReceiptMinute, q, p)
      : minuteCellsSql(m.receipt ? T.metricsReceiptMinute : T.metricsMinute, [m], q, {
          p,
          conversion,
          steps,
        });
    return toMap(await run(sql), m.scale);
  };

  const toMap = (
    rows: readonly { bucket: number; key: string; n: number[]; d: number[]; volume: number }[],
    scale = 1,
  ): CellMap => {
    const out: CellMap = new Map();
    for (const r of rows) {
      let byKey = out.get(r.bucket);
      if (!byKey) out.set(r.bucket, (byKey = new Map<string, WindowValue>()));
      byKey.set(r.key, {
        value: valueOf({ num: r.n[0] ?? 0, den: r.d[0] ?? 1 }, scale),
        volume: r.volume,
      });
    }
    return out;
  };

  const cellsOf = async (
    name: string,
    q: CellsQuery,
    steps: readonly [string, string] | undefined,
    defs?: Map<string, { def: MetricDefinition }>,
  ): Promise<CellMap> => {
    const b = BUILTIN_BY_NAME.get(name);
    if (b) return builtinCells(b, q, steps);
    const d = (defs ?? (await stored())).get(name)?.def;
    if (!d) throw notFound(name);
    if (!d.ratio) return toMap(await run(eventCellsSql(T.events, d, q, new SqlParams())));
    const [num, den] = await Promise.all([
      cellsOf(d.ratio.numerator, q, undefined, defs),
      cellsOf(d.ratio.denominator, q, undefined, defs),
    ]);
    const out: CellMap = new Map();
    for (const bucket of new Set([...num.keys(), ...den.keys()])) {
      const n = num.get(bucket) ?? new Map<string, WindowValue>();
      const dd = den.get(bucket) ?? new Map<string, WindowValue>();
      const byKey = new Map<string, WindowValue>();
      for (const key of new Set([...n.keys(), ...dd.keys()])) {
        const a = n.get(key);
        const c = dd.get(key);
        const dv = c?.value ?? 0;
        byKey.set(key, {
          value: dv === 0 ? null : (a?.value ?? 0) / dv,
          volume: Math.max(a?.volume ?? 0, c?.volume ?? 0),
        });
      }
      out.set(bucket, byKey);
    }
    return out;
  };

  /** Whether a metric's value for no data is 0 (a count) or null (a ratio of nothing). */
  const zeroWhenEmpty = (name: string, defs: Map<string, { def: MetricDefinition }>): boolean => {
    const b = BUILTIN_BY_NAME.get(name);
    if (b) return b.den === undefined && !b.deadLetters;
    const d = defs.get(name)?.def;
    // A count or a sum of nothing is 0; an average, minimum or maximum of nothing is no value.
    if (!d || d.ratio) return false;
    return typeof d.measure !== 'object' || d.measure.fn === 'sum';
  };

  /** Points of every bucket from `from` to `to` (and every key seen), empty ones filled. */
  const points = (
    cells: CellMap,
    from: number,
    to: number,
    step: number,
    breakdown: Breakdown | undefined,
    empty: number | null,
  ): Point[] => {
    const keys = new Set<string>();
    for (const byKey of cells.values()) for (const k of byKey.keys()) keys.add(k);
    const sortedKeys = breakdown === undefined ? [''] : [...keys].sort();
    const out: Point[] = [];
    for (let t = from; t < to; t += step)
      for (const key of sortedKeys) {
        const v = cells.get(t)?.get(key);
        out.push({
          t: iso(t),
          value: v === undefined ? empty : v.value,
          ...(breakdown !== undefined ? { key } : {}),
        });
      }
    return out;
  };

  const save = async (
    body: unknown,
    mode: 'create' | 'replace',
    pathName?: string,
  ): Promise<MetricView> => {
    const defs = await stored();
    if (
      pathName !== undefined &&
      typeof body === 'object' &&
      body !== null &&
      !Array.isArray(body)
    ) {
      const b = body as Record<string, unknown>;
      if (b['name'] !== undefined && b['name'] !== pathName)
        throw new CdpError('CDP_ERR_METRIC_INVALID', {
          field: 'name',
          message: `name: must be ${pathName} (the name in the path) or absent`,
        });
      body = { ...b, name: pathName };
    }
    const def = validateMetricDefinition(body, (n) =>
      BUILTIN_BY_NAME.has(n)
        ? 'builtin'
        : defs.has(n)
          ? defs.get(n)?.def.ratio
            ? 'ratio'
            : 'events'
          : undefined,
    );
    const existing = defs.get(def.name);
    if (mode === 'create' && existing)
      throw new CdpError('CDP_ERR_METRIC_EXISTS', {
        field: 'name',
        message: `A metric named ${def.name} exists (use PUT /v1/metrics/${def.name} to change it)`,
      });
    if (mode === 'replace' && !existing) throw notFound(def.name);
    const [v] = await wh.query<{ v: string }>(
      `SELECT toString(max(version)) AS v FROM ${T.metricDefinitions} WHERE name = {n:String}`,
      { n: def.name },
    );
    const t = now();
    await wh.insert(T.metricDefinitions, [
      {
        name: def.name,
        definition: JSON.stringify(def),
        updated_at: iso(t),
        version: Math.max(t, Number(v?.v ?? 0) + 1),
        is_deleted: 0,
      },
    ]);
    return {
      name: def.name,
      builtin: false,
      description: def.description ?? '',
      definition: def,
      updatedAt: iso(t),
    };
  };

  return {
    async list() {
      const defs = await stored();
      return [
        ...BUILTIN_METRICS.map((m) => ({
          name: m.name,
          builtin: true,
          description: m.description,
        })),
        ...[...defs.entries()].map(([name, { def, updatedAt }]) => ({
          name,
          builtin: false,
          description: def.description ?? '',
          definition: def,
          updatedAt,
        })),
      ];
    },
    create: (body) => save(body, 'create'),
    replace: (name, body) => save(body, 'replace', name),
    async remove(name) {
      const defs = await stored();
      const existing = defs.get(name);
      if (!existing) throw notFound(name);
      for (const [other, { def }] of defs)
        if (
          def.ratio &&
          (def.ratio.numerator === name || def.ratio.denominator === name) &&
          other !== name
        )
          throw new CdpError('CDP_ERR_METRIC_INVALID', {
            field: 'name',
            message: `name: metric ${other} uses ${name} (ratio): change it first`,
          });
      const [v] = await wh.query<{ v: string }>(
        `SELECT toString(max(version)) AS v FROM ${T.metricDefinitions} WHERE name = {n:String}`,
        { n: name },
      );
      await wh.insert(T.metricDefinitions, [
        {
          name,
          definition: JSON.stringify(existing.def),
          updated_at: iso(now()),
          version: Math.max(now(), Number(v?.v ?? 0) + 1),
          is_deleted: 1,
        },
      ]);
    },
    async series(name, query) {
      const q = parseSeriesQuery(query, now());
      const defs = await stored();
      if (!BUILTIN_BY_NAME.has(name) && !defs.has(name)) throw notFound(name);
      const step = INTERVALS[q.interval];
      const cq: CellsQuery = {
        buckets: { step },
        from: q.from,
        to: q.to,
        breakdown: q.breakdown,
        filter: q.filter,
      };
      const cells = await cellsOf(name, cq, q.steps, defs);
      return {
        metric: name,
        interval: q.interval,
        from: iso(q.from),
        to: iso(q.to),
        ...(q.breakdown ? { breakdown: q.breakdown } : {}),
        points: points(
          cells,
          q.from,
          q.to,
          step,
          q.breakdown,
          zeroWhenEmpty(name, defs) ? 0 : null,
        ),
      };
    },
    async live(query) {
      const started = Date.now();
      for (const k of Object.keys(query))
        if (!['breakdown', 'channel', 'source', 'utm_campaign'].includes(k))
          throw new CdpError('CDP_ERR_METRIC_INVALID', {
            field: k,
            message: `${k}: unknown parameter (allowed: breakdown, channel, source, utm_campaign)`,
          });
      // The current minute included: it fills as events arrive.
      const end = Math.floor(now() / 60_000) * 60_000 + 60_000;
      const q = parseSeriesQuery(
        { ...query, interval: '1m', from: iso(end - LIVE_MINUTES * 60_000), to: iso(end) },
        now(),
      );
      const metrics = LIVE_METRICS.map((n) => BUILTIN_BY_NAME.get(n) as BuiltinMetric);
      const p = new SqlParams();
      const filter: MetricFilter | undefined = q.filter;
      const rows = await run(
        minuteCellsSql(
          T.metricsMinute,
          metrics,
          { buckets: { step: 60_000 }, from: q.from, to: q.to, breakdown: q.breakdown, filter },
          { p, conversion },
        ),
        metrics.length,
      );
      const out: Record<string, Point[]> = {};
      metrics.forEach((m, i) => {
        const cells = toMap(
          rows.map((r) => ({ ...r, n: [r.n[i] ?? 0], d: [r.d[i] ?? 1] })),
          m.scale,
        );
        out[m.name] = points(
          cells,
          q.from,
          q.to,
          60_000,
          q.breakdown,
          m.den === undefined ? 0 : null,
        );
      });
      return {
        interval: '1m',
        from: iso(q.from),
        to: iso(q.to),
        ...(q.breakdown ? { breakdown: q.breakdown } : {}),
        metrics: out,
        ms: Date.now() - started,
      };
    },
    async cells(name, q, steps) {
      const defs = BUILTIN_BY_NAME.has(name)
        ? new Map<string, { def: MetricDefinition; updatedAt: string }>()
        : await stored();
      return {
        cells: await cellsOf(name, q, steps, defs),
        empty: zeroWhenEmpty(name, defs) ? 0 : null,
      };
    },
  };
}

export type { Buckets };
