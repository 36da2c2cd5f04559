import type { IdentifierType } from './identifier.js';

/**
 * One identifier of a person: a row of the `identities` table. Email and
 * phone values are SHA-256 hex; the rest are the raw ids.
 */
export interface IdentityRow {
  readonly one_id: string;
  readonly id_type: IdentifierType;
  readonly id_value: string;
  /** Epoch ms of the earliest event that carried the identifier. */
  readonly first_seen: number;
  /** Epoch ms of the latest event that carried the identifier. */
  readonly last_seen: number;
}

/**
 * A person id that was merged away and what it resolves to now: a row of
 * `person_overrides`. Chains are collapsed: `into_one_id` is always a live person.
 */
export interface OverrideRow {
  readonly from_one_id: string;
  readonly into_one_id: string;
}

/** Two persons that a split keeps apart (stored once, `one_id < other_one_id`). */
export interface BlockRow {
  readonly one_id: string;
  readonly other_one_id: string;
}

/**
 * A deleted person id (and every id merged into it). Ids are never reused:
 * the same identifiers arriving later get a new person id. No personal data.
 */
export interface TombstoneRow {
  readonly one_id: string;
  readonly deleted_at: number;
}

/**
 * The whole graph as rows, in a deterministic order: `identities` grouped by
 * person in creation order, `overrides` by surviving person, `blocks` sorted,
 * `tombstones` in a fixed order. `importIdentityGraph(export())` rebuilds a
 * graph that behaves identically. Plain JSON: no Maps, no classes.
 */
export interface GraphSnapshot {
  readonly schema_version: 1;
  readonly identities: readonly IdentityRow[];
  readonly overrides: readonly OverrideRow[];
  readonly blocks: readonly BlockRow[];
  readonly tombstones: readonly TombstoneRow[];
}
