import type { Identifier } from './identifier.js';
import type { ResolveKind } from './graph-types.js';
import type { JunkCounts } from './reason-codes.js';

/**
 * Messages of `cdp.identity.links` (one partition, one active resolver):
 * every decision about the graph goes through it, in one order. Stampers send
 * `resolve`; the Person API sends `split` and `delete`.
 */
export type LinkMessage = ResolveLink | SplitCommand | DeleteCommand;

/** An event's identifiers, for the resolver to link (sent by a stamper). */
export interface ResolveLink {
  readonly op: 'resolve';
  readonly messageId: string;
  /** Epoch ms of the event. */
  readonly at: number;
  readonly kind: ResolveKind;
  readonly identifiers: readonly Identifier[];
  readonly previousId?: string | undefined;
  /** The `one_id` the stamper put on the event. */
  readonly stamped?: string | undefined;
  readonly junk?: JunkCounts | undefined;
  /**
   * The raw event message (as on `cdp.events.raw`) and its bus key, sent when
   * the stamp may be wrong (the event carries identifiers the stamper does
   * not know beside ones it does): if the resolver's answer differs
   * (`restamp`), it publishes the event again with the right `one_id`.
   */
  readonly event?: string | undefined;
  readonly key?: string | null | undefined;
}

/**
 * Moves identifiers of a person to a new person (Person API). The resolver
 * writes `identity_audit` rows with `request_id = requestId`: kind `split`
 * (reason `manual_split`, `other_id` the new person) per moved identifier, or
 * one row of kind `split` whose reason is the failure (`unknown_person`...).
 */
export interface SplitCommand {
  readonly op: 'split';
  readonly requestId: string;
  readonly oneId: string;
  readonly identifiers: readonly Identifier[];
  readonly at: number;
}

/**
 * Erases a person (GDPR, Person API). The resolver writes one
 * `identity_audit` row with `request_id = requestId`: kind `delete`, reason
 * `gdpr_delete` (or the failure), and tombstones the person's identifiers.
 */
export interface DeleteCommand {
  readonly op: 'delete';
  readonly requestId: string;
  readonly oneId: string;
  readonly at: number;
}

/**
 * A message of `cdp.identity.merges`: one row of `person_overrides` (written
 * by the loader). `version` orders rows for the same `from`; `deleted` retires
 * the row (a GDPR delete).
 */
export interface OverrideMessage {
  readonly from: string;
  readonly into: string;
  readonly reason: string;
  readonly version: number;
  readonly deleted?: boolean;
}

/**
 * A message of `cdp.identity.changes` (schemas/topics/identity-changes.json):
 * people whose identifiers a merge, split or delete changed, published after
 * the graph is stored. Every stamper reads all of them (its own group) and
 * drops what its cache knows of these people.
 */
export interface IdentityChangeMessage {
  readonly schemaVersion: 1;
  readonly oneIds: readonly string[];
}
