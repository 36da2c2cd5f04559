import { describe, expect, it } from 'vitest';
import {
  createIdentityGraph,
  createIdentityRules,
  importIdentityGraph,
  type Identifier,
} from '@cdp/identity';
import { collapseGraph, collapseOverrides } from './store.js';

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

describe('collapseGraph: split blocks follow their persons through later merges and deletes', () => {
  const block = (a: string, b: string) => ({ one_id: a, other_one_id: b });

  it('moves a block to the person its end was merged into', () => {
    expect(collapseGraph([row('N', 'C')], [block('A', 'N')], new Set(['A', 'C']))).toEqual({
      overrides: [row('N', 'C')],
      blocks: [block('A', 'C')],
    });
  });

  it('drops a block whose end was deleted, or whose ends became one person', () => {
    expect(collapseGraph([], [block('A', 'N')], new Set(['A'])).blocks).toEqual([]);
    expect(collapseGraph([row('N', 'A')], [block('A', 'N')], new Set(['A'])).blocks).toEqual([]);
  });
});

describe('the graph survives a reload after split then merge, and split then delete', () => {
  const rules = createIdentityRules();
  const anon = (v: string): Identifier => ({ type: 'anonymous_id', value: v });

  it.each(['merge', 'delete'] as const)('split then %s', (then) => {
    const g = createIdentityGraph(rules);
    const a = g.resolve({ identifiers: [anon('x'), anon('y')], at: 1, kind: 'track' }).oneId ?? '';
    const c = g.resolve({ identifiers: [anon('z')], at: 0, kind: 'track' }).oneId ?? '';
    const split = g.split(a, [anon('y')], 2);
    if (!split.ok) throw new Error(split.reason);
    // The rows as the resolver persisted them: the block written at the split only.
    const blocksAtSplit = g.export().blocks;
    if (then === 'merge')
      g.resolve({ identifiers: [anon('y'), anon('z')], at: 3, kind: 'identify' });
    else g.delete(split.oneId, 3);
    const now = g.export();
    const reloaded = importIdentityGraph(
      {
        ...now,
        ...collapseGraph(
          now.overrides,
          blocksAtSplit,
          new Set(now.identities.map((r) => r.one_id)),
        ),
      },
      rules,
    );
    expect(reloaded.export()).toEqual(now);
    expect(c).not.toBe('');
  });
});
