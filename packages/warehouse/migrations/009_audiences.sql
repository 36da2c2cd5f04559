-- Audiences (services/segment-exporter, definitions compiled by packages/audiences).
--
-- A run evaluates an audience's definition at one time (`at`) into the
-- member set of a new version (`audience_snapshots`), then writes the
-- difference with the last good version as change rows (`audience_members`)
-- and publishes them (cdp.audiences.changes, `Audience Entered` / `Exited`).
-- A run stopped half-way is finished with the same version: a set already
-- computed is reused, so a replay gives the same diff.

-- Definitions as data; a change inserts the whole row with a higher version.
CREATE TABLE IF NOT EXISTS audiences
(
    name             String,
    definition       String,
    -- Seconds between scheduled runs; 0: on demand only.
    refresh_seconds  UInt32,
    created_at       DateTime64(3, 'UTC'),
    updated_at       DateTime64(3, 'UTC'),
    version          UInt64,
    is_deleted       UInt8 DEFAULT 0
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY name;

-- The member set of each run of an audience (the last two are kept).
CREATE TABLE IF NOT EXISTS audience_snapshots
(
    audience   String,
    version    UInt64,
    person_id  String
)
ENGINE = MergeTree
ORDER BY (audience, version, person_id);

-- One row per change: a person entered (exited_at NULL) or exited the
-- audience at a version. A replayed run writes the same rows: they collapse.
CREATE TABLE IF NOT EXISTS audience_members
(
    audience    String,
    person_id   String,
    version     UInt64,
    change      LowCardinality(String),
    entered_at  DateTime64(3, 'UTC'),
    exited_at   Nullable(DateTime64(3, 'UTC'))
)
ENGINE = ReplacingMergeTree
ORDER BY (audience, person_id, version);

-- Run history: a run's row is written at start (running), once its set is
-- stored (computed) and at its end (done or failed), `updated` higher each time.
CREATE TABLE IF NOT EXISTS audience_runs
(
    audience            String,
    version             UInt64,
    status              LowCardinality(String),
    trigger             LowCardinality(String),
    -- The time the definition was evaluated for (windows end here).
    at                  DateTime64(3, 'UTC'),
    definition_version  UInt64,
    started_at          DateTime64(3, 'UTC'),
    finished_at         Nullable(DateTime64(3, 'UTC')),
    size                UInt64,
    entered             UInt64,
    exited              UInt64,
    duration_ms         UInt64,
    error               String,
    updated             UInt64
)
ENGINE = ReplacingMergeTree(updated)
ORDER BY (audience, version);
