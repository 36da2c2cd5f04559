export * from './types.js';
export * from './errors.js';
export {
  formatPath,
  parsePathString,
  PATH_SEPARATOR,
  transformChannels,
  transformPath,
  validateTransform,
  type PathTransform,
  type PathTransformName,
  type PathTransformStep,
} from './transforms.js';
export { summarizePaths, type PathSummary } from './path-summary.js';
export { creditOf } from './credits.js';
export {
  DEFAULT_DIRECT_CHANNEL,
  DEFAULT_HALF_LIFE_MS,
  DEFAULT_POSITION_WEIGHTS,
  firstTouchShares,
  lastNonDirectShares,
  lastTouchShares,
  linearShares,
  positionBasedShares,
  timeDecayShares,
  type PositionWeights,
} from './rule-based.js';
export { DEFAULT_SOLVE_SETTINGS, type SolveMethod, type SolveSettings } from './absorbing-chain.js';
export {
  DEFAULT_MARKOV_SETTINGS,
  type MarkovDiagnostics,
  type MarkovSettings,
  type RemovalEffect,
} from './markov.js';
export {
  DEFAULT_SIMPLIFIED_SHAPLEY_SETTINGS,
  simplifiedShapleyPaths,
  type PathAttribution,
  type PathShare,
  type SimplifiedShapleySettings,
} from './shapley-simplified.js';
export {
  DEFAULT_EXACT_SHAPLEY_SETTINGS,
  MAX_COALITION_PLAYERS,
  shapleyFromCoalitionValues,
  type ExactShapleyDiagnostics,
  type ExactShapleySettings,
} from './shapley-exact.js';
export * from './model-spec.js';
export * from './attribute.js';
