import { RFM_GROUPS, RFM_OTHERS, outputsOf } from './builtins.js';
import { factKey, purchaseKey } from './facts.js';
import { DAY_MS, SqlParams, strProp } from './params.js';
import type {
  ComputedDefinition,
  RuleCondition,
  RuleLeaf,
  Scalar,
  TagDefinition,
} from './types.js';

/**
 * Tag values from person facts and the run's time (`{now:Int64}`, ms), for
 * every person with facts, in three layers:
 * 1. per-person values (purchases in the window, spend, times);
 * 2. population ranks (window functions: RFM scores, AOV tertiles);
 * 3. one column per tag (`t_<tag>`, Nullable(String)), rule tags reading the
 *    columns of the tags before them, then the `tags` map without NULLs.
 * Hidden state that a tag carries from run to run (a member tier's review
 * date) is a `_`-prefixed key of the map, read from the previous state.
 */
export interface TagColumns {
  /** Layer 1 expressions (aliases). */
  readonly l1: string[];
  /** Layer 2 window functions (aliases). */
  readonly l2: string[];
  /** Layer 3: tag columns in order, and the map's entries. */
  readonly l3: string[];
  readonly entries: [string, string][];
}

const NOW = '{now:Int64}';
const age = (ms: string): string => `intDiv(${NOW} - ${ms}, ${DAY_MS})`;
const col = (tag: string): string => `t_${tag}`;

function leafSql(params: SqlParams, x: string, leaf: RuleLeaf): string {
  const v = leaf.value;
  const lit = (s: Scalar): { num: string } | { str: string } =>
    typeof s === 'number' ? { num: params.num(s) } : { str: params.str(String(s)) };
  const eq = (s: Scalar): string => {
    const l = lit(s);
    return 'num' in l
      ? `ifNull(toFloat64OrNull(${x}) = ${l.num}, 0)`
      : `ifNull(${x} = ${l.str}, 0)`;
  };
  const inList = (list: readonly Scalar[]): string => {
    const nums = list.filter((s): s is number => typeof s === 'number');
    const strs = list.filter((s) => typeof s !== 'number').map(String);
    const parts: string[] = [];
    if (nums.length > 0) parts.push(`ifNull(has(${params.nums(nums)}, toFloat64OrNull(${x})), 0)`);
    if (strs.length > 0) parts.push(`ifNull(has(${params.strs(strs)}, ${x}), 0)`);
    return `(${parts.join(' OR ')})`;
  };
  switch (leaf.op) {
    case 'eq':
      return eq(v as Scalar);
    case 'neq':
      return `NOT ${eq(v as Scalar)}`;
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      const op = { gt: '>', gte: '>=', lt: '<', lte: '<=' }[leaf.op];
      return `ifNull(toFloat64OrNull(${x}) ${op} ${params.num(v as number)}, 0)`;
    }
    case 'in':
      return inList(v as readonly Scalar[]);
    case 'not_in':
      return `NOT ${inList(v as readonly Scalar[])}`;
    case 'contains': {
      const needle = params.str(String(v));
      return `ifNull(if(startsWith(${x}, '['), has(JSONExtract(${x}, 'Array(String)'), ${needle}), position(${x}, ${needle}) > 0), 0)`;
    }
    case 'exists':
      return `isNotNull(${x})`;
    case 'not_exists':
      return `isNull(${x})`;
  }
}

/** A rule condition over tag columns (`t_<tag>`) and the latest traits. */
export function conditionSql(
  params: SqlParams,
  c: RuleCondition,
  known: ReadonlySet<string>,
): string {
  if ('and' in c) return `(${c.and.map((x) => conditionSql(params, x, known)).join(' AND ')})`;
  if ('or' in c) return `(${c.or.map((x) => conditionSql(params, x, known)).join(' OR ')})`;
  if ('not' in c) return `(NOT ${conditionSql(params, c.not, known)})`;
  if ('tag' in c) {
    const x = known.has(c.tag.name) ? col(c.tag.name) : "CAST(NULL, 'Nullable(String)')";
    return leafSql(params, x, c.tag);
  }
  return leafSql(params, strProp(params, c.trait.name, 'traits'), c.trait);
}

function computedTag(params: SqlParams, d: ComputedDefinition): string {
  const key = params.str(factKey.computed(d));
  const w = d.computed.window;
  const fn = d.computed.fn;
  if (!(w && 'days' in w)) {
    const v = `if(mapContains(s, ${key}), s[${key}], NULL)`;
    if (fn === 'days_since_first' || fn === 'days_since_last')
      return `if(mapContains(s, ${key}), toString(${age(`toInt64(s[${key}])`)}), NULL)`;
    return v;
  }
  const lw = `arrayFilter(x -> x.1 >= ${NOW} - ${params.int(w.days * DAY_MS)}, l[${key}])`;
  const vals = `arrayMap(x -> x.2, ${lw})`;
  const nums = `arrayMap(x -> toFloat64(x.2), ${lw})`;
  const round6 = (x: string): string => `toString(round(${x}, 6))`;
  switch (fn) {
    case 'count':
      return `toString(length(${lw}))`;
    case 'sum':
      return round6(`arraySum(${nums})`);
    case 'avg':
      return `if(empty(${lw}), NULL, ${round6(`arrayAvg(${nums})`)})`;
    case 'min':
      return `if(empty(${lw}), NULL, ${round6(`arrayMin(${nums})`)})`;
    case 'max':
      return `if(empty(${lw}), NULL, ${round6(`arrayMax(${nums})`)})`;
    case 'first':
      return `if(empty(${lw}), NULL, ${lw}[1].2)`;
    case 'last':
      return `if(empty(${lw}), NULL, ${lw}[-1].2)`;
    case 'most_frequent':
      return `if(empty(${lw}), NULL, arraySort(x -> (-toInt64(x.2), x.1), arrayMap(v -> (v, countEqual(${vals}, v)), arrayDistinct(${vals})))[1].1)`;
    case 'unique_list':
      return `toJSONString(arraySort(arrayDistinct(${vals})))`;
    case 'unique_count':
      return `toString(length(arrayDistinct(${vals})))`;
    case 'days_since_first':
      return `if(empty(${lw}), NULL, toString(${age(`${lw}[1].1`)}))`;
    case 'days_since_last':
      return `if(empty(${lw}), NULL, toString(${age(`${lw}[-1].1`)}))`;
  }
}

/** The columns of every enabled definition (in dependency order). */
export function tagColumns(defs: readonly TagDefinition[], params: SqlParams): TagColumns {
  const l1: string[] = [];
  const l2: string[] = [];
  const l3: string[] = [];
  const entries: [string, string][] = [];
  const known = new Set<string>();
  const emit = (tag: string, expr: string): void => {
    l3.push(`${expr} AS ${col(tag)}`);
    entries.push([tag, col(tag)]);
    known.add(tag);
  };
  for (const d of defs) {
    const pre = `d_${d.name}_`;
    switch (d.type) {
      case 'computed':
        emit(d.name, computedTag(params, d));
        break;
      case 'rule': {
        const parts = d.rule.rules.flatMap((r) => [
          conditionSql(params, r.when, known),
          params.str(String(r.value)),
        ]);
        const dflt =
          d.rule.default === undefined
            ? `CAST(NULL, 'Nullable(String)')`
            : params.str(String(d.rule.default));
        emit(d.name, `multiIf(${parts.join(', ')}, ${dflt})`);
        break;
      }
      case 'rfm': {
        const key = params.str(purchaseKey(d.params));
        const win = params.int(d.params.windowDays * DAY_MS);
        l1.push(
          `arrayFilter(x -> x.1 >= ${NOW} - ${win}, p[${key}]) AS ${pre}in`,
          `length(${pre}in) AS ${pre}f`,
          `round(arraySum(x -> x.2, ${pre}in), 2) AS ${pre}m`,
          `if(${pre}f = 0, 0, ${age(`arrayMax(x -> x.1, ${pre}in)`)}) AS ${pre}r`,
        );
        // w = people in the window with a strictly worse value: rank() - 1
        // (rank counts the rows strictly before, ties share it).
        l2.push(
          `rank() OVER (PARTITION BY ${pre}f > 0 ORDER BY ${pre}r DESC) - 1 AS ${pre}wr`,
          `rank() OVER (PARTITION BY ${pre}f > 0 ORDER BY ${pre}f ASC) - 1 AS ${pre}wf`,
          `rank() OVER (PARTITION BY ${pre}f > 0 ORDER BY ${pre}m ASC) - 1 AS ${pre}wm`,
          `count() OVER (PARTITION BY ${pre}f > 0) AS ${pre}n`,
        );
        const score = (w: string): string => `least(5, 1 + intDiv(5 * ${w}, ${pre}n))`;
        const has = `${pre}f > 0`;
        emit('recency_days', `if(${has}, toString(${pre}r), NULL)`);
        emit('frequency', `if(${has}, toString(${pre}f), NULL)`);
        emit('monetary', `if(${has}, toString(${pre}m), NULL)`);
        emit('r_score', `if(${has}, toString(${score(`${pre}wr`)}), NULL)`);
        emit('f_score', `if(${has}, toString(${score(`${pre}wf`)}), NULL)`);
        emit('m_score', `if(${has}, toString(${score(`${pre}wm`)}), NULL)`);
        const between = (x: string, [lo, hi]: readonly [number, number]): string =>
          `${x} BETWEEN ${lo} AND ${hi}`;
        const groups = RFM_GROUPS.flatMap((g) => [
          `${between('toUInt8(t_r_score)', g.r)} AND ${between('toUInt8(t_f_score)', g.f)} AND ${between('toUInt8(t_m_score)', g.m)}`,
          params.str(g.name),
        ]);
        emit(
          'rfm_group',
          `if(${has}, multiIf(${groups.join(', ')}, ${params.str(RFM_OTHERS)}), NULL)`,
        );
        break;
      }
      case 'lifecycle': {
        const key = params.str(purchaseKey(d.params));
        const pl = `p[${key}]`;
        const q = d.params;
        emit(
          d.name,
          `multiIf(empty(${pl}), 'prospect',
            ${age(`${pl}[1].1`)} <= ${params.int(q.newDays)}, 'new',
            ${age(`${pl}[-1].1`)} <= ${params.int(q.newDays)} AND length(${pl}) >= 2 AND intDiv(${pl}[-1].1 - ${pl}[-2].1, ${DAY_MS}) > ${params.int(q.reactivatedGapDays)}, 'reactivated',
            ${age(`${pl}[-1].1`)} <= ${params.int(q.activeDays)}, 'active',
            ${age(`${pl}[-1].1`)} <= ${params.int(q.atRiskDays)}, 'at_risk',
            'churned')`,
        );
        break;
      }
      case 'churn_risk': {
        const key = params.str(purchaseKey(d.params));
        const pl = `p[${key}]`;
        const q = d.params;
        const inactive = age('last_ms');
        const noBuy = (days: number): string =>
          `(NOT empty(${pl}) AND ${age(`${pl}[-1].1`)} >= ${params.int(days)})`;
        emit(
          d.name,
          `multiIf(${inactive} >= ${params.int(q.highInactiveDays)} OR ${noBuy(q.highNoPurchaseDays)}, 'high',
            ${inactive} >= ${params.int(q.mediumInactiveDays)} OR ${noBuy(q.mediumNoPurchaseDays)}, 'medium', 'low')`,
        );
        break;
      }
      case 'member_tier': {
        const key = params.str(purchaseKey(d.params));
        const pl = `p[${key}]`;
        const q = d.params;
        const names = params.strs(q.tiers.map((t) => t.name));
        const mins = params.nums(q.tiers.map((t) => t.minSpend));
        const period = params.int(q.periodDays * DAY_MS);
        const reviewKey = params.str(`_${d.name}_review`);
        const tagKey = params.str(d.name);
        l1.push(
          `arraySum(x -> x.2, arrayFilter(x -> x.1 >= ${NOW} - ${period}, ${pl})) AS ${pre}spend`,
          `greatest(arrayCount(t -> t <= ${pre}spend, ${mins}) - 1, 0) AS ${pre}si`,
          `toInt64(indexOf(${names}, old_tags[${tagKey}])) - 1 AS ${pre}oi`,
          `toInt64OrZero(old_tags[${reviewKey}]) AS ${pre}rv`,
          `multiIf(empty(${pl}), -1, ${pre}oi < 0, ${pre}si, ${pre}si > ${pre}oi, ${pre}si, ${NOW} >= ${pre}rv AND ${pre}si < ${pre}oi, ${pre}oi - 1, ${pre}oi) AS ${pre}ni`,
        );
        emit(d.name, `if(${pre}ni < 0, NULL, arrayElement(${names}, ${pre}ni + 1))`);
        // The review date: one period after a change, then every period.
        const review = `if(${pre}ni < 0, NULL, toString(multiIf(${pre}ni != ${pre}oi OR ${NOW} >= ${pre}rv, ${NOW} + ${period}, ${pre}rv)))`;
        l3.push(`${review} AS ${col(`_${d.name}_review`)}`);
        entries.push([`_${d.name}_review`, col(`_${d.name}_review`)]);
        break;
      }
      case 'spending_power': {
        const key = params.str(purchaseKey(d.params));
        const pl = `p[${key}]`;
        l1.push(
          `length(${pl}) AS ${pre}n1`,
          `if(${pre}n1 = 0, 0, round(arraySum(x -> x.2, ${pl}) / ${pre}n1, 6)) AS ${pre}aov`,
        );
        l2.push(
          `rank() OVER (PARTITION BY ${pre}n1 > 0 ORDER BY ${pre}aov ASC) - 1 AS ${pre}w`,
          `count() OVER (PARTITION BY ${pre}n1 > 0) AS ${pre}n`,
        );
        emit(
          d.name,
          `if(${pre}n1 = 0, NULL, multiIf(${pre}w * 3 < ${pre}n, 'low', ${pre}w * 3 < 2 * ${pre}n, 'medium', 'high'))`,
        );
        break;
      }
      case 'price_sensitivity': {
        const key = params.str(purchaseKey(d.params));
        const pl = `p[${key}]`;
        const share = `arrayCount(x -> x.3 = 1, ${pl}) / length(${pl})`;
        emit(
          d.name,
          `if(empty(${pl}), NULL, multiIf(${share} >= ${params.num(d.params.high)}, 'high', ${share} >= ${params.num(d.params.medium)}, 'medium', 'low'))`,
        );
        break;
      }
      case 'top_categories': {
        const key = params.str(factKey.categories(d.name));
        const kl = `arrayFilter(x -> x.1 >= ${NOW} - ${params.int(d.params.days * DAY_MS)}, k[${key}])`;
        l1.push(`${kl} AS ${pre}kl`);
        const scores = `arrayMap(c -> (c, arraySum(x -> if(x.2 = c, x.3, 0), ${pre}kl)), arrayDistinct(arrayMap(x -> x.2, ${pre}kl)))`;
        emit(
          d.name,
          `if(empty(${pre}kl), NULL, toJSONString(arrayMap(x -> x.1, arraySlice(arraySort(x -> (-x.2, x.1), ${scores}), 1, ${params.int(d.params.top)}))))`,
        );
        break;
      }
      case 'preferred_channel': {
        const key = params.str(factKey.channel(d.name));
        emit(d.name, `if(mapContains(s, ${key}), s[${key}], NULL)`);
        break;
      }
    }
  }
  return { l1, l2, l3, entries };
}

/** Every tag name the definitions produce (hidden state keys excluded). */
export function tagNames(defs: readonly TagDefinition[]): string[] {
  return defs.flatMap((d) => outputsOf(d).map((o) => o.name));
}

/**
 * The SELECT of every person's new tags next to the old ones:
 * `person_id, tags, old_tags`. `facts` and `state` are table names.
 */
export function buildTagsSelect(
  defs: readonly TagDefinition[],
  params: SqlParams,
  tables: { readonly facts: string; readonly state: string },
): string {
  const c = tagColumns(defs, params);
  const map =
    c.entries.length === 0
      ? `CAST(map(), 'Map(String, String)')`
      : `CAST(mapFilter((k, v) -> isNotNull(v), map(${c.entries.map(([k, v]) => `'${k}', ${v}`).join(', ')})), 'Map(String, String)')`;
  const l1 = c.l1.length > 0 ? `, ${c.l1.join(',\n      ')}` : '';
  const l2 = c.l2.length > 0 ? `, ${c.l2.join(',\n      ')}` : '';
  const l3 = c.l3.length > 0 ? `${c.l3.join(',\n    ')},` : '';
  return `SELECT person_id, ${l3}
    ${map} AS tags, old_tags
  FROM (
    SELECT *${l2}
    FROM (
      SELECT f.person_id AS person_id, f.first_ms AS first_ms, f.last_ms AS last_ms, f.traits AS traits,
        f.s AS s, f.l AS l, f.p AS p, f.k AS k, o.tags AS old_tags${l1}
      FROM (SELECT * FROM ${tables.facts} FINAL WHERE is_deleted = 0) AS f
      LEFT JOIN (SELECT person_id, tags FROM ${tables.state} FINAL WHERE is_deleted = 0) AS o
        ON f.person_id = o.person_id
    )
  )`;
}
