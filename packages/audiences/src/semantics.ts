/**
 * What a condition means, written once as plain TypeScript over one person's
 * data: the reference the compiled SQL is tested against (property test on
 * chDB), and what decides whether a definition can hold for a person with
 * no data at all (then the query must read every person).
 *
 * - Windows: `{days: N}` / `{hours: N}` are [now - N, now], both ends in;
 *   `{from, to}` are [from, to], both in (a `to` without a time is the end
 *   of that day).
 * - Values of properties and traits are JSON: `eq` compares like with like
 *   (a string to a string, a number to a number, a boolean to a boolean);
 *   `gt`..`lte` and `between` hold for numbers only; `contains` is a
 *   substring of a string or an item of a list of strings; `exists` is
 *   present and not null; `neq`, `not_in` and `not_exists` are the negations
 *   (a missing value is "not equal").
 * - Tags are text (numbers in decimal, lists as JSON arrays): `eq` with a
 *   number and the number ops compare the text read as a number.
 * - A trait is a key of the latest identify call's traits (by time, then
 *   message id), as the tag engine reads them.
 * - `performed`: the events of that name in the window whose properties
 *   pass every `where`; their count passes `count` (default >= 1) and, if
 *   given, the aggregate of a number property over them passes (no number
 *   values: fails).
 * - `sequence`: events matching each step in order, at strictly increasing
 *   times, the last at most `within` after the first.
 * - `first_time`: the first event of that name ever is in the window.
 * - `stopped`: some in the `before` days preceding the last `not_within`
 *   days, none in those last days. `restarted`: some in the last `within`
 *   days, none in the `gap` days before them, some in the `before` days
 *   before the gap.
 * - `identifier`: the person holds an identifier of that type (`exists`: an
 *   email or a phone).
 * - `in_list`: the person is on the stored list of that name.
 */
import { parseWindowDate } from '@cdp/tags';
import type { Condition, EventMatch, NumberTest, Scalar, ValueTest, Window } from './types.js';

export const DAY_MS = 86_400_000;
export const HOUR_MS = 3_600_000;

/** One person's data as the evaluator sees it. */
export interface PersonData {
  readonly events: readonly PersonEvent[];
  /** Tag name -> value as text (`person_tags`). */
  readonly tags: Readonly<Record<string, string>>;
  /** Types of the identifiers the person holds (`email`, `user_id`, ...). */
  readonly identifierTypes: readonly string[];
  /** The stored lists the person is on (`audience_lists`). */
  readonly lists?: readonly string[] | undefined;
}

export interface PersonEvent {
  readonly type: string;
  /** The track event's name ('' for other calls). */
  readonly event: string;
  readonly ms: number;
  readonly messageId: string;
  readonly properties: Readonly<Record<string, unknown>>;
  /** Identify calls: the traits sent. */
  readonly traits?: Readonly<Record<string, unknown>> | undefined;
}

export const EMPTY_PERSON: PersonData = { events: [], tags: {}, identifierTypes: [] };

/** [start, end] of a window, in epoch ms, both included. */
export function windowBounds(w: Window, now: number): [number, number] {
  if ('days' in w) return [now - w.days * DAY_MS, now];
  if ('hours' in w) return [now - w.hours * HOUR_MS, now];
  const from = parseWindowDate(w.from) as number;
  const to = parseWindowDate(w.to) as number;
  return [from, w.to.length === 10 ? to + DAY_MS - 1 : to];
}

/** The value at a dotted path of a JSON object (undefined when absent). */
export function valueAt(obj: unknown, path: string): unknown {
  let v: unknown = obj;
  for (const key of path.split('.')) {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

function numberPasses(t: NumberTest, x: number): boolean {
  const v = t.value;
  switch (t.op) {
    case 'eq':
      return x === v;
    case 'neq':
      return x !== v;
    case 'gt':
      return x > (v as number);
    case 'gte':
      return x >= (v as number);
    case 'lt':
      return x < (v as number);
    case 'lte':
      return x <= (v as number);
    case 'between': {
      const [lo, hi] = v as readonly [number, number];
      return x >= lo && x <= hi;
    }
  }
}

const asNumberTest = (t: ValueTest): NumberTest => t as unknown as NumberTest;

/** A JSON value (property or trait) against a test. */
export function jsonPasses(t: ValueTest, v: unknown): boolean {
  const present = v !== undefined && v !== null;
  switch (t.op) {
    case 'exists':
      return present;
    case 'not_exists':
      return !present;
    case 'eq':
      return typeof v === typeof t.value && v === t.value;
    case 'neq':
      return !(typeof v === typeof t.value && v === t.value);
    case 'in':
      return (t.value as readonly Scalar[]).some((x) => typeof v === typeof x && v === x);
    case 'not_in':
      return !(t.value as readonly Scalar[]).some((x) => typeof v === typeof x && v === x);
    case 'contains':
      return (
        (typeof v === 'string' && v.includes(t.value as string)) ||
        (Array.isArray(v) && v.includes(t.value))
      );
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
    case 'between':
      return typeof v === 'number' && numberPasses(asNumberTest(t), v);
  }
}

const NUMBER_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** A tag's text as a number (as ClickHouse's toFloat64OrNull reads it), or undefined. */
export function tagNumber(s: string): number | undefined {
  return NUMBER_TEXT.test(s) ? Number(s) : undefined;
}

/** A tag (text, or undefined when the person does not have it) against a test. */
export function tagPasses(t: ValueTest, s: string | undefined): boolean {
  const eq = (x: Scalar): boolean =>
    s !== undefined &&
    (typeof x === 'number' ? tagNumber(s) === x : s === (typeof x === 'boolean' ? String(x) : x));
  switch (t.op) {
    case 'exists':
      return s !== undefined && s !== '';
    case 'not_exists':
      return !(s !== undefined && s !== '');
    case 'eq':
      return eq(t.value as Scalar);
    case 'neq':
      return !eq(t.value as Scalar);
    case 'in':
      return (t.value as readonly Scalar[]).some(eq);
    case 'not_in':
      return !(t.value as readonly Scalar[]).some(eq);
    case 'contains': {
      if (s === undefined) return false;
      if (s.startsWith('[')) {
        try {
          const list = JSON.parse(s) as unknown;
          return Array.isArray(list) && list.includes(t.value);
        } catch {
          return false;
        }
      }
      return s.includes(t.value as string);
    }
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
    case 'between': {
      const n = s === undefined ? undefined : tagNumber(s);
      return n !== undefined && numberPasses(asNumberTest(t), n);
    }
  }
}

const matches = (e: PersonEvent, m: EventMatch): boolean =>
  e.event === m.event &&
  (m.where ?? []).every((w) => jsonPasses(w, valueAt(e.properties, w.property)));

const inRange = (ms: number, [lo, hi]: [number, number]): boolean => ms >= lo && ms <= hi;

/** The latest identify call's traits (by time, then message id). */
function latestTraits(p: PersonData): Readonly<Record<string, unknown>> | undefined {
  let best: PersonEvent | undefined;
  for (const e of p.events) {
    if (e.type !== 'identify') continue;
    if (best === undefined || e.ms > best.ms || (e.ms === best.ms && e.messageId > best.messageId))
      best = e;
  }
  return best?.traits ?? (best ? {} : undefined);
}

/** Whether events matching `steps` happen in order, strictly later each, within `spanMs` of the first. */
function sequenceHolds(
  events: readonly PersonEvent[],
  steps: readonly EventMatch[],
  spanMs: number,
): boolean {
  const sorted = [...events].sort((a, b) => a.ms - b.ms);
  const from = (step: number, afterMs: number, startMs: number): boolean => {
    if (step === steps.length) return true;
    return sorted.some(
      (e) =>
        e.ms > afterMs &&
        e.ms - startMs <= spanMs &&
        matches(e, steps[step]!) &&
        from(step + 1, e.ms, startMs),
    );
  };
  return sorted.some((e) => matches(e, steps[0]!) && from(1, e.ms, e.ms));
}

/** Whether `p` is in the audience `c` (`in_audience` already inlined) at `now`. */
export function evaluate(c: Condition, p: PersonData, now: number): boolean {
  if ('and' in c) return c.and.every((x) => evaluate(x, p, now));
  if ('or' in c) return c.or.some((x) => evaluate(x, p, now));
  if ('not' in c) return !evaluate(c.not, p, now);
  if ('trait' in c) {
    const traits = latestTraits(p);
    return jsonPasses(c.trait, traits === undefined ? undefined : valueAt(traits, c.trait.name));
  }
  if ('tag' in c)
    return tagPasses(c.tag, Object.hasOwn(p.tags, c.tag.name) ? p.tags[c.tag.name] : undefined);
  if ('performed' in c) {
    const d = c.performed;
    const w = d.within ? windowBounds(d.within, now) : undefined;
    const hits = p.events.filter((e) => matches(e, d) && (w === undefined || inRange(e.ms, w)));
    if (!numberPasses(d.count ?? { op: 'gte', value: 1 }, hits.length)) return false;
    if (d.aggregate === undefined) return true;
    const agg = d.aggregate;
    const xs = hits
      .map((e) => valueAt(e.properties, agg.property))
      .filter((x): x is number => typeof x === 'number');
    if (xs.length === 0) return false;
    const value =
      agg.fn === 'sum'
        ? xs.reduce((a, b) => a + b, 0)
        : agg.fn === 'avg'
          ? xs.reduce((a, b) => a + b, 0) / xs.length
          : agg.fn === 'min'
            ? Math.min(...xs)
            : Math.max(...xs);
    return numberPasses(agg, value);
  }
  if ('sequence' in c) {
    const s = c.sequence;
    const spanMs = 'days' in s.within ? s.within.days * DAY_MS : s.within.hours * HOUR_MS;
    return sequenceHolds(p.events, s.steps, spanMs);
  }
  if ('first_time' in c) {
    const times = p.events.filter((e) => e.event === c.first_time.event).map((e) => e.ms);
    return times.length > 0 && inRange(Math.min(...times), windowBounds(c.first_time.within, now));
  }
  if ('stopped' in c) {
    const { event, before, not_within: recent } = c.stopped;
    const cut = now - recent.days * DAY_MS;
    const times = p.events.filter((e) => e.event === event).map((e) => e.ms);
    return (
      times.some((t) => t >= cut - before.days * DAY_MS && t < cut) &&
      !times.some((t) => t >= cut && t <= now)
    );
  }
  if ('restarted' in c) {
    const { event, before, gap, within } = c.restarted;
    const recent = now - within.days * DAY_MS;
    const gapStart = recent - gap.days * DAY_MS;
    const times = p.events.filter((e) => e.event === event).map((e) => e.ms);
    return (
      times.some((t) => t >= recent && t <= now) &&
      !times.some((t) => t >= gapStart && t < recent) &&
      times.some((t) => t >= gapStart - before.days * DAY_MS && t < gapStart)
    );
  }
  if ('in_list' in c) return (p.lists ?? []).includes(c.in_list);
  if ('identifier' in c) {
    const t = c.identifier.type;
    return t === 'exists'
      ? p.identifierTypes.some((x) => x === 'email' || x === 'phone')
      : p.identifierTypes.includes(t);
  }
  throw new Error(`in_audience ${c.in_audience} must be inlined before evaluation`);
}
