-- Lookalike audiences (services/segment-exporter, model in packages/lookalike).
--
-- POST /v1/audiences/:name/lookalike builds, from the seed audience's last
-- good run, a list of the people most like it; the list is stored here and
-- the lookalike audience's definition is `{"in_list": <its name>}`, so it
-- runs, diffs and syncs like any other audience. A rebuild writes the new
-- list under a higher version: people no longer on it get a deleted row.
CREATE TABLE IF NOT EXISTS audience_lists
(
    list         String,
    person_id    String,
    -- The person's log-odds under the model, and their rank (1: most alike).
    score        Float64,
    rank         UInt32,
    computed_at  DateTime64(3, 'UTC'),
    version      UInt64,
    is_deleted   UInt8 DEFAULT 0
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY (list, person_id);

-- One row per build: what it was built from (seed, ratio, exclusions), how
-- (features, training rows, the model's largest weights) and what it found.
CREATE TABLE IF NOT EXISTS lookalike_builds
(
    list        String,
    version     UInt64,
    seed        String,
    report      String,
    built_at    DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (list, version);

-- A build's features, one row per person, written by one INSERT ... SELECT
-- and read back page by page in person order. Scratch: TTL removes them.
CREATE TABLE IF NOT EXISTS lookalike_features
(
    build                  String,
    person_id              String,
    recency_days           Nullable(Float64),
    frequency              Nullable(Float64),
    monetary               Nullable(Float64),
    r_score                Nullable(Float64),
    f_score                Nullable(Float64),
    m_score                Nullable(Float64),
    days_since_last_event  Nullable(Float64),
    events_90d             Float64,
    rfm_group              String,
    lifecycle              String,
    churn_risk             String,
    member_tier            String,
    spending_power         String,
    preferred_channel      String,
    device                 String,
    top_categories         Array(String),
    channels               Array(String),
    created_at             DateTime('UTC') DEFAULT now()
)
ENGINE = MergeTree
ORDER BY (build, person_id)
TTL created_at + INTERVAL 1 DAY;
