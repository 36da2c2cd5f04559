import { describe, expect, it } from 'vitest';
import { compileAudience, movingWindows } from './compile.js';
import { DAY_MS } from './semantics.js';
import type { Condition } from './types.js';

const TABLES = {
  events: 'events',
  eventsByPerson: 'events_by_person',
  personTags: 'person_tags',
  identities: 'identities',
  personOverrides: 'person_overrides',
  audienceLists: 'audience_lists',
};
const T0 = Date.UTC(2026, 0, 10);
const bounds = (c: Condition, now: number): readonly number[] =>
  compileAudience(c, now, TABLES).bounds;

describe('movingWindows', () => {
  it('gives the span each sliding boundary swept between two times, once each', () => {
    const c: Condition = {
      and: [
        { performed: { event: 'A', within: { days: 7 } } },
        { not: { performed: { event: 'B', within: { days: 7 } } } },
        { stopped: { event: 'C', before: { days: 30 }, not_within: { days: 7 } } },
      ],
    };
    const later = T0 + 60_000;
    expect(movingWindows(bounds(c, T0), bounds(c, later))).toEqual([
      [T0 - 37 * DAY_MS, later - 37 * DAY_MS],
      [T0 - 7 * DAY_MS, later - 7 * DAY_MS],
      [T0, later],
    ]);
  });

  it('gives nothing for fixed windows and conditions without windows', () => {
    const c: Condition = {
      or: [
        { performed: { event: 'A', within: { from: '2025-01-01', to: '2025-02-01' } } },
        { sequence: { steps: [{ event: 'A' }, { event: 'B' }], within: { hours: 1 } } },
        { tag: { name: 'rfm_group', op: 'eq', value: 'Champions' } },
      ],
    };
    expect(movingWindows(bounds(c, T0), bounds(c, T0 + DAY_MS))).toEqual([]);
  });

  it('refuses bounds that do not pair up (two different definitions)', () => {
    const one: Condition = { performed: { event: 'A', within: { days: 7 } } };
    const two: Condition = { first_time: { event: 'A', within: { days: 7 } } };
    expect(movingWindows(bounds(one, T0), [...bounds(two, T0), T0])).toBeUndefined();
  });
});
