import { AttributionError } from './errors.js';
import { markovCredits, type MarkovDiagnostics } from './markov.js';
import {
  resolveModelSpecs,
  type ModelName,
  type ModelSpec,
  type ResolvedModelSpec,
} from './model-spec.js';
import {
  createPathAggregator,
  toSummaries,
  type AggregatedPaths,
  type PathSummary,
} from './path-summary.js';
import { normalizeRows, type NormalizedInput } from './rows.js';
import { ruleBasedCredits, SHARE_RULES, type ShareRule } from './rule-based.js';
import { exactShapleyCredits, type ExactShapleyDiagnostics } from './shapley-exact.js';
import { simplifiedShapleyCredits } from './shapley-simplified.js';
import { transformSteps, type PathTransform } from './transforms.js';
import type { AttributionTotals, ChannelCredit, PathRow } from './types.js';

/** What to compute. */
export interface AttributeOptions {
  /** The models to run, in the order their results are listed. */
  readonly models: readonly ModelSpec[];
  /**
   * Also return the path summary under this transform (what
   * {@link summarizePaths} gives), sharing the models' validated rows and
   * aggregation instead of doing them again.
   */
  readonly summary?: PathTransform;
}

/** One model's credits. */
export interface ModelResult {
  /** The spec's label (unique within a call). */
  readonly label: string;
  readonly model: ModelName;
  /** The transform that was applied. */
  readonly transform: PathTransform;
  /** One entry per input channel (zero if uncredited), sorted by channel. */
  readonly credits: readonly ChannelCredit[];
  /** Markov models only. */
  readonly markov?: MarkovDiagnostics;
  /** Exact Shapley only. */
  readonly shapley?: ExactShapleyDiagnostics;
}

/** The result of {@link attribute}. */
export interface AttributionResult {
  readonly totals: AttributionTotals;
  /** In the order of `options.models`. */
  readonly models: readonly ModelResult[];
  /** With `options.summary` only: the path summary (first-seen order). */
  readonly summary?: readonly PathSummary[];
}

function run(
  input: NormalizedInput,
  aggregate: (transform: PathTransform) => AggregatedPaths,
  spec: ResolvedModelSpec,
): ModelResult {
  const { rows, totals } = input;
  const head = { label: spec.label, model: spec.model, transform: spec.transform };
  const rule = (f: ShareRule): ModelResult => ({
    ...head,
    credits: ruleBasedCredits(rows, totals.channels, spec.transform, f),
  });
  switch (spec.model) {
    case 'first_touch':
      return rule(SHARE_RULES.firstTouch);
    case 'last_touch':
      return rule(SHARE_RULES.lastTouch);
    case 'linear':
      return rule(SHARE_RULES.linear);
    case 'last_non_direct':
      return rule(SHARE_RULES.lastNonDirect(spec.directChannel));
    case 'time_decay':
      return rule(SHARE_RULES.timeDecay(spec.halfLifeMs));
    case 'position_based':
      return rule(SHARE_RULES.positionBased(spec.weights));
    case 'markov': {
      const r = markovCredits(aggregate(spec.transform), totals.channels, totals, spec);
      return { ...head, credits: r.credits, markov: r.diagnostics };
    }
    case 'shapley_simplified':
      return {
        ...head,
        credits: simplifiedShapleyCredits(aggregate(spec.transform), totals.channels, spec),
      };
    case 'shapley_exact': {
      const r = exactShapleyCredits(rows, totals.channels, spec);
      return { ...head, credits: r.credits, shapley: r.diagnostics };
    }
  }
}

/** The frequency transform labels touches `A(2)`, so it refuses names with parentheses. */
function checkFrequencyNames(
  specs: readonly ResolvedModelSpec[],
  channels: readonly string[],
): void {
  const bad = channels.filter((c) => c.includes('(') || c.includes(')'));
  if (bad.length === 0) return;
  const issues = specs.flatMap((s, i) =>
    transformSteps(s.transform).includes('frequency')
      ? [
          {
            field: `models[${i}].transform`,
            message: `the frequency transform forbids channel names with "(" or ")"; the input has ${bad.map((c) => JSON.stringify(c)).join(', ')}`,
          },
        ]
      : [],
  );
  if (issues.length > 0) throw new AttributionError('CDP_ERR_ATTRIBUTION_INVALID_OPTIONS', issues);
}

/**
 * Runs attribution models over aggregated distinct paths. Rows and options
 * are validated once up front; every problem is reported together. Each
 * model's credits sum to the total conversions and to the total value (up
 * to rounding), and are never negative.
 *
 * @example
 * ```ts
 * const r = attribute(
 *   [{ path: ['Organic_Search', 'Direct'], conversions: 1, value: 140, nulls: 1 }],
 *   { models: ['last_touch', 'shapley_simplified', { model: 'markov', order: 2 }] },
 * );
 * r.models[0].credits; // [{ channel: 'Direct', conversions: 1, value: 140 }, ...]
 * ```
 *
 * @throws AttributionError `CDP_ERR_ATTRIBUTION_INVALID_INPUT` / `_INVALID_OPTIONS`.
 */
export function attribute(rows: readonly PathRow[], options: AttributeOptions): AttributionResult {
  const specs = resolveModelSpecs((options as Partial<AttributeOptions> | undefined)?.models);
  const input = normalizeRows(rows);
  checkFrequencyNames(specs, input.totals.channels);
  const aggregate = createPathAggregator(input.rows);
  const models = specs.map((s) => run(input, aggregate, s));
  const summary =
    options.summary === undefined ? undefined : toSummaries(aggregate(options.summary));
  return summary === undefined
    ? { totals: input.totals, models }
    : { totals: input.totals, models, summary };
}

/** Runs one model; `attribute(rows, { models: [spec] }).models[0]`. */
export function attributeModel(rows: readonly PathRow[], spec: ModelSpec): ModelResult {
  return attribute(rows, { models: [spec] }).models[0] as ModelResult;
}
