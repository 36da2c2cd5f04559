-- Dead letters from ingest: every refused event with the reason, never dropped.
-- id is a UUID given by ingest, so a redelivered dead letter collapses on merge
-- (and a retried batch with the same insert deduplication token is a no-op).
CREATE TABLE IF NOT EXISTS events_invalid
(
    id           String,
    received_at  DateTime64(3, 'UTC'),
    source_id    LowCardinality(String),
    code         LowCardinality(String),
    field        String,
    reason       String,
    payload      String,
    ip           String
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(received_at)
ORDER BY (received_at, id)
TTL received_at + INTERVAL 90 DAY
SETTINGS non_replicated_deduplication_window = 1000;
