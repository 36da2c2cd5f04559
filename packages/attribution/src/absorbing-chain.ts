import { AttributionError } from './errors.js';

/**
 * The transient part of an absorbing Markov chain, in compressed sparse rows:
 * state `s` moves to transient state `col[k]` with probability `prob[k]` for
 * `k` in `rowStart[s] .. rowStart[s+1]`; the rest of its probability goes to
 * the absorbing states (conversion or null).
 */
export interface TransientChain {
  readonly size: number;
  readonly rowStart: Int32Array;
  readonly col: Int32Array;
  readonly prob: Float64Array;
  /** Gauss–Seidel sweep order: states near absorption first converge fastest. */
  readonly sweepOrder: Int32Array;
}

/** How {@link solveAbsorption} solves; every setting has a default. */
export interface SolveSettings {
  /** Dense Gaussian elimination up to this many active states (default 200). */
  readonly denseMaxStates: number;
  /** Iterative stop: upper minus lower bound, relative to the bound's scale (default 1e-13). */
  readonly tolerance: number;
  /** Gauss–Seidel sweeps before giving up on the iterative solve (default 20,000). */
  readonly maxSweeps: number;
  /** If the iterative solve gives up, dense elimination up to this many states (default 2,000). */
  readonly denseFallbackMaxStates: number;
}

/** The defaults of {@link SolveSettings}. */
export const DEFAULT_SOLVE_SETTINGS: SolveSettings = {
  denseMaxStates: 200,
  tolerance: 1e-13,
  maxSweeps: 20_000,
  denseFallbackMaxStates: 2_000,
};

/** How a system was solved. */
export type SolveMethod = 'dense' | 'iterative';

/**
 * Solves `x = Q x + b` for each right-hand side `b` (the one-step absorption
 * reward of each state), i.e. the expected absorbed reward from each transient
 * state. States flagged in `removed` are treated as absorbing with reward 0
 * (transitions into them go to null).
 *
 * Small systems (`denseMaxStates`) use Gaussian elimination with partial
 * pivoting: exact up to rounding. Larger ones use Gauss–Seidel run twice, from
 * below (0, a sub-solution) and from above (a constant super-solution); for a
 * non-negative Q both iterates are monotone and bracket the unique solution,
 * so the stop rule `upper - lower <= tolerance * scale` on every state is a
 * guaranteed error bound, not a heuristic. The midpoint is returned.
 */
export function solveAbsorption(
  chain: TransientChain,
  rhs: readonly Float64Array[],
  removed: Uint8Array | undefined,
  settings: SolveSettings = DEFAULT_SOLVE_SETTINGS,
): { x: Float64Array[]; method: SolveMethod } {
  let active = 0;
  for (let s = 0; s < chain.size; s++) if (removed?.[s] !== 1) active++;
  if (active <= settings.denseMaxStates)
    return { x: solveDense(chain, rhs, removed), method: 'dense' };
  const x = solveBracketed(chain, rhs, removed, settings);
  if (x !== undefined) return { x, method: 'iterative' };
  if (active <= settings.denseFallbackMaxStates)
    return { x: solveDense(chain, rhs, removed), method: 'dense' };
  throw new AttributionError('CDP_ERR_ATTRIBUTION_NOT_CONVERGED', [], {
    message: `The Markov chain (${active} states) did not converge within ${settings.maxSweeps} sweeps and is too large for dense elimination`,
  });
}

function solveDense(
  chain: TransientChain,
  rhs: readonly Float64Array[],
  removed: Uint8Array | undefined,
): Float64Array[] {
  const pos = new Int32Array(chain.size).fill(-1);
  const states: number[] = [];
  for (let s = 0; s < chain.size; s++) {
    if (removed?.[s] === 1) continue;
    pos[s] = states.length;
    states.push(s);
  }
  const m = states.length;
  const r = rhs.length;
  // Augmented matrix [I - Q | B], row-major, width m + r.
  const w = m + r;
  const a = new Float64Array(m * w);
  for (let i = 0; i < m; i++) {
    const s = states[i] as number;
    a[i * w + i] = 1;
    for (let k = chain.rowStart[s] as number; k < (chain.rowStart[s + 1] as number); k++) {
      const j = pos[chain.col[k] as number] as number;
      if (j >= 0) a[i * w + j] = (a[i * w + j] as number) - (chain.prob[k] as number);
    }
    for (let c = 0; c < r; c++) a[i * w + m + c] = (rhs[c] as Float64Array)[s] as number;
  }
  for (let p = 0; p < m; p++) {
    let best = p;
    let bestAbs = Math.abs(a[p * w + p] as number);
    for (let i = p + 1; i < m; i++) {
      const v = Math.abs(a[i * w + p] as number);
      if (v > bestAbs) {
        best = i;
        bestAbs = v;
      }
    }
    if (best !== p) {
      for (let j = p; j < w; j++) {
        const t = a[p * w + j] as number;
        a[p * w + j] = a[best * w + j] as number;
        a[best * w + j] = t;
      }
    }
    const pivot = a[p * w + p] as number;
    for (let i = p + 1; i < m; i++) {
      const f = (a[i * w + p] as number) / pivot;
      if (f === 0) continue;
      for (let j = p; j < w; j++)
        a[i * w + j] = (a[i * w + j] as number) - f * (a[p * w + j] as number);
    }
  }
  const out = rhs.map(() => new Float64Array(chain.size));
  for (let c = 0; c < r; c++) {
    const x = out[c] as Float64Array;
    for (let i = m - 1; i >= 0; i--) {
      let v = a[i * w + m + c] as number;
      for (let j = i + 1; j < m; j++)
        v -= (a[i * w + j] as number) * (x[states[j] as number] as number);
      // Absorption rewards are non-negative; clip rounding noise below zero.
      x[states[i] as number] = Math.max(0, v / (a[i * w + i] as number));
    }
  }
  return out;
}

function solveBracketed(
  chain: TransientChain,
  rhs: readonly Float64Array[],
  removed: Uint8Array | undefined,
  settings: SolveSettings,
): Float64Array[] | undefined {
  const { size, rowStart, col, prob, sweepOrder } = chain;
  const r = rhs.length;
  // A constant u_c with b_c[s] <= u_c * exit_s for all s is a super-solution
  // (Q u + b <= u); exit_s is the one-step absorption probability, here
  // counting moves into removed states as absorption.
  const scale = new Float64Array(r);
  for (let s = 0; s < size; s++) {
    if (removed?.[s] === 1) continue;
    let stay = 0;
    for (let k = rowStart[s] as number; k < (rowStart[s + 1] as number); k++)
      if (removed?.[col[k] as number] !== 1) stay += prob[k] as number;
    const exit = Math.max(1 - stay, Number.MIN_VALUE);
    for (let c = 0; c < r; c++)
      scale[c] = Math.max(scale[c] as number, ((rhs[c] as Float64Array)[s] as number) / exit);
  }
  // Right-hand sides interleaved (index s * r + c): one pass over the edges serves all.
  const b = new Float64Array(size * r);
  const lower = new Float64Array(size * r);
  const upper = new Float64Array(size * r);
  const tol = new Float64Array(r);
  for (let c = 0; c < r; c++) tol[c] = settings.tolerance * (scale[c] as number);
  for (let s = 0; s < size; s++) {
    if (removed?.[s] === 1) continue;
    for (let c = 0; c < r; c++) {
      b[s * r + c] = (rhs[c] as Float64Array)[s] as number;
      upper[s * r + c] = scale[c] as number;
    }
  }
  const lo = new Float64Array(r);
  const hi = new Float64Array(r);
  let converged = false;
  for (let sweep = 0; sweep < settings.maxSweeps && !converged; sweep++) {
    converged = true;
    for (let o = 0; o < sweepOrder.length; o++) {
      const s = sweepOrder[o] as number;
      if (removed?.[s] === 1) continue;
      for (let c = 0; c < r; c++) lo[c] = hi[c] = b[s * r + c] as number;
      for (let k = rowStart[s] as number; k < (rowStart[s + 1] as number); k++) {
        const t = (col[k] as number) * r;
        const p = prob[k] as number;
        for (let c = 0; c < r; c++) {
          lo[c] = (lo[c] as number) + p * (lower[t + c] as number);
          hi[c] = (hi[c] as number) + p * (upper[t + c] as number);
        }
      }
      for (let c = 0; c < r; c++) {
        lower[s * r + c] = lo[c] as number;
        upper[s * r + c] = hi[c] as number;
        if ((hi[c] as number) - (lo[c] as number) > (tol[c] as number)) converged = false;
      }
    }
  }
  if (!converged) return undefined;
  return rhs.map((_, c) => {
    const x = new Float64Array(size);
    for (let s = 0; s < size; s++)
      x[s] = ((lower[s * r + c] as number) + (upper[s * r + c] as number)) / 2;
    return x;
  });
}
