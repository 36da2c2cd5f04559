-- Incremental audience runs (services/segment-exporter).
--
-- A run of an unchanged definition re-evaluates only the people something
-- happened to since the last good run (events loaded, events crossing the
-- edge of a sliding window, tags changed, merges and splits): their ids
-- go here, and everyone else keeps the membership of the last good version.
-- Rows are scratch: a day later TTL removes them (no DELETE on the hot path).
CREATE TABLE IF NOT EXISTS audience_candidates
(
    audience    String,
    version     UInt64,
    person_id   String,
    created_at  DateTime('UTC') DEFAULT now()
)
ENGINE = MergeTree
ORDER BY (audience, version, person_id)
TTL created_at + INTERVAL 1 DAY;

-- How a run evaluated: `full` (everyone) or `incremental` (the candidates),
-- how many people it evaluated, and a hash of the definition it ran (with
-- every in_audience inlined): a different hash means a full run.
ALTER TABLE audience_runs ADD COLUMN IF NOT EXISTS mode LowCardinality(String) DEFAULT 'full';
ALTER TABLE audience_runs ADD COLUMN IF NOT EXISTS evaluated UInt64 DEFAULT 0;
ALTER TABLE audience_runs ADD COLUMN IF NOT EXISTS definition_hash String DEFAULT '';
