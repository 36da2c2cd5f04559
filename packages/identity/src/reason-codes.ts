/**
 * Every reason code of the package, in one place. Codes are stable: they are
 * stored in the audit table and used as metric labels. Messages may change,
 * codes may not.
 */

/** Why a value is junk: it never links anything and is counted per reason. */
export const JUNK_REASONS = [
  /** Empty or whitespace only (also after removing quotes). */
  'junk_empty',
  /** A placeholder such as `null`, `undefined`, `0`, `[object Object]`, `anonymous`, `guest`. */
  'junk_placeholder',
  /** Only zeros and dashes: all-zero UUIDs, `0000`, `---`, an all-zero phone number. */
  'junk_zeros',
  /** On the configured block list. */
  'junk_block_list',
] as const;
export type JunkReason = (typeof JUNK_REASONS)[number];

/** Why a value was rejected before matching although it is not junk. */
export const INVALID_REASONS = [
  /** Not a string (numbers are accepted and turned into strings). */
  'invalid_type',
  /** Longer than `maxValueLength` (default 1,024 characters). */
  'value_too_long',
  /** An email without the `local@domain` shape, or with whitespace inside. */
  'email_invalid',
  /** A phone number libphonenumber-js cannot parse (for international numbers, or with the default region). */
  'phone_unparseable',
  /** A parsed phone number that fails the configured check (`valid` or `possible`). */
  'phone_invalid',
  /** An identifier type that is neither built in nor `external:<name>` with a valid name. */
  'identifier_type_unknown',
  /** An external id whose `collection` is not `users` (e.g. `accounts`: a company, not a person). */
  'external_collection_ignored',
  /** An external id whose type is on `ignoredExternalTypes`. */
  'external_type_ignored',
  /** An email or phone handed to the graph that is not a SHA-256 hex digest. */
  'not_hashed',
] as const;
export type InvalidReason = (typeof INVALID_REASONS)[number];

/** Why a raw value did not become an identifier. */
export type RejectReason = JunkReason | InvalidReason;

/** Why two persons were merged. */
export const MERGE_REASONS = [
  /** An identify call carried identifiers of both persons. */
  'identify',
  /** An alias call linked `previousId` and `userId`. */
  'alias',
  /** Any other call carried identifiers of both persons. */
  'shared_identifier',
  /**
   * A stamper stamped the event with a provisional id the graph never used,
   * and the graph resolved it to another person: events stamped with that id
   * belong to the person (see `ResolveInput.stamped`).
   */
  'provisional_id',
] as const;
export type MergeReason = (typeof MERGE_REASONS)[number];

/** Why the graph refused to link an identifier of an event. */
export const REFUSAL_REASONS = [
  /** The link would put two different `user_id`s in one person. */
  'user_id_conflict',
  /** The link would take a person over its limit for an identifier type (see `limitType`). */
  'limit_exceeded',
  /** The link would re-join persons kept apart by a split. */
  'split_block',
] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

/** Reasons of split and delete audit entries. */
export const OPERATOR_REASONS = [
  /** `split()` moved the identifier to a new person. */
  'manual_split',
  /** `delete()` removed the person (right to erasure). */
  'gdpr_delete',
] as const;
export type OperatorReason = (typeof OPERATOR_REASONS)[number];

/** Every reason an audit entry can carry. */
export type AuditReason = MergeReason | RefusalReason | InvalidReason | OperatorReason;

/** Why `split()` or `delete()` did nothing. */
export const OPERATION_FAILURES = [
  /** No live person has this id (never seen, or deleted). */
  'unknown_person',
  /** An identifier to split off is not held by the person. */
  'identifier_not_in_person',
  /** No identifiers were given to split off. */
  'nothing_to_split',
  /** Every identifier of the person was given: nothing would remain. */
  'split_all',
] as const;
export type OperationFailure = (typeof OPERATION_FAILURES)[number];

/** Counts of junk values per reason; absent reasons are zero. */
export type JunkCounts = Readonly<Partial<Record<JunkReason, number>>>;
