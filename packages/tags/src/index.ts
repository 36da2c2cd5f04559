export type * from './types.js';
export {
  BUILTIN_DEFINITIONS,
  DERIVED_SOURCE_ID,
  RFM_GROUPS,
  RFM_OTHERS,
  RFM_TAGS,
  outputsOf,
} from './builtins.js';
export {
  validateDefinition,
  orderDefinitions,
  ruleReferences,
  parseWindowDate,
} from './validate.js';
export { SqlParams, DAY_MS, pathArgs, PropertyColumns } from './params.js';
export { buildFactsSelect, purchaseKey, factKey, filterSql } from './facts.js';
export {
  buildRankInputsSelect,
  buildScoresSelect,
  buildTagsSelect,
  tagColumns,
} from './tags-sql.js';
