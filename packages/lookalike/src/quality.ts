import { Issues } from './errors.js';
import { expandLookalike, type ExpandInput, type ExpandOptions } from './expand.js';
import { createPrng, shuffleInPlace } from './prng.js';

/**
 * How good an expansion is, measured the usual way: hold out part of the
 * seed (default 20%), expand from the rest, and see where the held-out
 * members land among everyone the expansion ranked (the eligible and the
 * held out together):
 *
 * - recall@k: the share of the held-out members in the top k;
 * - lift@k: precision at k (held-out members in the top k / k) divided by
 *   the base rate (held-out members / everyone ranked); 1 is a random pick.
 */

export interface QualityOptions extends Omit<ExpandOptions, 'ratio'> {
  /** The share of the seed held out, in (0, 1) (default 0.2). */
  readonly holdout?: number;
  /** The cut-offs, as shares of everyone ranked (default 1%, 5%, 10%). */
  readonly at?: readonly number[];
}

export interface QualityAt {
  /** The cut-off as a share of everyone ranked. */
  readonly share: number;
  /** People in the top `share`. */
  readonly k: number;
  /** Held-out members among them. */
  readonly found: number;
  readonly recall: number;
  readonly precision: number;
  readonly lift: number;
}

export interface Quality {
  readonly seed: number;
  readonly heldOut: number;
  /** Everyone ranked: the eligible and the held out. */
  readonly ranked: number;
  /** Held-out members / everyone ranked: a random pick's precision. */
  readonly baseRate: number;
  readonly at: readonly QualityAt[];
}

export const DEFAULT_QUALITY_AT = [0.01, 0.05, 0.1] as const;
export const DEFAULT_HOLDOUT = 0.2;

/** Quality of expanding `input.seed` among `input.eligible` (see the module's comment). */
export function evaluateLookalike(input: ExpandInput, opts: QualityOptions = {}): Quality {
  const holdout = opts.holdout ?? DEFAULT_HOLDOUT;
  const at = opts.at ?? DEFAULT_QUALITY_AT;
  const issues = new Issues();
  if (!(Number.isFinite(holdout) && holdout > 0 && holdout < 1))
    issues.add('holdout', 'must be a number above 0 and below 1');
  if (at.length === 0 || !at.every((s) => Number.isFinite(s) && s > 0 && s <= 1))
    issues.add('at', 'must be shares above 0 and at most 1');
  issues.throwIfAny();

  const seed = Int32Array.from(new Set(input.seed));
  // The holdout is drawn from its own stream, so it does not move when the
  // expansion's sampling changes.
  shuffleInPlace(seed, createPrng((opts.seed ?? 1) * 2 + 1));
  const nHeld = Math.max(1, Math.round(seed.length * holdout));
  const held = seed.subarray(0, nHeld).slice().sort();
  const kept = seed.subarray(nHeld).slice().sort();
  const isHeld = new Uint8Array(input.features.size);
  for (const r of held) isHeld[r] = 1;
  const ranked = Int32Array.from(new Set([...input.eligible, ...held]));

  const biggest = Math.max(...at);
  const x = expandLookalike(
    { features: input.features, seed: kept, eligible: ranked },
    { ...opts, ratio: biggest },
  );
  const baseRate = held.length / x.eligible;
  return {
    seed: seed.length,
    heldOut: held.length,
    ranked: x.eligible,
    baseRate,
    at: at.map((share) => {
      const k = Math.min(x.selected.length, Math.ceil(share * x.eligible - 1e-9));
      let found = 0;
      for (let i = 0; i < k; i++) found += isHeld[x.selected[i] as number] as number;
      const precision = k > 0 ? found / k : 0;
      return {
        share,
        k,
        found,
        recall: found / held.length,
        precision,
        lift: baseRate > 0 ? precision / baseRate : 0,
      };
    }),
  };
}
