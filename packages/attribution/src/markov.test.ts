import { describe, expect, it } from 'vitest';
import { attributeModel } from './attribute.js';
import { creditOf } from './credits.js';
import type { MarkovSpec } from './model-spec.js';
import type { PathRow } from './types.js';

const row = (path: string, conversions: number, nulls = 0, value = conversions): PathRow => ({
  path: path.split('>'),
  conversions,
  value,
  nulls,
});

/** Credits of a Markov run as {channel: [conversions, value]}. */
function markov(rows: PathRow[], spec: Omit<MarkovSpec, 'model'> = {}) {
  const r = attributeModel(rows, { model: 'markov', ...spec });
  return {
    credits: Object.fromEntries(r.credits.map((c) => [c.channel, [c.conversions, c.value]])),
    diagnostics: r.markov,
  };
}

describe('Markov chain removal effect', () => {
  it("reproduces ChannelAttribution's vignette: A = 2, B = 1 (order 1)", () => {
    const { credits, diagnostics } = markov([
      row('A>B>A>B>B>A', 1),
      row('A>B>B>A>A', 1),
      row('A>A', 1),
    ]);
    expect(credits['A']?.[0]).toBeCloseTo(2, 9);
    expect(credits['B']?.[0]).toBeCloseTo(1, 9);
    // Collapsed: A>B>A>B>A, A>B>A, A. From A: B or conversion, 1/2 each; B always back to A.
    expect(diagnostics?.conversionProbability).toBeCloseTo(1, 12);
    expect(diagnostics?.removalEffects.map((r) => [r.channel, r.conversions])).toEqual([
      ['A', 1],
      ['B', 0.5],
    ]);
    expect(diagnostics?.states).toBe(2);
  });

  // Hand-computed cases. Each lists the expected credits [conversions, value].
  it.each<[string, PathRow[], Omit<MarkovSpec, 'model'>, Record<string, [number, number]>]>([
    [
      // start->A 4, start->B 4; A->B 2, A->null 2; B->conv 2, B->null 4.
      // x_B = 1/3, x_A = 1/6, P = 1/4; without A: P = 1/6 (RE 1/3); without B: 0 (RE 1).
      // Value rides only on B's conversions, so value splits 1 : 3 as well.
      'with nulls: RE(A) = 1/3, RE(B) = 1',
      [row('A>B', 1, 1, 10), row('B', 1, 3, 30), row('A', 0, 2, 0)],
      {},
      { A: [0.5, 10], B: [1.5, 30] },
    ],
    [
      // Collapsed: A>B>A>B>A, A>B>A, A. Order 2 states (A), (A,B), (B,A):
      // (A)->(A,B) 2/3, conv 1/3; (A,B)->(B,A) 1; (B,A)->(A,B) 1/3, conv 2/3.
      // P = 1; without B: 1/3 (RE 2/3); without A: 0 (RE 1). A = 3 * 1/(5/3).
      'order 2 on the vignette',
      [row('A>B>A>B>B>A', 1), row('A>B>B>A>A', 1), row('A>A', 1)],
      { order: 2 },
      { A: [1.8, 1.8], B: [1.2, 1.2] },
    ],
    [
      // Order 1 merges what order 2 keeps apart: after C, B converts; after A, it does not.
      // Order 2: start->(A) 1 ->(A,B) 1 -> null; start->(C) 1 -> (C,B) -> conv.
      // Removing A changes nothing (RE 0); removing B or C kills the conversion.
      'order 2 separates B after A from B after C',
      [row('A>B', 0, 1), row('C>B', 1, 0, 8)],
      { order: 2 },
      { A: [0, 0], B: [0.5, 4], C: [0.5, 4] },
    ],
    [
      // Order 1 on the same data: B converts half the time; P = 1/2.
      // Without A: start->A goes null, P = 1/2 * 1/2 = 1/4 (RE 1/2); B: RE 1; C: RE 1/2.
      'order 1 on the same data spreads credit to A',
      [row('A>B', 0, 1), row('C>B', 1, 0, 8)],
      {},
      { A: [0.25, 2], B: [0.5, 4], C: [0.25, 2] },
    ],
    [
      // Value follows the value of the conversions each state ends in.
      'single-touch paths: value follows each channel',
      [row('A', 1, 0, 100), row('B', 1, 0, 0)],
      {},
      { A: [1, 100], B: [1, 0] },
    ],
    ['no conversions: nothing to credit', [row('A>B', 0, 3, 0)], {}, { A: [0, 0], B: [0, 0] }],
  ])('%s', (_name, rows, spec, expected) => {
    const { credits } = markov(rows, spec);
    expect(Object.keys(credits).sort()).toEqual(Object.keys(expected).sort());
    for (const [channel, [conv, value]] of Object.entries(expected)) {
      expect(credits[channel]?.[0]).toBeCloseTo(conv, 12);
      expect(credits[channel]?.[1]).toBeCloseTo(value, 10);
    }
  });

  it('collapses repeats by default; with the unique transform order 1 gives the same answer', () => {
    const rows = [row('A>A>B', 1, 1), row('B>B>A', 1, 2), row('A', 0, 1)];
    const collapsed = markov(rows).credits;
    const raw = markov(rows, { transform: 'unique' }).credits;
    for (const c of ['A', 'B']) expect(raw[c]?.[0]).toBeCloseTo(collapsed[c]?.[0] as number, 12);
  });

  it('labels higher orders markov_order_k and reports the state count', () => {
    const r = attributeModel([row('A>B>C', 1), row('B>C', 1, 1)], { model: 'markov', order: 3 });
    expect(r.label).toBe('markov_order_3');
    // (A), (A,B), (A,B,C), (B), (B,C)
    expect(r.markov?.states).toBe(5);
    expect(r.markov?.order).toBe(3);
  });

  it('gives the same credits from the iterative solver as from elimination', () => {
    let seed = 7;
    const rand = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    const channels = ['A', 'B', 'C', 'D', 'E'];
    const rows: PathRow[] = [];
    for (let i = 0; i < 300; i++) {
      const len = 1 + Math.floor(rand() * 6);
      const path = Array.from(
        { length: len },
        () => channels[Math.floor(rand() * channels.length)] as string,
      );
      const conversions = Math.floor(rand() * 3);
      rows.push({
        path,
        conversions,
        value: conversions * 10 * rand(),
        nulls: Math.floor(rand() * 4),
      });
    }
    for (const order of [1, 2, 3]) {
      const dense = attributeModel(rows, { model: 'markov', order });
      const iterative = attributeModel(rows, {
        model: 'markov',
        order,
        solver: { denseMaxStates: 0 },
      });
      expect(dense.markov?.method).toBe('dense');
      expect(iterative.markov?.method).toBe('iterative');
      for (const c of channels) {
        expect(creditOf(iterative, c).conversions).toBeCloseTo(creditOf(dense, c).conversions, 10);
        expect(creditOf(iterative, c).value).toBeCloseTo(creditOf(dense, c).value, 8);
      }
    }
  });
});
