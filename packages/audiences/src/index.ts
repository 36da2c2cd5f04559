export type * from './types.js';
export { CONDITION_KINDS, CONTACT_TYPES, NUMBER_OPS, VALUE_OPS } from './types.js';
export {
  AUDIENCE_LIMITS,
  audienceReferences,
  inlineAudiences,
  isAudienceName,
  validateAudience,
} from './validate.js';
export {
  DAY_MS,
  EMPTY_PERSON,
  HOUR_MS,
  evaluate,
  jsonPasses,
  tagPasses,
  valueAt,
  windowBounds,
  type PersonData,
  type PersonEvent,
} from './semantics.js';
export {
  compileAudience,
  movingWindows,
  type AudienceTables,
  type CompileOptions,
  type CompiledAudience,
} from './compile.js';
