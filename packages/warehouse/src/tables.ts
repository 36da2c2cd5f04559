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
  /** OneID: the resolver's progress on the links topic (a replay is a no-op). */
  identityResolverProgress: 'identity_resolver_progress',
  /** View: every event with `person_id` resolved through `person_overrides`. Use it for person-level queries. */
  eventsByPerson: 'events_by_person',
  /** Tags: definitions as data, versioned. */
  tagDefinitions: 'tag_definitions',
  /** Tags: what tags need from each person's events (recomputed for changed people). */
  personFacts: 'person_facts',
  /** Tags: every person's current tags, one row (a map) per person. */
  personTagState: 'person_tag_state',
  /** Tags: the values purchasers are ranked by, and the scores they were last given. */
  personRankInputs: 'person_rank_inputs',
  /** Tags: one row per person and tag, latest wins; sorted by tag. */
  personTags: 'person_tags',
  /** Tags: every member tier change. */
  tierHistory: 'tier_history',
  /** Tags: run history (and the watermarks incremental runs start from). */
  tagRuns: 'tag_runs',
  /** Tags: a run's scratch tables, dropped when it ends. */
  tagRunPeople: 'tag_run_people',
  tagRunScores: 'tag_run_scores',
  tagRunChanges: 'tag_run_changes',
  /** Audiences: definitions as data, versioned. */
  audiences: 'audiences',
  /** Audiences: the member set of each run (the last good one and any run going). */
  audienceSnapshots: 'audience_snapshots',
  /** Audiences: the people an incremental run re-evaluates (scratch, TTL one day). */
  audienceCandidates: 'audience_candidates',
  /** Audiences: one row per person entering or exiting, by version. */
  audienceMembers: 'audience_members',
  /** Audiences: stored member lists (a lookalike's members), read by `in_list` conditions. */
  audienceLists: 'audience_lists',
  /** Audiences: one row per lookalike built (what it was built from, how, and what it found). */
  lookalikeBuilds: 'lookalike_builds',
  /** Audiences: a lookalike build's per-person features (scratch, TTL one day). */
  lookalikeFeatures: 'lookalike_features',
  /** Metrics: per-minute aggregate states of every event (a materialized view on events). */
  metricsMinute: 'metrics_minute',
  /** Metrics: per-minute states by ingest's receipt, per source (operational metrics). */
  metricsReceiptMinute: 'metrics_receipt_minute',
  /** Metrics: users' own metric definitions, versioned. */
  metricDefinitions: 'metric_definitions',
  /** Alerts: rules, versioned. */
  alerts: 'alerts',
  /** Alerts: each rule's state per breakdown value. */
  alertState: 'alert_state',
  /** Alerts: every transition and its notification. */
  alertEvents: 'alert_events',
  /** Alerts: which process is the active evaluator. */
  alertLeases: 'alert_leases',
  /** Audiences: run history. */
  audienceRuns: 'audience_runs',
  /** Destinations: where audiences are delivered (secrets encrypted). */
  destinations: 'destinations',
  /** Destinations: which audience goes to which destination. */
  audienceDestinations: 'audience_destinations',
  /** Destinations: what each person was last sent as. */
  destinationSyncState: 'destination_sync_state',
  /** Destinations: what a sync has to send (scratch, TTL one day). */
  exportPending: 'export_pending',
  /** Destinations: one row per sync. */
  exportRuns: 'export_runs',
  /** Destinations: records refused for good, with the reason. */
  exportFailures: 'export_failures',
  /** Which migrations ran, with their checksums. Owned by `migrate()`. */
  schemaMigrations: 'schema_migrations',
} as const;

export type TableKey = keyof typeof TABLES;
export type TableName = (typeof TABLES)[TableKey];

/**
 * The `SETTINGS` clause for big analytics scans of `events` with `FINAL` (and
 * so of `events_by_person`). `do_not_merge_across_partitions_select_final`
 * lets ClickHouse dedupe each month partition on its own and skip partitions
 * already merged into one part, instead of merge-sorting every row.
 * bench/sql-variants.mjs times the funnel and attribution queries with and
 * without it (figures in bench/FIGURES.md#sql-variants).
 *
 * The trade-off: copies of one event in two different months are no longer
 * collapsed (plain `FINAL` collapses them; background merges never do). That
 * takes a client resend that ingest timestamps differently, across a month
 * boundary: the clock-skew correction keeps a resend within the request's
 * network delay of the first copy (or, for a client that sends neither
 * `timestamp` nor `sentAt`, within its retry delay), so only an event resent
 * in the last moments of a month can count twice in these scans. Exact counts
 * use plain `FINAL` without it.
 */
export const EVENTS_SCAN_SETTINGS_SQL = 'SETTINGS do_not_merge_across_partitions_select_final = 1';

/**
 * `events_by_person` as a subquery, with `where` (over `events` columns)
 * applied before the join with `person_overrides`. Same rows as
 * `SELECT * FROM events_by_person WHERE <where>`, but ClickHouse cannot push
 * a filter below the view's `FINAL`, so through the view every event is
 * joined first. bench/sql-variants.mjs times the funnel both ways (figures in
 * bench/FIGURES.md#sql-variants). Keep it in step with the view in
 * migrations/005_identity.sql.
 */
export function eventsByPersonSql(where: string): string {
  return `(
    SELECT if(o.into_one_id = '', e.one_id, o.into_one_id) AS person_id, e.*
    FROM (SELECT * FROM ${TABLES.events} FINAL WHERE ${where}) AS e
    LEFT JOIN (SELECT from_one_id, into_one_id FROM ${TABLES.personOverrides} FINAL) AS o
      ON e.one_id = o.from_one_id
  )`;
}
