/**
 * An audience definition compiled to one parameterised ClickHouse query that
 * returns the person ids of its members (column `person_id`), with the
 * meaning `semantics.ts` gives it.
 *
 * Shape: the rows the definition can look at (events of the names it
 * mentions, identify calls when it reads traits, the tags it names from
 * `person_tags`, the identifier types it names from `identities`, the
 * stored lists it names from `audience_lists`), as one
 * `UNION ALL` read once, grouped by person; every condition is an aggregate
 * with a `-If` combinator over those rows (`countIf`, `minIf`, `argMaxIf`,
 * a fold over each person's
 * (time, step) pairs for sequences), and the tree is the `HAVING` clause. One
 * pass over the data, whatever the number of conditions; no join per
 * condition. Events are read through `events_by_person`, so merged people
 * are one person.
 *
 * When the definition can hold for a person with none of those rows (a `not`,
 * `neq`, a count of 0...), the query reads every event instead, so that the
 * people with no matching row are there to be counted.
 *
 * Every value of the definition is a query parameter (`SqlParams`); the SQL
 * text holds only the compiler's own words.
 */
import { SqlParams, pathArgs } from '@cdp/tags';
import { DAY_MS, EMPTY_PERSON, HOUR_MS, evaluate, windowBounds } from './semantics.js';
import type { Condition, EventMatch, NumberTest, Scalar, ValueTest } from './types.js';

/** The tables a compiled audience reads (the service passes the warehouse's names). */
export interface AudienceTables {
  /** The events as stored (`one_id` as stamped). */
  readonly events: string;
  /** The view of events with `person_id` resolved through the overrides. */
  readonly eventsByPerson: string;
  readonly personTags: string;
  readonly identities: string;
  readonly personOverrides: string;
  /** Stored member lists (a lookalike's members), versioned rows. */
  readonly audienceLists: string;
}

export interface CompiledAudience {
  /** Returns one row per member: `person_id`. */
  readonly sql: string;
  readonly params: Readonly<Record<string, unknown>>;
  /** The query reads every event (the definition can hold for a person without matching rows). */
  readonly readsAllEvents: boolean;
  /** The tags the definition reads. */
  readonly tags: readonly string[];
  /** The event names the definition reads. */
  readonly events: readonly string[];
  /** The stored lists the definition reads. */
  readonly lists: readonly string[];
  /** The times the conditions compare event times with (epoch ms, see `movingWindows`). */
  readonly bounds: readonly number[];
}

export interface CompileOptions {
  /**
   * Evaluate only these people: a subquery returning `person_id` (the
   * caller's SQL, with the caller's parameters, none named like the
   * compiler's `p0`, `p1`...). Everyone else is left out of the answer.
   */
  readonly persons?: string;
}

const NUM_TYPES = "('Int64', 'UInt64', 'Double')";
/** Time bounds on events only up to here (DateTime64 ends in 2299). */
const MAX_BOUND_MS = Date.UTC(2200, 0, 1);

class Compiler {
  readonly p = new SqlParams();
  readonly events = new Set<string>();
  readonly tags = new Set<string>();
  readonly idTypes = new Set<string>();
  readonly lists = new Set<string>();
  traits = false;
  /**
   * The time span of the events the conditions look at: `[lo, hi]` over
   * every condition that reads events, undefined once one of them reads all
   * time (a `performed` with no window, a sequence, a first time, traits).
   */
  span: [number, number] | undefined = [Infinity, -Infinity];

  constructor(private readonly now: number) {}

  /** A condition reads events of `[lo, hi]` only (`undefined`: of all time). */
  private reads(lo?: number, hi?: number): void {
    if (this.span === undefined) return;
    if (lo === undefined || hi === undefined) this.span = undefined;
    else this.span = [Math.min(this.span[0], lo), Math.max(this.span[1], hi)];
  }

  /**
   * Every time the conditions compare event times with, in the order they
   * are met: the same definition compiled for two times gives the pairs of
   * times each boundary moved between (see `movingWindows`).
   */
  readonly bounds: number[] = [];

  /** A time the conditions compare with (see `bounds`). */
  private bound(ms: number): string {
    this.bounds.push(Math.trunc(ms));
    return this.p.int(ms);
  }

  /** `[lo, hi]` of a time window as a condition on the row's time. */
  private between(lo: number, hi: number, hiIncluded = true): string {
    return `ms >= ${this.bound(lo)} AND ms ${hiIncluded ? '<=' : '<'} ${this.bound(hi)}`;
  }

  private numberTest(x: string, t: NumberTest): string {
    if (t.op === 'between') {
      const [lo, hi] = t.value as readonly [number, number];
      return `(${x} >= ${this.p.num(lo)} AND ${x} <= ${this.p.num(hi)})`;
    }
    const op = { eq: '=', neq: '!=', gt: '>', gte: '>=', lt: '<', lte: '<=' }[t.op];
    return `(${x} ${op} ${this.p.num(t.value as number)})`;
  }

  /** A raw JSON value (`JSONExtractRaw`: '' when absent) against a test. */
  private jsonTest(raw: string, t: ValueTest): string {
    const isNum = `JSONType(${raw}) IN ${NUM_TYPES}`;
    const isStr = `JSONType(${raw}) = 'String'`;
    const eq = (v: Scalar): string =>
      typeof v === 'string'
        ? `(${isStr} AND JSONExtractString(${raw}) = ${this.p.str(v)})`
        : typeof v === 'number'
          ? `(${isNum} AND JSONExtractFloat(${raw}) = ${this.p.num(v)})`
          : `(JSONType(${raw}) = 'Bool' AND JSONExtractBool(${raw}) = ${this.p.int(v ? 1 : 0)})`;
    const isIn = (vs: readonly Scalar[]): string =>
      typeof vs[0] === 'string'
        ? `(${isStr} AND has(${this.p.strs(vs as string[])}, JSONExtractString(${raw})))`
        : `(${isNum} AND has(${this.p.nums(vs as number[])}, JSONExtractFloat(${raw})))`;
    switch (t.op) {
      case 'exists':
        return `(JSONType(${raw}) != 'Null')`;
      case 'not_exists':
        return `(JSONType(${raw}) = 'Null')`;
      case 'eq':
        return eq(t.value as Scalar);
      case 'neq':
        return `(NOT ${eq(t.value as Scalar)})`;
      case 'in':
        return isIn(t.value as readonly Scalar[]);
      case 'not_in':
        return `(NOT ${isIn(t.value as readonly Scalar[])})`;
      case 'contains': {
        const v = this.p.str(t.value as string);
        return `((${isStr} AND position(JSONExtractString(${raw}), ${v}) > 0) OR (JSONType(${raw}) = 'Array' AND has(JSONExtract(${raw}, 'Array(String)'), ${v})))`;
      }
      case 'gt':
      case 'gte':
      case 'lt':
      case 'lte':
      case 'between':
        return `(${isNum} AND ${this.numberTest(`JSONExtractFloat(${raw})`, t as unknown as NumberTest)})`;
    }
  }

  /** A tag (present: `has`, value: `v`, text) against a test. */
  private tagTest(name: string, t: ValueTest): string {
    this.tags.add(name);
    const n = this.p.str(name);
    const has = `(countIf(src = 1 AND tag = ${n}) > 0)`;
    const v = `anyIf(tag_value, src = 1 AND tag = ${n})`;
    const num = `toFloat64OrNull(${v})`;
    const eq = (x: Scalar): string =>
      typeof x === 'number'
        ? `(${has} AND ifNull(${num} = ${this.p.num(x)}, 0))`
        : `(${has} AND ${v} = ${this.p.str(String(x))})`;
    const isIn = (xs: readonly Scalar[]): string =>
      typeof xs[0] === 'number'
        ? `(${has} AND ifNull(has(${this.p.nums(xs as number[])}, ${num}), 0))`
        : `(${has} AND has(${this.p.strs(xs as string[])}, ${v}))`;
    switch (t.op) {
      case 'exists':
        return `(${has} AND ${v} != '')`;
      case 'not_exists':
        return `(NOT (${has} AND ${v} != ''))`;
      case 'eq':
        return eq(t.value as Scalar);
      case 'neq':
        return `(NOT ${eq(t.value as Scalar)})`;
      case 'in':
        return isIn(t.value as readonly Scalar[]);
      case 'not_in':
        return `(NOT ${isIn(t.value as readonly Scalar[])})`;
      case 'contains': {
        const s = this.p.str(t.value as string);
        return `(${has} AND if(startsWith(${v}, '['), has(JSONExtract(${v}, 'Array(String)'), ${s}), position(${v}, ${s}) > 0))`;
      }
      case 'gt':
      case 'gte':
      case 'lt':
      case 'lte':
      case 'between':
        return `(${has} AND isNotNull(${num}) AND ${this.numberTest(`ifNull(${num}, 0)`, t as unknown as NumberTest)})`;
    }
  }

  /** A row-level condition: an event of this name whose properties pass every `where`. */
  private eventMatch(m: EventMatch): string {
    this.events.add(m.event);
    const parts = [`src = 0`, `event = ${this.p.str(m.event)}`];
    for (const w of m.where ?? [])
      parts.push(this.jsonTest(`JSONExtractRaw(properties, ${pathArgs(this.p, w.property)})`, w));
    return parts.join(' AND ');
  }

  private named(event: string): string {
    this.events.add(event);
    return `src = 0 AND event = ${this.p.str(event)}`;
  }

  condition(c: Condition): string {
    if ('and' in c) return `(${c.and.map((x) => this.condition(x)).join(' AND ')})`;
    if ('or' in c) return `(${c.or.map((x) => this.condition(x)).join(' OR ')})`;
    if ('not' in c) return `(NOT ${this.condition(c.not)})`;
    if ('trait' in c) {
      this.traits = true;
      this.reads();
      const traits = `argMaxIf(traits, (ms, message_id), src = 0 AND type = 'identify')`;
      return this.jsonTest(`JSONExtractRaw(${traits}, ${pathArgs(this.p, c.trait.name)})`, c.trait);
    }
    if ('tag' in c) return this.tagTest(c.tag.name, c.tag);
    if ('performed' in c) {
      const d = c.performed;
      let row = this.eventMatch(d);
      if (d.within) {
        const [lo, hi] = windowBounds(d.within, this.now);
        this.reads(lo, hi);
        row += ` AND ${this.between(lo, hi)}`;
      } else this.reads();
      const tests = [this.numberTest(`countIf(${row})`, d.count ?? { op: 'gte', value: 1 })];
      if (d.aggregate) {
        const a = d.aggregate;
        const raw = `JSONExtractRaw(properties, ${pathArgs(this.p, a.property)})`;
        const numRow = `${row} AND JSONType(${raw}) IN ${NUM_TYPES}`;
        const fn = { sum: 'sumIf', avg: 'avgIf', min: 'minIf', max: 'maxIf' }[a.fn];
        tests.push(
          `(countIf(${numRow}) > 0)`,
          this.numberTest(`${fn}(JSONExtractFloat(${raw}), ${numRow})`, a),
        );
      }
      return `(${tests.join(' AND ')})`;
    }
    if ('sequence' in c) {
      const s = c.sequence;
      this.reads();
      const spanMs = 'days' in s.within ? s.within.days * DAY_MS : s.within.hours * HOUR_MS;
      // Not windowFunnel: it restarts a chain on a later event of the first
      // step before trying that event as the next step, so steps of the same
      // event (A then A) never chain. Instead, each step's latest start of a
      // chain reaching it, folded over the (time, step) pairs in time order
      // and, at one time, last step first: a step reads the one before it as
      // it was before that time, which is what "strictly later" needs.
      const levels = s.steps
        .map((m, i) => `if(${this.eventMatch(m)}, ${this.p.int(i)}, -1)`)
        .join(', ');
      const pairs = `groupArrayArray(arrayMap(l -> (ms, l), arrayFilter(l -> l >= 0, [${levels}])))`;
      const none = 'toInt64(-9223372036854775807)';
      const w = this.p.int(spanMs);
      const fold = `arrayFold((acc, x) -> arrayMap((v, i) -> if(i = x.2 + 1, greatest(v, if(x.2 = 0, x.1, if(acc[x.2] != ${none} AND x.1 - acc[x.2] <= ${w}, acc[x.2], ${none}))), v), acc, arrayEnumerate(acc)), arraySort(x -> (x.1, -x.2), ${pairs}), arrayResize([${none}], ${this.p.int(s.steps.length)}, ${none}))`;
      return `(${fold}[${this.p.int(s.steps.length)}] != ${none})`;
    }
    if ('first_time' in c) {
      const f = c.first_time;
      const row = this.named(f.event);
      // The first time ever: every event of the name counts.
      this.reads();
      const [lo, hi] = windowBounds(f.within, this.now);
      const first = `minIf(ms, ${row})`;
      return `(countIf(${row}) > 0 AND ${first} >= ${this.bound(lo)} AND ${first} <= ${this.bound(hi)})`;
    }
    if ('stopped' in c) {
      const { event, before, not_within: recent } = c.stopped;
      const row = this.named(event);
      const cut = this.now - recent.days * DAY_MS;
      this.reads(cut - before.days * DAY_MS, this.now);
      return `(countIf(${row} AND ${this.between(cut - before.days * DAY_MS, cut, false)}) > 0 AND countIf(${row} AND ${this.between(cut, this.now)}) = 0)`;
    }
    if ('restarted' in c) {
      const { event, before, gap, within } = c.restarted;
      const row = this.named(event);
      const recent = this.now - within.days * DAY_MS;
      const gapStart = recent - gap.days * DAY_MS;
      this.reads(gapStart - before.days * DAY_MS, this.now);
      return `(countIf(${row} AND ${this.between(recent, this.now)}) > 0 AND countIf(${row} AND ${this.between(gapStart, recent, false)}) = 0 AND countIf(${row} AND ${this.between(gapStart - before.days * DAY_MS, gapStart, false)}) > 0)`;
    }
    if ('in_list' in c) {
      this.lists.add(c.in_list);
      return `(countIf(src = 3 AND tag = ${this.p.str(c.in_list)}) > 0)`;
    }
    if ('identifier' in c) {
      const t = c.identifier.type;
      const types = t === 'exists' ? ['email', 'phone'] : [t];
      for (const x of types) this.idTypes.add(x);
      return `(countIf(src = 2 AND has(${this.p.strs(types)}, id_type)) > 0)`;
    }
    throw new Error(`in_audience ${c.in_audience} must be inlined before compiling`);
  }
}

/**
 * The condition holds only for a person with a row of the events read: a
 * condition on events that fails without any (`performed` at least once,
 * a sequence, a first time, stopped, restarted), in an `and`, or in every
 * branch of an `or`. Conservative: `not`, traits, tags and identifiers say no.
 */
function needsEvents(c: Condition, now: number): boolean {
  if ('and' in c) return c.and.some((x) => needsEvents(x, now));
  if ('or' in c) return c.or.length > 0 && c.or.every((x) => needsEvents(x, now));
  if (
    'performed' in c ||
    'sequence' in c ||
    'first_time' in c ||
    'stopped' in c ||
    'restarted' in c
  )
    return !evaluate(c, EMPTY_PERSON, now);
  return false;
}

/**
 * Compiles a condition tree (`in_audience` inlined, see `inlineAudiences`)
 * for the time `now` (epoch ms): windows end at `now`.
 */
export function compileAudience(
  c: Condition,
  now: number,
  tables: AudienceTables,
  opts: CompileOptions = {},
): CompiledAudience {
  const TABLES = tables;
  const k = new Compiler(now);
  const having = k.condition(c);
  const p = k.p;
  const readsAllEvents = evaluate(c, EMPTY_PERSON, now);
  const parts: string[] = [];
  const cols = (src: number, rest: string): string => `${src} AS src, ${rest}`;
  const noEvent =
    "'' AS type, '' AS event, toInt64(0) AS ms, '' AS message_id, '' AS properties, '' AS traits";
  // The persons of the events read, when every member is one of them: the
  // tag and identifier reads are then of those persons only.
  let eventPersons: string | undefined;
  const only = opts.persons;
  /** The ids events of `persons` are stamped with: theirs, and those merged into theirs. */
  const ids = (persons: string): string =>
    `(SELECT person_id FROM ${persons} UNION ALL SELECT from_one_id FROM ${TABLES.personOverrides} FINAL WHERE into_one_id IN ${persons})`;
  const where = (conds: readonly string[]): string =>
    conds.length === 0 ? '' : ` WHERE ${conds.join(' AND ')}`;
  // Evaluating some people only: their events, as events_by_person has
  // them, read through an explicit PREWHERE on the stored id (theirs, or
  // one merged into theirs), so that FINAL collapses the copies of those
  // rows only (a WHERE through the view would collapse every event first).
  // A redelivered copy stamped with an id outside the set is not read.
  const source =
    only === undefined
      ? TABLES.eventsByPerson
      : `(SELECT if(o.into_one_id = '', e.one_id, o.into_one_id) AS person_id, e.*
         FROM (SELECT * FROM ${TABLES.events} FINAL PREWHERE one_id IN ${ids(only)}) AS e
         LEFT JOIN (
           SELECT from_one_id, into_one_id FROM ${TABLES.personOverrides} FINAL
           WHERE from_one_id IN ${ids(only)}
         ) AS o ON e.one_id = o.from_one_id
         WHERE person_id IN ${only})`;
  if (readsAllEvents || k.events.size > 0 || k.traits) {
    const filters: string[] = [];
    if (k.events.size > 0) filters.push(`event IN ${p.strs([...k.events].sort())}`);
    if (k.traits) filters.push(`type = 'identify'`);
    const conds: string[] = readsAllEvents ? [] : [`(${filters.join(' OR ')})`];
    // Every condition looks at events of one span only: the rows outside it
    // pass no condition's window, and a person with only such rows is not a
    // member (the definition does not hold for a person without rows, or
    // readsAllEvents), so they are left out of the read, which then reads
    // only the monthly partitions of the span.
    const span = k.span;
    if (!readsAllEvents && span !== undefined && span[0] <= span[1]) {
      if (span[1] < MAX_BOUND_MS)
        conds.unshift(`timestamp <= fromUnixTimestamp64Milli(${p.int(span[1])}, 'UTC')`);
      if (span[0] > 0)
        conds.unshift(`timestamp >= fromUnixTimestamp64Milli(${p.int(span[0])}, 'UTC')`);
    }
    if (!readsAllEvents && needsEvents(c, now))
      eventPersons = `(SELECT person_id FROM ${source}${where(conds)})`;
    parts.push(
      `SELECT ${cols(0, 'person_id')}, type, event, toUnixTimestamp64Milli(timestamp) AS ms, message_id, properties, ${k.traits ? 'traits' : "'' AS traits"}, '' AS tag, '' AS tag_value, '' AS id_type
       FROM ${source}${where(conds)}`,
    );
  }
  const of = (column: string): string =>
    `${eventPersons ? ` AND ${column} IN ${eventPersons}` : ''}${only !== undefined ? ` AND ${column} IN ${only}` : ''}`;
  if (k.tags.size > 0)
    parts.push(
      `SELECT ${cols(1, 'person_id')}, ${noEvent}, tag, value AS tag_value, '' AS id_type
       FROM ${TABLES.personTags} FINAL WHERE tag IN ${p.strs([...k.tags].sort())}${of('person_id')}`,
    );
  if (k.idTypes.size > 0)
    parts.push(
      `SELECT ${cols(2, "if(o.into_one_id = '', i.one_id, o.into_one_id) AS person_id")}, ${noEvent}, '' AS tag, '' AS tag_value, i.id_type AS id_type
       FROM ${TABLES.identities} AS i FINAL
       LEFT JOIN (SELECT from_one_id, into_one_id FROM ${TABLES.personOverrides} FINAL) AS o ON i.one_id = o.from_one_id
       WHERE i.id_type IN ${p.strs([...k.idTypes].sort())}${of('person_id')}`,
    );
  if (k.lists.size > 0)
    parts.push(
      `SELECT ${cols(3, 'person_id')}, ${noEvent}, list AS tag, '' AS tag_value, '' AS id_type
       FROM ${TABLES.audienceLists} FINAL WHERE list IN ${p.strs([...k.lists].sort())}${of('person_id')}`,
    );
  // do_not_merge_across_partitions_select_final: FINAL collapses the copies
  // of an event within its monthly partition, as merges do (a redelivered
  // event has the same time, so the same partition); without it ClickHouse
  // does not prune partitions by the time bounds under FINAL.
  const sql = `SELECT person_id FROM (
${parts.join('\nUNION ALL\n')}
)
GROUP BY person_id
HAVING ${having}
SETTINGS join_use_nulls = 0, do_not_merge_across_partitions_select_final = 1`;
  return {
    sql,
    params: { ...p.values },
    readsAllEvents,
    tags: [...k.tags].sort(),
    events: [...k.events].sort(),
    lists: [...k.lists].sort(),
    bounds: [...k.bounds],
  };
}

/**
 * The time ranges the boundaries of a definition's windows swept between two
 * evaluations: `before` and `after` are the `bounds` of the same definition
 * compiled for the two times. An event whose time is in one of them may have
 * entered or left a window; no other event did. Undefined when the two do
 * not pair up (not the same definition).
 */
export function movingWindows(
  before: readonly number[],
  after: readonly number[],
): Array<[number, number]> | undefined {
  if (before.length !== after.length) return undefined;
  const seen = new Set<string>();
  const out: Array<[number, number]> = [];
  before.forEach((b, i) => {
    const a = after[i] as number;
    if (a === b) return;
    const w: [number, number] = [Math.min(a, b), Math.max(a, b)];
    const key = w.join(',');
    if (seen.has(key)) return;
    seen.add(key);
    out.push(w);
  });
  return out.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
}
