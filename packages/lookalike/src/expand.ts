import { Issues } from './errors.js';
import { encodeFeatures, fitEncoding, type Encoding } from './encoding.js';
import { trainLogistic, scoreRows, type LogisticModel, type TrainOptions } from './logistic.js';
import { createPrng, sampleSorted } from './prng.js';
import type { RawFeatures } from './raw-features.js';

/**
 * Lookalike expansion, the way ad platforms describe theirs and the
 * positive-unlabelled literature frames it (Elkan & Noto, 2008: a classifier
 * of "labelled" against "unlabelled" ranks the unlabelled by their chance of
 * being positive in the same order as the true classifier would): a logistic
 * model of the seed (label 1) against a uniform sample of the eligible
 * population (label 0), trained on every person's features, then every
 * eligible person ranked by the model's log-odds, and the top `ratio` of
 * them selected.
 *
 * Deterministic: the sample comes from a seeded generator (`seed`), the
 * solver has no randomness, and ties in the ranking go to the lower row.
 * Rows are whatever the caller numbered its people by; ordering people by
 * id before building the features makes the result independent of how the
 * warehouse returned them.
 */

export interface ExpandOptions {
  /** The share of the eligible people to select, in (0, 1] (a platform's "1%-10%"). */
  readonly ratio: number;
  /** Seeds the population sample (default 1). Same seed, same data: same answer. */
  readonly seed?: number;
  /** Most seed rows trained on (a uniform sample beyond; default 100,000). */
  readonly maxSeedRows?: number;
  /**
   * Population rows trained on, sampled uniformly from the eligible (default:
   * 4 per seed row, at least 50,000, at most 200,000 and the eligible count).
   */
  readonly populationRows?: number;
  readonly train?: TrainOptions;
  /** Rows encoded and scored at a time (bounds the memory of scoring; default 65,536). */
  readonly chunkRows?: number;
}

export interface ExpandInput {
  /** Everyone's features: the seed and the eligible are row indexes of it. */
  readonly features: RawFeatures;
  /** The seed's rows. */
  readonly seed: Int32Array;
  /** The rows that may be selected; seed rows among them are left out. */
  readonly eligible: Int32Array;
}

export interface Expansion {
  /** The selected rows, best first. */
  readonly selected: Int32Array;
  /** Their log-odds under the model, in the same order. */
  readonly scores: Float64Array;
  /** How many eligible people were ranked (seed rows left out). */
  readonly eligible: number;
  readonly model: LogisticModel;
  readonly encoding: Encoding;
  readonly training: { readonly seedRows: number; readonly populationRows: number };
  /** The model's largest weights by size: what makes someone look like the seed. */
  readonly topWeights: readonly { readonly column: string; readonly weight: number }[];
}

export const DEFAULT_EXPAND_OPTIONS = {
  seed: 1,
  maxSeedRows: 100_000,
  chunkRows: 65_536,
} as const;
/** The fewest seed rows a model is trained from. */
export const MIN_SEED_ROWS = 10;

/** Checks the input once; every problem is reported together. Returns the eligible rows, sorted, without the seed. */
function checkInput(
  input: ExpandInput,
  opts: ExpandOptions,
): { seed: Int32Array; eligible: Int32Array } {
  const issues = new Issues();
  const n = input.features.size;
  const r = opts.ratio;
  if (!(typeof r === 'number' && Number.isFinite(r) && r > 0 && r <= 1))
    issues.add('ratio', 'must be a number above 0 and at most 1');
  if (opts.seed !== undefined && !Number.isSafeInteger(opts.seed))
    issues.add('seed', 'must be an integer');
  for (const [k, v] of [
    ['maxSeedRows', opts.maxSeedRows],
    ['populationRows', opts.populationRows],
    ['chunkRows', opts.chunkRows],
  ] as const)
    if (v !== undefined && !(Number.isInteger(v) && v >= 1))
      issues.add(k, 'must be an integer of 1 or more');
  const inSeed = new Uint8Array(n);
  let seedCount = 0;
  input.seed.forEach((row, i) => {
    if (!(row >= 0 && row < n)) issues.add(`seed[${i}]`, `must be a row from 0 to ${n - 1}`);
    else if (inSeed[row] === 0) {
      inSeed[row] = 1;
      seedCount++;
    }
  });
  if (seedCount < MIN_SEED_ROWS)
    issues.add('seed', `needs at least ${MIN_SEED_ROWS} people (has ${seedCount})`);
  const mark = new Uint8Array(n);
  let eligibleCount = 0;
  input.eligible.forEach((row, i) => {
    if (!(row >= 0 && row < n)) issues.add(`eligible[${i}]`, `must be a row from 0 to ${n - 1}`);
    else if (inSeed[row] === 0 && mark[row] === 0) {
      mark[row] = 1;
      eligibleCount++;
    }
  });
  if (eligibleCount === 0) issues.add('eligible', 'no one outside the seed is eligible');
  issues.throwIfAny();
  const seed = new Int32Array(seedCount);
  const eligible = new Int32Array(eligibleCount);
  for (let i = 0, s = 0, e = 0; i < n; i++) {
    if (inSeed[i] === 1) seed[s++] = i;
    if (mark[i] === 1) eligible[e++] = i;
  }
  return { seed, eligible };
}

/** The `k` highest scores' positions (ties: the lower position), best first. */
export function topK(scores: Float64Array, k: number): Int32Array {
  const n = scores.length;
  if (k <= 0) return new Int32Array(0);
  if (k > n) k = n;
  const sorted = scores.slice().sort();
  const threshold = sorted[n - k] as number;
  let above = 0;
  for (let i = 0; i < n; i++) if ((scores[i] as number) > threshold) above++;
  const picked = new Int32Array(k);
  let p = 0;
  let ties = k - above;
  for (let i = 0; i < n && p < k; i++) {
    const s = scores[i] as number;
    if (s > threshold) picked[p++] = i;
    else if (s === threshold && ties > 0) {
      picked[p++] = i;
      ties--;
    }
  }
  const order = Array.from(picked);
  order.sort((a, b) => (scores[b] as number) - (scores[a] as number) || a - b);
  return Int32Array.from(order);
}

/** Expands the seed to the `ratio` of the eligible people most like it. */
export function expandLookalike(input: ExpandInput, opts: ExpandOptions): Expansion {
  const { seed: seedRows, eligible } = checkInput(input, opts);
  const rngSeed = opts.seed ?? DEFAULT_EXPAND_OPTIONS.seed;
  const maxSeed = opts.maxSeedRows ?? DEFAULT_EXPAND_OPTIONS.maxSeedRows;
  const chunk = opts.chunkRows ?? DEFAULT_EXPAND_OPTIONS.chunkRows;
  const rng = createPrng(rngSeed);

  const positives = sampleSorted(seedRows, maxSeed, rng);
  const wantPopulation =
    opts.populationRows ?? Math.min(200_000, Math.max(50_000, 4 * positives.length));
  const negatives = sampleSorted(eligible, Math.min(wantPopulation, eligible.length), rng);

  const encoding = fitEncoding(input.features);
  const trainRows = new Int32Array(positives.length + negatives.length);
  trainRows.set(positives);
  trainRows.set(negatives, positives.length);
  const labels = new Uint8Array(trainRows.length);
  labels.fill(1, 0, positives.length);
  const trainMatrix = encodeFeatures(input.features, encoding, { rows: trainRows });
  const all = new Int32Array(trainRows.length);
  for (let i = 0; i < all.length; i++) all[i] = i;
  const model = trainLogistic(trainMatrix, all, labels, opts.train);

  // Score the eligible a chunk at a time: the dense matrix of everyone
  // would hold rows x columns floats at once.
  const scores = new Float64Array(eligible.length);
  for (let start = 0; start < eligible.length; start += chunk) {
    const rows = eligible.subarray(start, Math.min(eligible.length, start + chunk));
    scores.set(scoreRows(encodeFeatures(input.features, encoding, { rows }), model), start);
  }
  const k = Math.min(eligible.length, Math.ceil(opts.ratio * eligible.length - 1e-9));
  const best = topK(scores, k);
  const selected = new Int32Array(best.length);
  const selectedScores = new Float64Array(best.length);
  best.forEach((pos, i) => {
    selected[i] = eligible[pos] as number;
    selectedScores[i] = scores[pos] as number;
  });
  const topWeights = encoding.columns
    .map((column, j) => ({ column, weight: model.weights[j] as number }))
    .sort((a, b) => Math.abs(b.weight) - Math.abs(a.weight) || (a.column < b.column ? -1 : 1))
    .slice(0, 10);
  return {
    selected,
    scores: selectedScores,
    eligible: eligible.length,
    model,
    encoding,
    training: { seedRows: positives.length, populationRows: negatives.length },
    topWeights,
  };
}
