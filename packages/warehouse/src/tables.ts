/**
 * Every warehouse table name, in one place. Names are unqualified: they live
 * in the warehouse's database (`cdp` unless configured otherwise), which is
 * the connection's default database in both adapters.
 */
export const TABLES = {
  /** Tracked events, one row per message (ReplacingMergeTree: exact counts need `FINAL`). */
  events: 'events',
  /**
   * Null table the loader inserts bus messages into, one JSON line each;
   * materialized views parse them into `events` (or `events_invalid`).
   */
  eventsIngest: 'events_ingest',
  /** Dead letters from ingest: the raw payload and why it was refused (kept 90 days). */
  eventsInvalid: 'events_invalid',
  /** Tracking sources and their write-key hashes (ReplacingMergeTree by `version`). */
  sources: 'sources',
  /** OneID: identifier -> person (ReplacingMergeTree by `version`, `is_deleted`). */
  identities: 'identities',
  /** OneID: merged-away person id -> canonical person id (chains collapsed). */
  personOverrides: 'person_overrides',
  /** OneID: persons a split keeps apart. */
  identityBlocks: 'identity_blocks',
  /** OneID: deleted person ids (never reused). */
  identityTombstones: 'identity_tombstones',
  /** OneID: every merge, refusal, split and deletion with its reason. */
  identityAudit: 'identity_audit',
  /** View: every event with `person_id` resolved through `person_overrides`. Use it for person-level queries. */
  eventsByPerson: 'events_by_person',
  /** Which migrations ran, with their checksums. Owned by `migrate()`. */
  schemaMigrations: 'schema_migrations',
} as const;

export type TableKey = keyof typeof TABLES;
export type TableName = (typeof TABLES)[TableKey];
