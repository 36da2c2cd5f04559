/**
 * A plain TypeScript reference of the tag engine's SQL, for property tests:
 * computed traits and RFM scores evaluated straight from a list of events,
 * with no ClickHouse involved. It mirrors the semantics the SQL
 * (`@cdp/tags` facts.ts and tags-sql.ts) documents, written independently:
 *
 * - a spec's `event` matches a track call's event, or a page/screen's name;
 * - a property's number is a JSON number only (`"5"`, `true` are not numbers);
 *   its text is a JSON string's value, any other JSON value as written
 *   (compact), absent when missing or `null`;
 * - numbers read as ClickHouse writes `toString(round(x, 6))`;
 * - count, sum, unique_list and unique_count have a value ("0", "[]") for
 *   every person; the other functions have none without a matching event;
 * - first/last take the earliest/latest event, ties by the smaller/larger
 *   value; most_frequent's ties go to the smallest value (byte order);
 * - days are whole days: `intDiv(now - ms, 86400000)`;
 * - windows: all time, `{days: N}` = `ms >= now - N days`, `{from, to}` =
 *   `[from, to)`.
 *
 * RFM: over purchases (track calls of the event) in the last `windowDays`,
 * recency in whole days since the last one, frequency the count, monetary
 * the value summed and rounded to 2 decimals (a missing or non-numeric value
 * counts 0). A purchaser's score is `1 + floor(5 * w / n)`, at most 5, with n
 * the purchasers and w those with a strictly worse value (more recency days,
 * fewer purchases, less monetary), so equal values score the same.
 */
import { RFM_GROUPS, RFM_OTHERS } from '@cdp/tags';
import type { ComputedSpec, PropertyFilter, RfmParams, Scalar, TagDefinition } from '@cdp/tags';

export const REF_DAY_MS = 86_400_000;

/** One stored event, as the reference reads it. */
export interface RefEvent {
  readonly person: string;
  /** Epoch milliseconds. */
  readonly ms: number;
  readonly type: 'track' | 'page' | 'screen' | 'identify';
  /** The track call's event ('' for page, screen and identify calls). */
  readonly event: string;
  /** The page or screen name ('' when none). */
  readonly name: string;
  readonly properties: Readonly<Record<string, unknown>>;
}

/** Tag values by person; a person without any tag is absent. */
export type RefTags = Map<string, Record<string, string>>;

// ---------------------------------------------------------------------------
// Values

/** The property at a dotted path: undefined when absent (through non-objects too). */
export function propertyAt(props: unknown, path: string): unknown {
  let cur: unknown = props;
  for (const key of path.split('.')) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
    if (!Object.prototype.hasOwnProperty.call(cur, key)) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/** A JSON number's value; null for anything else (strings, booleans, null, absent). */
export function numOf(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** A string's value, any other JSON value as written; null when absent or null. */
export function textOf(v: unknown): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

/** ClickHouse `toString(round(x, d))` for the values the tests use (no exponents). */
export function formatRounded(x: number, decimals: number): string {
  const f = 10 ** decimals;
  const r = Math.round(x * f) / f;
  return Object.is(r, -0) ? '-0' : String(r);
}

const fmt6 = (x: number): string => formatRounded(x, 6);

/** Byte order of the UTF-8 encodings (how ClickHouse compares strings). */
export function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** The elements of a JSON array as ClickHouse's `JSONExtract(x, 'Array(String)')` reads them. */
function arrayElements(text: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return [];
  }
  if (!Array.isArray(parsed)) return [];
  return parsed.map((e: unknown) =>
    e === null ? '' : typeof e === 'string' ? e : JSON.stringify(e),
  );
}

/** ClickHouse `toJSONString` of an array of strings (it escapes `/`). */
function jsonStringArray(values: readonly string[]): string {
  return JSON.stringify(values).replace(/\//g, '\\/');
}

const days = (now: number, ms: number): number => Math.trunc((now - ms) / REF_DAY_MS);

// ---------------------------------------------------------------------------
// Computed traits

/** Does the spec's event name this event? Absent: any event. */
export function eventMatches(e: RefEvent, event: string | undefined): boolean {
  if (event === undefined) return true;
  return e.event === event || ((e.type === 'page' || e.type === 'screen') && e.name === event);
}

function scalarEquals(raw: unknown, v: Scalar): boolean {
  if (typeof v === 'number') return numOf(raw) === v;
  return textOf(raw) === String(v);
}

/** A property filter on one event. */
export function filterMatches(e: RefEvent, f: PropertyFilter): boolean {
  const raw = propertyAt(e.properties, f.property);
  const n = numOf(raw);
  const s = textOf(raw);
  switch (f.op) {
    case 'exists':
      return s !== null;
    case 'eq':
      return scalarEquals(raw, f.value as Scalar);
    case 'neq':
      return !scalarEquals(raw, f.value as Scalar);
    case 'gt':
      return n !== null && n > (f.value as number);
    case 'gte':
      return n !== null && n >= (f.value as number);
    case 'lt':
      return n !== null && n < (f.value as number);
    case 'lte':
      return n !== null && n <= (f.value as number);
    case 'in': {
      const list = f.value as readonly Scalar[];
      const nums = list.filter((x): x is number => typeof x === 'number');
      const strs = list.filter((x) => typeof x !== 'number').map(String);
      return (n !== null && nums.includes(n)) || (s !== null && strs.includes(s));
    }
    case 'contains': {
      if (s === null) return false;
      const needle = String(f.value);
      // Text that starts like a JSON array is read as one: has the element.
      if (s.startsWith('[')) return arrayElements(s).includes(needle);
      return s.includes(needle);
    }
  }
}

/** The window's range in ms, [from, to) (a days window has no end: later events count). */
function windowRange(spec: ComputedSpec, now: number): { from: number; to: number } {
  const w = spec.window;
  if (w === undefined) return { from: -Infinity, to: Infinity };
  if ('days' in w) return { from: now - w.days * REF_DAY_MS, to: Infinity };
  return {
    from: Date.parse(w.from.length === 10 ? `${w.from}T00:00:00Z` : w.from),
    to: Date.parse(w.to.length === 10 ? `${w.to}T00:00:00Z` : w.to),
  };
}

const NUMERIC_FNS = new Set(['sum', 'avg', 'min', 'max']);

/**
 * One person's value of a computed trait (their events only), or undefined
 * for no value.
 */
export function computedValue(
  spec: ComputedSpec,
  events: readonly RefEvent[],
  now: number,
): string | undefined {
  const { from, to } = windowRange(spec, now);
  const matching = events.filter(
    (e) =>
      e.ms >= from &&
      e.ms < to &&
      eventMatches(e, spec.event) &&
      (spec.where ?? []).every((f) => filterMatches(e, f)),
  );
  const fn = spec.fn;
  if (fn === 'count') return String(matching.length);
  if (fn === 'days_since_first' || fn === 'days_since_last') {
    if (matching.length === 0) return undefined;
    const times = matching.map((e) => e.ms);
    return String(days(now, fn === 'days_since_first' ? Math.min(...times) : Math.max(...times)));
  }
  const property = spec.property;
  if (property === undefined) throw new Error(`${fn} needs a property`);
  if (NUMERIC_FNS.has(fn)) {
    const nums = matching
      .map((e) => numOf(propertyAt(e.properties, property)))
      .filter((x): x is number => x !== null);
    const total = nums.reduce((a, b) => a + b, 0);
    if (fn === 'sum') return fmt6(total);
    if (nums.length === 0) return undefined;
    if (fn === 'avg') return fmt6(total / nums.length);
    if (fn === 'min') return fmt6(Math.min(...nums));
    return fmt6(Math.max(...nums));
  }
  const vals = matching
    .map((e) => ({ ms: e.ms, v: textOf(propertyAt(e.properties, property)) }))
    .filter((x): x is { ms: number; v: string } => x.v !== null)
    .sort((a, b) => a.ms - b.ms || compareBytes(a.v, b.v));
  const distinct = [...new Set(vals.map((x) => x.v))].sort(compareBytes);
  switch (fn) {
    case 'unique_list':
      return jsonStringArray(distinct);
    case 'unique_count':
      return String(distinct.length);
    case 'first':
      return vals[0]?.v;
    case 'last':
      return vals[vals.length - 1]?.v;
    case 'most_frequent': {
      let best: string | undefined;
      let bestCount = 0;
      for (const v of distinct) {
        // `distinct` is in byte order: a later value wins only with more events.
        const c = vals.filter((x) => x.v === v).length;
        if (c > bestCount) {
          best = v;
          bestCount = c;
        }
      }
      return best;
    }
    case 'sum':
    case 'avg':
    case 'min':
    case 'max':
      throw new Error(`not a text fn: ${fn}`);
  }
}

// ---------------------------------------------------------------------------
// RFM

export interface RfmValues {
  readonly recencyDays: number;
  readonly frequency: number;
  /** Rounded to 2 decimals. */
  readonly monetary: number;
}

/** A person's R, F and M inputs, undefined without a purchase in the window. */
export function rfmValues(
  params: RfmParams,
  events: readonly RefEvent[],
  now: number,
): RfmValues | undefined {
  const from = now - params.windowDays * REF_DAY_MS;
  const purchases = events.filter(
    (e) => e.type === 'track' && e.event === params.event && e.ms >= from,
  );
  if (purchases.length === 0) return undefined;
  const total = purchases.reduce(
    (a, e) => a + (numOf(propertyAt(e.properties, params.valueProperty)) ?? 0),
    0,
  );
  return {
    recencyDays: days(now, Math.max(...purchases.map((e) => e.ms))),
    frequency: purchases.length,
    monetary: Math.round(total * 100) / 100,
  };
}

/** `1 + floor(5 * worse / n)`, at most 5. */
export function rfmScore(worse: number, n: number): number {
  return Math.min(5, 1 + Math.floor((5 * worse) / n));
}

/** The first group of the table whose ranges hold the scores, else Others. */
export function rfmGroup(r: number, f: number, m: number): string {
  const inRange = (x: number, [lo, hi]: readonly [number, number]): boolean => x >= lo && x <= hi;
  const g = RFM_GROUPS.find((g) => inRange(r, g.r) && inRange(f, g.f) && inRange(m, g.m));
  return g?.name ?? RFM_OTHERS;
}

/** Every purchaser's seven RFM tags. */
export function rfmTags(
  params: RfmParams,
  byPerson: ReadonlyMap<string, readonly RefEvent[]>,
  now: number,
): Map<string, Record<string, string>> {
  const values = new Map<string, RfmValues>();
  for (const [person, evs] of byPerson) {
    const v = rfmValues(params, evs, now);
    if (v) values.set(person, v);
  }
  const all = [...values.values()];
  const n = all.length;
  const out = new Map<string, Record<string, string>>();
  for (const [person, v] of values) {
    const r = rfmScore(all.filter((o) => o.recencyDays > v.recencyDays).length, n);
    const f = rfmScore(all.filter((o) => o.frequency < v.frequency).length, n);
    const m = rfmScore(all.filter((o) => o.monetary < v.monetary).length, n);
    out.set(person, {
      recency_days: String(v.recencyDays),
      frequency: String(v.frequency),
      monetary: formatRounded(v.monetary, 2),
      r_score: String(r),
      f_score: String(f),
      m_score: String(m),
      rfm_group: rfmGroup(r, f, m),
    });
  }
  return out;
}

// ---------------------------------------------------------------------------
// A whole run

export function groupByPerson(events: readonly RefEvent[]): Map<string, RefEvent[]> {
  const byPerson = new Map<string, RefEvent[]>();
  for (const e of events) {
    const list = byPerson.get(e.person);
    if (list) list.push(e);
    else byPerson.set(e.person, [e]);
  }
  return byPerson;
}

/**
 * Every person's tags from computed and RFM definitions (other kinds are not
 * modelled: they throw). People without a tag are left out, as the engine
 * keeps no state row for them.
 */
export function referenceTags(
  defs: readonly TagDefinition[],
  events: readonly RefEvent[],
  now: number,
): RefTags {
  const byPerson = groupByPerson(events);
  const out: RefTags = new Map();
  const set = (person: string, tag: string, value: string): void => {
    const t = out.get(person) ?? {};
    t[tag] = value;
    out.set(person, t);
  };
  for (const d of defs) {
    if (d.enabled === false) continue;
    if (d.type === 'computed') {
      const spec = d.computed;
      for (const [person, evs] of byPerson) {
        const v = computedValue(spec, evs, now);
        if (v !== undefined) set(person, d.name, v);
      }
    } else if (d.type === 'rfm') {
      for (const [person, tags] of rfmTags(d.params, byPerson, now))
        for (const [k, v] of Object.entries(tags)) set(person, k, v);
    } else {
      throw new Error(`the reference does not model ${d.type} definitions`);
    }
  }
  return out;
}
