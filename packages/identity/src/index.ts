export type { AuditEntry, AuditKind } from './audit.js';
export { IDENTITY_ERROR_CATALOGUE, IdentityError, type IdentityErrorCode } from './errors.js';
export {
  extractIdentifiers,
  type ExtractedIdentifiers,
  type RawEventMessage,
  type Rejection,
} from './extract.js';
export { createIdentityGraph, importIdentityGraph } from './graph.js';
export type {
  DeleteResult,
  GraphStats,
  IdentityGraph,
  MergeRecord,
  PersonIdentifier,
  PersonView,
  Refusal,
  ResolveInput,
  ResolveKind,
  ResolveOutcome,
  SplitResult,
} from './graph-types.js';
export { sha256Hex } from './hash.js';
export { deadLetterIdentifierHashes, identifierHash } from './dead-letter-identifiers.js';
export {
  BUILTIN_IDENTIFIER_TYPES,
  EXTERNAL_TYPE_PATTERN,
  HASHED_IDENTIFIER_TYPES,
  identifierKey,
  isIdentifierType,
  parseIdentifierKey,
  type BuiltinIdentifierType,
  type ExternalIdentifierType,
  type Identifier,
  type IdentifierType,
} from './identifier.js';
export { JUNK_PLACEHOLDERS, junkReason } from './junk.js';
export { normaliseIdentifier, type NormaliseResult } from './normalise.js';
export {
  allocatePersonId,
  highestPriority,
  ONEID_NAMESPACE,
  personIdFor,
  provisionalId,
  type ProvisionalIdOptions,
} from './provisional-id.js';
export { stampOneId, type Stamp } from './stamp.js';
export {
  INVALID_REASONS,
  JUNK_REASONS,
  MERGE_REASONS,
  OPERATION_FAILURES,
  OPERATOR_REASONS,
  REFUSAL_REASONS,
  type AuditReason,
  type InvalidReason,
  type JunkCounts,
  type JunkReason,
  type MergeReason,
  type OperationFailure,
  type OperatorReason,
  type RefusalReason,
  type RejectReason,
} from './reason-codes.js';
export {
  createIdentityRules,
  DEFAULT_IDENTITY_RULES,
  DEFAULT_LIMITS,
  DEFAULT_MAX_VALUE_LENGTH,
  DEFAULT_PRIORITY,
  EXTERNAL_WILDCARD,
  type IdentityRules,
  type IdentityRulesInput,
  type PhoneValidation,
} from './rules.js';
export type {
  BlockRow,
  GraphSnapshot,
  IdentityRow,
  OverrideRow,
  TombstoneRow,
} from './snapshot.js';
export type {
  DeleteCommand,
  IdentityChangeMessage,
  LinkMessage,
  OverrideMessage,
  ResolveLink,
  SplitCommand,
} from './messages.js';
export { stampEvent, type EventStamp, type StampEventOptions } from './stamp-event.js';
export {
  identityRulesConfigSchema,
  identityRulesFrom,
  type IdentityRulesConfig,
} from './rules-config.js';
