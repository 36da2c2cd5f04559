import { describe, expect, it } from 'vitest';
import { attributeModel } from './attribute.js';
import { creditOf } from './credits.js';
import { isAttributionError } from './errors.js';
import { shapleyFromCoalitionValues } from './shapley-exact.js';
import type { PathRow } from './types.js';

const row = (path: string, conversions: number, nulls = 0, value = conversions): PathRow => ({
  path: path.split('>'),
  conversions,
  value,
  nulls,
});

describe('shapleyFromCoalitionValues', () => {
  it.each<[string, number, number[], number[]]>([
    // Glove game: player 0 holds a left glove, 1 and 2 right gloves; a pair is worth 1.
    ['glove game', 3, [0, 0, 0, 1, 0, 1, 0, 1], [2 / 3, 1 / 6, 1 / 6]],
    // Additive game: each player's value is its own worth.
    ['additive game', 2, [0, 3, 5, 8], [3, 5]],
    // Unanimity game on {0, 1} among 3 players: 1/2 each, player 2 is null.
    ['unanimity game', 3, [0, 0, 0, 6, 0, 0, 0, 6], [3, 3, 0]],
    ['no players', 0, [0], []],
  ])('%s', (_name, n, v, expected) => {
    const phi = shapleyFromCoalitionValues(n, v);
    expect(phi).toHaveLength(expected.length);
    expected.forEach((e, i) => expect(phi[i]).toBeCloseTo(e, 12));
  });

  it('refuses more than 20 players and a worth table of the wrong size', () => {
    for (const [n, len] of [
      [21, 1],
      [3, 7],
    ] as const) {
      try {
        shapleyFromCoalitionValues(n, new Float64Array(len));
        expect.unreachable();
      } catch (e) {
        expect(isAttributionError(e) && e.code).toBe('CDP_ERR_ATTRIBUTION_INVALID_OPTIONS');
      }
    }
  });
});

describe('exact Shapley over channel coalitions', () => {
  it.each<[string, PathRow[], Record<string, [number, number]>]>([
    [
      // v(A) = 1, v(B) = 0, v(AB) = 3: A = 1/2 (1 - 0) + 1/2 (3 - 0) = 2; B = 1/2 (0) + 1/2 (3 - 1) = 1.
      'two channels',
      [row('A>B', 2, 0, 20), row('A', 1, 5, 4)],
      { A: [2, 14], B: [1, 10] },
    ],
    [
      // Order and repeats do not matter: {A, B, C} paths split 3 ways; nulls play no part.
      'channel sets only',
      [row('A>B>A>C', 3, 9, 30), row('C>B>A', 3, 0, 0), row('D', 0, 7, 0)],
      { A: [2, 10], B: [2, 10], C: [2, 10], D: [0, 0] },
    ],
  ])('%s', (_name, rows, expected) => {
    const r = attributeModel(rows, 'shapley_exact');
    expect(r.shapley?.method).toBe('coalitions');
    for (const [channel, [conv, value]] of Object.entries(expected)) {
      expect(creditOf(r, channel).conversions).toBeCloseTo(conv, 12);
      expect(creditOf(r, channel).value).toBeCloseTo(value, 12);
    }
  });

  it('the coalition formula and its closed form agree on 12 channels', () => {
    let seed = 11;
    const rand = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    const channels = 'ABCDEFGHIJKL'.split('');
    const rows: PathRow[] = Array.from({ length: 500 }, () => {
      const path = Array.from(
        { length: 1 + Math.floor(rand() * 5) },
        () => channels[Math.floor(rand() * 12)] as string,
      );
      const conversions = Math.floor(rand() * 4);
      return { path, conversions, value: conversions * 25 * rand(), nulls: Math.floor(rand() * 3) };
    });
    const coalitions = attributeModel(rows, 'shapley_exact');
    const dividends = attributeModel(rows, { model: 'shapley_exact', maxCoalitionChannels: 0 });
    expect(coalitions.shapley).toEqual({ players: 12, method: 'coalitions' });
    expect(dividends.shapley).toEqual({ players: 12, method: 'dividends' });
    for (const c of channels) {
      expect(creditOf(coalitions, c).conversions).toBeCloseTo(
        creditOf(dividends, c).conversions,
        9,
      );
      expect(creditOf(coalitions, c).value).toBeCloseTo(creditOf(dividends, c).value, 8);
    }
  });

  it('falls back to the closed form above 16 converting channels', () => {
    const rows = Array.from({ length: 18 }, (_, i) => row(`C${i}>C${(i + 1) % 18}`, 1));
    const r = attributeModel(rows, 'shapley_exact');
    expect(r.shapley).toEqual({ players: 18, method: 'dividends' });
    for (const c of r.credits) expect(c.conversions).toBeCloseTo(1, 12);
  });
});
