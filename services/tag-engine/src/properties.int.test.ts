/**
 * Property tests: the tag engine's SQL on real chDB gives the same tags as a
 * plain TypeScript reference (./reference.ts) on random people, for random
 * computed-trait definitions and for the built-in RFM scores.
 *
 * Each run resets the kit, stores the definitions, inserts the events, runs
 * the engine (a full run) and compares every person's every tag; then moves
 * the clock on (0-365 days), inserts a few more events for some people, runs
 * again (incremental: facts kept for the others, tags recomputed at the new
 * time) and compares again.
 * Numbers are small integers or 2-decimal values, so sums and averages
 * rounded to 6 decimals are exact on both sides.
 *
 * Replay a failure with FC_SEED=<seed> (printed at the start and by
 * fast-check on failure); FC_RUNS=<n> changes the number of runs (both
 * through `fcParameters` of @cdp/testkit).
 */
import fc from 'fast-check';
import { fcParameters } from '@cdp/testkit';
import { afterAll, beforeAll, describe, it } from 'vitest';
import {
  BUILTIN_DEFINITIONS,
  type ComputedFn,
  type ComputedSpec,
  type PropertyFilter,
  type Scalar,
  type TagDefinition,
  type TagWindow,
} from '@cdp/tags';
import { referenceTags, type RefEvent, type RefTags } from './reference.js';
import { createTagKit, DAY, NOW, type EventSpec, type TagKit } from './test-kit.js';

/**
 * A run is a second or so of real chDB work, so a failure's shrinking is cut
 * at a time limit (it then reports the smallest counterexample so far).
 */
const TIME_LIMIT_MS = 100_000;
const options = (numRuns: number): fc.Parameters<unknown> =>
  fcParameters({ numRuns, interruptAfterTimeLimit: TIME_LIMIT_MS });

// ---------------------------------------------------------------------------
// Events

interface GenEvent {
  readonly type: 'track' | 'page' | 'identify';
  readonly event: string;
  readonly name: string;
  /** Milliseconds before the clock. */
  readonly ago: number;
  readonly properties: Record<string, unknown>;
}

/** Texts from a small alphabet (duplicates and ties), some awkward on purpose. */
const TEXTS = ['a', 'b', 'ab', 'B', '', '5', '10', 'null', 'a/b', '[b]', 'é'] as const;
const text = fc.constantFrom(...TEXTS);
const smallInt = fc.integer({ min: -3, max: 20 });
const cents = fc.integer({ min: -500, max: 3000 }).map((c) => c / 100);
const num = fc.oneof(smallInt, cents, fc.constantFrom(0, 5, 10, 10.5, 2.25));
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: num },
  { weight: 4, arbitrary: text },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.array(fc.oneof(text, smallInt), { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.record({ x: smallInt }) },
);
const propertiesArb: fc.Arbitrary<Record<string, unknown>> = fc.record(
  {
    revenue: fc.oneof({ weight: 6, arbitrary: num }, { weight: 2, arbitrary: anyValue }),
    category: fc.oneof({ weight: 5, arbitrary: text }, { weight: 1, arbitrary: anyValue }),
    qty: anyValue,
    tags: fc.oneof(
      { weight: 3, arbitrary: fc.array(text, { maxLength: 3 }) },
      { weight: 1, arbitrary: anyValue },
    ),
    meta: fc.oneof(
      { weight: 3, arbitrary: fc.record({ tier: anyValue }, { requiredKeys: [] }) },
      { weight: 1, arbitrary: anyValue },
    ),
  },
  { requiredKeys: [] },
);

/** Day counts the windows use too, so events fall on window edges. */
const EDGE_DAYS = [0, 1, 7, 30, 90, 365] as const;
const agoArb = fc.oneof(
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 500 * DAY }) },
  { weight: 4, arbitrary: fc.constantFrom(...EDGE_DAYS).map((d) => d * DAY) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom(...EDGE_DAYS), fc.constantFrom(-1, 1, DAY / 2))
      .map(([d, o]) => Math.max(0, d * DAY + o)),
  },
);

const TRACK_EVENTS = ['Order Completed', 'Product Viewed', 'Signed Up', 'Home'] as const;
const PAGE_NAMES = ['Home', 'Checkout', 'Order Completed', ''] as const;
const eventArb: fc.Arbitrary<GenEvent> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      type: fc.constant('track' as const),
      event: fc.constantFrom(...TRACK_EVENTS),
      // A track call's name never matches a spec's event.
      name: fc.constantFrom('', '', '', 'Home'),
      ago: agoArb,
      properties: propertiesArb,
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      type: fc.constant('page' as const),
      event: fc.constant(''),
      name: fc.constantFrom(...PAGE_NAMES),
      ago: agoArb,
      properties: propertiesArb,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant('identify' as const),
      event: fc.constant(''),
      name: fc.constant(''),
      ago: agoArb,
      properties: fc.constant({}),
    }),
  },
);

const person = (i: number): string => `p${String(i).padStart(2, '0')}`;

const toSpec = (p: string, e: GenEvent): EventSpec => ({
  person: p,
  ago: e.ago,
  type: e.type,
  ...(e.type === 'track' ? { event: e.event } : {}),
  name: e.name,
  properties: e.properties,
});

/** The event as stored at a clock: what the kit writes (page and identify calls have no event). */
const toRef = (p: string, e: GenEvent, clock: number): RefEvent => ({
  person: p,
  ms: clock - e.ago,
  type: e.type,
  event: e.type === 'track' ? e.event : '',
  name: e.name,
  properties: JSON.parse(JSON.stringify(e.properties)) as Record<string, unknown>,
});

// ---------------------------------------------------------------------------
// Computed definitions

const FNS: readonly ComputedFn[] = [
  'count',
  'sum',
  'avg',
  'min',
  'max',
  'first',
  'last',
  'most_frequent',
  'unique_list',
  'unique_count',
  'days_since_first',
  'days_since_last',
];
const NO_PROPERTY = new Set<ComputedFn>(['count', 'days_since_first', 'days_since_last']);
const NUMERIC = new Set<ComputedFn>(['sum', 'avg', 'min', 'max']);
const SPEC_EVENTS = ['Order Completed', 'Product Viewed', 'Home', 'Checkout', 'Nothing'] as const;
const PROPS = ['revenue', 'category', 'qty', 'tags', 'meta.tier', 'meta', 'missing'] as const;
const NUMERIC_PROPS = ['revenue', 'revenue', 'qty', 'meta.tier', 'category'] as const;

const property = fc.constantFrom(...PROPS);
const scalarArb: fc.Arbitrary<Scalar> = fc.oneof(
  fc.constantFrom(0, 1, 5, 10, 10.5, 2.25, -1, 20),
  text,
  fc.boolean(),
);
const numLit = fc.oneof(fc.constantFrom(0, 1, 5, 10, 10.5, 2.25, -1, 20), cents);
const filterArb: fc.Arbitrary<PropertyFilter> = fc.oneof(
  fc.record({ property, op: fc.constantFrom('eq' as const, 'neq' as const), value: scalarArb }),
  fc.record({
    property,
    op: fc.constantFrom('gt' as const, 'gte' as const, 'lt' as const, 'lte' as const),
    value: numLit,
  }),
  fc.record({
    property,
    op: fc.constant('in' as const),
    value: fc.array(scalarArb, { minLength: 1, maxLength: 3 }),
  }),
  fc.record({ property, op: fc.constant('exists' as const) }),
);
const containsArb: fc.Arbitrary<PropertyFilter> = fc.record({
  property,
  op: fc.constant('contains' as const),
  value: fc.oneof(fc.constantFrom('a', 'b', 'ab', '/', '[', 'é', '1', '5'), smallInt),
});
const whereArb = fc.oneof(
  { weight: 5, arbitrary: filterArb },
  { weight: 1, arbitrary: containsArb },
);

const isoDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
const rangeArb: fc.Arbitrary<TagWindow> = fc
  .tuple(
    fc.constantFrom(...EDGE_DAYS, 500),
    fc.constantFrom(...EDGE_DAYS, -3),
    fc.constantFrom('date' as const, 'date' as const, 'utc' as const, 'offset' as const),
    fc.constantFrom(0, 12 * 3_600_000),
  )
  .filter(([a, b]) => a > b)
  .map(([a, b, form, bump]) => {
    const at = (d: number, bump: number): string => {
      const ms = NOW - d * DAY;
      if (form === 'date') return isoDay(ms);
      if (form === 'utc') return new Date(ms + bump).toISOString();
      return `${isoDay(ms)}T00:00:00+02:00`;
    };
    return { from: at(a, bump), to: at(b, 0) };
  });
const windowArb: fc.Arbitrary<TagWindow | undefined> = fc.oneof(
  { weight: 2, arbitrary: fc.constant(undefined) },
  {
    weight: 2,
    arbitrary: fc
      .oneof(
        { weight: 3, arbitrary: fc.constantFrom(1, 7, 30, 90, 365) },
        { weight: 1, arbitrary: fc.integer({ min: 1, max: 600 }) },
      )
      .map((days) => ({ days })),
  },
  { weight: 2, arbitrary: rangeArb },
);

const specArb: fc.Arbitrary<ComputedSpec> = fc
  .record({
    fn: fc.constantFrom(...FNS),
    event: fc.option(fc.constantFrom(...SPEC_EVENTS), { nil: undefined, freq: 3 }),
    property,
    numericProperty: fc.constantFrom(...NUMERIC_PROPS),
    where: fc.array(whereArb, { maxLength: 2 }),
    window: windowArb,
  })
  .map(({ fn, event, property: p, numericProperty, where, window }) => ({
    fn,
    ...(event !== undefined ? { event } : {}),
    ...(NO_PROPERTY.has(fn) ? {} : { property: NUMERIC.has(fn) ? numericProperty : p }),
    ...(where.length > 0 ? { where } : {}),
    ...(window !== undefined ? { window } : {}),
  }));

const rfmDef = BUILTIN_DEFINITIONS.find((d) => d.name === 'rfm') as TagDefinition;

/** 2-6 computed traits, sometimes next to RFM (it reads `revenue` too). */
const computedDefsArb: fc.Arbitrary<TagDefinition[]> = fc
  .tuple(fc.array(specArb, { minLength: 2, maxLength: 6 }), fc.boolean())
  .map(([specs, withRfm]) => [
    ...specs.map((computed, i): TagDefinition => ({ name: `t${i}`, type: 'computed', computed })),
    ...(withRfm ? [rfmDef] : []),
  ]);

const peopleArb = fc.array(fc.array(eventArb, { minLength: 1, maxLength: 8 }), {
  minLength: 5,
  maxLength: 40,
  // Lengths across the whole range (the default size stays near the minimum).
  size: 'max',
});

// ---------------------------------------------------------------------------
// RFM

/** Few distinct days, values and in-day offsets: many ties, and the window's edge. */
const purchaseArb: fc.Arbitrary<GenEvent> = fc
  .record({
    days: fc.constantFrom(0, 1, 2, 10, 30, 364, 365, 366),
    offset: fc.constantFrom(0, 0, 1, DAY / 2, DAY - 1),
    revenue: fc.oneof(
      {
        weight: 8,
        arbitrary: fc.constantFrom<unknown>(10, 20, 20.5, 0.1, 0.2, 0.3, 0, 100, 33.33, -5),
      },
      { weight: 1, arbitrary: fc.constantFrom<unknown>(undefined, null, '30', true) },
    ),
  })
  .map(({ days, offset, revenue }) => ({
    type: 'track' as const,
    event: 'Order Completed',
    name: '',
    ago: days * DAY + offset,
    properties: revenue === undefined ? {} : { revenue },
  }));
/** Not purchases: a page named like the event, other track calls with a revenue. */
const noiseArb: fc.Arbitrary<GenEvent> = fc
  .record({
    kind: fc.constantFrom('page' as const, 'track' as const),
    days: fc.constantFrom(0, 3, 30, 100),
  })
  .map(({ kind, days }) => ({
    type: kind,
    event: kind === 'track' ? 'Product Viewed' : '',
    name: kind === 'page' ? 'Order Completed' : '',
    ago: days * DAY,
    properties: { revenue: 50 },
  }));
const rfmPeopleArb = fc.array(
  fc
    .tuple(fc.array(purchaseArb, { maxLength: 4 }), fc.array(noiseArb, { maxLength: 2 }))
    .map(([buys, noise]) => [...buys, ...noise])
    .filter((evs) => evs.length > 0),
  { minLength: 5, maxLength: 40, size: 'max' },
);

// ---------------------------------------------------------------------------
// Comparing

interface Mismatch {
  readonly person: string;
  readonly tag: string;
  readonly expected: string | undefined;
  readonly got: string | undefined;
}

function mismatches(expected: RefTags, got: RefTags): Mismatch[] {
  const out: Mismatch[] = [];
  const people = [...new Set([...expected.keys(), ...got.keys()])].sort();
  for (const p of people) {
    const e = expected.get(p) ?? {};
    const g = got.get(p) ?? {};
    for (const tag of [...new Set([...Object.keys(e), ...Object.keys(g)])].sort()) {
      if (e[tag] !== g[tag]) out.push({ person: p, tag, expected: e[tag], got: g[tag] });
    }
  }
  return out;
}

const stats = { runs: 0, values: 0, nonDefault: 0 };

/** A second run: the clock moves on, and some people (by index) have new events. */
interface Later {
  readonly advance: number;
  readonly events: readonly (readonly [number, GenEvent])[];
}
const laterArb = (event: fc.Arbitrary<GenEvent>): fc.Arbitrary<Later> =>
  fc.record({
    advance: fc.oneof(
      fc.constantFrom(0, 1, 7, 30, 365).map((d) => d * DAY),
      fc.integer({ min: 0, max: 60 * DAY }),
    ),
    events: fc.array(fc.tuple(fc.nat(), event), { maxLength: 10 }),
  });

/** Runs the engine and compares every person's every tag with the reference. */
async function runAndCompare(
  kit: TagKit,
  defs: TagDefinition[],
  refs: readonly RefEvent[],
  kind: 'full' | 'incremental',
): Promise<void> {
  const report = await kit.runner.engine.run();
  if (report.kind !== kind) throw new Error(`expected a ${kind} run, got ${report.kind}`);
  const got = await kit.tags();
  const expected = referenceTags(defs, refs, kit.clock);
  stats.runs++;
  for (const t of expected.values())
    for (const v of Object.values(t)) {
      stats.values++;
      if (v !== '0' && v !== '[]') stats.nonDefault++;
    }
  const bad = mismatches(expected, got);
  if (bad.length === 0) return;
  const first = bad[0] as Mismatch;
  const def = defs.find((d) => d.name === first.tag) ?? rfmDef;
  const events = refs
    .filter((e) => e.person === first.person)
    .map((e) => ({ ...e, person: undefined, ago: kit.clock - e.ms }));
  throw new Error(
    [
      `${kind} run at ${new Date(kit.clock).toISOString()}: ${bad.length} tag value(s) differ from the reference:`,
      ...bad.slice(0, 8).map((m) => `  ${m.person}.${m.tag}: expected ${m.expected}, got ${m.got}`),
      `definition: ${JSON.stringify(def)}`,
      `events of ${first.person}: ${JSON.stringify(events)}`,
    ].join('\n'),
  );
}

/**
 * Reset, define, insert, a full run, compared; then, with `later`, the clock
 * moved on and new events, an incremental run, compared again.
 */
async function check(
  kit: TagKit,
  defs: TagDefinition[],
  people: readonly (readonly GenEvent[])[],
  later?: Later,
): Promise<void> {
  await kit.reset();
  await kit.define(defs);
  const refs: RefEvent[] = [];
  const insert = async (events: (readonly [string, GenEvent])[]): Promise<void> => {
    if (events.length === 0) return;
    await kit.insert(events.map(([p, e]) => toSpec(p, e)));
    refs.push(...events.map(([p, e]) => toRef(p, e, kit.clock)));
  };
  await insert(people.flatMap((evs, i) => evs.map((e) => [person(i), e] as const)));
  await runAndCompare(kit, defs, refs, 'full');
  if (!later) return;
  kit.clock = NOW + later.advance;
  await insert(later.events.map(([i, e]) => [person(i % people.length), e] as const));
  await runAndCompare(kit, defs, refs, 'incremental');
}

describe('tag SQL equals the TypeScript reference (fast-check, chDB)', () => {
  let kit: TagKit;
  beforeAll(async () => {
    kit = await createTagKit();
  });
  afterAll(async () => {
    console.log(
      `[properties] ${stats.runs} runs compared ${stats.values} reference values (${stats.nonDefault} not "0"/"[]")`,
    );
    await kit?.close();
  });

  it(
    'computed traits: every fn, event, filters and window on random people',
    async () => {
      await fc.assert(
        fc.asyncProperty(peopleArb, computedDefsArb, laterArb(eventArb), (people, defs, later) =>
          check(kit, defs, people, later),
        ),
        options(10),
      );
    },
    2 * TIME_LIMIT_MS,
  );

  // A contains filter once failed every run (JSONExtract over Nullable text).
  it('a contains filter matches an array element or a substring', async () => {
    const track = (properties: Record<string, unknown>): GenEvent => ({
      type: 'track',
      event: 'Product Viewed',
      name: '',
      ago: DAY,
      properties,
    });
    const defs: TagDefinition[] = [
      {
        name: 't0',
        type: 'computed',
        computed: { fn: 'count', where: [{ property: 'tags', op: 'contains', value: 'a' }] },
      },
    ];
    await check(kit, defs, [
      [track({ tags: ['a', 'b'] }), track({ tags: 'xa' })],
      [track({ tags: ['b'] })],
      [track({})],
    ]);
  });

  it(
    'RFM: recency, frequency, monetary, scores by strictly-worse rank, and groups',
    async () => {
      await fc.assert(
        fc.asyncProperty(rfmPeopleArb, laterArb(fc.oneof(purchaseArb, noiseArb)), (people, later) =>
          check(kit, [rfmDef], people, later),
        ),
        options(8),
      );
    },
    2 * TIME_LIMIT_MS,
  );
});
