export {
  LOOKALIKE_ERROR_CATALOGUE,
  LookalikeError,
  isLookalikeError,
  type LookalikeErrorCode,
  type LookalikeIssue,
} from './errors.js';
export {
  createFeatureBuilder,
  rawFeaturesFromRecords,
  validateSpecs,
  type FeatureBuilder,
  type FeatureSpec,
  type RawFeatures,
  type RawRecord,
  type RawValue,
} from './raw-features.js';
export {
  encode,
  encodeFeatures,
  fitEncoding,
  type Encoding,
  type EncodeOptions,
  type FeatureMatrix,
} from './encoding.js';
export {
  trainLogistic,
  scoreRows,
  DEFAULT_TRAIN_OPTIONS,
  type LogisticModel,
  type TrainOptions,
} from './logistic.js';
export {
  expandLookalike,
  topK,
  DEFAULT_EXPAND_OPTIONS,
  MIN_SEED_ROWS,
  type ExpandInput,
  type ExpandOptions,
  type Expansion,
} from './expand.js';
export {
  evaluateLookalike,
  DEFAULT_HOLDOUT,
  DEFAULT_QUALITY_AT,
  type Quality,
  type QualityAt,
  type QualityOptions,
} from './quality.js';
export { expandLookalikeInWorker } from './in-worker.js';
export { PERSON_FEATURES } from './person-features.js';
export {
  syntheticPopulation,
  type SyntheticOptions,
  type SyntheticPopulation,
} from './synthetic.js';
