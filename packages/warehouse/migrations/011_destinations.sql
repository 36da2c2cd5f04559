-- Destinations (services/segment-exporter): where audiences are delivered.
--
-- A destination's config is JSON whose secret fields (tokens, signing keys)
-- are encrypted at rest (AES-256-GCM, see destinations/secrets.ts).
CREATE TABLE IF NOT EXISTS destinations
(
    id          String,
    name        String,
    type        LowCardinality(String),
    config      String,
    created_at  DateTime64(3, 'UTC'),
    updated_at  DateTime64(3, 'UTC'),
    version     UInt64,
    is_deleted  UInt8 DEFAULT 0
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY id;

-- An audience connected to a destination.
CREATE TABLE IF NOT EXISTS audience_destinations
(
    audience        String,
    destination_id  String,
    created_at      DateTime64(3, 'UTC'),
    version         UInt64,
    is_deleted      UInt8 DEFAULT 0
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY (audience, destination_id);

-- What each person was last sent to a destination as: `added` (sent as a
-- member) or `removed`. A sync sends what differs from the audience's
-- last good member set, and writes this after each batch is accepted, so a
-- sync stopped half-way sends only what is still pending.
CREATE TABLE IF NOT EXISTS destination_sync_state
(
    destination_id  String,
    audience        String,
    person_id       String,
    state           LowCardinality(String),
    -- The audience version the person was sent for.
    version         UInt64,
    updated         UInt64
)
ENGINE = ReplacingMergeTree(updated)
ORDER BY (destination_id, audience, person_id);

-- What a sync has to send, worked out once at its start (scratch: TTL).
CREATE TABLE IF NOT EXISTS export_pending
(
    run_id      String,
    person_id   String,
    change      LowCardinality(String),
    created_at  DateTime('UTC') DEFAULT now()
)
ENGINE = MergeTree
ORDER BY (run_id, person_id)
TTL created_at + INTERVAL 1 DAY;

-- One row per sync of an audience to a destination (rewritten as it goes).
CREATE TABLE IF NOT EXISTS export_runs
(
    run_id          String,
    destination_id  String,
    audience        String,
    audience_version UInt64,
    status          LowCardinality(String),
    started_at      DateTime64(3, 'UTC'),
    finished_at     Nullable(DateTime64(3, 'UTC')),
    added           UInt64,
    removed         UInt64,
    failed          UInt64,
    bytes           UInt64,
    error           String,
    updated         UInt64
)
ENGINE = ReplacingMergeTree(updated)
ORDER BY (destination_id, audience, run_id);

-- Records a destination refused for good (a 4xx), with why.
CREATE TABLE IF NOT EXISTS export_failures
(
    destination_id  String,
    audience        String,
    run_id          String,
    person_id       String,
    change          LowCardinality(String),
    reason          String,
    at              DateTime64(3, 'UTC')
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(at)
ORDER BY (destination_id, audience, at)
TTL toDateTime(at) + INTERVAL 90 DAY;
