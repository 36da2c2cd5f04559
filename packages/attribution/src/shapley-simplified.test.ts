import { describe, expect, it } from 'vitest';
import { attributeModel } from './attribute.js';
import type { SimplifiedShapleySpec } from './model-spec.js';
import { simplifiedShapleyPaths } from './shapley-simplified.js';
import type { PathRow } from './types.js';

const row = (path: string, conversions: number, nulls: number, value = conversions): PathRow => ({
  path: path.split('>'),
  conversions,
  value,
  nulls,
});

describe('simplified (leave-one-out) Shapley, as fractribution', () => {
  // Each case lists expected credits per channel [conversions, value], hand-computed.
  it.each<
    [string, PathRow[], Omit<SimplifiedShapleySpec, 'model'>, Record<string, [number, number]>]
  >([
    [
      // r(A>B) = 1/2; without A: r(B) = 1/4 -> 1/4; without B: r(A) = 0 -> 1/2. Shares 1/3, 2/3.
      'two touches, both seen alone',
      [row('A>B', 1, 1, 30), row('B', 1, 3, 40), row('A', 0, 2, 0)],
      {},
      { A: [1 / 3, 10], B: [1 + 2 / 3, 20 + 40] },
    ],
    [
      // r(A>B) = 1/4 < r(B) = 1/2: A's contribution floors at 0, B gets 100%.
      'negative contributions floor at 0',
      [row('A>B', 1, 3), row('B', 1, 1), row('A', 0, 4)],
      {},
      { A: [0, 0], B: [2, 2] },
    ],
    [
      // r(A>B) = 1/2 <= r(A) = r(B) = 1: every contribution is 0, so last touch takes 100%.
      'all contributions 0: last touch',
      [row('A>B', 1, 1), row('A', 2, 0), row('B', 1, 0)],
      {},
      { A: [2, 2], B: [2, 2] },
    ],
    [
      // Exposure path A>B>A (r = 1/2). Without the first A: B>A (r 0) -> 1/2; without B:
      // A>A, never emitted by exposure, so r 0 -> 1/2; without the last A: A>B (r 0) -> 1/2.
      // Shares 1/3 per touch; A has two touches: 2/3. Plus path A (r 1/4) -> A 100%.
      'counterfactuals are not re-transformed (fractribution)',
      [row('A>B>A', 1, 1), row('A', 1, 3), row('B>A', 0, 1), row('A>B', 0, 1)],
      {},
      { A: [1 + 2 / 3, 1 + 2 / 3], B: [1 / 3, 1 / 3] },
    ],
    [
      // Same data, re-transformed: A>A becomes A (r 1/4), so B contributes 1/4:
      // m = [1/2, 1/4, 1/2], shares A 4/5, B 1/5.
      'counterfactuals re-transformed on request',
      [row('A>B>A', 1, 1), row('A', 1, 3), row('B>A', 0, 1), row('A>B', 0, 1)],
      { retransformCounterfactuals: true },
      { A: [1.8, 1.8], B: [0.2, 0.2] },
    ],
    [
      // Exposure first: A>A>B and A>B are one path (2 conversions, 2 nulls, r 1/2).
      // Without A: B, unseen -> 1/2; without B: r(A) = 1/2 -> 0. A takes 100%.
      'rows are aggregated by transformed path first',
      [row('A>A>B', 1, 1, 5), row('A>B', 1, 1, 7), row('A', 1, 1, 3)],
      {},
      { A: [3, 15], B: [0, 0] },
    ],
    [
      // Unique: A>A>B is its own path (r 1/2). Without the first A: A>B (r 1/2) -> 0;
      // without the second A: A>B -> 0; without B: A>A, unseen -> 1/2. B takes 100%.
      // A>B: without A, B unseen -> 1/2; without B, r(A) = 0 -> 1/2. Half each.
      'the unique transform keeps repeats',
      [row('A>A>B', 1, 1), row('A>B', 1, 1), row('A', 0, 1)],
      { transform: 'unique' },
      { A: [0.5, 0.5], B: [1.5, 1.5] },
    ],
    [
      // Frequency: A>B>A is A(2)>B(1) (r 1); credit to A(2) goes to channel A.
      // Without A(2): B(1), r 1/2 -> 1/2; without B(1): A(2), r 0 -> 1. A 1/3, B 2/3.
      'frequency labels are credited to their channel',
      [row('A>B>A', 1, 0), row('B', 1, 1), row('A>A', 0, 3)],
      { transform: 'frequency' },
      { A: [1 / 3, 1 / 3], B: [1 + 2 / 3, 1 + 2 / 3] },
    ],
  ])('%s', (_name, rows, spec, expected) => {
    const r = attributeModel(rows, { model: 'shapley_simplified', ...spec });
    expect(r.credits.map((c) => c.channel)).toEqual(Object.keys(expected).sort());
    for (const c of r.credits) {
      const [conv, value] = expected[c.channel] as [number, number];
      expect(c.conversions).toBeCloseTo(conv, 12);
      expect(c.value).toBeCloseTo(value, 12);
    }
  });

  it('lists per-path shares, per channel, for every transformed path', () => {
    const paths = simplifiedShapleyPaths([row('A>B>A', 1, 1), row('A', 1, 3), row('C>A', 0, 2)]);
    expect(paths).toEqual([
      {
        path: ['A', 'B', 'A'],
        conversions: 1,
        nulls: 1,
        value: 1,
        conversionRate: 0.5,
        shares: [
          { channel: 'A', share: 2 / 3 },
          { channel: 'B', share: 1 / 3 },
        ],
      },
      {
        path: ['A'],
        conversions: 1,
        nulls: 3,
        value: 1,
        conversionRate: 0.25,
        shares: [{ channel: 'A', share: 1 }],
      },
      {
        path: ['C', 'A'],
        conversions: 0,
        nulls: 2,
        value: 0,
        conversionRate: 0,
        shares: [
          { channel: 'C', share: 0 },
          { channel: 'A', share: 1 },
        ],
      },
    ]);
  });
});
