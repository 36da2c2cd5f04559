import { describe, expect, it } from 'vitest';
import { attributeModel } from './attribute.js';
import type { ModelSpec } from './model-spec.js';
import {
  DEFAULT_HALF_LIFE_MS,
  firstTouchShares,
  lastNonDirectShares,
  lastTouchShares,
  linearShares,
  positionBasedShares,
  timeDecayShares,
} from './rule-based.js';
import type { PathRow, Touch } from './types.js';

const touches = (...channels: string[]): Touch[] => channels.map((channel) => ({ channel }));
const DAY = 24 * 60 * 60 * 1000;

describe('per-path share rules', () => {
  it.each<[string, number[], number[]]>([
    ['first touch, A > B > C', firstTouchShares(touches('A', 'B', 'C')), [1, 0, 0]],
    ['last touch, A > B > C', lastTouchShares(touches('A', 'B', 'C')), [0, 0, 1]],
    ['linear, A > B > C > D', linearShares(touches('A', 'B', 'C', 'D')), [0.25, 0.25, 0.25, 0.25]],
    ['last non-direct, A > Direct', lastNonDirectShares(touches('A', 'Direct')), [1, 0]],
    [
      'last non-direct, A > B > Direct > Direct',
      lastNonDirectShares(touches('A', 'B', 'Direct', 'Direct')),
      [0, 1, 0, 0],
    ],
    ['last non-direct, all direct', lastNonDirectShares(touches('Direct', 'Direct')), [0, 1]],
    [
      'last non-direct, custom direct name',
      lastNonDirectShares(touches('A', '(direct)'), '(direct)'),
      [1, 0],
    ],
    [
      'last non-direct, "Direct" not direct when renamed',
      lastNonDirectShares(touches('A', 'Direct'), '(direct)'),
      [0, 1],
    ],
    ['position based, one touch', positionBasedShares(touches('A')), [1]],
    ['position based, two touches', positionBasedShares(touches('A', 'B')), [0.5, 0.5]],
    ['position based, three touches', positionBasedShares(touches('A', 'B', 'C')), [0.4, 0.2, 0.4]],
    [
      'position based, five touches',
      positionBasedShares(touches('A', 'B', 'C', 'D', 'E')),
      [0.4, 0.2 / 3, 0.2 / 3, 0.2 / 3, 0.4],
    ],
    [
      'position based 30/40/30, four touches',
      positionBasedShares(touches('A', 'B', 'C', 'D'), { first: 0.3, middle: 0.4, last: 0.3 }),
      [0.3, 0.2, 0.2, 0.3],
    ],
    [
      'position based 20/40/40, two touches split first : last',
      positionBasedShares(touches('A', 'B'), { first: 0.2, middle: 0.4, last: 0.4 }),
      [1 / 3, 2 / 3],
    ],
    [
      'time decay: one half-life apart weighs 1 : 2',
      timeDecayShares([
        { channel: 'A', msBeforeConversion: 7 * DAY },
        { channel: 'B', msBeforeConversion: 0 },
      ]),
      [1 / 3, 2 / 3],
    ],
    [
      'time decay: 14, 7, 0 days weigh 1 : 2 : 4',
      timeDecayShares([
        { channel: 'A', msBeforeConversion: 14 * DAY },
        { channel: 'B', msBeforeConversion: 7 * DAY },
        { channel: 'C', msBeforeConversion: 0 },
      ]),
      [1 / 7, 2 / 7, 4 / 7],
    ],
    [
      'time decay with a 1-day half-life',
      timeDecayShares(
        [
          { channel: 'A', msBeforeConversion: 2 * DAY },
          { channel: 'B', msBeforeConversion: DAY },
        ],
        DAY,
      ),
      [1 / 3, 2 / 3],
    ],
    [
      'time decay: an unknown time takes the next later known one',
      timeDecayShares([
        { channel: 'A', msBeforeConversion: 14 * DAY },
        { channel: 'B' },
        { channel: 'C', msBeforeConversion: 7 * DAY },
      ]),
      [1 / 5, 2 / 5, 2 / 5],
    ],
    [
      'time decay: unknown times after the last known one count as 0',
      timeDecayShares([{ channel: 'A', msBeforeConversion: 7 * DAY }, { channel: 'B' }]),
      [1 / 3, 2 / 3],
    ],
    [
      'time decay: no times at all is linear',
      timeDecayShares(touches('A', 'B', 'C', 'D')),
      [0.25, 0.25, 0.25, 0.25],
    ],
    [
      'time decay: a year-old touch does not underflow to NaN',
      timeDecayShares([
        { channel: 'A', msBeforeConversion: 5000 * DEFAULT_HALF_LIFE_MS },
        { channel: 'B', msBeforeConversion: 4000 * DEFAULT_HALF_LIFE_MS },
      ]),
      [0, 1],
    ],
  ])('%s', (_name, actual, expected) => {
    expect(actual).toHaveLength(expected.length);
    actual.forEach((s, i) => expect(s).toBeCloseTo(expected[i] as number, 12));
  });
});

describe('rule-based models over rows', () => {
  const rows: PathRow[] = [
    // A > B > B > C converts twice for 100; A > C once for 30; B never.
    { path: ['A', 'B', 'B', 'C'], conversions: 2, value: 100, nulls: 1 },
    { path: ['A', 'C'], conversions: 1, value: 30, nulls: 0 },
    { path: ['B'], conversions: 0, value: 0, nulls: 5 },
    { path: ['Direct', 'A', 'Direct'], conversions: 1, value: 10, nulls: 0 },
  ];

  it.each<[ModelSpec, Record<string, [number, number]>]>([
    ['first_touch', { A: [3, 130], B: [0, 0], C: [0, 0], Direct: [1, 10] }],
    ['last_touch', { A: [0, 0], B: [0, 0], C: [3, 130], Direct: [1, 10] }],
    ['last_non_direct', { A: [1, 10], B: [0, 0], C: [3, 130], Direct: [0, 0] }],
    [
      { model: 'last_non_direct', directChannel: 'C' },
      { A: [1, 30], B: [2, 100], C: [0, 0], Direct: [1, 10] },
    ],
    // linear: A>B>B>C gives A 1/4, B 2/4, C 1/4 (per touch); A>C 1/2 each; D>A>D 1/3 each.
    [
      'linear',
      {
        A: [2 / 4 + 1 / 2 + 1 / 3, 25 + 15 + 10 / 3],
        B: [1, 50],
        C: [2 / 4 + 1 / 2, 25 + 15],
        Direct: [2 / 3, 20 / 3],
      },
    ],
    [
      { model: 'linear', transform: 'exposure' },
      {
        A: [2 / 3 + 1 / 2 + 1 / 3, 100 / 3 + 15 + 10 / 3],
        B: [2 / 3, 100 / 3],
        C: [2 / 3 + 1 / 2, 100 / 3 + 15],
        Direct: [2 / 3, 20 / 3],
      },
    ],
    // position based: A>B>B>C gives .4 / .1 / .1 / .4; A>C .5/.5; D>A>D .4/.2/.4.
    [
      'position_based',
      {
        A: [0.8 + 0.5 + 0.2, 40 + 15 + 2],
        B: [0.4, 20],
        C: [0.8 + 0.5, 40 + 15],
        Direct: [0.8, 8],
      },
    ],
    // no times given: time decay is linear.
    [
      'time_decay',
      {
        A: [2 / 4 + 1 / 2 + 1 / 3, 25 + 15 + 10 / 3],
        B: [1, 50],
        C: [1, 40],
        Direct: [2 / 3, 20 / 3],
      },
    ],
  ])('%j', (spec, expected) => {
    const result = attributeModel(rows, spec);
    expect(result.credits.map((c) => c.channel)).toEqual(['A', 'B', 'C', 'Direct']);
    for (const c of result.credits) {
      const [conv, value] = expected[c.channel] as [number, number];
      expect(c.conversions).toBeCloseTo(conv, 12);
      expect(c.value).toBeCloseTo(value, 10);
    }
  });

  it('time decay reads msBeforeConversion per touch', () => {
    const result = attributeModel(
      [
        {
          path: [
            { channel: 'Email', msBeforeConversion: 14 * DAY },
            { channel: 'Search', msBeforeConversion: 0 },
          ],
          conversions: 5,
          value: 50,
          nulls: 0,
        },
      ],
      { model: 'time_decay', halfLifeMs: 7 * DAY },
    );
    expect(result.credits).toEqual([
      { channel: 'Email', conversions: 1, value: 10 },
      { channel: 'Search', conversions: 4, value: 40 },
    ]);
  });
});
