import {
  CHANNEL_NAMES_GA4,
  channelIndexSql,
  packedTouchSql,
  sessionsSql,
  TOUCH_TYPES_SQL,
} from './sessions.js';
import { DAY_MS, PropertyColumns, SqlParams } from './params.js';
import type {
  ComputedDefinition,
  PropertyFilter,
  PurchaseParams,
  Scalar,
  TagDefinition,
} from './types.js';
import { parseWindowDate } from './validate.js';

/**
 * Person facts: what the tags need from a person's events, aggregated once
 * per person into `person_facts`, and recomputed only for people whose events
 * changed. Tags are then computed from facts and the run's time for
 * everyone, so time-based tags move with `now` without rescanning events.
 *
 * Columns (see migration 006):
 * - `first_ms`, `last_ms`: the first and last event of any kind;
 * - `traits`: the latest identify call's traits (JSON);
 * - `s`: scalar facts (a computed trait's final value, or a time in ms);
 * - `l`: (ms, value) lists of events inside a last-N-days window, sorted,
 *   cut at the window when computed and again when tags are computed;
 * - `p`: purchases (ms, value, had a discount), sorted, all time;
 * - `k`: weighted keys (ms, key, weight), e.g. categories over 90 days.
 */
export interface FactsQuery {
  readonly sql: string;
  readonly params: Record<string, unknown>;
}

/** The key of the purchase list a purchase-based built-in reads. */
export function purchaseKey(p: PurchaseParams): string {
  return `purchases|${p.event}|${p.valueProperty}`;
}

/** Fact keys of computed definitions and built-ins. */
export const factKey = {
  computed: (d: ComputedDefinition): string => `c|${d.name}`,
  categories: (name: string): string => `k|${name}`,
  channel: (name: string): string => `ch|${name}`,
};

/** The event a spec names matches a track call's event or a page/screen's name. */
export function eventMatch(params: SqlParams, event: string | undefined): string {
  if (event === undefined) return '1';
  const e = params.str(event);
  return `(event = ${e} OR (type IN ('page', 'screen') AND name = ${e}))`;
}

function scalarLiteral(params: SqlParams, v: Scalar): { num: string } | { str: string } {
  if (typeof v === 'number') return { num: params.num(v) };
  return { str: params.str(String(v)) };
}

/** A property filter as a condition over the event row. */
export function filterSql(
  params: SqlParams,
  props: PropertyColumns,
  f: PropertyFilter,
  event: string | undefined,
): string {
  const s = props.str(f.property, event);
  const n = props.num(f.property, event);
  const v = f.value;
  switch (f.op) {
    case 'exists':
      return `isNotNull(${s})`;
    case 'eq':
    case 'neq': {
      const lit = scalarLiteral(params, v as Scalar);
      const eq = 'num' in lit ? `ifNull(${n} = ${lit.num}, 0)` : `ifNull(${s} = ${lit.str}, 0)`;
      return f.op === 'eq' ? eq : `NOT ${eq}`;
    }
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      const op = { gt: '>', gte: '>=', lt: '<', lte: '<=' }[f.op];
      return `ifNull(${n} ${op} ${params.num(v as number)}, 0)`;
    }
    case 'in': {
      const list = v as readonly Scalar[];
      const nums = list.filter((x): x is number => typeof x === 'number');
      const strs = list.filter((x) => typeof x !== 'number').map(String);
      const parts: string[] = [];
      if (nums.length > 0) parts.push(`ifNull(has(${params.nums(nums)}, ${n}), 0)`);
      if (strs.length > 0) parts.push(`ifNull(has(${params.strs(strs)}, ${s}), 0)`);
      return `(${parts.join(' OR ')})`;
    }
    case 'contains': {
      // A string property contains the text; an array property has the element.
      const needle = params.str(String(v));
      // Text that is a JSON array has the element; other text contains it.
      return `ifNull(if(startsWith(${s}, '['), has(JSONExtract(ifNull(${s}, ''), 'Array(String)'), ${needle}), position(${s}, ${needle}) > 0), 0)`;
    }
  }
}

/** The condition of a computed spec without its days window (event, filters, date range). */
function computedCondition(
  params: SqlParams,
  props: PropertyColumns,
  d: ComputedDefinition,
): string {
  const c = d.computed;
  const parts = [
    eventMatch(params, c.event),
    ...(c.where ?? []).map((f) => filterSql(params, props, f, c.event)),
  ];
  if (c.window && 'from' in c.window) {
    parts.push(`ms >= ${params.int(parseWindowDate(c.window.from) ?? 0)}`);
    parts.push(`ms < ${params.int(parseWindowDate(c.window.to) ?? 0)}`);
  }
  return parts.join(' AND ');
}

const NUMERIC_FNS = new Set(['sum', 'avg', 'min', 'max']);

/**
 * Aggregates computed in two stages: `-State` per one_id over the event rows
 * (no join), then `-Merge` per person after the join with
 * `person_overrides`, so the join sees one row per one_id, not per event.
 * `agg('countIf', 'x > 1')` registers `countIfState(x > 1)` for the first
 * stage and returns `countIfMerge(aN)` for the second.
 */
export class TwoStageAggregates {
  private readonly states: string[] = [];
  private readonly byText = new Map<string, string>();

  agg(fn: string, args: string): string {
    const text = `${fn}State(${args})`;
    let alias = this.byText.get(text);
    if (alias === undefined) {
      alias = `a${this.states.length}`;
      this.byText.set(text, alias);
      this.states.push(`${text} AS ${alias}`);
    }
    return `${fn}Merge(${alias})`;
  }

  /** The first stage's select list. */
  stateList(): string[] {
    return [...this.states];
  }
}

/** The value a computed trait aggregates, as Nullable text or number. */
function computedValue(
  props: PropertyColumns,
  d: ComputedDefinition,
): { expr: string; numeric: boolean } {
  const p = d.computed.property;
  const e = d.computed.event;
  if (p === undefined) return { expr: "''", numeric: false };
  if (NUMERIC_FNS.has(d.computed.fn)) return { expr: props.num(p, e), numeric: true };
  return { expr: props.str(p, e), numeric: false };
}

const fmt = (x: string): string => `toString(round(${x}, 6))`;

/** A computed trait's final value (unwindowed), as Nullable(String). */
function computedScalar(
  params: SqlParams,
  props: PropertyColumns,
  A: TwoStageAggregates,
  d: ComputedDefinition,
): string {
  const c = computedCondition(params, props, d);
  const { expr: v } = computedValue(props, d);
  const cv = `${c} AND isNotNull(${v})`;
  const n = A.agg('countIf', cv);
  const nv = `assumeNotNull(${v})`;
  switch (d.computed.fn) {
    case 'count':
      return `toString(${A.agg('countIf', c)})`;
    case 'sum':
      return fmt(`ifNull(${A.agg('sumIf', `${v}, ${cv}`)}, 0)`);
    case 'avg':
      return `if(${n} = 0, NULL, ${fmt(`${A.agg('sumIf', `${nv}, ${cv}`)} / ${n}`)})`;
    case 'min':
      return `if(${n} = 0, NULL, ${fmt(A.agg('minIf', `${nv}, ${cv}`))})`;
    case 'max':
      return `if(${n} = 0, NULL, ${fmt(A.agg('maxIf', `${nv}, ${cv}`))})`;
    case 'first':
      return `if(${n} = 0, NULL, ${A.agg('argMinIf', `${nv}, (ms, ${nv}), ${cv}`)})`;
    case 'last':
      return `if(${n} = 0, NULL, ${A.agg('argMaxIf', `${nv}, (ms, ${nv}), ${cv}`)})`;
    case 'most_frequent': {
      const m = A.agg('sumMapIf', `[${nv}], [toUInt64(1)], ${cv}`);
      return `if(${n} = 0, NULL, arraySort(x -> (-toInt64(x.2), x.1), arrayZip(${m}.1, ${m}.2))[1].1)`;
    }
    case 'unique_list':
      return `toJSONString(arraySort(${A.agg('groupUniqArrayIf', `${nv}, ${cv}`)}))`;
    case 'unique_count':
      return `toString(length(${A.agg('groupUniqArrayIf', `${nv}, ${cv}`)}))`;
    case 'days_since_first':
      return `if(${A.agg('countIf', c)} = 0, NULL, toString(${A.agg('minIf', `ms, ${c}`)}))`;
    case 'days_since_last':
      return `if(${A.agg('countIf', c)} = 0, NULL, toString(${A.agg('maxIf', `ms, ${c}`)}))`;
  }
}

/** A windowed computed trait's (ms, value) list, cut at the window at fact time. */
function computedList(
  params: SqlParams,
  props: PropertyColumns,
  A: TwoStageAggregates,
  d: ComputedDefinition,
  days: number,
): string {
  const c = computedCondition(params, props, d);
  const { expr: v, numeric } = computedValue(props, d);
  const needsValue = d.computed.property !== undefined;
  const cond = `${c} AND ms >= {fact_now:Int64} - ${params.int(days * DAY_MS)}${needsValue ? ` AND isNotNull(${v})` : ''}`;
  const val = needsValue
    ? numeric
      ? `toString(assumeNotNull(${v}))`
      : `assumeNotNull(${v})`
    : "''";
  return `arraySort(${A.agg('groupArrayIf', `(ms, ${val}), ${cond}`)})`;
}

/** Truthy discount/coupon: set, and not empty, 0, false or null. */
function discountSql(props: PropertyColumns, names: readonly string[], event: string): string {
  if (names.length === 0) return '0';
  return `toUInt8(${names
    .map((p) => {
      const s = props.str(p, event);
      return `ifNull(${s} NOT IN ('', '0', '0.0', 'false'), 0)`;
    })
    .join(' OR ')})`;
}

function mapOf(entries: readonly [string, string][], type: string): string {
  if (entries.length === 0) return `CAST(map(), '${type}')`;
  return `map(${entries.map(([k, v]) => `'${k.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}', ${v}`).join(', ')})`;
}

/**
 * The SELECT computing person facts from `events` rows: `source` is a
 * subquery of `events` rows (deduplicated and filtered by the caller) with
 * `one_id`; `overrides` the table merging one_ids into people. Aggregates are
 * taken per one_id first and merged per person after the join (see
 * {@link TwoStageAggregates}). Parameters: `fact_now` (Int64 ms) plus the
 * definitions' values.
 */
export function buildFactsSelect(
  defs: readonly TagDefinition[],
  source: string,
  params: SqlParams,
  overrides = 'person_overrides',
): string {
  const props = new PropertyColumns(params);
  const A = new TwoStageAggregates();
  const s: [string, string][] = [];
  const l: [string, string][] = [];
  const p = new Map<string, string>();
  const k: [string, string][] = [];
  const discountBy = new Map<string, string[]>();
  for (const d of defs) {
    if (d.type === 'price_sensitivity')
      discountBy.set(purchaseKey(d.params), [...d.params.discountProperties]);
  }
  for (const d of defs) {
    switch (d.type) {
      case 'computed': {
        const w = d.computed.window;
        if (w && 'days' in w)
          l.push([factKey.computed(d), computedList(params, props, A, d, w.days)]);
        else s.push([factKey.computed(d), computedScalar(params, props, A, d)]);
        break;
      }
      case 'rfm':
      case 'lifecycle':
      case 'churn_risk':
      case 'member_tier':
      case 'spending_power':
      case 'price_sensitivity': {
        const key = purchaseKey(d.params);
        if (p.has(key)) break;
        const value = `ifNull(${props.num(d.params.valueProperty, d.params.event)}, 0)`;
        const disc = discountSql(props, discountBy.get(key) ?? [], d.params.event);
        p.set(
          key,
          `arraySort(${A.agg('groupArrayIf', `(ms, ${value}, ${disc}), event = ${params.str(d.params.event)} AND type = 'track'`)})`,
        );
        break;
      }
      case 'top_categories': {
        const names = Object.keys(d.params.weights).sort();
        const weights = names.map((n) => d.params.weights[n] ?? 0);
        const cat = props.str(d.params.property, names);
        const cond = `event IN ${params.strs(names)} AND type = 'track' AND isNotNull(${cat}) AND ms >= {fact_now:Int64} - ${params.int(d.params.days * DAY_MS)}`;
        k.push([
          factKey.categories(d.name),
          A.agg(
            'groupArrayIf',
            `(ms, assumeNotNull(${cat}), transform(event, ${params.strs(names)}, ${params.nums(weights)}, 0.0)), ${cond}`,
          ),
        ]);
        break;
      }
      case 'preferred_channel': {
        // Sessions as attribution cuts them (@cdp/analytics): 30 minutes of
        // inactivity or a new campaign; a session takes its first event's
        // channel. The packed touches are sorted once, after the merge.
        const packed = `arraySort(${A.agg('groupArrayIf', `${packedTouchSql(channelIndexSql())}, ${TOUCH_TYPES_SQL}`)})`;
        const starts = `arrayMap(x -> x.2, ${sessionsSql(`(${packed})`, 'pc')})`;
        s.push([
          factKey.channel(d.name),
          `if(empty(${starts}), NULL, arrayElement(${params.strs(CHANNEL_NAMES_GA4)}, arraySort(x -> (-x.2, x.1), arrayMap(c -> (c, countEqual(${starts}, c)), arrayDistinct(${starts})))[1].1))`,
        ]);
        params.values['sessionGapMs'] = d.params.sessionMinutes * 60_000;
        break;
      }
      case 'rule':
        break;
    }
  }
  const sMap =
    s.length === 0
      ? `CAST(map(), 'Map(String, String)')`
      : `CAST(mapFilter((k, v) -> isNotNull(v), ${mapOf(s, '')}), 'Map(String, String)')`;
  const firstMs = A.agg('min', 'ms');
  const lastMs = A.agg('max', 'ms');
  const traits = A.agg('argMaxIf', "traits, (ms, message_id), type = 'identify'");
  const rowProps = props.selectList();
  const rowExtra = rowProps.length > 0 ? `, ${rowProps.join(', ')}` : '';
  return `SELECT
    person_id,
    ${firstMs} AS first_ms,
    ${lastMs} AS last_ms,
    ${traits} AS traits,
    ${sMap} AS s,
    ${mapOf(l, 'Map(String, Array(Tuple(Int64, String)))')} AS l,
    ${mapOf([...p.entries()], 'Map(String, Array(Tuple(Int64, Float64, UInt8)))')} AS p,
    ${mapOf(k, 'Map(String, Array(Tuple(Int64, String, Float64)))')} AS k
  FROM (
    SELECT if(o.into_one_id = '', x.one_id, o.into_one_id) AS person_id, x.*
    FROM (
      SELECT one_id, ${A.stateList().join(',\n        ')}
      FROM (
        SELECT one_id, timestamp, toUnixTimestamp64Milli(timestamp) AS ms, message_id, type, event, name,
          channel, utm_source, utm_medium, utm_campaign, referrer, page_url, traits${rowExtra}
        FROM ${source}
      )
      GROUP BY one_id
    ) AS x
    LEFT JOIN (SELECT from_one_id, into_one_id FROM ${overrides} FINAL) AS o ON x.one_id = o.from_one_id
  )
  GROUP BY person_id`;
}
