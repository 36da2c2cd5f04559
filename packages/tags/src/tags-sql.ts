import { RFM_GROUPS, RFM_OTHERS } from './builtins.js';
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
 * Tag values from person facts and the run's time (`{now:Int64}`, ms), in
 * two layers over the people a run evaluates:
 * 1. per-person values (purchases in the window, spend, times);
 * 2. one column per tag (`t_<tag>`, Nullable(String)), rule tags reading the
 *    columns of the tags before them, then the `tags` map without NULLs.
 * Scores that rank people against everyone (RFM, spending power) come from
 * `person_rank_inputs` (see {@link buildScoresSelect}), joined as `sc`.
 * Hidden state that a tag carries from run to run (a member tier's review
 * date) is a `_`-prefixed key of the map, read from the previous state.
 * Each definition also says when its values next change with time alone
 * (`due`: the next day boundary of an age it counts, a purchase leaving a
 * window, a review date), so later runs evaluate only the people who are due.
 */
export interface TagColumns {
  /** Layer 1 expressions (aliases). */
  readonly l1: string[];
  /** Layer 2: tag columns in order, and the map's entries. */
  readonly l3: string[];
  readonly entries: [string, string][];
  /** Times (Int64 ms expressions) at which some value changes; the earliest after now counts. */
  readonly due: string[];
}

const NOW = '{now:Int64}';
/** No change ahead (a far-future time). */
const FAR = 'toInt64(9000000000000000)';
/** Everyone is evaluated again at least this often (30 days), whatever their tags. */
const FAR_AHEAD = String(30 * DAY_MS);
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
      // Text that is a JSON array has the element; other text contains it.
      return `ifNull(if(startsWith(${x}, '['), has(JSONExtract(ifNull(${x}, ''), 'Array(String)'), ${needle}), position(${x}, ${needle}) > 0), 0)`;
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

/** The next time a whole-day age of `t` (ms) goes up. */
const nextDay = (t: string): string =>
  `(${t} + (intDiv(${NOW} - ${t}, ${DAY_MS}) + 1) * ${DAY_MS})`;

/** The single enabled definition of a built-in type, if any. */
function only<K extends TagDefinition['type']>(
  defs: readonly TagDefinition[],
  type: K,
): Extract<TagDefinition, { type: K }> | undefined {
  return defs.find((d): d is Extract<TagDefinition, { type: K }> => d.type === type);
}

/**
 * Per person, the values the ranked tags rank by: `rfm_in` (a purchase in
 * the window), `rfm_last_ms`, `rfm_f`, `rfm_m` (2 decimals); `sp_in` (ever
 * purchased), `sp_aov`. `facts` is a subquery of person_facts rows.
 */
export function buildRankInputsSelect(
  defs: readonly TagDefinition[],
  params: SqlParams,
  facts: string,
): string {
  const rfm = only(defs, 'rfm');
  const sp = only(defs, 'spending_power');
  const cols: string[] = [];
  if (rfm) {
    const inWin = `arrayFilter(x -> x.1 >= ${NOW} - ${params.int(rfm.params.windowDays * DAY_MS)}, p[${params.str(purchaseKey(rfm.params))}])`;
    cols.push(
      `toUInt8(NOT empty(${inWin})) AS rfm_in`,
      `if(empty(${inWin}), 0, arrayMax(x -> x.1, ${inWin})) AS rfm_last_ms`,
      `toUInt32(length(${inWin})) AS rfm_f`,
      `round(arraySum(x -> x.2, ${inWin}), 2) AS rfm_m`,
    );
  } else cols.push('0 AS rfm_in', '0 AS rfm_last_ms', '0 AS rfm_f', '0 AS rfm_m');
  if (sp) {
    const pl = `p[${params.str(purchaseKey(sp.params))}]`;
    cols.push(
      `toUInt8(NOT empty(${pl})) AS sp_in`,
      `if(empty(${pl}), 0, round(arraySum(x -> x.2, ${pl}) / length(${pl}), 6)) AS sp_aov`,
    );
  } else cols.push('0 AS sp_in', '0 AS sp_aov');
  return `SELECT person_id, ${cols.join(', ')} FROM ${facts}`;
}

/**
 * Every ranked person's scores now, from `person_rank_inputs`: a score is
 * `1 + floor(5w/n)` capped at 5, `w` = people with a strictly worse value
 * (`rank() - 1`: rank counts the rows strictly before, ties share it), `n` =
 * people ranked. Recency ranks on whole days since the last purchase.
 * Spending power is 1/2/3 (low/medium/high) by `w/n` against 1/3 and 2/3.
 * `changed`: the scores differ from the ones stored with the inputs.
 */
export function buildScoresSelect(table: string): string {
  const score = (w: string, n: string): string => `toUInt8(least(5, 1 + intDiv(5 * ${w}, ${n})))`;
  return `SELECT person_id,
      if(rfm_in = 1, ${score('wr', 'rn')}, 0) AS new_r, if(rfm_in = 1, ${score('wf', 'rn')}, 0) AS new_f,
      if(rfm_in = 1, ${score('wm', 'rn')}, 0) AS new_m,
      toUInt8(if(sp_in = 1, multiIf(ws * 3 < sn, 1, ws * 3 < 2 * sn, 2, 3), 0)) AS new_sp,
      toUInt8((new_r, new_f, new_m, new_sp) != (r_score, f_score, m_score, sp_class)) AS changed
    FROM (
      SELECT *, intDiv(${NOW} - rfm_last_ms, ${DAY_MS}) AS rd,
        rank() OVER (PARTITION BY rfm_in ORDER BY rd DESC) - 1 AS wr,
        rank() OVER (PARTITION BY rfm_in ORDER BY rfm_f ASC) - 1 AS wf,
        rank() OVER (PARTITION BY rfm_in ORDER BY rfm_m ASC) - 1 AS wm,
        count() OVER (PARTITION BY rfm_in) AS rn,
        rank() OVER (PARTITION BY sp_in ORDER BY sp_aov ASC) - 1 AS ws,
        count() OVER (PARTITION BY sp_in) AS sn
      FROM ${table} FINAL WHERE is_deleted = 0
    )`;
}

/** The columns of every enabled definition (in dependency order). */
export function tagColumns(defs: readonly TagDefinition[], params: SqlParams): TagColumns {
  const l1: string[] = [];
  const l3: string[] = [];
  const entries: [string, string][] = [];
  const due: string[] = [];
  const known = new Set<string>();
  const emit = (tag: string, expr: string): void => {
    l3.push(`${expr} AS ${col(tag)}`);
    entries.push([tag, col(tag)]);
    known.add(tag);
  };
  /** A window's earliest entry is in it while `ms >= now - window`: it leaves 1 ms after `ms + window`. */
  const windowExit = (list: string, windowMs: string): string =>
    `if(empty(${list}), ${FAR}, arrayMin(x -> x.1, ${list}) + ${windowMs} + 1)`;
  for (const d of defs) {
    const pre = `d_${d.name}_`;
    switch (d.type) {
      case 'computed': {
        emit(d.name, computedTag(params, d));
        const key = params.str(factKey.computed(d));
        const w = d.computed.window;
        const fn = d.computed.fn;
        if (w && 'days' in w) {
          const win = params.int(w.days * DAY_MS);
          const lw = `arrayFilter(x -> x.1 >= ${NOW} - ${win}, l[${key}])`;
          due.push(windowExit(lw, win));
          if (fn === 'days_since_first')
            due.push(`if(empty(${lw}), ${FAR}, ${nextDay(`${lw}[1].1`)})`);
          if (fn === 'days_since_last')
            due.push(`if(empty(${lw}), ${FAR}, ${nextDay(`${lw}[-1].1`)})`);
        } else if (fn === 'days_since_first' || fn === 'days_since_last') {
          due.push(`if(mapContains(s, ${key}), ${nextDay(`toInt64(s[${key}])`)}, ${FAR})`);
        }
        break;
      }
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
          `if(${pre}f = 0, 0, arrayMax(x -> x.1, ${pre}in)) AS ${pre}last`,
        );
        const has = `${pre}f > 0`;
        emit('recency_days', `if(${has}, toString(${age(`${pre}last`)}), NULL)`);
        emit('frequency', `if(${has}, toString(${pre}f), NULL)`);
        emit('monetary', `if(${has}, toString(${pre}m), NULL)`);
        emit('r_score', `if(${has} AND new_r > 0, toString(new_r), NULL)`);
        emit('f_score', `if(${has} AND new_f > 0, toString(new_f), NULL)`);
        emit('m_score', `if(${has} AND new_m > 0, toString(new_m), NULL)`);
        const between = (x: string, [lo, hi]: readonly [number, number]): string =>
          `${x} BETWEEN ${lo} AND ${hi}`;
        const groups = RFM_GROUPS.flatMap((g) => [
          `${between('new_r', g.r)} AND ${between('new_f', g.f)} AND ${between('new_m', g.m)}`,
          params.str(g.name),
        ]);
        emit(
          'rfm_group',
          `if(${has} AND new_r > 0, multiIf(${groups.join(', ')}, ${params.str(RFM_OTHERS)}), NULL)`,
        );
        due.push(`if(${has}, ${nextDay(`${pre}last`)}, ${FAR})`, windowExit(`${pre}in`, win));
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
        due.push(
          `if(empty(${pl}), ${FAR}, least(${nextDay(`${pl}[1].1`)}, ${nextDay(`${pl}[-1].1`)}))`,
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
        due.push(nextDay('last_ms'), `if(empty(${pl}), ${FAR}, ${nextDay(`${pl}[-1].1`)})`);
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
          `multiIf(${pre}ni < 0, 0, ${pre}ni != ${pre}oi OR ${NOW} >= ${pre}rv, ${NOW} + ${period}, ${pre}rv) AS ${pre}nrv`,
        );
        emit(d.name, `if(${pre}ni < 0, NULL, arrayElement(${names}, ${pre}ni + 1))`);
        // The review date: one period after a change, then every period.
        l3.push(`if(${pre}ni < 0, NULL, toString(${pre}nrv)) AS ${col(`_${d.name}_review`)}`);
        entries.push([`_${d.name}_review`, col(`_${d.name}_review`)]);
        due.push(`if(${pre}ni < 0, ${FAR}, ${pre}nrv)`);
        break;
      }
      case 'spending_power':
        emit(d.name, `multiIf(new_sp = 1, 'low', new_sp = 2, 'medium', new_sp = 3, 'high', NULL)`);
        break;
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
        const win = params.int(d.params.days * DAY_MS);
        l1.push(`arrayFilter(x -> x.1 >= ${NOW} - ${win}, k[${key}]) AS ${pre}kl`);
        const scores = `arrayMap(c -> (c, arraySum(x -> if(x.2 = c, x.3, 0), ${pre}kl)), arrayDistinct(arrayMap(x -> x.2, ${pre}kl)))`;
        emit(
          d.name,
          `if(empty(${pre}kl), NULL, toJSONString(arrayMap(x -> x.1, arraySlice(arraySort(x -> (-x.2, x.1), ${scores}), 1, ${params.int(d.params.top)}))))`,
        );
        due.push(windowExit(`${pre}kl`, win));
        break;
      }
      case 'preferred_channel': {
        const key = params.str(factKey.channel(d.name));
        emit(d.name, `if(mapContains(s, ${key}), s[${key}], NULL)`);
        break;
      }
    }
  }
  return { l1, l3, entries, due };
}

/**
 * The SELECT of the new tags of the people a run evaluates, next to their
 * current ones: `person_id, tags, old_tags, due_ms, old_due_ms`. `people`
 * is a subquery of person ids; `scores` a table of `buildScoresSelect` rows
 * (`person_id, new_r, new_f, new_m, new_sp`) for at least those people.
 */
export function buildTagsSelect(
  defs: readonly TagDefinition[],
  params: SqlParams,
  tables: {
    readonly facts: string;
    readonly state: string;
    readonly scores: string;
    readonly people: string;
  },
): string {
  const c = tagColumns(defs, params);
  const map =
    c.entries.length === 0
      ? `CAST(map(), 'Map(String, String)')`
      : `CAST(mapFilter((k, v) -> isNotNull(v), map(${c.entries.map(([k, v]) => `'${k}', ${v}`).join(', ')})), 'Map(String, String)')`;
  const l1 = c.l1.length > 0 ? `, ${c.l1.join(',\n      ')}` : '';
  const l3 = c.l3.length > 0 ? `${c.l3.join(',\n    ')},` : '';
  const due =
    c.due.length === 0
      ? `${NOW} + ${FAR_AHEAD}`
      : `least(${NOW} + ${FAR_AHEAD}, arrayMin(arrayFilter(x -> x > ${NOW}, [${c.due.map((d) => `toInt64(${d})`).join(', ')}, ${FAR}])))`;
  return `SELECT person_id, ${l3}
    ${map} AS tags, old_tags, ${due} AS due_ms, old_due_ms
  FROM (
    SELECT f.person_id AS person_id, f.first_ms AS first_ms, f.last_ms AS last_ms, f.traits AS traits,
      f.s AS s, f.l AS l, f.p AS p, f.k AS k, o.tags AS old_tags, o.due_ms AS old_due_ms,
      sc.new_r AS new_r, sc.new_f AS new_f, sc.new_m AS new_m, sc.new_sp AS new_sp${l1}
    FROM (SELECT * FROM ${tables.facts} FINAL WHERE is_deleted = 0 AND person_id IN ${tables.people}) AS f
    LEFT JOIN (SELECT person_id, tags, due_ms FROM ${tables.state} FINAL
               WHERE is_deleted = 0 AND person_id IN ${tables.people}) AS o ON f.person_id = o.person_id
    LEFT JOIN ${tables.scores} AS sc ON f.person_id = sc.person_id
  )`;
}
