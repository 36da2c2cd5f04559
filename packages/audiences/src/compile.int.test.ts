/**
 * The compiled audience SQL on real ClickHouse (chDB): table-driven cases per
 * condition type with hand-built people (OneID merges, events exactly on a
 * window's edge), and a property test that the SQL gives the same members as
 * the plain evaluator (`semantics.ts`) on random people and definitions.
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@cdp/core';
import { createClickHouseWarehouse, TABLES, type Warehouse } from '@cdp/warehouse';
import { fcParameters, tempDir, type TempDir } from '@cdp/testkit';
import { compileAudience } from './compile.js';
import { DAY_MS, HOUR_MS, evaluate, type PersonData } from './semantics.js';
import { storeWorld, type WorldPerson } from './test-world.js';
import type { Condition, EventMatch, PropertyTest, ValueTest } from './types.js';
import { validateAudience } from './validate.js';

const NOW = Date.parse('2025-06-01T00:00:00Z');
const ago = (days: number): number => NOW - days * DAY_MS;

let dir: TempDir;
let wh: Warehouse;

beforeAll(async () => {
  dir = await tempDir('cdp-audiences');
  wh = await createClickHouseWarehouse({
    dataDir: dir.join('ch'),
    logger: createLogger({ service: 'audiences-test', level: 'silent' }),
  });
  await wh.migrate();
}, 120_000);
afterAll(async () => {
  await wh?.close();
  await dir?.remove();
});

/** Members among the people of `prefix`, sorted, by the compiled SQL. */
async function members(c: Condition, prefix: string, now = NOW): Promise<string[]> {
  validateAudience({ conditions: c });
  const q = compileAudience(c, now, TABLES);
  const rows = await wh.query<{ person_id: string }>(
    `SELECT person_id FROM (${q.sql}) WHERE startsWith(person_id, {world_prefix:String}) ORDER BY person_id`,
    { ...q.params, world_prefix: prefix },
  );
  return rows.map((r) => r.person_id.slice(prefix.length));
}

/** Members by the evaluator. */
const expected = (
  c: Condition,
  seen: Map<string, PersonData>,
  prefix: string,
  now = NOW,
): string[] =>
  [...seen]
    .filter(([, p]) => evaluate(c, p, now))
    .map(([id]) => id.slice(prefix.length))
    .sort();

const buy = (
  days: number,
  props: Record<string, unknown> = {},
  stamp = 0,
): WorldPerson['events'][number] => ({
  event: 'Order Completed',
  ms: ago(days),
  properties: props,
  stamp,
});

interface Case {
  readonly name: string;
  readonly people: Record<string, WorldPerson>;
  readonly conditions: Condition;
  readonly members: string[];
}

const CASES: Case[] = [
  {
    name: 'performed within 7 days: an event exactly 7 days ago is in, one a millisecond earlier is not',
    people: {
      edge: { events: [buy(7)] },
      before: { events: [{ event: 'Order Completed', ms: ago(7) - 1 }] },
      now: { events: [buy(0)] },
      other: { events: [{ event: 'Cart Viewed', ms: ago(1) }] },
    },
    conditions: { performed: { event: 'Order Completed', within: { days: 7 } } },
    members: ['edge', 'now'],
  },
  {
    name: 'performed with a count and a property filter, counting a merged person once',
    people: {
      // Two buys of shoes under two ids that OneID merged: one person, count 2.
      merged: {
        merged: 1,
        events: [buy(1, { category: 'shoes' }, 0), buy(2, { category: 'shoes' }, 1)],
      },
      split: { events: [buy(1, { category: 'shoes' }), buy(2, { category: 'bags' })] },
    },
    conditions: {
      performed: {
        event: 'Order Completed',
        where: [{ property: 'category', op: 'eq', value: 'shoes' }],
        count: { op: 'gte', value: 2 },
      },
    },
    members: ['merged'],
  },
  {
    name: 'performed with a sum over a number property (strings do not count)',
    people: {
      big: { events: [buy(1, { revenue: 60 }), buy(3, { revenue: 50 })] },
      small: { events: [buy(1, { revenue: 60 }), buy(3, { revenue: '50' })] },
      none: { events: [buy(1, { revenue: 'a lot' })] },
    },
    conditions: {
      performed: {
        event: 'Order Completed',
        aggregate: { fn: 'sum', property: 'revenue', op: 'gt', value: 100 },
      },
    },
    members: ['big'],
  },
  {
    name: 'not performed: people who never bought, including those with no event of it at all',
    people: {
      buyer: { events: [buy(3)] },
      browser: { events: [{ event: 'Product Viewed', ms: ago(1) }] },
      oldBuyer: { events: [buy(40)] },
    },
    conditions: { not: { performed: { event: 'Order Completed', within: { days: 30 } } } },
    members: ['browser', 'oldBuyer'],
  },
  {
    name: 'trait of the latest identify call',
    people: {
      gold: {
        events: [
          { type: 'identify', ms: ago(5), traits: { plan: 'free' } },
          { type: 'identify', ms: ago(1), traits: { plan: 'gold', age: 41 } },
        ],
      },
      downgraded: {
        events: [
          { type: 'identify', ms: ago(5), traits: { plan: 'gold' } },
          { type: 'identify', ms: ago(1), traits: { plan: 'free' } },
        ],
      },
      anonymous: { events: [{ event: 'Product Viewed', ms: ago(1) }] },
    },
    conditions: { trait: { name: 'plan', op: 'eq', value: 'gold' } },
    members: ['gold'],
  },
  {
    name: 'tags: a named RFM group and a number tag above a value',
    people: {
      champion: { events: [buy(1)], tags: { rfm_group: 'Champions', churn_risk: '0.1' } },
      atRisk: { events: [buy(1)], tags: { rfm_group: 'Champions', churn_risk: '0.9' } },
      loyal: { events: [buy(1)], tags: { rfm_group: 'Loyal', churn_risk: '0.8' } },
    },
    conditions: {
      and: [
        { tag: { name: 'rfm_group', op: 'eq', value: 'Champions' } },
        { tag: { name: 'churn_risk', op: 'gt', value: 0.5 } },
      ],
    },
    members: ['atRisk'],
  },
  {
    name: 'tag contains: an item of a list tag',
    people: {
      shoes: { events: [buy(1)], tags: { interests: '["shoes","bags"]' } },
      socks: { events: [buy(1)], tags: { interests: '["shoelaces"]' } },
    },
    conditions: { tag: { name: 'interests', op: 'contains', value: 'shoes' } },
    members: ['shoes'],
  },
  {
    name: 'sequence: added to cart, then bought within a day, in that order',
    people: {
      converted: {
        events: [
          { event: 'Product Added', ms: ago(3) },
          { event: 'Order Completed', ms: ago(3) + 2 * HOUR_MS },
        ],
      },
      tooSlow: {
        events: [
          { event: 'Product Added', ms: ago(3) },
          { event: 'Order Completed', ms: ago(1) },
        ],
      },
      wrongOrder: {
        events: [
          { event: 'Order Completed', ms: ago(3) },
          { event: 'Product Added', ms: ago(3) + HOUR_MS },
        ],
      },
    },
    conditions: {
      sequence: {
        steps: [{ event: 'Product Added' }, { event: 'Order Completed' }],
        within: { days: 1 },
      },
    },
    members: ['converted'],
  },
  {
    name: 'sequence of the same event twice (a repeat purchase within 7 days)',
    people: {
      repeat: { events: [buy(10), buy(5)] },
      sameTime: { events: [buy(5), { event: 'Order Completed', ms: ago(5) }] },
      once: { events: [buy(2)] },
    },
    conditions: {
      sequence: {
        steps: [{ event: 'Order Completed' }, { event: 'Order Completed' }],
        within: { days: 7 },
      },
    },
    members: ['repeat'],
  },
  {
    name: 'first_time in the last 7 days',
    people: {
      newBuyer: { events: [buy(2), buy(1)] },
      repeat: { events: [buy(20), buy(1)] },
    },
    conditions: { first_time: { event: 'Order Completed', within: { days: 7 } } },
    members: ['newBuyer'],
  },
  {
    name: 'stopped: bought in the 30 days before the last 30, not since',
    people: {
      lapsed: { events: [buy(45)] },
      active: { events: [buy(45), buy(10)] },
      ancient: { events: [buy(90)] },
    },
    conditions: {
      stopped: { event: 'Order Completed', before: { days: 30 }, not_within: { days: 30 } },
    },
    members: ['lapsed'],
  },
  {
    name: 'restarted: bought again in the last 7 days after a 30-day gap',
    people: {
      back: { events: [buy(50), buy(2)] },
      steady: { events: [buy(20), buy(2)] },
      new: { events: [buy(2)] },
    },
    conditions: {
      restarted: {
        event: 'Order Completed',
        before: { days: 60 },
        gap: { days: 30 },
        within: { days: 7 },
      },
    },
    members: ['back'],
  },
  {
    name: 'identifier: a contactable id (email or phone), held under a merged id too',
    people: {
      email: { events: [buy(1)], identifierTypes: ['anonymous_id', 'email'], merged: 1 },
      phone: { events: [buy(1)], identifierTypes: ['phone'] },
      anon: { events: [buy(1)], identifierTypes: ['anonymous_id'] },
    },
    conditions: { identifier: { type: 'exists' } },
    members: ['email', 'phone'],
  },
  {
    name: 'in_list: on the stored list, not taken off it, held without events too',
    people: {
      on: { events: [buy(1)], lists: ['lk-a'] },
      quiet: { events: [], lists: ['lk-a', 'lk-b'] },
      left: { events: [buy(1)], leftLists: ['lk-a'] },
      other: { events: [buy(1)], lists: ['lk-b'] },
    },
    conditions: { in_list: 'lk-a' },
    members: ['on', 'quiet'],
  },
  {
    name: 'or / not mixed: champions, or anyone who did not buy in 30 days',
    people: {
      champion: { events: [buy(1)], tags: { rfm_group: 'Champions' } },
      lapsed: { events: [buy(40)] },
      recent: { events: [buy(1)], tags: { rfm_group: 'Loyal' } },
    },
    conditions: {
      or: [
        { tag: { name: 'rfm_group', op: 'eq', value: 'Champions' } },
        { not: { performed: { event: 'Order Completed', within: { days: 30 } } } },
      ],
    },
    members: ['champion', 'lapsed'],
  },
];

describe('compiled audiences on chDB', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const prefix = `${randomUUID().slice(0, 8)}-`;
      const seen = await storeWorld(wh, prefix, c.people);
      // The evaluator agrees with the hand-written answer, and the SQL with both.
      expect(expected(c.conditions, seen, prefix)).toEqual([...c.members].sort());
      expect(await members(c.conditions, prefix)).toEqual([...c.members].sort());
    });
  }

  it('a person who enters and exits between two runs: membership follows the time', async () => {
    const prefix = `${randomUUID().slice(0, 8)}-`;
    await storeWorld(wh, prefix, { p: { events: [{ event: 'Order Completed', ms: ago(2) }] } });
    const c: Condition = { performed: { event: 'Order Completed', within: { days: 7 } } };
    expect(await members(c, prefix)).toEqual(['p']);
    // Six days later the purchase has left the window.
    expect(await members(c, prefix, NOW + 6 * DAY_MS)).toEqual([]);
  });

  it('binds every value of the definition as a parameter', () => {
    const evil = "x') OR 1=1 --";
    const q = compileAudience(
      {
        and: [
          { trait: { name: evil, op: 'eq', value: evil } },
          { performed: { event: evil, where: [{ property: evil, op: 'contains', value: evil }] } },
          { tag: { name: evil, op: 'in', value: [evil] } },
        ],
      },
      NOW,
      TABLES,
    );
    expect(q.sql).not.toContain('OR 1=1');
    expect(Object.values(q.params)).toContain(evil);
  });
});

// ---------------------------------------------------------------------------
// Property: the SQL and the evaluator agree on random people and definitions.

const EVENTS = ['Order Completed', 'Product Added', 'Product Viewed'];
/** Offsets from NOW in ms, with windows' edges (7 and 30 days) exactly and a millisecond off. */
const OFFSETS = [
  0,
  1,
  HOUR_MS,
  DAY_MS,
  3 * DAY_MS,
  7 * DAY_MS - 1,
  7 * DAY_MS,
  7 * DAY_MS + 1,
  20 * DAY_MS,
  30 * DAY_MS,
  30 * DAY_MS + 1,
  45 * DAY_MS,
  70 * DAY_MS,
];

const propValue = fc.oneof(
  fc.constantFrom('shoes', 'bags', 'shoelaces', ''),
  fc.integer({ min: -5, max: 200 }),
  fc.constantFrom(0.5, 99.99),
  fc.boolean(),
  fc.constant(null),
  fc.constant(['shoes', 'sale']),
);
const props = fc.dictionary(fc.constantFrom('category', 'revenue', 'flag'), propValue, {
  maxKeys: 3,
});

const worldEvent = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      event: fc.constantFrom(...EVENTS),
      ms: fc.constantFrom(...OFFSETS).map((o) => NOW - o),
      properties: props,
      stamp: fc.integer({ min: 0, max: 1 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant('identify' as const),
      ms: fc.constantFrom(...OFFSETS).map((o) => NOW - o),
      traits: fc.dictionary(fc.constantFrom('plan', 'age', 'vip'), propValue, { maxKeys: 3 }),
      stamp: fc.integer({ min: 0, max: 1 }),
    }),
  },
);

const person: fc.Arbitrary<WorldPerson> = fc.record({
  events: fc.array(worldEvent, { minLength: 1, maxLength: 8 }),
  tags: fc.dictionary(
    fc.constantFrom('rfm_group', 'churn_risk', 'interests'),
    fc.constantFrom('Champions', 'Loyal', '0.2', '0.8', '3', '["shoes","bags"]', '[]', ''),
    { maxKeys: 3 },
  ),
  identifierTypes: fc.subarray(['anonymous_id', 'user_id', 'email', 'phone']),
  lists: fc.subarray(['lk-a', 'lk-b']),
  leftLists: fc.subarray(['lk-c']),
  merged: fc.integer({ min: 0, max: 1 }),
});

const valueTest = (numbers: boolean): fc.Arbitrary<ValueTest> =>
  fc.oneof(
    fc.record({ op: fc.constantFrom('exists', 'not_exists') }),
    fc.record({
      op: fc.constantFrom('eq', 'neq'),
      value: fc.oneof(
        fc.constantFrom('shoes', 'Champions', 'Loyal', '3'),
        fc.constantFrom(3, 50, 0.8),
        fc.boolean(),
      ),
    }),
    fc.record({
      op: fc.constantFrom('gt', 'gte', 'lt', 'lte'),
      value: fc.constantFrom(0, 0.5, 3, 50),
    }),
    fc.record({ op: fc.constant('between' as const), value: fc.constantFrom([0, 0.5], [1, 100]) }),
    fc.record({
      op: fc.constantFrom('in', 'not_in'),
      value: numbers
        ? fc.constantFrom(['shoes', 'Loyal'], [3, 50])
        : fc.constantFrom(['shoes', 'Loyal']),
    }),
    fc.record({
      op: fc.constant('contains' as const),
      value: fc.constantFrom('shoe', 'shoes', 'Cham'),
    }),
  );

const where: fc.Arbitrary<PropertyTest[]> = fc.array(
  fc
    .tuple(fc.constantFrom('category', 'revenue', 'flag'), valueTest(true))
    .map(([property, t]) => ({ ...t, property })),
  { maxLength: 2 },
);
const windowArb = fc.oneof(
  fc.record({ days: fc.constantFrom(1, 7, 30) }),
  fc.record({ hours: fc.constantFrom(1, 24) }),
  fc.constant({ from: '2025-05-01', to: '2025-05-25' }),
);
const match: fc.Arbitrary<EventMatch> = fc.record(
  { event: fc.constantFrom(...EVENTS), where },
  { requiredKeys: ['event'] },
);

const leaf: fc.Arbitrary<Condition> = fc.oneof(
  fc
    .tuple(fc.constantFrom('plan', 'age', 'vip'), valueTest(true))
    .map(([name, t]) => ({ trait: { ...t, name } })),
  fc
    .tuple(fc.constantFrom('rfm_group', 'churn_risk', 'interests'), valueTest(true))
    .map(([name, t]) => ({ tag: { ...t, name } })),
  fc
    .record(
      {
        event: fc.constantFrom(...EVENTS),
        where,
        within: windowArb,
        count: fc.record({
          op: fc.constantFrom('gte', 'eq', 'lt') as fc.Arbitrary<'gte'>,
          value: fc.integer({ min: 0, max: 3 }),
        }),
        aggregate: fc.record({
          fn: fc.constantFrom('sum', 'avg', 'min', 'max') as fc.Arbitrary<'sum'>,
          property: fc.constant('revenue'),
          op: fc.constantFrom('gt', 'lte') as fc.Arbitrary<'gt'>,
          value: fc.constantFrom(0, 50, 100),
        }),
      },
      { requiredKeys: ['event'] },
    )
    .map((performed) => ({ performed })),
  fc
    .record({
      steps: fc.array(match, { minLength: 2, maxLength: 3 }),
      within: fc.oneof(
        fc.record({ days: fc.constantFrom(1, 30) }),
        fc.record({ hours: fc.constant(2) }),
      ),
    })
    .map((sequence) => ({ sequence })),
  fc
    .record({ event: fc.constantFrom(...EVENTS), within: windowArb })
    .map((first_time) => ({ first_time })),
  fc
    .record({
      event: fc.constantFrom(...EVENTS),
      before: fc.record({ days: fc.constantFrom(10, 30) }),
      not_within: fc.record({ days: fc.constantFrom(7, 30) }),
    })
    .map((stopped) => ({ stopped })),
  fc
    .record({
      event: fc.constantFrom(...EVENTS),
      before: fc.record({ days: fc.constantFrom(10, 40) }),
      gap: fc.record({ days: fc.constantFrom(3, 10) }),
      within: fc.record({ days: fc.constantFrom(1, 7) }),
    })
    .map((restarted) => ({ restarted })),
  fc
    .record({ type: fc.constantFrom('exists', 'email', 'user_id') })
    .map((identifier) => ({ identifier })),
  fc.constantFrom('lk-a', 'lk-b', 'lk-c').map((in_list) => ({ in_list })),
);

const tree: fc.Arbitrary<Condition> = fc.letrec<{ c: Condition }>((tie) => ({
  c: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('c'), { minLength: 1, maxLength: 3 }).map((and) => ({ and })),
    fc.array(tie('c'), { minLength: 1, maxLength: 3 }).map((or) => ({ or })),
    tie('c').map((not) => ({ not })),
  ),
})).c;

describe('compiled audiences agree with the evaluator', () => {
  it('on random people and random definitions (nested and / or / not)', async () => {
    // Over all runs, definitions must select some people and leave out others
    // (a property that only ever compares empty sets would prove nothing).
    let chosen = 0;
    let left = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(fc.stringMatching(/^[a-z]{3}$/), person, { minKeys: 4, maxKeys: 12 }),
        fc.array(tree, { minLength: 3, maxLength: 3 }),
        async (people, defs) => {
          const prefix = `${randomUUID().slice(0, 8)}-`;
          const seen = await storeWorld(wh, prefix, people);
          for (const c of defs) {
            validateAudience({ conditions: c });
            const want = expected(c, seen, prefix);
            expect(await members(c, prefix), JSON.stringify(c)).toEqual(want);
            // Restricted to some of the people (as an incremental run
            // evaluates its candidates): the members among them, no one else.
            const some = [...seen.keys()].sort().filter((_, i) => i % 2 === 0);
            const q = compileAudience(c, NOW, TABLES, {
              persons: '(SELECT arrayJoin({only_ids:Array(String)}) AS person_id)',
            });
            const rows = await wh.query<{ person_id: string }>(
              `SELECT person_id FROM (${q.sql}) ORDER BY person_id`,
              { ...q.params, only_ids: some },
            );
            expect(
              rows.map((r) => r.person_id.slice(prefix.length)),
              `${JSON.stringify(c)} among ${some.length}`,
            ).toEqual(want.filter((id) => some.includes(`${prefix}${id}`)));
            chosen += want.length;
            left += seen.size - want.length;
          }
        },
      ),
      fcParameters({ numRuns: 40 }),
    );
    expect(chosen).toBeGreaterThan(0);
    expect(left).toBeGreaterThan(0);
  }, 180_000);
});
