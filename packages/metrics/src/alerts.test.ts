import { describe, expect, it } from 'vitest';
import {
  INITIAL_STATE,
  alertWindows,
  compareWindows,
  nextState,
  type AlertRule,
  type AlertState,
  type WindowValue,
} from './index.js';

const rule = (r: Partial<AlertRule> = {}): AlertRule => ({
  name: 'r',
  metric: 'conversion_rate',
  windowMinutes: 60,
  compare: 'previous',
  direction: 'down',
  change: 0.2,
  minVolume: 100,
  ...r,
});
const m = (entries: [string, number | null, number][]): Map<string, WindowValue> =>
  new Map(entries.map(([k, value, volume]) => [k, { value, volume }]));
const T = Date.parse('2026-11-02T12:00:30Z');

describe('alert windows', () => {
  it('end at the last whole minute; references shifted by the window, a week, or whole days', () => {
    const end = Date.parse('2026-11-02T12:00:00Z');
    expect(alertWindows(rule(), T)).toEqual({
      current: [end - 3_600_000, end],
      references: [[end - 7_200_000, end - 3_600_000]],
    });
    expect(alertWindows(rule({ compare: 'week_ago' }), T).references).toEqual([
      [end - 3_600_000 - 7 * 86_400_000, end - 7 * 86_400_000],
    ]);
    expect(
      alertWindows(rule({ compare: 'baseline', baselineWindows: 2 }), T).references.map(
        ([s]) => (end - 3_600_000 - s) / 86_400_000,
      ),
    ).toEqual([1, 2]);
    expect(
      alertWindows(rule({ compare: 'threshold', threshold: 0.1, change: undefined }), T).references,
    ).toEqual([]);
  });
});

describe('comparisons', () => {
  it('fire per key on a drop of at least `change` with enough volume on either side', () => {
    const r = rule({ breakdown: 'channel' });
    const res = compareWindows(
      r,
      m([
        ['Email', 0.19, 500],
        ['Paid', 0.1, 0],
        ['Small', 0.0, 10],
      ]),
      [
        m([
          ['Email', 0.2, 500],
          ['Paid', 0.25, 400],
          ['Small', 0.3, 20],
        ]),
      ],
    );
    expect(res.map((x) => [x.key, x.firing])).toEqual([
      ['Email', false],
      ['Paid', true],
      ['Small', false],
    ]);
    expect(res[1]).toMatchObject({ change: -0.6, volume: 400 });
  });
  it('a baseline is the mean of the references; a threshold compares the value itself', () => {
    const [b] = compareWindows(
      rule({ compare: 'baseline', baselineWindows: 2 }),
      m([['', 0.6, 200]]),
      [m([['', 1, 200]]), m([['', 0.6, 200]])],
    );
    expect(b).toMatchObject({ reference: 0.8, firing: true });
    const [t] = compareWindows(
      rule({ compare: 'threshold', threshold: 5, change: undefined, metric: 'uv', minVolume: 0 }),
      m([['', 3, 3]]),
      [],
    );
    expect(t).toMatchObject({ value: 3, reference: 5, firing: true });
    // From none to some is an unbounded rise: an "up" rule fires.
    const [fromZero] = compareWindows(
      rule({ direction: 'up', change: 0.5, metric: 'dead_letter_rate', minVolume: 0 }),
      m([['', 0.2, 50]]),
      [m([['', 0, 50]])],
    );
    expect(fromZero).toMatchObject({ change: Infinity, firing: true });
    const [up] = compareWindows(rule({ direction: 'up', change: 0.5 }), m([['', 1.6, 200]]), [
      m([['', 1, 200]]),
    ]);
    expect(up?.firing).toBe(true);
  });
});

describe('states', () => {
  it('fire once, stay firing while the value is not back, resolve after two clear evaluations: no flapping', () => {
    const r = rule();
    let s: AlertState = INITIAL_STATE;
    const seen: string[] = [];
    // Fired against 0.25; back means within half of 20% of it (>= 0.225): 0.22 and 0.15 are not, 0.24 and 0.25 are.
    const steps: [boolean, number][] = [
      [true, 0.1],
      [false, 0.22],
      [false, 0.15],
      [false, 0.24],
      [false, 0.25],
      [false, 0.25],
    ];
    steps.forEach(([firing, value], i) => {
      const n = nextState(
        r,
        s,
        { firing, clear: !firing, value, reference: i === 0 ? 0.25 : 0.2 },
        i,
      );
      if (n.transition) seen.push(`${i}:${n.transition.to}`);
      s = n.state;
    });
    expect(seen).toEqual(['0:firing', '4:resolved']);
    expect(
      nextState(r, s, { firing: true, clear: false, value: 0.1, reference: 0.25 }, 9).transition,
    ).toEqual({ from: 'resolved', to: 'firing' });
  });
});
