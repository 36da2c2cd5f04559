import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fcParameters } from '@cdp/testkit';
import { attribute } from './attribute.js';
import { MODEL_NAMES, type ModelSpec } from './model-spec.js';
import type { PathRow, Touch } from './types.js';

const CHANNELS = ['A', 'B', 'C', 'D', 'Direct'];
const DAY = 86_400_000;

const touch: fc.Arbitrary<Touch> = fc.record(
  {
    channel: fc.constantFrom(...CHANNELS),
    msBeforeConversion: fc.integer({ min: 0, max: 30 * DAY }),
  },
  { requiredKeys: ['channel'] },
);

// Whole or tenths: fractional counts, but no subnormal ones (a 1e-320 journey
// would give fractribution a full conversion rate for a path nobody took).
const counts = fc.oneof(
  fc.integer({ min: 0, max: 6 }),
  fc.integer({ min: 0, max: 60 }).map((n) => n / 10),
);

const pathRow = (maxTouches: number): fc.Arbitrary<PathRow> =>
  fc
    .record({
      path: fc.array(touch, { minLength: 1, maxLength: maxTouches }),
      conversions: counts,
      nulls: counts,
      valuePerConversion: fc.double({ min: 0, max: 500, noNaN: true }),
    })
    .map(({ valuePerConversion, ...r }) => ({ ...r, value: r.conversions * valuePerConversion }));

const rowsOf = (maxTouches: number) =>
  fc.array(pathRow(maxTouches), { minLength: 1, maxLength: 25 });

/** Every model, plus variants that exercise other code paths. */
const SPECS: readonly ModelSpec[] = [
  ...MODEL_NAMES,
  { model: 'markov', order: 2 },
  { model: 'markov', order: 3 },
  { model: 'markov', label: 'markov_iterative', solver: { denseMaxStates: 0 } },
  { model: 'markov', label: 'markov_unique', transform: 'unique', order: 2 },
  { model: 'shapley_simplified', label: 'shapley_unique', transform: 'unique' },
  { model: 'shapley_simplified', label: 'shapley_frequency', transform: 'frequency' },
  { model: 'shapley_simplified', label: 'shapley_retransform', retransformCounterfactuals: true },
  { model: 'shapley_exact', label: 'shapley_dividends', maxCoalitionChannels: 0 },
  {
    model: 'position_based',
    label: 'position_30_40_30',
    weights: { first: 0.3, middle: 0.4, last: 0.3 },
  },
  { model: 'time_decay', label: 'time_decay_1d', halfLifeMs: DAY },
  { model: 'linear', label: 'linear_first', transform: ['first', { lookbackSteps: 3 }] },
];

const close = (actual: number, expected: number): boolean =>
  Math.abs(actual - expected) <= 1e-6 * Math.max(1, Math.abs(expected));

describe('properties of every model', () => {
  it('credits sum to the total conversions and the total value, and are never negative', () => {
    fc.assert(
      fc.property(rowsOf(7), (rows) => {
        const r = attribute(rows, { models: SPECS });
        for (const m of r.models) {
          const conv = m.credits.reduce((a, c) => a + c.conversions, 0);
          const value = m.credits.reduce((a, c) => a + c.value, 0);
          expect(
            close(conv, r.totals.conversions),
            `${m.label}: ${conv} vs ${r.totals.conversions}`,
          ).toBe(true);
          expect(close(value, r.totals.value), `${m.label}: ${value} vs ${r.totals.value}`).toBe(
            true,
          );
          for (const c of m.credits) {
            expect(c.conversions, m.label).toBeGreaterThanOrEqual(0);
            expect(c.value, m.label).toBeGreaterThanOrEqual(0);
          }
        }
      }),
      fcParameters({ numRuns: 200 }),
    );
  });

  it('all models agree on single-touch paths: each channel gets its own conversions and value', () => {
    fc.assert(
      fc.property(rowsOf(1), (rows) => {
        const own = new Map<string, [number, number]>();
        for (const row of rows) {
          const t = row.path[0] as Touch;
          const [c, v] = own.get(t.channel) ?? [0, 0];
          own.set(t.channel, [c + row.conversions, v + row.value]);
        }
        const r = attribute(rows, { models: SPECS });
        for (const m of r.models) {
          for (const credit of m.credits) {
            const [c, v] = own.get(credit.channel) ?? [0, 0];
            expect(
              close(credit.conversions, c),
              `${m.label} ${credit.channel}: ${credit.conversions} vs ${c}`,
            ).toBe(true);
            expect(
              close(credit.value, v),
              `${m.label} ${credit.channel}: ${credit.value} vs ${v}`,
            ).toBe(true);
          }
        }
      }),
      fcParameters({ numRuns: 200 }),
    );
  });

  it('credits do not depend on how journeys are split over rows', () => {
    fc.assert(
      fc.property(rowsOf(5), (rows) => {
        // Each row split into two halves: aggregation must give the same answer.
        const halves = rows.flatMap((row) => [
          { ...row, conversions: row.conversions / 2, value: row.value / 2, nulls: row.nulls / 2 },
          { ...row, conversions: row.conversions / 2, value: row.value / 2, nulls: row.nulls / 2 },
        ]);
        const a = attribute(rows, { models: SPECS });
        const b = attribute(halves, { models: SPECS });
        a.models.forEach((m, i) => {
          m.credits.forEach((c, j) => {
            const other = b.models[i]?.credits[j];
            expect(close(other?.conversions ?? NaN, c.conversions), m.label).toBe(true);
            expect(close(other?.value ?? NaN, c.value), m.label).toBe(true);
          });
        });
      }),
      fcParameters({ numRuns: 100 }),
    );
  });
});
