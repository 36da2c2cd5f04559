import { describe, expect, it } from 'vitest';
import { collapseOverrides } from './store.js';

const row = (from: string, into: string) => ({ from_one_id: from, into_one_id: into });

describe('collapseOverrides', () => {
  it.each([
    [
      'already collapsed rows stay',
      [row('A', 'C'), row('B', 'C')],
      ['C'],
      [row('A', 'C'), row('B', 'C')],
    ],
    [
      'a chain whose last hop is loaded first is followed to its end',
      [row('A', 'B'), row('B', 'C')],
      ['C'],
      [row('A', 'C'), row('B', 'C')],
    ],
    ['rows that end at no live person are dropped', [row('A', 'B')], ['C'], []],
    ['a row pointing at itself is dropped', [row('A', 'A')], ['A'], []],
  ])('%s', (_name, rows, live, expected) => {
    expect(collapseOverrides(rows, new Set(live))).toEqual(expected);
  });

  it('stops on a cycle instead of looping', () => {
    expect(collapseOverrides([row('A', 'B'), row('B', 'A')], new Set(['C']))).toEqual([]);
  });
});
