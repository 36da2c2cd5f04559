import { DEFAULT_SOLVE_SETTINGS, type SolveSettings } from './absorbing-chain.js';
import { AttributionError, type AttributionIssue } from './errors.js';
import {
  DEFAULT_DIRECT_CHANNEL,
  DEFAULT_HALF_LIFE_MS,
  DEFAULT_POSITION_WEIGHTS,
  type PositionWeights,
} from './rule-based.js';
import { MAX_COALITION_PLAYERS } from './shapley-exact.js';
import { validateTransform, type PathTransform, type PathTransformName } from './transforms.js';

/** The models, by the names Snowplow uses where it has one. */
export type ModelName =
  | 'first_touch'
  | 'last_touch'
  | 'last_non_direct'
  | 'linear'
  | 'time_decay'
  | 'position_based'
  | 'markov'
  | 'shapley_simplified'
  | 'shapley_exact';

/** Every model, in a stable order. */
export const MODEL_NAMES: readonly ModelName[] = [
  'first_touch',
  'last_touch',
  'last_non_direct',
  'linear',
  'time_decay',
  'position_based',
  'markov',
  'shapley_simplified',
  'shapley_exact',
];

/**
 * The transform each model applies unless told otherwise. Rule-based models
 * and exact Shapley see the path as given; Markov collapses consecutive
 * repeats (its states are defined on the collapsed path); simplified Shapley
 * uses `exposure` as fractribution does by default.
 */
export const DEFAULT_TRANSFORMS: Readonly<Record<ModelName, PathTransformName>> = {
  first_touch: 'unique',
  last_touch: 'unique',
  last_non_direct: 'unique',
  linear: 'unique',
  time_decay: 'unique',
  position_based: 'unique',
  markov: 'exposure',
  shapley_simplified: 'exposure',
  shapley_exact: 'unique',
};

/** The highest Markov order accepted. */
export const MAX_MARKOV_ORDER = 10;

interface SpecBase {
  /** The key of this model's result (default: the model name; `markov_order_k` for k > 1). */
  readonly label?: string;
  /** Path transform applied first (default: {@link DEFAULT_TRANSFORMS}). */
  readonly transform?: PathTransform;
}

/** First touch / last touch / linear: no settings of their own. */
export interface PlainModelSpec extends SpecBase {
  readonly model: 'first_touch' | 'last_touch' | 'linear';
}
/** Last non-direct touch. */
export interface LastNonDirectSpec extends SpecBase {
  readonly model: 'last_non_direct';
  /** Name of the direct channel (default `Direct`). */
  readonly directChannel?: string;
}
/** Time decay. */
export interface TimeDecaySpec extends SpecBase {
  readonly model: 'time_decay';
  /** Half-life in ms (default 7 days). */
  readonly halfLifeMs?: number;
}
/** Position based. */
export interface PositionBasedSpec extends SpecBase {
  readonly model: 'position_based';
  /** First / middle / last weights, summing to 1 (default 0.4 / 0.2 / 0.4). */
  readonly weights?: PositionWeights;
}
/** Markov chain removal effect. */
export interface MarkovSpec extends SpecBase {
  readonly model: 'markov';
  /** Order k, 1..10 (default 1). */
  readonly order?: number;
  /** Solver settings (defaults: {@link DEFAULT_SOLVE_SETTINGS}). */
  readonly solver?: Partial<SolveSettings>;
}
/** Simplified (leave-one-out) Shapley, as fractribution. */
export interface SimplifiedShapleySpec extends SpecBase {
  readonly model: 'shapley_simplified';
  /** Re-transform counterfactual paths (default false, as fractribution). */
  readonly retransformCounterfactuals?: boolean;
}
/** Exact Shapley over channel coalitions. */
export interface ExactShapleySpec extends SpecBase {
  readonly model: 'shapley_exact';
  /** Coalition enumeration up to this many channels, 0..20 (default 16). */
  readonly maxCoalitionChannels?: number;
}

/** A model with settings. */
export type ModelSpecObject =
  | PlainModelSpec
  | LastNonDirectSpec
  | TimeDecaySpec
  | PositionBasedSpec
  | MarkovSpec
  | SimplifiedShapleySpec
  | ExactShapleySpec;

/** A model by name (all defaults) or with settings. */
export type ModelSpec = ModelName | ModelSpecObject;

/** A spec with every default applied. */
export type ResolvedModelSpec =
  | {
      readonly model: 'first_touch' | 'last_touch' | 'linear';
      readonly label: string;
      readonly transform: PathTransform;
    }
  | {
      readonly model: 'last_non_direct';
      readonly label: string;
      readonly transform: PathTransform;
      readonly directChannel: string;
    }
  | {
      readonly model: 'time_decay';
      readonly label: string;
      readonly transform: PathTransform;
      readonly halfLifeMs: number;
    }
  | {
      readonly model: 'position_based';
      readonly label: string;
      readonly transform: PathTransform;
      readonly weights: PositionWeights;
    }
  | {
      readonly model: 'markov';
      readonly label: string;
      readonly transform: PathTransform;
      readonly order: number;
      readonly solver: SolveSettings;
    }
  | {
      readonly model: 'shapley_simplified';
      readonly label: string;
      readonly transform: PathTransform;
      readonly retransformCounterfactuals: boolean;
    }
  | {
      readonly model: 'shapley_exact';
      readonly label: string;
      readonly transform: PathTransform;
      readonly maxCoalitionChannels: number;
    };

const OWN_KEYS: Readonly<Record<ModelName, readonly string[]>> = {
  first_touch: [],
  last_touch: [],
  linear: [],
  last_non_direct: ['directChannel'],
  time_decay: ['halfLifeMs'],
  position_based: ['weights'],
  markov: ['order', 'solver'],
  shapley_simplified: ['retransformCounterfactuals'],
  shapley_exact: ['maxCoalitionChannels'],
};

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isModelName = (v: unknown): v is ModelName =>
  typeof v === 'string' && (MODEL_NAMES as readonly string[]).includes(v);
const isInt = (v: unknown, min: number, max: number): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;

function checkWeights(w: unknown, field: string, issues: AttributionIssue[]): void {
  if (!isRecord(w)) {
    issues.push({ field, message: 'must be {first, middle, last}' });
    return;
  }
  for (const k of Object.keys(w))
    if (!['first', 'middle', 'last'].includes(k))
      issues.push({ field: `${field}.${k}`, message: 'unknown key' });
  let sum = 0;
  for (const k of ['first', 'middle', 'last']) {
    const v = w[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      issues.push({ field: `${field}.${k}`, message: 'must be a finite number >= 0' });
      return;
    }
    sum += v;
  }
  if (Math.abs(sum - 1) > 1e-9) issues.push({ field, message: `must sum to 1, got ${sum}` });
}

function checkSolver(s: unknown, field: string, issues: AttributionIssue[]): void {
  if (!isRecord(s)) {
    issues.push({ field, message: 'must be an object' });
    return;
  }
  for (const [k, v] of Object.entries(s)) {
    const f = `${field}.${k}`;
    if (k === 'tolerance') {
      if (typeof v !== 'number' || !(v > 0 && v < 1))
        issues.push({ field: f, message: 'must be a number in (0, 1)' });
    } else if (k === 'maxSweeps') {
      if (!isInt(v, 1, Number.MAX_SAFE_INTEGER))
        issues.push({ field: f, message: 'must be an integer >= 1' });
    } else if (k === 'denseMaxStates' || k === 'denseFallbackMaxStates') {
      if (!isInt(v, 0, Number.MAX_SAFE_INTEGER))
        issues.push({ field: f, message: 'must be an integer >= 0' });
    } else issues.push({ field: f, message: 'unknown key' });
  }
}

function checkSpec(spec: unknown, field: string, issues: AttributionIssue[]): void {
  if (typeof spec === 'string') {
    if (!isModelName(spec))
      issues.push({ field, message: `unknown model "${spec}"; use ${MODEL_NAMES.join(', ')}` });
    return;
  }
  if (!isRecord(spec)) {
    issues.push({ field, message: 'must be a model name or {model, ...settings}' });
    return;
  }
  const model = spec['model'];
  if (!isModelName(model)) {
    issues.push({ field: `${field}.model`, message: `must be one of ${MODEL_NAMES.join(', ')}` });
    return;
  }
  const allowed = ['model', 'label', 'transform', ...OWN_KEYS[model]];
  for (const k of Object.keys(spec))
    if (!allowed.includes(k))
      issues.push({ field: `${field}.${k}`, message: `unknown setting for ${model}` });
  const v = (k: string): unknown => spec[k];
  if (v('label') !== undefined && (typeof v('label') !== 'string' || v('label') === ''))
    issues.push({ field: `${field}.label`, message: 'must be a non-empty string' });
  if (v('transform') !== undefined)
    issues.push(...validateTransform(v('transform'), `${field}.transform`));
  if (
    v('directChannel') !== undefined &&
    (typeof v('directChannel') !== 'string' || v('directChannel') === '')
  )
    issues.push({ field: `${field}.directChannel`, message: 'must be a non-empty string' });
  const hl = v('halfLifeMs');
  if (hl !== undefined && (typeof hl !== 'number' || !Number.isFinite(hl) || hl <= 0))
    issues.push({ field: `${field}.halfLifeMs`, message: 'must be a finite number > 0' });
  if (v('weights') !== undefined) checkWeights(v('weights'), `${field}.weights`, issues);
  if (v('order') !== undefined && !isInt(v('order'), 1, MAX_MARKOV_ORDER))
    issues.push({
      field: `${field}.order`,
      message: `must be an integer in 1..${MAX_MARKOV_ORDER}`,
    });
  if (v('solver') !== undefined) checkSolver(v('solver'), `${field}.solver`, issues);
  const rc = v('retransformCounterfactuals');
  if (rc !== undefined && typeof rc !== 'boolean')
    issues.push({ field: `${field}.retransformCounterfactuals`, message: 'must be a boolean' });
  const mc = v('maxCoalitionChannels');
  if (mc !== undefined && !isInt(mc, 0, MAX_COALITION_PLAYERS))
    issues.push({
      field: `${field}.maxCoalitionChannels`,
      message: `must be an integer in 0..${MAX_COALITION_PLAYERS}`,
    });
}

function resolve(spec: ModelSpec): ResolvedModelSpec {
  const s: ModelSpecObject = typeof spec === 'string' ? { model: spec } : spec;
  const transform = s.transform ?? DEFAULT_TRANSFORMS[s.model];
  switch (s.model) {
    case 'first_touch':
    case 'last_touch':
    case 'linear':
      return { model: s.model, label: s.label ?? s.model, transform };
    case 'last_non_direct':
      return {
        model: s.model,
        label: s.label ?? s.model,
        transform,
        directChannel: s.directChannel ?? DEFAULT_DIRECT_CHANNEL,
      };
    case 'time_decay':
      return {
        model: s.model,
        label: s.label ?? s.model,
        transform,
        halfLifeMs: s.halfLifeMs ?? DEFAULT_HALF_LIFE_MS,
      };
    case 'position_based':
      return {
        model: s.model,
        label: s.label ?? s.model,
        transform,
        weights: s.weights ?? DEFAULT_POSITION_WEIGHTS,
      };
    case 'markov': {
      const order = s.order ?? 1;
      return {
        model: s.model,
        label: s.label ?? (order === 1 ? 'markov' : `markov_order_${order}`),
        transform,
        order,
        solver: { ...DEFAULT_SOLVE_SETTINGS, ...s.solver },
      };
    }
    case 'shapley_simplified':
      return {
        model: s.model,
        label: s.label ?? s.model,
        transform,
        retransformCounterfactuals: s.retransformCounterfactuals ?? false,
      };
    case 'shapley_exact':
      return {
        model: s.model,
        label: s.label ?? s.model,
        transform,
        maxCoalitionChannels: s.maxCoalitionChannels ?? 16,
      };
  }
}

/**
 * Validates model specs once, reporting every problem together (unknown
 * models, unknown or out-of-range settings, duplicate labels), and returns
 * them with every default applied.
 *
 * @throws AttributionError `CDP_ERR_ATTRIBUTION_INVALID_OPTIONS`.
 */
export function resolveModelSpecs(models: unknown): ResolvedModelSpec[] {
  const issues: AttributionIssue[] = [];
  if (!Array.isArray(models) || models.length === 0) {
    throw new AttributionError('CDP_ERR_ATTRIBUTION_INVALID_OPTIONS', [
      { field: 'models', message: 'must be a non-empty array of model specs' },
    ]);
  }
  (models as readonly unknown[]).forEach((m, i) => checkSpec(m, `models[${i}]`, issues));
  if (issues.length > 0) throw new AttributionError('CDP_ERR_ATTRIBUTION_INVALID_OPTIONS', issues);
  const resolved = (models as readonly ModelSpec[]).map(resolve);
  const seen = new Set<string>();
  resolved.forEach((r, i) => {
    if (seen.has(r.label))
      issues.push({
        field: `models[${i}].label`,
        message: `duplicate label "${r.label}"; give each model a distinct label`,
      });
    seen.add(r.label);
  });
  if (issues.length > 0) throw new AttributionError('CDP_ERR_ATTRIBUTION_INVALID_OPTIONS', issues);
  return resolved;
}
