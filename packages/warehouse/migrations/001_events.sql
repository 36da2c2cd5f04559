-- Tracked events: one row per message, as the loader writes them.
--
-- ReplacingMergeTree on (source_id, anonymous_id, user_id, message_id): a
-- redelivered event (same message_id and ids) collapses into one row when parts
-- merge. Merges happen in the background, so a plain count() can still see a
-- duplicate for a while: exact counts use `FINAL` (or `LIMIT 1 BY message_id`).
-- Insert deduplication tokens (non_replicated_deduplication_window) make a
-- retried batch a no-op straight away, before any merge.
--
-- properties, traits and context are JSON documents stored as strings.
-- clock_skew_flag is '' or 'future_clamped' (ingest clamped a future timestamp).
CREATE TABLE IF NOT EXISTS events
(
    message_id          String,
    source_id           LowCardinality(String),
    type                LowCardinality(String),
    event               String,
    name                String,
    anonymous_id        String,
    user_id             String,
    one_id              String,
    group_id            String,
    previous_id         String,
    timestamp           DateTime64(3, 'UTC'),
    received_at         DateTime64(3, 'UTC'),
    sent_at             Nullable(DateTime64(3, 'UTC')),
    original_timestamp  Nullable(DateTime64(3, 'UTC')),
    clock_skew_flag     LowCardinality(String),
    channel             LowCardinality(String),
    utm_source          String,
    utm_medium          String,
    utm_campaign        String,
    utm_term            String,
    utm_content         String,
    page_url            String,
    page_path           String,
    referrer            String,
    ip                  String,
    user_agent          String,
    is_bot              Bool,
    properties          String,
    traits              String,
    context             String,
    loaded_at           DateTime64(3, 'UTC') DEFAULT now64(3),
    INDEX idx_message_id message_id TYPE bloom_filter GRANULARITY 4,
    INDEX idx_user_id user_id TYPE bloom_filter GRANULARITY 4
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(timestamp)
ORDER BY (source_id, anonymous_id, user_id, message_id)
SETTINGS non_replicated_deduplication_window = 1000;
