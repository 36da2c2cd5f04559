import { CreditSheet } from './credits.js';
import {
  createPathAggregator,
  type AggregatedPath,
  type AggregatedPaths,
  type LabelIndex,
} from './path-summary.js';
import { normalizeRows } from './rows.js';
import { hasExposureStep, type PathTransform } from './transforms.js';
import type { ChannelCredit, PathRow } from './types.js';

/** Settings of the simplified (leave-one-out) Shapley model; each has a default. */
export interface SimplifiedShapleySettings {
  /** Applied before aggregating paths (default `exposure`, fractribution's default). */
  readonly transform: PathTransform;
  /**
   * Whether a counterfactual path is re-transformed before it is looked up
   * (default false, as fractribution). Deleting a touch from an exposure path
   * can join two equal neighbours (`A > B > A` without `B` is `A > A`), a path
   * the transform never emits, so fractribution finds no such path and uses
   * rate 0. With true, such neighbours are merged (`A`) when the transform
   * contains `exposure`; the other transforms' outputs stay valid after a
   * deletion, so for them the flag changes nothing.
   */
  readonly retransformCounterfactuals: boolean;
}

/** The defaults of {@link SimplifiedShapleySettings}. */
export const DEFAULT_SIMPLIFIED_SHAPLEY_SETTINGS: SimplifiedShapleySettings = {
  transform: 'exposure',
  retransformCounterfactuals: false,
};

/** A channel's share of one path's conversions. */
export interface PathShare {
  readonly channel: string;
  readonly share: number;
}

/** One transformed path with its fractional attribution. */
export interface PathAttribution {
  /** The transformed path's labels. */
  readonly path: readonly string[];
  readonly conversions: number;
  readonly nulls: number;
  readonly value: number;
  /** `conversions / (conversions + nulls)`, 0 when both are 0. */
  readonly conversionRate: number;
  /** Per channel in order of first touch; shares sum to 1. */
  readonly shares: readonly PathShare[];
}

const rate = (p: { conversions: number; nulls: number }): number => {
  const n = p.conversions + p.nulls;
  return n > 0 ? p.conversions / n : 0;
};

/**
 * The per-touch marginal contributions of fractribution: for touch i of path
 * p, `max(0, r(p) - r(p without touch i))`, where r is the conversion rate of
 * an observed transformed path and 0 for a path never observed. A one-touch
 * path's only touch contributes r(p).
 */
function marginalContributions(
  p: AggregatedPath,
  rates: ReadonlyMap<string, number>,
  mergeRepeats: boolean,
): number[] {
  const r = rate(p);
  const { ids } = p;
  const n = ids.length;
  if (n === 1) return [r];
  // Keys of the counterfactuals from prefix and suffix keys (as pathKey
  // builds them), instead of one filtered copy per touch.
  const prefix = new Array<string>(n + 1);
  const suffix = new Array<string>(n + 1);
  prefix[0] = '';
  suffix[n] = '';
  for (let i = 0; i < n; i++) prefix[i + 1] = i === 0 ? String(ids[0]) : `${prefix[i]},${ids[i]}`;
  for (let i = n - 1; i >= 0; i--)
    suffix[i] = i === n - 1 ? String(ids[i]) : `${ids[i]},${suffix[i + 1]}`;
  const join = (a: string, b: string): string => (a === '' ? b : b === '' ? a : `${a},${b}`);
  const m = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    // Only the two touches around the deleted one can have become equal.
    const merge = mergeRepeats && i > 0 && i < n - 1 && ids[i - 1] === ids[i + 1];
    const key = join(prefix[i] as string, suffix[merge ? i + 2 : i + 1] as string);
    m[i] = Math.max(0, r - (rates.get(key) ?? 0));
  }
  return m;
}

/** Normalised contributions, per channel; all-zero means last touch takes 100%. */
function pathShares(p: AggregatedPath, index: LabelIndex, m: readonly number[]): PathShare[] {
  const sum = m.reduce((a, b) => a + b, 0);
  const shares = new Map<string, number>();
  p.ids.forEach((id, i) => {
    const share = sum > 0 ? (m[i] as number) / sum : i === p.ids.length - 1 ? 1 : 0;
    const channel = index.channels[id] as string;
    shares.set(channel, (shares.get(channel) ?? 0) + share);
  });
  return [...shares].map(([channel, share]) => ({ channel, share }));
}

function attributePaths(
  aggregated: AggregatedPaths,
  settings: SimplifiedShapleySettings,
  convertingOnly: boolean,
): PathAttribution[] {
  const { index, paths } = aggregated;
  const rates = new Map(paths.map((p) => [p.key, rate(p)]));
  const merge = settings.retransformCounterfactuals && hasExposureStep(settings.transform);
  const wanted = convertingOnly ? paths.filter((p) => p.conversions > 0) : paths;
  return wanted.map((p) => ({
    path: p.ids.map((id) => index.labels[id] as string),
    conversions: p.conversions,
    nulls: p.nulls,
    value: p.value,
    conversionRate: rate(p),
    shares: pathShares(p, index, marginalContributions(p, rates, merge)),
  }));
}

/**
 * Fractribution's per-path attribution (Google's fractribution, also Snowplow's
 * dbt package), one entry per transformed path. Paths without conversions get
 * the same rule, which for them always gives the last touch 100%.
 *
 * @throws AttributionError on invalid rows.
 */
export function simplifiedShapleyPaths(
  rows: readonly PathRow[],
  settings: Partial<SimplifiedShapleySettings> = {},
): PathAttribution[] {
  const resolved = { ...DEFAULT_SIMPLIFIED_SHAPLEY_SETTINGS, ...settings };
  const aggregate = createPathAggregator(normalizeRows(rows).rows);
  return attributePaths(aggregate(resolved.transform), resolved, false);
}

/**
 * Credits of the simplified Shapley model over paths aggregated with the
 * model's transform: each transformed path's conversions and value split by
 * its {@link PathAttribution.shares}.
 */
export function simplifiedShapleyCredits(
  aggregated: AggregatedPaths,
  channels: readonly string[],
  settings: SimplifiedShapleySettings = DEFAULT_SIMPLIFIED_SHAPLEY_SETTINGS,
): ChannelCredit[] {
  const sheet = new CreditSheet();
  for (const p of attributePaths(aggregated, settings, true)) {
    for (const s of p.shares) sheet.add(s.channel, s.share * p.conversions, s.share * p.value);
  }
  return sheet.toCredits(channels);
}
