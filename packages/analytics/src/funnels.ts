import { EVENTS_SCAN_SETTINGS_SQL, eventsByPersonSql } from '@cdp/warehouse';
import { compileWhere, eventLabelIsSql, FILTER_COLUMNS } from './filters.js';
import {
  bodyObject,
  checkKeys,
  checkRange,
  InputIssues,
  parseIntIn,
  parseIsoTime,
  parseName,
} from './input.js';
import type { SqlQuery } from './attribution-query.js';
import {
  NO_TIME,
  PACKED_MS_SQL,
  shiftedSql,
  TIME_RANGE_SQL,
  unpackedMsSql,
} from './sessions-sql.js';

/** Most steps of a funnel (a step set is a bit mask in the low 32 bits of a packed event). */
export const MAX_FUNNEL_STEPS = 32;
/** Most breakdown values listed (by people at the first step). */
export const MAX_BREAKDOWN_VALUES = 50;

/** A validated funnel request, compiled to SQL. */
export interface FunnelQuery {
  readonly steps: readonly string[];
  readonly windowSeconds: number;
  readonly fromMs: number;
  readonly toMs: number;
  readonly breakdown: string | null;
  readonly query: SqlQuery;
}

/**
 * Validates `POST /v1/funnels` and compiles it. Body:
 * `{steps: [{event, where?}], windowSeconds, from, to, breakdown?}`; a step
 * matches a track call's `event` or a page/screen call's `name`;
 * `breakdown` is `channel`, `utm_source` (any filter column) or
 * `{property}`, taken from the event that starts the person's funnel.
 */
export function parseFunnelRequest(body: unknown): FunnelQuery {
  const b = bodyObject(body);
  const issues = new InputIssues();
  checkKeys(b, ['steps', 'windowSeconds', 'from', 'to', 'breakdown'], '', issues);
  const params: Record<string, string | number | readonly string[]> = {};
  const conds: string[] = [];
  const names: string[] = [];
  const steps = b['steps'];
  if (!Array.isArray(steps) || steps.length < 2 || steps.length > MAX_FUNNEL_STEPS)
    issues.add('steps', `must be an array of 2 to ${MAX_FUNNEL_STEPS} steps`);
  else
    steps.forEach((s, k) => {
      const f = `steps[${k}]`;
      if (typeof s !== 'object' || s === null || Array.isArray(s)) {
        issues.add(f, 'must be {event, where?}');
        return;
      }
      const step = s as Record<string, unknown>;
      checkKeys(step, ['event', 'where'], `${f}.`, issues);
      const event = parseName(step['event'], `${f}.event`, issues);
      if (event === undefined) return;
      names.push(event);
      params[`s${k}_event`] = event;
      const where = compileWhere(step['where'], `${f}.where`, `s${k}_w`, params, issues);
      conds.push(`(${eventLabelIsSql(`{s${k}_event:String}`)} AND ${where})`);
    });
  const windowSeconds = parseIntIn(b['windowSeconds'], 'windowSeconds', 1, 365 * 86_400, issues);
  const fromMs = parseIsoTime(b['from'], 'from', issues);
  const toMs = parseIsoTime(b['to'], 'to', issues, true);
  checkRange(fromMs, toMs, 'to', issues);
  let breakdownSql = "''";
  let breakdown: string | null = null;
  const bd = b['breakdown'];
  if (typeof bd === 'string') {
    const col = FILTER_COLUMNS[bd];
    if (col === undefined)
      issues.add(
        'breakdown',
        `must be one of ${Object.keys(FILTER_COLUMNS).join(', ')} or {property}`,
      );
    else {
      breakdownSql = col;
      breakdown = bd;
    }
  } else if (typeof bd === 'object' && bd !== null && !Array.isArray(bd)) {
    const o = bd as Record<string, unknown>;
    checkKeys(o, ['property'], 'breakdown.', issues);
    const prop = parseName(o['property'], 'breakdown.property', issues);
    if (prop !== undefined) {
      params['bd_prop'] = prop;
      breakdownSql = `if(JSONExtractString(properties, {bd_prop:String}) != '',
        JSONExtractString(properties, {bd_prop:String}), JSONExtractRaw(properties, {bd_prop:String}))`;
      breakdown = `property:${prop}`;
    }
  } else if (bd !== undefined && bd !== null)
    issues.add('breakdown', 'must be a column name or {property}');
  issues.throwIfAny();

  const n = names.length;
  const mask = conds.map((c, k) => `bitShiftLeft(toUInt64(${c}), ${k})`).join(' + ');
  Object.assign(params, {
    windowMs: (windowSeconds as number) * 1000,
    loMs: fromMs as number,
    hiMs: toMs as number,
  });
  return {
    steps: names,
    windowSeconds: windowSeconds as number,
    fromMs: fromMs as number,
    toMs: toMs as number,
    breakdown,
    query: {
      sql: funnelSql(n, mask, breakdownSql, breakdown !== null),
      params: params as SqlQuery['params'],
    },
  };
}

/** No chain at a step yet. */
const NONE = NO_TIME;

/**
 * Per person, the events matching any step are packed (epoch ms, the lowest
 * step matched, the step mask) and sorted. For each step k, the chain that reached it with
 * the latest start is kept: an event matching step 1 starts a chain; one
 * matching step k extends the chain at step k-1 (as it was before this event)
 * when that chain started at most the window before. This is ClickHouse's
 * `windowFunnel` algorithm (a later start is never worse, and events come in
 * time order), so `level` is what `windowFunnel` counts, except that one
 * event never counts for two equal steps in a row (A, A, B needs two As).
 * Per step it also keeps the time from the previous step in that chain.
 *
 * It is computed step by step over whole arrays rather than event by event:
 * for step k, a per-event flag "extends step k-1's chain" from step k-1's
 * state shifted by one event, then `arrayFill` carries the last extension
 * forward. About 6 vectorised array operations per step, no lambda that
 * captures an array (ClickHouse copies a captured array for every element);
 * the same pass as an `arrayFold` was slower when it was tried (not kept, so
 * no bench compares them; bench/analytics-e2e.mjs times this one, figures in
 * bench/FIGURES.md).
 * A breakdown value comes from the event that started the person's deepest
 * chain.
 */
function funnelSql(n: number, mask: string, breakdownSql: string, withBreakdown: boolean): string {
  const carry = (values: string, flags: string): string =>
    `arrayFill((v, f) -> f, ${values}, ${flags})`;
  const lastIndex = (flags: string): string => `arrayLastIndex(x -> x, ${flags})`;
  // Packed: ms << 64 | lowest matching step << 32 | step mask, so events of the
  // same millisecond are taken in step order.
  const m = `(${mask})`;
  // Per step k: f<k> flags the events that extend a chain to step k (for
  // step 1: every step-1 event starts one); j<k> is the last such event;
  // st<k> the start of the chain it made; g<k> its time from step k-1 (the
  // previous step's last extension before j<k>); s<k> per event, the start
  // of step k's chain so far (what step k+1 extends).
  let sql = `
    SELECT
      arraySort(groupArray(bitOr(${PACKED_MS_SQL},
        bitOr(bitShiftLeft(toUInt128(bitCount(bitXor(${m}, ${m} - 1)) - 1), 32), toUInt128(${m}))))) AS evs,
      arrayMap(x -> ${unpackedMsSql('x')}, evs) AS ts,
      arrayMap(x -> bitAnd(toUInt64(x), 4294967295), evs) AS ms,
      arrayMap(m -> bitTest(m, 0), ms) AS f1,
      ${lastIndex('f1')} AS j1,
      if(j1 > 0, ts[j1], ${NONE}) AS st1,
      toInt64(0) AS g1,
      ${carry(`arrayMap((t, f) -> if(f, t, ${NONE}), ts, f1)`, 'f1')} AS s1,
      ${
        withBreakdown
          ? `arraySort(groupArrayIf((toUnixTimestamp64Milli(timestamp), ${breakdownSql}), bitTest(${mask}, 0)))`
          : "CAST([], 'Array(Tuple(Int64, String))')"
      } AS starts
    FROM ${eventsByPersonSql(`${TIME_RANGE_SQL} AND (${mask}) != 0`)}
    WHERE person_id != ''
    GROUP BY person_id`;
  // One subquery per step: ClickHouse inlines aliases, so chaining s<k> from
  // s<k-1> in one SELECT would grow the query tree exponentially.
  for (let k = 2; k <= n; k++) {
    const ps = shiftedSql(`s${k - 1}`, NONE);
    sql = `
    SELECT *,
      arrayMap((m, t, p) -> bitTest(m, ${k - 1}) AND p != ${NONE} AND t - p <= {windowMs:Int64}, ms, ts, ${ps}) AS f${k},
      ${lastIndex(`f${k}`)} AS j${k},
      if(j${k} > 0, s${k - 1}[j${k} - 1], ${NONE}) AS st${k},
      if(j${k} > 0, ts[j${k}] - ts[${lastIndex(`arraySlice(f${k - 1}, 1, j${k} - 1)`)}], toInt64(0)) AS g${k}${
        k < n
          ? `,
      ${carry(`arrayMap((f, p) -> if(f, p, ${NONE}), f${k}, ${ps})`, `f${k}`)} AS s${k}`
          : ''
      }
    FROM (${sql})`;
  }
  const levels = Array.from({ length: n }, (_, i) => n - i);
  const perPerson = `
  SELECT
    multiIf(${levels.map((k) => `j${k} > 0, ${k}`).join(', ')}, 0) AS level,
    [${Array.from({ length: n }, (_, i) => `g${i + 1}`).join(', ')}] AS gaps,
    ${
      withBreakdown
        ? `arrayFirst(e -> e.1 = multiIf(${levels.map((k) => `level = ${k}, st${k}`).join(', ')}, ${NONE}), starts).2`
        : "''"
    } AS bd
  FROM (${sql})
  WHERE level >= 1`;
  const steps = Array.from({ length: n }, (_, i) => i + 1);
  // With a breakdown, the total row and the per-value rows come from one
  // pass (GROUPING SETS): a UNION ALL of two SELECTs ran the whole pipeline twice.
  return `
SELECT
  ${withBreakdown ? "toUInt8(grouping(bd)) AS total, if(total = 1, '', bd) AS value" : "toUInt8(1) AS total, '' AS value"},
  [${steps.map((k) => `toUInt32(countIf(level >= ${k}))`).join(', ')}] AS people,
  [${steps.map((k) => (k === 1 ? 'nan' : `quantileExactInclusiveIf(0.5)(toFloat64(gaps[${k}]), level >= ${k})`)).join(', ')}] AS medianMs
FROM (${perPerson})${withBreakdown ? '\nGROUP BY GROUPING SETS ((bd), ())' : ''}
${EVENTS_SCAN_SETTINGS_SQL}`;
}

/** One row of the funnel SQL: overall (`total` 1) or one breakdown value. */
export interface FunnelRow {
  readonly total: number | string;
  readonly value: string;
  /** Per step, people who reached it. */
  readonly people: readonly (number | string)[];
  /** Per step, the median ms from the previous step (NaN/null for step 1 or nobody). */
  readonly medianMs: readonly (number | string | null)[];
}
/** One step of a funnel answer. */
export interface FunnelStep {
  readonly step: number;
  readonly event: string;
  /** People who reached this step (in order, within the window). */
  readonly people: number;
  /** people / people at the previous step (1 for step 1; 0 when the previous had none). */
  readonly conversionFromPrevious: number;
  /** people / people at step 1. */
  readonly conversionFromFirst: number;
  /**
   * Median seconds from the previous step (null for step 1 or without
   * people); per person, in the latest-starting chain that reached this step.
   */
  readonly medianSecondsFromPrevious: number | null;
}

/** The answer of `POST /v1/funnels`. */
export interface FunnelReport {
  readonly from: string;
  readonly to: string;
  readonly windowSeconds: number;
  readonly steps: readonly FunnelStep[];
  readonly breakdown?: {
    readonly by: string;
    readonly values: readonly { value: string; steps: readonly FunnelStep[] }[];
  };
}

const num = (v: number | string | null): number => (typeof v === 'number' ? v : Number(v));

function stepsOf(names: readonly string[], row: FunnelRow | undefined): FunnelStep[] {
  const people = names.map((_, i) => num(row?.people[i] ?? 0));
  const first = people[0] ?? 0;
  return names.map((event, i) => {
    const p = people[i] ?? 0;
    const prev = i === 0 ? p : (people[i - 1] ?? 0);
    const median = i === 0 || p === 0 ? null : (row?.medianMs[i] ?? null);
    return {
      step: i + 1,
      event,
      people: p,
      conversionFromPrevious: prev === 0 ? 0 : p / prev,
      conversionFromFirst: first === 0 ? 0 : p / first,
      medianSecondsFromPrevious:
        median === null || !Number.isFinite(num(median)) ? null : num(median) / 1000,
    };
  });
}

/** Shapes the funnel rows: overall steps, then each breakdown value (most people first). */
export function buildFunnelReport(q: FunnelQuery, rows: readonly FunnelRow[]): FunnelReport {
  const report: FunnelReport = {
    from: new Date(q.fromMs).toISOString(),
    to: new Date(q.toMs).toISOString(),
    windowSeconds: q.windowSeconds,
    steps: stepsOf(
      q.steps,
      rows.find((r) => num(r.total) === 1),
    ),
  };
  if (q.breakdown === null) return report;
  const values = rows
    .filter((r) => num(r.total) === 0)
    .map((r) => ({ value: r.value, steps: stepsOf(q.steps, r) }))
    .sort(
      (a, b) =>
        (b.steps[0]?.people ?? 0) - (a.steps[0]?.people ?? 0) ||
        (a.value < b.value ? -1 : a.value > b.value ? 1 : 0),
    )
    .slice(0, MAX_BREAKDOWN_VALUES);
  return { ...report, breakdown: { by: q.breakdown, values } };
}
