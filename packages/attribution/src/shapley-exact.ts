import { AttributionError } from './errors.js';
import { CreditSheet } from './credits.js';
import type { NormalizedRow } from './rows.js';
import { compileTransform, type PathTransform } from './transforms.js';
import type { ChannelCredit } from './types.js';

/** The most players {@link shapleyFromCoalitionValues} accepts: 2^20 coalitions. */
export const MAX_COALITION_PLAYERS = 20;

/** Settings of the exact Shapley model; each has a default. */
export interface ExactShapleySettings {
  /**
   * Applied before taking each path's channel set (default `unique`). Sets do
   * not depend on order or repeats, so `unique`, `exposure` and `first` agree.
   */
  readonly transform: PathTransform;
  /**
   * Up to this many converting channels (default 16, at most 20), the values
   * come from the Shapley formula over all 2^n coalitions. Above it, from the
   * closed form of the same game (see {@link exactShapleyCredits}), which is
   * equal up to rounding and costs O(total touches).
   */
  readonly maxCoalitionChannels: number;
}

/** The defaults of {@link ExactShapleySettings}. */
export const DEFAULT_EXACT_SHAPLEY_SETTINGS: ExactShapleySettings = {
  transform: 'unique',
  maxCoalitionChannels: 16,
};

/** What the exact Shapley model computed besides the credits. */
export interface ExactShapleyDiagnostics {
  /** Channels in converting paths: the players of the game. */
  readonly players: number;
  /** `coalitions`: the formula over all 2^n coalitions; `dividends`: the closed form. */
  readonly method: 'coalitions' | 'dividends';
}

/**
 * Shapley values of an n-player game given as `v[mask]`, the worth of the
 * coalition whose members are the set bits of `mask` (`v.length` = 2^n):
 * `phi_i = sum over S not containing i of |S|! (n-|S|-1)! / n! * (v(S+i) - v(S))`.
 * O(n 2^n). The values sum to `v(all) - v(empty)`.
 *
 * @throws AttributionError if n > {@link MAX_COALITION_PLAYERS} or `v` has the wrong length.
 */
export function shapleyFromCoalitionValues(players: number, v: ArrayLike<number>): Float64Array {
  if (!Number.isInteger(players) || players < 0 || players > MAX_COALITION_PLAYERS) {
    throw new AttributionError('CDP_ERR_ATTRIBUTION_INVALID_OPTIONS', [
      { field: 'players', message: `must be an integer in 0..${MAX_COALITION_PLAYERS}` },
    ]);
  }
  const size = 2 ** players;
  if (v.length !== size) {
    throw new AttributionError('CDP_ERR_ATTRIBUTION_INVALID_OPTIONS', [
      { field: 'v', message: `must have 2^${players} = ${size} entries, got ${v.length}` },
    ]);
  }
  const phi = new Float64Array(players);
  if (players === 0) return phi;
  // weight[s] = s! (n-s-1)! / n!, by the ratio of consecutive terms.
  const weight = new Float64Array(players);
  weight[0] = 1 / players;
  for (let s = 1; s < players; s++) weight[s] = ((weight[s - 1] as number) * s) / (players - s);
  const popcount = new Uint8Array(size);
  for (let mask = 1; mask < size; mask++)
    popcount[mask] = (popcount[mask >> 1] as number) + (mask & 1);
  for (let mask = 0; mask < size; mask++) {
    const w = weight[popcount[mask] as number] as number;
    const base = v[mask] as number;
    for (let i = 0; i < players; i++) {
      const bit = 1 << i;
      if ((mask & bit) === 0) phi[i] = (phi[i] as number) + w * ((v[mask | bit] as number) - base);
    }
  }
  return phi;
}

/**
 * Exact Shapley values over channel coalitions. The worth of a set S of
 * channels is the conversions (for the value credit: the value) of the
 * converting paths whose channel set is a subset of S; non-converting paths
 * play no part. Channels only in non-converting paths are null players and get 0.
 *
 * That game is a sum of unanimity games (each path is worth its conversions to
 * any coalition holding all its channels), so its Shapley value has a closed
 * form: each path's conversions split equally among its distinct channels.
 * Up to `maxCoalitionChannels` players the formula over all coalitions is
 * evaluated (subset sums by a zeta transform, then
 * {@link shapleyFromCoalitionValues}); above, the closed form is used.
 */
export function exactShapleyCredits(
  rows: readonly NormalizedRow[],
  channels: readonly string[],
  settings: ExactShapleySettings = DEFAULT_EXACT_SHAPLEY_SETTINGS,
): { credits: ChannelCredit[]; diagnostics: ExactShapleyDiagnostics } {
  const sets: { channels: string[]; conversions: number; value: number }[] = [];
  const players = new Map<string, number>();
  const apply = compileTransform(settings.transform);
  for (const row of rows) {
    if (row.conversions === 0) continue;
    const { labels, source } = apply(row.channels);
    const set =
      source === undefined
        ? [...new Set(labels)]
        : [...new Set(source.map((i) => row.channels[i] as string))];
    for (const c of set) if (!players.has(c)) players.set(c, players.size);
    sets.push({ channels: set, conversions: row.conversions, value: row.value });
  }
  const n = players.size;
  const sheet = new CreditSheet();
  if (n > settings.maxCoalitionChannels) {
    for (const s of sets) {
      const k = s.channels.length;
      for (const c of s.channels) sheet.add(c, s.conversions / k, s.value / k);
    }
    return { credits: sheet.toCredits(channels), diagnostics: { players: n, method: 'dividends' } };
  }
  const size = 2 ** n;
  const vConv = new Float64Array(size);
  const vValue = new Float64Array(size);
  for (const s of sets) {
    let mask = 0;
    for (const c of s.channels) mask |= 1 << (players.get(c) as number);
    vConv[mask] = (vConv[mask] as number) + s.conversions;
    vValue[mask] = (vValue[mask] as number) + s.value;
  }
  // Zeta transform: v(S) = sum over T subset of S of (worth of paths with set exactly T).
  for (let i = 0; i < n; i++) {
    const bit = 1 << i;
    for (let mask = 0; mask < size; mask++) {
      if ((mask & bit) === 0) continue;
      vConv[mask] = (vConv[mask] as number) + (vConv[mask ^ bit] as number);
      vValue[mask] = (vValue[mask] as number) + (vValue[mask ^ bit] as number);
    }
  }
  const phiConv = shapleyFromCoalitionValues(n, vConv);
  const phiValue = shapleyFromCoalitionValues(n, vValue);
  // Every marginal v(S+i) - v(S) is >= 0; clip the rounding noise of the sums.
  for (const [c, i] of players)
    sheet.add(c, Math.max(0, phiConv[i] as number), Math.max(0, phiValue[i] as number));
  return { credits: sheet.toCredits(channels), diagnostics: { players: n, method: 'coalitions' } };
}
