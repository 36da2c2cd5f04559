-- The resolver's progress on the links topic, so that a replay is a no-op
-- and a batch whose writes stopped half-way is redone from the graph as it
-- was before it (services/identity/src/resolver.ts).
--
-- Before a batch's rows are written: state `writing` with the batch's
-- offsets and rows (one insert: whole or absent); once every row (audit
-- last) is stored: state `done`. A resolver that (re)loads the graph after
-- `writing` writes that batch's rows again first (the same versions; audit
-- rows already stored are not repeated), and links up to the last `done`
-- offset are skipped: they are in the stored graph already.
CREATE TABLE IF NOT EXISTS identity_resolver_progress
(
    links_topic  String,
    state        LowCardinality(String),
    first_offset UInt64,
    last_offset  UInt64,
    at           DateTime64(3, 'UTC'),
    version      UInt64,
    -- While `writing`: the batch's rows (JSON), redone by the next resolver
    -- that loads the graph; empty once `done`.
    rows         String
)
ENGINE = ReplacingMergeTree(version)
ORDER BY links_topic;

-- The row version of the link that wrote them (offset * 64 + k), like the
-- other graph tables: a half-written batch's rows can be told apart.
ALTER TABLE identity_tombstones ADD COLUMN IF NOT EXISTS version UInt64 DEFAULT 0;
ALTER TABLE identity_audit ADD COLUMN IF NOT EXISTS version UInt64 DEFAULT 0;
