import { CreditSheet } from './credits.js';
import type { NormalizedRow } from './rows.js';
import { compileTransform, type PathTransform } from './transforms.js';
import type { ChannelCredit, Touch } from './types.js';

/**
 * Per-path share rules. Each returns one share per touch, non-negative and
 * summing to 1; a conversion's count and value are split by these shares and
 * the touch's share goes to its channel (a channel touched twice gets both).
 */

/** Default half-life of the time-decay model: 7 days. */
export const DEFAULT_HALF_LIFE_MS = 7 * 24 * 60 * 60 * 1000;

/** Default name of the direct channel for the last-non-direct model. */
export const DEFAULT_DIRECT_CHANNEL = 'Direct';

/** Position-based weights: first touch, the middle touches together, last touch. */
export interface PositionWeights {
  readonly first: number;
  readonly middle: number;
  readonly last: number;
}

/** The usual 40/20/40 split. */
export const DEFAULT_POSITION_WEIGHTS: PositionWeights = { first: 0.4, middle: 0.2, last: 0.4 };

function oneHot(n: number, at: number): number[] {
  const s = new Array<number>(n).fill(0);
  s[at] = 1;
  return s;
}

type Times = readonly (number | undefined)[] | undefined;

function lastNonDirect(channels: readonly string[], directChannel: string): number[] {
  for (let i = channels.length - 1; i >= 0; i--)
    if (channels[i] !== directChannel) return oneHot(channels.length, i);
  return oneHot(channels.length, channels.length - 1);
}

function timeDecay(n: number, times: Times, halfLifeMs: number): number[] {
  if (times === undefined) return new Array<number>(n).fill(1 / n);
  const dt = new Array<number>(n);
  let later = 0;
  let min = Infinity;
  for (let i = n - 1; i >= 0; i--) {
    later = times[i] ?? later;
    dt[i] = later;
    min = Math.min(min, later);
  }
  // Weights relative to the most recent touch, so none underflows to a 0/0.
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const w = Math.pow(2, -((dt[i] as number) - min) / halfLifeMs);
    dt[i] = w;
    sum += w;
  }
  for (let i = 0; i < n; i++) dt[i] = (dt[i] as number) / sum;
  return dt;
}

function positionBased(n: number, weights: PositionWeights): number[] {
  if (n === 1) return [1];
  if (n === 2) {
    const ends = weights.first + weights.last;
    return ends > 0 ? [weights.first / ends, weights.last / ends] : [0.5, 0.5];
  }
  const s = new Array<number>(n).fill(weights.middle / (n - 2));
  s[0] = weights.first;
  s[n - 1] = weights.last;
  return s;
}

/** First touch: 100% to the first touch. */
export function firstTouchShares(path: readonly Touch[]): number[] {
  return oneHot(path.length, 0);
}

/** Last touch: 100% to the last touch. */
export function lastTouchShares(path: readonly Touch[]): number[] {
  return oneHot(path.length, path.length - 1);
}

/**
 * Last non-direct touch: 100% to the last touch whose channel is not
 * `directChannel`; to the last touch when every touch is direct.
 */
export function lastNonDirectShares(
  path: readonly Touch[],
  directChannel: string = DEFAULT_DIRECT_CHANNEL,
): number[] {
  return lastNonDirect(
    path.map((t) => t.channel),
    directChannel,
  );
}

/** Linear: 1/n to each of the n touches. */
export function linearShares(path: readonly Touch[]): number[] {
  return new Array<number>(path.length).fill(1 / path.length);
}

/**
 * Time decay: touch i weighs `2^(-dt_i / halfLifeMs)`, dt_i being its
 * `msBeforeConversion`; shares are the normalised weights.
 *
 * Unknown times: a touch without `msBeforeConversion` takes the time of the
 * nearest later touch that has one (it happened no later than that touch, so
 * this is the most recent it can be), or 0 (at the conversion) if no later
 * touch has one. A path with no times at all is therefore split linearly.
 */
export function timeDecayShares(
  path: readonly Touch[],
  halfLifeMs: number = DEFAULT_HALF_LIFE_MS,
): number[] {
  return timeDecay(
    path.length,
    path.map((t) => t.msBeforeConversion),
    halfLifeMs,
  );
}

/**
 * Position based ("U-shaped"): `first` to the first touch, `last` to the last,
 * `middle` split evenly over the touches in between. One touch gets 100%; two
 * touches split `first : last` (50/50 with the default 40/20/40).
 */
export function positionBasedShares(
  path: readonly Touch[],
  weights: PositionWeights = DEFAULT_POSITION_WEIGHTS,
): number[] {
  return positionBased(path.length, weights);
}

/** A share rule over a transformed path's channels and touch times. */
export type ShareRule = (channels: readonly string[], times: Times) => readonly number[];

/** The share rules of the rule-based models, by model. */
export const SHARE_RULES = {
  firstTouch: ((c) => oneHot(c.length, 0)) as ShareRule,
  lastTouch: ((c) => oneHot(c.length, c.length - 1)) as ShareRule,
  linear: ((c) => new Array<number>(c.length).fill(1 / c.length)) as ShareRule,
  lastNonDirect:
    (directChannel: string): ShareRule =>
    (c) =>
      lastNonDirect(c, directChannel),
  timeDecay:
    (halfLifeMs: number): ShareRule =>
    (c, t) =>
      timeDecay(c.length, t, halfLifeMs),
  positionBased:
    (weights: PositionWeights): ShareRule =>
    (c) =>
      positionBased(c.length, weights),
};

/**
 * Credits of a per-path share rule: each row is transformed, its conversions
 * and value split by the rule's shares, and each share credited to the
 * touch's channel. Rows without conversions contribute nothing.
 */
export function ruleBasedCredits(
  rows: readonly NormalizedRow[],
  channels: readonly string[],
  transform: PathTransform,
  rule: ShareRule,
): ChannelCredit[] {
  const sheet = new CreditSheet();
  const apply = compileTransform(transform);
  for (const row of rows) {
    if (row.conversions === 0) continue;
    const { source } = apply(row.channels);
    const pathChannels =
      source === undefined ? row.channels : source.map((i) => row.channels[i] as string);
    const times =
      row.times === undefined || source === undefined
        ? row.times
        : source.map((i) => row.times?.[i]);
    const shares = rule(pathChannels, times);
    for (let i = 0; i < pathChannels.length; i++) {
      const s = shares[i] as number;
      if (s !== 0) sheet.add(pathChannels[i] as string, s * row.conversions, s * row.value);
    }
  }
  return sheet.toCredits(channels);
}
