-- OneID identity resolution (services/identity).
--
-- The resolver owns the identity graph and persists it here; at start it
-- rebuilds the graph from these tables (identities, person_overrides,
-- identity_blocks, identity_tombstones), so they are the graph's durable form.
-- Rows are versioned (ReplacingMergeTree with an is_deleted flag): read them
-- with FINAL.

-- identifier -> person. Email and phone values are SHA-256 hex of the
-- normalised value (never the raw contact data); other types are raw ids.
CREATE TABLE IF NOT EXISTS identities
(
    id_type     LowCardinality(String),
    id_value    String,
    one_id      String,
    first_seen  DateTime64(3, 'UTC'),
    last_seen   DateTime64(3, 'UTC'),
    version     UInt64,
    is_deleted  UInt8 DEFAULT 0
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY (id_type, id_value);

-- A person id that was merged away -> the live person it resolves to now.
-- Chains are collapsed by the resolver (A into B into C: A -> C and B -> C),
-- so one lookup always gives the canonical id. Written by the loader from
-- cdp.identity.merges.
CREATE TABLE IF NOT EXISTS person_overrides
(
    from_one_id String,
    into_one_id String,
    reason      LowCardinality(String),
    version     UInt64,
    is_deleted  UInt8 DEFAULT 0
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY from_one_id;

-- Persons that a split keeps apart (one_id < other_one_id).
CREATE TABLE IF NOT EXISTS identity_blocks
(
    one_id       String,
    other_one_id String,
    version      UInt64,
    is_deleted   UInt8 DEFAULT 0
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY (one_id, other_one_id);

-- Deleted person ids (GDPR erasure): never reused. No personal data.
CREATE TABLE IF NOT EXISTS identity_tombstones
(
    one_id     String,
    deleted_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree
ORDER BY one_id;

-- Every merge, refusal, split and deletion, with its reason. Identifiers
-- appear only as SHA-256 hex. `request_id` ties an entry to the API call or
-- event (messageId) that caused it.
CREATE TABLE IF NOT EXISTS identity_audit
(
    at              DateTime64(3, 'UTC'),
    kind            LowCardinality(String),
    one_id          String,
    other_id        String,
    identifier_type LowCardinality(String),
    identifier_hash String,
    reason          LowCardinality(String),
    request_id      String
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(at)
ORDER BY (one_id, at);

-- The one way person-level queries see people: every event with `person_id`,
-- its one_id resolved through person_overrides (events keep the one_id they
-- were stamped with; merges apply here, at query time, so late and
-- out-of-order events resolve through the current map).
CREATE VIEW IF NOT EXISTS events_by_person AS
SELECT
    if(o.into_one_id = '', e.one_id, o.into_one_id) AS person_id,
    e.*
FROM events AS e FINAL
LEFT JOIN
(
    SELECT from_one_id, into_one_id FROM person_overrides FINAL
) AS o ON e.one_id = o.from_one_id;
