import {
  DEFAULT_SOLVE_SETTINGS,
  solveAbsorption,
  type SolveMethod,
  type SolveSettings,
  type TransientChain,
} from './absorbing-chain.js';
import { CreditSheet } from './credits.js';
import type { AggregatedPaths } from './path-summary.js';
import type { PathTransform } from './transforms.js';
import type { ChannelCredit } from './types.js';

/** Settings of the Markov model; every one has a default. */
export interface MarkovSettings {
  /** Chain order k >= 1: a state is the last k channels seen (default 1). */
  readonly order: number;
  /** Applied before building the chain (default `exposure`: repeats collapsed). */
  readonly transform: PathTransform;
  /** Linear solver settings (see {@link SolveSettings}). */
  readonly solver: SolveSettings;
}

/** The defaults of {@link MarkovSettings}. */
export const DEFAULT_MARKOV_SETTINGS: MarkovSettings = {
  order: 1,
  transform: 'exposure',
  solver: DEFAULT_SOLVE_SETTINGS,
};

/** Removal effects of one channel. */
export interface RemovalEffect {
  readonly channel: string;
  /** `1 - P(conversion without the channel) / P(conversion)`. */
  readonly conversions: number;
  /** The same with expected value in place of conversion probability. */
  readonly value: number;
}

/** What the Markov model computed besides the credits. */
export interface MarkovDiagnostics {
  readonly order: number;
  /** Transient states (channel k-tuples) in the chain. */
  readonly states: number;
  /** P(conversion) from the start state. */
  readonly conversionProbability: number;
  /** Expected conversion value per journey from the start state. */
  readonly valuePerJourney: number;
  /** Per channel seen in a journey, sorted by channel. */
  readonly removalEffects: readonly RemovalEffect[];
  /** `dense` if every solve was by elimination, else `iterative`. */
  readonly method: SolveMethod;
}

interface BuiltChain {
  readonly chain: TransientChain;
  readonly startWeight: Float64Array;
  readonly bConversion: Float64Array;
  readonly bValue: Float64Array;
  /** For each channel in the chain, the states whose tuple contains it. */
  readonly statesByChannel: Map<string, number[]>;
}

/**
 * Builds the absorbing chain: states start, channel k-tuples, conversion and
 * null. A path `c1..cn` with `w = conversions + nulls` journeys walks
 * start -> (c1) -> (c1,c2) -> ... -> (c_{n-k+1}..c_n), each transition counting
 * w, then ends in conversion (counting `conversions`, carrying `value`) or
 * null (counting `nulls`). Until k channels are seen the tuple is shorter.
 */
function buildChain(aggregated: AggregatedPaths, k: number): BuiltChain {
  const { index, paths } = aggregated;
  const stateIds = new Map<string, number>();
  const stateLabels: number[][] = [];
  const edges: Map<number, number>[] = [];
  const start: number[] = [];
  const conv: number[] = [];
  const nulls: number[] = [];
  const value: number[] = [];
  const newState = (tuple: number[]): number => {
    const s = stateLabels.length;
    stateLabels.push(tuple);
    edges.push(new Map());
    start.push(0);
    conv.push(0);
    nulls.push(0);
    value.push(0);
    return s;
  };
  // Order 1: a state per label id, no string keys.
  const byLabel: (number | undefined)[] = [];
  const stateOf = (ids: readonly number[], end: number): number => {
    if (k === 1) {
      const id = ids[end] as number;
      return (byLabel[id] ??= newState([id]));
    }
    const from = Math.max(0, end - k + 1);
    let key = String(ids[from]);
    for (let i = from + 1; i <= end; i++) key += `,${ids[i]}`;
    let s = stateIds.get(key);
    if (s === undefined) {
      s = newState(ids.slice(from, end + 1));
      stateIds.set(key, s);
    }
    return s;
  };
  for (const p of paths) {
    const w = p.conversions + p.nulls;
    if (w === 0) continue;
    let prev = stateOf(p.ids, 0);
    start[prev] = (start[prev] as number) + w;
    for (let j = 1; j < p.ids.length; j++) {
      const s = stateOf(p.ids, j);
      const e = edges[prev] as Map<number, number>;
      e.set(s, (e.get(s) ?? 0) + w);
      prev = s;
    }
    conv[prev] = (conv[prev] as number) + p.conversions;
    nulls[prev] = (nulls[prev] as number) + p.nulls;
    value[prev] = (value[prev] as number) + p.value;
  }

  const n = stateLabels.length;
  let nnz = 0;
  for (const e of edges) nnz += e.size;
  const rowStart = new Int32Array(n + 1);
  const col = new Int32Array(nnz);
  const prob = new Float64Array(nnz);
  const bConversion = new Float64Array(n);
  const bValue = new Float64Array(n);
  let at = 0;
  for (let s = 0; s < n; s++) {
    const e = edges[s] as Map<number, number>;
    let total = (conv[s] as number) + (nulls[s] as number);
    for (const w of e.values()) total += w;
    rowStart[s] = at;
    for (const [t, w] of e) {
      col[at] = t;
      prob[at] = w / total;
      at++;
    }
    bConversion[s] = (conv[s] as number) / total;
    bValue[s] = (value[s] as number) / total;
  }
  rowStart[n] = at;

  const statesByChannel = new Map<string, number[]>();
  stateLabels.forEach((tuple, s) => {
    for (const c of new Set(tuple.map((id) => index.channels[id] as string))) {
      const list = statesByChannel.get(c);
      if (list === undefined) statesByChannel.set(c, [s]);
      else list.push(s);
    }
  });

  return {
    chain: { size: n, rowStart, col, prob, sweepOrder: farthestFirst(n, start, rowStart, col) },
    startWeight: Float64Array.from(start),
    bConversion,
    bValue,
    statesByChannel,
  };
}

/** States ordered by breadth-first distance from start, farthest first. */
function farthestFirst(
  n: number,
  start: readonly number[],
  rowStart: Int32Array,
  col: Int32Array,
): Int32Array {
  const dist = new Int32Array(n).fill(-1);
  const queue: number[] = [];
  for (let s = 0; s < n; s++) {
    if ((start[s] as number) > 0) {
      dist[s] = 0;
      queue.push(s);
    }
  }
  for (let q = 0; q < queue.length; q++) {
    const s = queue[q] as number;
    for (let k = rowStart[s] as number; k < (rowStart[s + 1] as number); k++) {
      const t = col[k] as number;
      if (dist[t] === -1) {
        dist[t] = (dist[s] as number) + 1;
        queue.push(t);
      }
    }
  }
  return Int32Array.from(queue.reverse());
}

function startExpectation(startWeight: Float64Array, x: Float64Array): number {
  let num = 0;
  let den = 0;
  for (let s = 0; s < startWeight.length; s++) {
    num += (startWeight[s] as number) * (x[s] as number);
    den += startWeight[s] as number;
  }
  return den > 0 ? num / den : 0;
}

/**
 * The Markov chain removal-effect model over paths aggregated with the
 * model's transform, computed exactly from the absorbing
 * chain (no simulation). The removal effect of channel c is
 * `RE(c) = 1 - P(conv | c removed) / P(conv)`, where removing c sends every
 * transition into a state containing c to null. Conversions are split in
 * proportion to RE; value is split in proportion to the value removal effect
 * (the same chain, with each conversion transition rewarded by the mean value
 * of the conversions it ends).
 */
export function markovCredits(
  aggregated: AggregatedPaths,
  channels: readonly string[],
  totals: { readonly conversions: number; readonly value: number },
  settings: Omit<MarkovSettings, 'transform'> = DEFAULT_MARKOV_SETTINGS,
): { credits: ChannelCredit[]; diagnostics: MarkovDiagnostics } {
  const built = buildChain(aggregated, settings.order);
  const { chain, startWeight } = built;
  const rhs = [built.bConversion, built.bValue];
  const base = solveAbsorption(chain, rhs, undefined, settings.solver);
  let method: SolveMethod = base.method;
  const p = startExpectation(startWeight, base.x[0] as Float64Array);
  const e = startExpectation(startWeight, base.x[1] as Float64Array);

  const chainChannels = [...built.statesByChannel.keys()].sort((a, b) =>
    a < b ? -1 : a > b ? 1 : 0,
  );
  const removalEffects: RemovalEffect[] = [];
  const removed = new Uint8Array(chain.size);
  for (const c of chainChannels) {
    const states = built.statesByChannel.get(c) as number[];
    for (const s of states) removed[s] = 1;
    const r = solveAbsorption(chain, rhs, removed, settings.solver);
    for (const s of states) removed[s] = 0;
    if (r.method === 'iterative') method = 'iterative';
    const pc = startExpectation(startWeight, r.x[0] as Float64Array);
    const ec = startExpectation(startWeight, r.x[1] as Float64Array);
    // Removing states can only lower absorption; clip rounding noise at 0.
    removalEffects.push({
      channel: c,
      conversions: p > 0 ? Math.max(0, 1 - pc / p) : 0,
      value: e > 0 ? Math.max(0, 1 - ec / e) : 0,
    });
  }

  const sumConv = removalEffects.reduce((a, r) => a + r.conversions, 0);
  const sumValue = removalEffects.reduce((a, r) => a + r.value, 0);
  const sheet = new CreditSheet();
  for (const r of removalEffects) {
    sheet.add(
      r.channel,
      sumConv > 0 ? (totals.conversions * r.conversions) / sumConv : 0,
      sumValue > 0 ? (totals.value * r.value) / sumValue : 0,
    );
  }
  return {
    credits: sheet.toCredits(channels),
    diagnostics: {
      order: settings.order,
      states: chain.size,
      conversionProbability: p,
      valuePerJourney: e,
      removalEffects,
      method,
    },
  };
}
