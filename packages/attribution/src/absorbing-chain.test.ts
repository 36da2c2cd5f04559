import { describe, expect, it } from 'vitest';
import { DEFAULT_SOLVE_SETTINGS, solveAbsorption, type TransientChain } from './absorbing-chain.js';
import { isAttributionError } from './errors.js';

/** A chain from a dense transition list between transient states. */
function chain(size: number, edges: [number, number, number][]): TransientChain {
  const rows = Array.from({ length: size }, (_, s) => edges.filter(([from]) => from === s));
  const rowStart = new Int32Array(size + 1);
  const col: number[] = [];
  const prob: number[] = [];
  rows.forEach((r, s) => {
    rowStart[s] = col.length;
    for (const [, to, p] of r) {
      col.push(to);
      prob.push(p);
    }
  });
  rowStart[size] = col.length;
  return {
    size,
    rowStart,
    col: Int32Array.from(col),
    prob: Float64Array.from(prob),
    sweepOrder: Int32Array.from({ length: size }, (_, i) => size - 1 - i),
  };
}

// Gambler's ruin on 0..4 with p = 0.4 up: the chance of reaching 4 from i is
// (1 - (q/p)^i) / (1 - (q/p)^4). Transient states 1..3 are indices 0..2.
const ruin = chain(3, [
  [0, 1, 0.4],
  [1, 0, 0.6],
  [1, 2, 0.4],
  [2, 1, 0.6],
]);
const winAtTop = Float64Array.from([0, 0, 0.4]);
const r = 0.6 / 0.4;
const exact = [1, 2, 3].map((i) => (1 - r ** i) / (1 - r ** 4));

describe('solveAbsorption', () => {
  it.each([
    ['dense', DEFAULT_SOLVE_SETTINGS],
    ['iterative', { ...DEFAULT_SOLVE_SETTINGS, denseMaxStates: 0 }],
  ] as const)('solves gambler’s ruin (%s)', (method, settings) => {
    const { x, method: used } = solveAbsorption(ruin, [winAtTop], undefined, settings);
    expect(used).toBe(method);
    exact.forEach((e, i) => expect(x[0]?.[i]).toBeCloseTo(e, 13));
  });

  it('treats removed states as absorbing with reward 0', () => {
    // Removing state 2 (wealth 3) leaves no way to win.
    const { x } = solveAbsorption(ruin, [winAtTop], Uint8Array.from([0, 0, 1]));
    expect(Array.from(x[0] ?? [])).toEqual([0, 0, 0]);
  });

  it('falls back to elimination when the iterations run out, or says why it cannot', () => {
    const slow = { ...DEFAULT_SOLVE_SETTINGS, denseMaxStates: 0, maxSweeps: 1 };
    expect(solveAbsorption(ruin, [winAtTop], undefined, slow).method).toBe('dense');
    try {
      solveAbsorption(ruin, [winAtTop], undefined, { ...slow, denseFallbackMaxStates: 0 });
      expect.unreachable();
    } catch (e) {
      expect(isAttributionError(e) && e.code).toBe('CDP_ERR_ATTRIBUTION_NOT_CONVERGED');
    }
  });
});
