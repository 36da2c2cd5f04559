import { TABLES } from '@cdp/warehouse';
import { compileWhere, EVENT_LABEL_SQL, FILTER_COLUMNS } from './filters.js';
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
import { TIME_RANGE_SQL } from './sessions-sql.js';

/** Most steps of a funnel (a step set is a bit mask in a UInt64). */
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
      conds.push(`(${EVENT_LABEL_SQL} = {s${k}_event:String} AND ${where})`);
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
    n,
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
      sql: funnelSql(mask, breakdownSql, breakdown !== null),
      params: params as SqlQuery['params'],
    },
  };
}

/**
 * Per person, events matching any step, sorted by (time, step mask, ...).
 * From each event that matches step 1, a fold takes the earliest next step
 * at or after the previous one within the window (greedy is optimal for a
 * fixed start); the person's funnel is the start that gets furthest
 * (earliest on ties), as `windowFunnel` counts, but with each step's time.
 */
function funnelSql(mask: string, breakdownSql: string, withBreakdown: boolean): string {
  const best = `
  SELECT tupleElement(tupleElement(b, 1), 1) AS level, tupleElement(tupleElement(b, 1), 3) AS times,
    tupleElement(b, 2) AS bd
  FROM
  (
    SELECT
      arraySort(groupArray((toUnixTimestamp64Milli(timestamp), ${mask}, ${breakdownSql}))) AS evs,
      arrayMap(i -> (
          arrayFold((acc, e) -> if(acc.1 < {n:UInt8} AND e.1 >= acc.2
                AND e.1 - evs[i].1 <= {windowMs:Int64} AND bitTest(e.2, acc.1),
              (toUInt8(acc.1 + 1), e.1, arrayPushBack(acc.3, e.1)), acc),
            arraySlice(evs, i), (toUInt8(0), toInt64(0), CAST([], 'Array(Int64)'))),
          evs[i].3),
        arrayFilter(i -> bitTest(evs[i].2, 0), arrayEnumerate(evs))) AS chains,
      arraySort(c -> (-toInt16(tupleElement(tupleElement(c, 1), 1)),
        tupleElement(tupleElement(c, 1), 3)[1]), chains)[1] AS b
    FROM ${TABLES.eventsByPerson}
    WHERE ${TIME_RANGE_SQL} AND person_id != '' AND (${mask}) != 0
    GROUP BY person_id
    HAVING notEmpty(chains)
  )`;
  const agg = (total: boolean): string => `
  SELECT ${total ? "toUInt8(1) AS total, '' AS value" : 'toUInt8(0) AS total, bd AS value'}, k,
    toUInt32(countIf(level >= k)) AS people,
    toUInt32(countIf(level >= k AND k > 1)) AS timed,
    quantileExactInclusiveIf(0.5)(toFloat64(times[k] - times[k - 1]), level >= k AND k > 1) AS medianMs
  FROM best ARRAY JOIN range(1, {n:UInt8} + 1) AS k
  GROUP BY ${total ? 'k' : 'bd, k'}`;
  return `WITH best AS (${best})
${agg(true)}${withBreakdown ? `\nUNION ALL${agg(false)}` : ''}`;
}

/** One row of the funnel SQL. */
export interface FunnelRow {
  readonly total: number | string;
  readonly value: string;
  readonly k: number | string;
  readonly people: number | string;
  readonly timed: number | string;
  readonly medianMs: number | string | null;
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
  /** Median seconds from the previous step (null for step 1 or without people). */
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

function stepsOf(names: readonly string[], rows: readonly FunnelRow[]): FunnelStep[] {
  const people = names.map((_, i) => {
    const r = rows.find((x) => num(x.k) === i + 1);
    return {
      people: r ? num(r.people) : 0,
      timed: r ? num(r.timed) : 0,
      median: r?.medianMs ?? null,
    };
  });
  const first = people[0]?.people ?? 0;
  return names.map((event, i) => {
    const p = people[i] ?? { people: 0, timed: 0, median: null };
    const prev = i === 0 ? p.people : (people[i - 1]?.people ?? 0);
    return {
      step: i + 1,
      event,
      people: p.people,
      conversionFromPrevious: prev === 0 ? 0 : p.people / prev,
      conversionFromFirst: first === 0 ? 0 : p.people / first,
      medianSecondsFromPrevious:
        i === 0 || p.timed === 0 || p.median === null ? null : num(p.median) / 1000,
    };
  });
}

/** Shapes the funnel rows: overall steps, then each breakdown value (most people first). */
export function buildFunnelReport(q: FunnelQuery, rows: readonly FunnelRow[]): FunnelReport {
  const total = rows.filter((r) => num(r.total) === 1);
  const report: FunnelReport = {
    from: new Date(q.fromMs).toISOString(),
    to: new Date(q.toMs).toISOString(),
    windowSeconds: q.windowSeconds,
    steps: stepsOf(q.steps, total),
  };
  if (q.breakdown === null) return report;
  const byValue = new Map<string, FunnelRow[]>();
  for (const r of rows)
    if (num(r.total) === 0) byValue.set(r.value, [...(byValue.get(r.value) ?? []), r]);
  const values = [...byValue.entries()]
    .map(([value, rs]) => ({ value, steps: stepsOf(q.steps, rs) }))
    .sort(
      (a, b) =>
        (b.steps[0]?.people ?? 0) - (a.steps[0]?.people ?? 0) ||
        (a.value < b.value ? -1 : a.value > b.value ? 1 : 0),
    )
    .slice(0, MAX_BREAKDOWN_VALUES);
  return { ...report, breakdown: { by: q.breakdown, values } };
}
