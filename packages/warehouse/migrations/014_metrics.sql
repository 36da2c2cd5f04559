-- Live marketing metrics and alerts (services/metrics, definitions and
-- evaluation in packages/metrics).
--
-- Every insert into `events` also goes, aggregated by minute of the event's
-- time, source, channel, campaign, call type and event name, into
-- `metrics_minute` as aggregate states: the metrics of any range, bucket and
-- breakdown are merges of those rows (a few per minute), never a scan of the
-- events. Counts are unmoved by a redelivered event: events are counted as
-- distinct message ids, people as distinct one_ids (as stamped: a later
-- merge of two ids is not applied here), revenue as the sum over distinct
-- (message id, revenue) pairs. Ids are kept as their 64-bit cityHash64
-- (merging sets of UInt64 is about twice as fast as of strings; two ids of
-- a million collide with a chance of about 3 in 10^8).
CREATE TABLE IF NOT EXISTS metrics_minute
(
    minute        DateTime('UTC'),
    source_id     LowCardinality(String),
    channel       LowCardinality(String),
    utm_campaign  String,
    type          LowCardinality(String),
    event         String,
    persons       AggregateFunction(uniqExact, UInt64),
    messages      AggregateFunction(uniqExact, UInt64),
    -- One per person and browser session (context.sessionId), else per
    -- person and half hour.
    sessions      AggregateFunction(uniqExact, UInt64),
    revenue       AggregateFunction(groupUniqArray, Tuple(UInt64, Float64))
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(minute)
ORDER BY (minute, source_id, channel, utm_campaign, type, event);

CREATE MATERIALIZED VIEW IF NOT EXISTS metrics_minute_mv TO metrics_minute AS
SELECT
    toStartOfMinute(timestamp) AS minute,
    source_id,
    channel,
    utm_campaign,
    type,
    event,
    uniqExactState(cityHash64(one_id)) AS persons,
    uniqExactState(cityHash64(message_id)) AS messages,
    uniqExactState(cityHash64(one_id, if(JSONHas(context, 'sessionId'),
        JSONExtractRaw(context, 'sessionId'),
        toString(toStartOfInterval(timestamp, INTERVAL 30 MINUTE))))) AS sessions,
    groupUniqArrayStateIf((cityHash64(message_id), if(JSONHas(properties, 'revenue'),
        JSONExtractFloat(properties, 'revenue'), JSONExtractFloat(properties, 'value'))),
        JSONHas(properties, 'revenue') OR JSONHas(properties, 'value')) AS revenue
FROM events
GROUP BY minute, source_id, channel, utm_campaign, type, event;

-- The operational side, by minute of ingest's receipt (not the event's own
-- time, which an offline client or an import can put days back): events
-- stored per source, and their lag from receipt to the warehouse, beside
-- the refused ones in events_invalid (also by receipt).
CREATE TABLE IF NOT EXISTS metrics_receipt_minute
(
    minute     DateTime('UTC'),
    source_id  LowCardinality(String),
    messages   AggregateFunction(uniqExact, UInt64),
    lag_ms     AggregateFunction(sum, Int64),
    rows       AggregateFunction(count)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(minute)
ORDER BY (minute, source_id);

CREATE MATERIALIZED VIEW IF NOT EXISTS metrics_receipt_minute_mv TO metrics_receipt_minute AS
SELECT
    toStartOfMinute(received_at) AS minute,
    source_id,
    uniqExactState(cityHash64(message_id)) AS messages,
    sumState(toInt64(toUnixTimestamp64Milli(loaded_at) - toUnixTimestamp64Milli(received_at))) AS lag_ms,
    countState() AS rows
FROM events
GROUP BY minute, source_id;

-- Users' own metric definitions (built-ins are code); versioned rows.
CREATE TABLE IF NOT EXISTS metric_definitions
(
    name        String,
    definition  String,
    updated_at  DateTime64(3, 'UTC'),
    version     UInt64,
    is_deleted  UInt8 DEFAULT 0
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY name;

-- Alert rules; versioned rows (the webhook secret sealed like destinations').
CREATE TABLE IF NOT EXISTS alerts
(
    id          String,
    rule        String,
    created_at  DateTime64(3, 'UTC'),
    updated_at  DateTime64(3, 'UTC'),
    version     UInt64,
    is_deleted  UInt8 DEFAULT 0
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY id;

-- Each rule's state per breakdown value ('' without a breakdown), as the
-- evaluator last left it: a restarted evaluator goes on from here.
CREATE TABLE IF NOT EXISTS alert_state
(
    alert_id   String,
    key        String,
    state      LowCardinality(String),
    since      DateTime64(3, 'UTC'),
    -- Evaluations in a row the condition has been clear (resolving needs 2).
    clear_runs UInt32,
    value      Nullable(Float64),
    reference  Nullable(Float64),
    -- Firing: the reference it fired against (recovery is measured by it).
    fired_reference Nullable(Float64),
    version    UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (alert_id, key);

-- Every transition (ok -> firing, firing -> resolved), and whether and how
-- it was notified: 'pending', 'sent', 'failed', 'muted', 'snoozed', 'none'
-- (no webhook). A row is written again, with a higher version, once sent.
CREATE TABLE IF NOT EXISTS alert_events
(
    id          String,
    alert_id    String,
    key         String,
    from_state  LowCardinality(String),
    to_state    LowCardinality(String),
    at          DateTime64(3, 'UTC'),
    value       Nullable(Float64),
    reference   Nullable(Float64),
    change      Nullable(Float64),
    notified    LowCardinality(String),
    attempts    UInt32,
    error       String,
    version     UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (alert_id, id);

-- Which process is the active evaluator: the holder of the latest row,
-- while it has not expired (renewed every tick).
CREATE TABLE IF NOT EXISTS alert_leases
(
    name        String,
    holder      String,
    expires_at  DateTime64(3, 'UTC'),
    version     UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY name;

-- The events stored before this migration, once.
INSERT INTO metrics_minute
SELECT
    toStartOfMinute(timestamp) AS minute,
    source_id,
    channel,
    utm_campaign,
    type,
    event,
    uniqExactState(cityHash64(one_id)) AS persons,
    uniqExactState(cityHash64(message_id)) AS messages,
    uniqExactState(cityHash64(one_id, if(JSONHas(context, 'sessionId'),
        JSONExtractRaw(context, 'sessionId'),
        toString(toStartOfInterval(timestamp, INTERVAL 30 MINUTE))))) AS sessions,
    groupUniqArrayStateIf((cityHash64(message_id), if(JSONHas(properties, 'revenue'),
        JSONExtractFloat(properties, 'revenue'), JSONExtractFloat(properties, 'value'))),
        JSONHas(properties, 'revenue') OR JSONHas(properties, 'value')) AS revenue
FROM events
GROUP BY minute, source_id, channel, utm_campaign, type, event;

INSERT INTO metrics_receipt_minute
SELECT
    toStartOfMinute(received_at) AS minute,
    source_id,
    uniqExactState(cityHash64(message_id)) AS messages,
    sumState(toInt64(toUnixTimestamp64Milli(loaded_at) - toUnixTimestamp64Milli(received_at))) AS lag_ms,
    countState() AS rows
FROM events
GROUP BY minute, source_id;
