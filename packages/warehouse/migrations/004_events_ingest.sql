-- The loader's way in: it inserts the bus messages of `cdp.events.raw` (or
-- `.resolved`) as they are, one JSON document per line, into the Null table
-- `events_ingest`; these materialized views parse them inside ClickHouse
-- (one JSONExtract into a typed tuple per message) and write `events`. The
-- parsing runs on ClickHouse's threads, not on the Node.js event loop that
-- also serves HTTP. The message format is schemas/topics/events-raw.json.
--
-- A line that is not a schemaVersion 1 event message (not JSON, no
-- messageId, no receivedAt) goes to `events_invalid` with code
-- CDP_ERR_LOADER_BAD_MESSAGE and the raw line, instead of blocking the topic.
CREATE TABLE IF NOT EXISTS events_ingest
(
    m String
)
ENGINE = Null;

CREATE MATERIALIZED VIEW IF NOT EXISTS events_ingest_mv TO events AS
WITH
    JSONExtract(m, 'Tuple(schemaVersion Int64, messageId String, sourceId String, receivedAt Int64, type String, oneId String, enriched Tuple(timestamp Nullable(Int64), sent_at Nullable(Int64), original_timestamp Nullable(Int64), clock_skew_flag Nullable(String), channel Nullable(String), utm_source Nullable(String), utm_medium Nullable(String), utm_campaign Nullable(String), utm_term Nullable(String), utm_content Nullable(String), page_url Nullable(String), page_path Nullable(String), referrer Nullable(String), ip Nullable(String), user_agent Nullable(String), is_bot Nullable(Bool)), event Tuple(event Nullable(String), name Nullable(String), anonymousId Nullable(String), userId Nullable(String), groupId Nullable(String), previousId Nullable(String)))') AS x,
    x.enriched AS e,
    x.event AS v,
    JSONExtractRaw(m, 'event', 'properties') AS props,
    if(x.type IN ('identify', 'group'), JSONExtractRaw(m, 'event', 'traits'), JSONExtractRaw(m, 'event', 'context', 'traits')) AS trts,
    JSONExtractRaw(m, 'event', 'context') AS ctx
SELECT
    x.messageId AS message_id,
    x.sourceId AS source_id,
    x.type AS type,
    ifNull(v.event, '') AS event,
    ifNull(v.name, '') AS name,
    ifNull(v.anonymousId, '') AS anonymous_id,
    ifNull(v.userId, '') AS user_id,
    x.oneId AS one_id,
    ifNull(v.groupId, '') AS group_id,
    ifNull(v.previousId, '') AS previous_id,
    fromUnixTimestamp64Milli(ifNull(e.timestamp, x.receivedAt), 'UTC') AS timestamp,
    fromUnixTimestamp64Milli(x.receivedAt, 'UTC') AS received_at,
    if(e.sent_at IS NULL, NULL, fromUnixTimestamp64Milli(assumeNotNull(e.sent_at), 'UTC')) AS sent_at,
    if(e.original_timestamp IS NULL, NULL, fromUnixTimestamp64Milli(assumeNotNull(e.original_timestamp), 'UTC')) AS original_timestamp,
    ifNull(e.clock_skew_flag, '') AS clock_skew_flag,
    ifNull(e.channel, '') AS channel,
    ifNull(e.utm_source, '') AS utm_source,
    ifNull(e.utm_medium, '') AS utm_medium,
    ifNull(e.utm_campaign, '') AS utm_campaign,
    ifNull(e.utm_term, '') AS utm_term,
    ifNull(e.utm_content, '') AS utm_content,
    ifNull(e.page_url, '') AS page_url,
    ifNull(e.page_path, '') AS page_path,
    ifNull(e.referrer, '') AS referrer,
    ifNull(e.ip, '') AS ip,
    ifNull(e.user_agent, '') AS user_agent,
    ifNull(e.is_bot, false) AS is_bot,
    if(startsWith(props, '{'), props, '{}') AS properties,
    if(startsWith(trts, '{'), trts, '{}') AS traits,
    if(startsWith(ctx, '{'), ctx, '{}') AS context
FROM events_ingest
WHERE x.schemaVersion = 1 AND x.messageId != '' AND x.receivedAt > 0;

CREATE MATERIALIZED VIEW IF NOT EXISTS events_ingest_invalid_mv TO events_invalid AS
WITH JSONExtract(m, 'Tuple(schemaVersion Int64, messageId String, receivedAt Int64, sourceId String)') AS x
SELECT
    lower(hex(SHA256(m))) AS id,
    now64(3) AS received_at,
    x.sourceId AS source_id,
    'CDP_ERR_LOADER_BAD_MESSAGE' AS code,
    '' AS field,
    'The bus message is not a schemaVersion 1 event message (JSON with messageId and receivedAt)' AS reason,
    substring(m, 1, 65536) AS payload,
    '' AS ip
FROM events_ingest
WHERE NOT (x.schemaVersion = 1 AND x.messageId != '' AND x.receivedAt > 0);
