import type { AuditEntry } from './audit.js';
import type { Identifier, IdentifierType } from './identifier.js';
import type {
  InvalidReason,
  JunkCounts,
  MergeReason,
  OperationFailure,
  RefusalReason,
} from './reason-codes.js';
import type { IdentityRules } from './rules.js';
import type { GraphSnapshot } from './snapshot.js';

/** The call type of the event being resolved (the `type` of `cdp.events.raw`). */
export type ResolveKind = 'track' | 'identify' | 'page' | 'screen' | 'group' | 'alias';

/** One event's identifiers, as `extractIdentifiers` returns them, plus when it happened. */
export interface ResolveInput {
  /** Normalised identifiers (`extractIdentifiers`, `normaliseIdentifier`), most trusted first among equals. */
  readonly identifiers: readonly Identifier[];
  /**
   * The `previousId` of an alias call. It is a `user_id` if the graph already
   * knows that user id, else an `anonymous_id` (Segment's browser library
   * sends the anonymous id; a server that renames a user sends the old user
   * id, which is then known). As a `user_id` it can never join a person that
   * holds another user id: that link is refused with `user_id_conflict`.
   */
  readonly previousId?: string | undefined;
  /** Epoch ms of the event (`enriched.timestamp` or `receivedAt`); drives first/last seen. */
  readonly at: number;
  readonly kind: ResolveKind;
  /** Carried into audit entries. */
  readonly messageId?: string | undefined;
  /**
   * The `one_id` a stamper already put on the event, if any. When it differs
   * from the answer and the graph never used it (a provisional id that lost),
   * the graph records it as merged into the answer and reports a
   * `provisional_id` merge, so the stamped events follow through
   * `person_overrides`. When it names another person (live, merged or
   * deleted), an override would move that person: the outcome says `restamp`.
   */
  readonly stamped?: string | undefined;
  /** Junk counted by extraction; added to the outcome's and the graph's counts. */
  readonly junk?: JunkCounts | undefined;
}

/** A merge: every identifier of `from` now belongs to `into`, and `from` resolves to `into`. */
export interface MergeRecord {
  readonly from: string;
  readonly into: string;
  readonly reason: MergeReason;
}

/** An identifier of the event that was not linked. */
export interface Refusal {
  readonly identifierType: IdentifierType;
  /** SHA-256 hex of the normalised value (for email and phone: the stored value). */
  readonly identifierHash: string;
  /** A refusal reason, or why the value is not a valid identifier at all. */
  readonly reason: RefusalReason | InvalidReason;
  /** The person the identifier belongs to, when it is known. */
  readonly otherId?: string;
  /** For `limit_exceeded` and `user_id_conflict`: the type whose limit would have been broken. */
  readonly limitType?: IdentifierType;
}

/** What `resolve` did. */
export interface ResolveOutcome {
  /** The person the event belongs to; `undefined` when it had no usable identifier. */
  readonly oneId: string | undefined;
  /** Whether the person was created by this event. */
  readonly created: boolean;
  /** Merges done (persons seen earlier first); every `from` id now resolves to `into`. */
  readonly merges: readonly MergeRecord[];
  readonly refusals: readonly Refusal[];
  /** Identifiers the graph did not know before, now held by `oneId`. */
  readonly added: readonly Identifier[];
  /**
   * `true` when `stamped` was given and names a person other than `oneId`:
   * publish the event with `oneId` instead of its stamp.
   */
  readonly restamp: boolean;
  /** Junk values of the event per reason (extraction's and the graph's own). */
  readonly junk: JunkCounts;
  /** One entry per merge and refusal, ready for `identity_audit`. */
  readonly audit: readonly AuditEntry[];
}

/** One identifier of a person, as `person()` shows it. */
export interface PersonIdentifier extends Identifier {
  readonly firstSeen: number;
  readonly lastSeen: number;
}

/** A person as `person()` shows it. */
export interface PersonView {
  readonly oneId: string;
  readonly firstSeen: number;
  readonly lastSeen: number;
  readonly identifiers: readonly PersonIdentifier[];
  /** Every person id merged into this one (directly or through chains). */
  readonly mergedFrom: readonly string[];
  /** Persons a split keeps apart from this one. */
  readonly blockedWith: readonly string[];
}

/** The result of `split`. */
export type SplitResult =
  | {
      readonly ok: true;
      /** The person split (canonical id). */
      readonly from: string;
      /** The new person that now holds `moved`. */
      readonly oneId: string;
      readonly moved: readonly Identifier[];
      /** One `split` entry per moved identifier. */
      readonly audit: readonly AuditEntry[];
    }
  | { readonly ok: false; readonly reason: OperationFailure; readonly identifier?: Identifier };

/** The result of `delete`. */
export type DeleteResult =
  | {
      readonly ok: true;
      /** The deleted person (canonical id). */
      readonly oneId: string;
      /** Its identifiers, so the caller can erase them elsewhere (not for the audit table). */
      readonly removed: readonly Identifier[];
      /** Every id that resolved to the person: itself and the ids merged into it. Never reused. */
      readonly retiredIds: readonly string[];
      /** The tombstone entry: no personal data. */
      readonly audit: readonly AuditEntry[];
    }
  | { readonly ok: false; readonly reason: OperationFailure };

/** Counts for metrics; cumulative since the graph object was made (not part of the snapshot). */
export interface GraphStats {
  readonly persons: number;
  readonly identifiers: number;
  /** Person ids merged away (rows of `person_overrides`). */
  readonly mergedIds: number;
  readonly tombstones: number;
  readonly created: number;
  readonly merges: number;
  readonly refusals: Readonly<Partial<Record<RefusalReason | InvalidReason, number>>>;
  readonly junk: JunkCounts;
}

/**
 * The identity graph: identifier -> person and person -> identifiers, with
 * the merge rules applied to every link. Pure and synchronous: the caller
 * persists the outcomes (or `export()`) and passes every timestamp in.
 * Deterministic: the same calls in the same order from the same snapshot give
 * the same graph and the same outcomes.
 */
export interface IdentityGraph {
  readonly rules: IdentityRules;
  /**
   * Links an event's identifiers. Known identifiers name their persons; if
   * there are several, they are merged into the one seen first (earliest first
   * seen, then smallest id). Identifiers are taken in priority order (then in
   * the given order); one whose link would break a limit, join two user ids or
   * undo a split is refused and recorded, and the rest still link. A new
   * person gets the id of its highest-priority identifier (`provisionalId`).
   */
  resolve(input: ResolveInput): ResolveOutcome;
  /**
   * Moves `identifiers` of a person to a new person, and keeps the two apart
   * from then on: any later event linking them is refused with `split_block`
   * (the block follows both persons through later merges).
   */
  split(oneId: string, identifiers: readonly Identifier[], at: number): SplitResult;
  /**
   * Removes a person and its identifiers (right to erasure). Its ids are
   * tombstoned, never reused: the same identifiers arriving later start a new
   * person with a new id.
   */
  delete(oneId: string, at: number): DeleteResult;
  /** The person holding the identifier, or `undefined`. O(1). */
  lookup(identifier: Identifier): string | undefined;
  /** The live person an id resolves to (itself, or what it was merged into); `undefined` if unknown or deleted. O(1). */
  canonical(oneId: string): string | undefined;
  person(oneId: string): PersonView | undefined;
  /**
   * Whether an id is used by a live, merged-away or deleted person. A bound
   * function: pass it as `provisionalId`'s `isTaken` as it is.
   */
  readonly isTaken: (oneId: string) => boolean;
  stats(): GraphStats;
  /** The state as rows; see {@link GraphSnapshot}. */
  export(): GraphSnapshot;
}
