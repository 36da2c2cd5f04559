-- Tracking sources. Rows are never updated in place: a change inserts the whole
-- row again with a higher version, and a delete inserts it with deleted = true.
-- Read the current state with `FINAL` and `WHERE NOT deleted`.
-- write_key_hash is the SHA-256 (hex) of the write key; only its prefix is kept
-- in clear, to recognise a key in the UI. ip_policy is 'keep',
-- 'strip_last_octet' or 'drop'.
CREATE TABLE IF NOT EXISTS sources
(
    id                  String,
    name                String,
    write_key_hash      String,
    write_key_prefix    String,
    allowed_origins     Array(String),
    redirect_allowlist  Array(String),
    ip_policy           LowCardinality(String),
    created_at          DateTime64(3, 'UTC'),
    updated_at          DateTime64(3, 'UTC'),
    deleted             Bool,
    version             UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY id;
