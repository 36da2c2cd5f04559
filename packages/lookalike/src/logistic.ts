import { Issues } from './errors.js';
import type { FeatureMatrix } from './encoding.js';

/**
 * L2-regularised logistic regression on a dense typed-array matrix, trained
 * by Newton's method (iteratively reweighted least squares) with Armijo
 * backtracking: minimises
 *
 *   (1/n) sum_i [ log(1 + e^{z_i}) - y_i z_i ] + (l2 / 2) |w|^2,  z_i = w.x_i + b
 *
 * (the intercept `b` is not penalised). Each iteration is one pass over the
 * training rows that accumulates the loss, the gradient and the Hessian
 * (only over each row's non-zero entries: one-hot columns are mostly zero,
 * so a row costs nnz^2 / 2, not d^2 / 2), then a Cholesky solve of the
 * (d + 1) x (d + 1) system. It stops when half the squared Newton decrement
 * (the predicted decrease of the loss) is below `tolerance`. No randomness,
 * a fixed order of every sum: the same rows give the same model, bit for bit.
 *
 * Why not a library: `ml-logistic-regression` 2.0.0 (mljs, on `ml-matrix`)
 * was measured on this machine (2 cores) first. It trains by plain gradient
 * steps with a fixed learning rate (default 50,000 steps), with no intercept
 * and no regularisation, and its two-class case trains two one-vs-all
 * models. On 200,000 x 40 one step of one model took 366 ms (so the default
 * run would take hours); at 1,000,000 x 40 the `ml-matrix` copy alone held
 * 740 MB and a step took 3.8 s. This solver converges in about ten passes
 * (well under a second on 200,000 rows).
 */

export interface TrainOptions {
  /** L2 penalty on the weights (not the intercept), per the mean loss (default 1e-3). */
  readonly l2?: number;
  /** Most Newton iterations (default 50). */
  readonly maxIterations?: number;
  /** Stop when the predicted decrease of the loss is below this (default 1e-10). */
  readonly tolerance?: number;
}

export const DEFAULT_TRAIN_OPTIONS = {
  l2: 1e-3,
  maxIterations: 50,
  tolerance: 1e-10,
} as const satisfies Required<TrainOptions>;

/** A trained model: the log-odds of a row are `intercept + weights . row`. */
export interface LogisticModel {
  /** One weight per matrix column (standardised features: comparable sizes). */
  readonly weights: Float64Array;
  readonly intercept: number;
  /** Newton iterations run. */
  readonly iterations: number;
  /** Whether the stopping rule was met (false: `maxIterations` or no more descent). */
  readonly converged: boolean;
  /** The regularised mean loss at the end. */
  readonly loss: number;
}

interface PassResult {
  loss: number;
  grad: Float64Array;
  /** Upper triangle, row-major (D x D, D = cols + 1, the intercept last). */
  hess: Float64Array;
}

/** Stable log(1 + e^z). */
const softplus = (z: number): number =>
  z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));

function pass(
  m: FeatureMatrix,
  rows: Int32Array,
  labels: Uint8Array,
  w: Float64Array,
  b: number,
  l2: number,
): PassResult {
  const d = m.cols;
  const D = d + 1;
  const data = m.data;
  const grad = new Float64Array(D);
  const hess = new Float64Array(D * D);
  const idx = new Int32Array(d);
  const val = new Float64Array(d);
  let loss = 0;
  for (let r = 0; r < rows.length; r++) {
    const off = (rows[r] as number) * d;
    const y = labels[r] as number;
    let nnz = 0;
    let z = b;
    for (let j = 0; j < d; j++) {
      const v = data[off + j] as number;
      if (v !== 0) {
        idx[nnz] = j;
        val[nnz] = v;
        nnz++;
        z += (w[j] as number) * v;
      }
    }
    loss += softplus(z) - y * z;
    const p = 1 / (1 + Math.exp(-z));
    const g = p - y;
    const h = p * (1 - p);
    for (let a = 0; a < nnz; a++) {
      const ia = idx[a] as number;
      const va = val[a] as number;
      grad[ia] = (grad[ia] as number) + g * va;
      const hv = h * va;
      const rowOff = ia * D;
      // idx is ascending, so (ia, idx[c]) for c >= a is the upper triangle.
      for (let c = a; c < nnz; c++) {
        const k = rowOff + (idx[c] as number);
        hess[k] = (hess[k] as number) + hv * (val[c] as number);
      }
      hess[rowOff + d] = (hess[rowOff + d] as number) + hv;
    }
    grad[d] = (grad[d] as number) + g;
    hess[d * D + d] = (hess[d * D + d] as number) + h;
  }
  const inv = 1 / rows.length;
  let wsq = 0;
  for (let j = 0; j < d; j++) wsq += (w[j] as number) ** 2;
  for (let i = 0; i < D * D; i++) hess[i] = (hess[i] as number) * inv;
  for (let j = 0; j < D; j++) {
    grad[j] = (grad[j] as number) * inv + (j < d ? l2 * (w[j] as number) : 0);
    // A tiny ridge on the intercept keeps the system positive definite.
    hess[j * D + j] = (hess[j * D + j] as number) + (j < d ? l2 : 1e-12);
  }
  return { loss: loss * inv + (l2 / 2) * wsq, grad, hess };
}

/**
 * Solves H x = rhs for a symmetric positive definite H given by its upper
 * triangle (row-major, n x n), by Cholesky. Adds a growing ridge when H is
 * not numerically positive definite.
 */
export function solveSpd(upper: Float64Array, rhs: Float64Array, n: number): Float64Array {
  for (let ridge = 0; ; ridge = ridge === 0 ? 1e-10 : ridge * 100) {
    const L = new Float64Array(n * n);
    let ok = true;
    for (let j = 0; j < n && ok; j++) {
      let s = (upper[j * n + j] as number) + ridge;
      for (let k = 0; k < j; k++) s -= (L[j * n + k] as number) ** 2;
      if (!(s > 0)) {
        ok = false;
        break;
      }
      const ljj = Math.sqrt(s);
      L[j * n + j] = ljj;
      for (let i = j + 1; i < n; i++) {
        let t = upper[j * n + i] as number;
        for (let k = 0; k < j; k++) t -= (L[i * n + k] as number) * (L[j * n + k] as number);
        L[i * n + j] = t / ljj;
      }
    }
    if (!ok) {
      if (ridge > 1e6) throw new Error('solveSpd: the system is not positive definite');
      continue;
    }
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let t = rhs[i] as number;
      for (let k = 0; k < i; k++) t -= (L[i * n + k] as number) * (y[k] as number);
      y[i] = t / (L[i * n + i] as number);
    }
    const x = new Float64Array(n);
    for (let i = n - 1; i >= 0; i--) {
      let t = y[i] as number;
      for (let k = i + 1; k < n; k++) t -= (L[k * n + i] as number) * (x[k] as number);
      x[i] = t / (L[i * n + i] as number);
    }
    return x;
  }
}

/**
 * Trains on the matrix rows `rows` with labels `labels[r]` (1: seed, 0:
 * population) for `rows[r]`. Both classes must be present.
 */
export function trainLogistic(
  m: FeatureMatrix,
  rows: Int32Array,
  labels: Uint8Array,
  opts: TrainOptions = {},
): LogisticModel {
  const l2 = opts.l2 ?? DEFAULT_TRAIN_OPTIONS.l2;
  const maxIterations = opts.maxIterations ?? DEFAULT_TRAIN_OPTIONS.maxIterations;
  const tolerance = opts.tolerance ?? DEFAULT_TRAIN_OPTIONS.tolerance;
  const issues = new Issues();
  if (!(Number.isFinite(l2) && l2 > 0)) issues.add('train.l2', 'must be a number above 0');
  if (!(Number.isInteger(maxIterations) && maxIterations >= 1))
    issues.add('train.maxIterations', 'must be an integer of 1 or more');
  if (!(Number.isFinite(tolerance) && tolerance > 0))
    issues.add('train.tolerance', 'must be a number above 0');
  if (rows.length !== labels.length) issues.add('labels', 'must have one label per row');
  let positives = 0;
  for (const y of labels) positives += y === 1 ? 1 : 0;
  if (positives === 0 || positives === labels.length)
    issues.add('labels', 'need rows of both classes');
  issues.throwIfAny();

  const d = m.cols;
  const D = d + 1;
  let w = new Float64Array(d);
  // Start from the base rate: the intercept-only optimum.
  const rate = positives / labels.length;
  let b = Math.log(rate / (1 - rate));
  let state = pass(m, rows, labels, w, b, l2);
  let iterations = 0;
  let converged = false;
  while (iterations < maxIterations) {
    iterations++;
    const neg = new Float64Array(D);
    for (let j = 0; j < D; j++) neg[j] = -(state.grad[j] as number);
    const step = solveSpd(state.hess, neg, D);
    let slope = 0;
    for (let j = 0; j < D; j++) slope += (state.grad[j] as number) * (step[j] as number);
    if (-slope / 2 < tolerance) {
      converged = true;
      break;
    }
    let t = 1;
    let accepted = false;
    while (t > 1e-10) {
      const w2 = new Float64Array(d);
      for (let j = 0; j < d; j++) w2[j] = (w[j] as number) + t * (step[j] as number);
      const b2 = b + t * (step[d] as number);
      const next = pass(m, rows, labels, w2, b2, l2);
      if (next.loss <= state.loss + 1e-4 * t * slope) {
        w = w2;
        b = b2;
        state = next;
        accepted = true;
        break;
      }
      t /= 2;
    }
    // No step decreases the loss any more: as good as float64 allows.
    if (!accepted) break;
  }
  return { weights: w, intercept: b, iterations, converged, loss: state.loss };
}

/** The log-odds of every row of `m` (one pass over the matrix). */
export function scoreRows(m: FeatureMatrix, model: LogisticModel): Float64Array {
  const d = m.cols;
  const data = m.data;
  const w = model.weights;
  const out = new Float64Array(m.rows);
  for (let i = 0, off = 0; i < m.rows; i++, off += d) {
    let z = model.intercept;
    for (let j = 0; j < d; j++) z += (w[j] as number) * (data[off + j] as number);
    out[i] = z;
  }
  return out;
}
