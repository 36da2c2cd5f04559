-- The tag engine (services/tag-engine, definitions compiled by packages/tags).
--
-- A run: (1) person facts are recomputed from events_by_person for the people
-- whose events, merges, splits or deletions changed since the last run (all
-- people on a full run); (2) every person's tags are computed from the facts
-- and the run's time, and compared with their current tags; (3) the changes
-- are published, written to person_tags and tier_history, and the new tags
-- become the current state. Versioned rows: read with FINAL.

-- Tag definitions as data; a change inserts the whole row with a higher version.
CREATE TABLE IF NOT EXISTS tag_definitions
(
    name        String,
    definition  String,
    builtin     UInt8,
    updated_at  DateTime64(3, 'UTC'),
    version     UInt64,
    is_deleted  UInt8 DEFAULT 0
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY name;

-- What tags need from a person's events (see packages/tags/src/facts.ts).
CREATE TABLE IF NOT EXISTS person_facts
(
    person_id   String,
    first_ms    Int64,
    last_ms     Int64,
    traits      String,
    s           Map(String, String),
    l           Map(String, Array(Tuple(Int64, String))),
    p           Map(String, Array(Tuple(Int64, Float64, UInt8))),
    k           Map(String, Array(Tuple(Int64, String, Float64))),
    version     UInt64,
    is_deleted  UInt8 DEFAULT 0
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY person_id;

-- Every person's current tags, one row per person (keys starting with `_`
-- are state a tag carries between runs, e.g. a member tier's review date).
CREATE TABLE IF NOT EXISTS person_tag_state
(
    person_id   String,
    tags        Map(String, String),
    -- When a tag of this person next changes with time alone (a day passes,
    -- a purchase leaves a window, a tier review): runs re-evaluate the
    -- people who are due, not everyone.
    due_ms      Int64,
    computed_at DateTime64(3, 'UTC'),
    version     UInt64,
    is_deleted  UInt8 DEFAULT 0
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY person_id;

-- The values that tags rank people by (RFM, spending power), one slim row
-- per purchaser, with the scores they were last given: each run ranks every
-- purchaser again from these few columns and rebuilds the tags of only those
-- whose score moved.
CREATE TABLE IF NOT EXISTS person_rank_inputs
(
    person_id   String,
    rfm_in      UInt8,
    rfm_last_ms Int64,
    rfm_f       UInt32,
    rfm_m       Float64,
    sp_in       UInt8,
    sp_aov      Float64,
    r_score     UInt8,
    f_score     UInt8,
    m_score     UInt8,
    sp_class    UInt8,
    version     UInt64,
    is_deleted  UInt8 DEFAULT 0
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY person_id;

-- One row per person and tag, latest wins (the value as text: numbers in
-- decimal, lists as JSON arrays). Sorted by tag for audiences and
-- distributions: "everyone whose rfm_group is Champions" reads one range.
CREATE TABLE IF NOT EXISTS person_tags
(
    person_id   String,
    tag         LowCardinality(String),
    value       String,
    computed_at DateTime64(3, 'UTC'),
    version     UInt64,
    is_deleted  UInt8 DEFAULT 0
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY (tag, person_id);

-- Every member tier change: joined (first tier), upgrade, downgrade, left.
-- A replayed run writes the same rows (same person, tag and time): they collapse.
CREATE TABLE IF NOT EXISTS tier_history
(
    person_id   String,
    tag         LowCardinality(String),
    from_tier   String,
    to_tier     String,
    reason      LowCardinality(String),
    at          DateTime64(3, 'UTC'),
    run_id      UInt64
)
ENGINE = ReplacingMergeTree
ORDER BY (person_id, tag, at);

-- Run history; a run's row is written at start (status running) and again
-- at its end (done or failed) with a higher version.
CREATE TABLE IF NOT EXISTS tag_runs
(
    run_id          UInt64,
    kind            LowCardinality(String),
    status          LowCardinality(String),
    started_at      DateTime64(3, 'UTC'),
    finished_at     Nullable(DateTime64(3, 'UTC')),
    events_to       DateTime64(3, 'UTC'),
    overrides_to    UInt64,
    definitions     String,
    people          UInt64,
    changes         UInt64,
    duration_ms     UInt64,
    error           String,
    version         UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY run_id;

-- Scratch space of a run (dropped at its end): the people it evaluates, the
-- scores it gave, and the tag changes it found.
CREATE TABLE IF NOT EXISTS tag_run_people
(
    run_id      UInt64,
    person_id   String
)
ENGINE = MergeTree
PARTITION BY run_id
ORDER BY person_id;

CREATE TABLE IF NOT EXISTS tag_run_scores
(
    run_id      UInt64,
    person_id   String,
    r_score     UInt8,
    f_score     UInt8,
    m_score     UInt8,
    sp_class    UInt8,
    changed     UInt8
)
ENGINE = MergeTree
PARTITION BY run_id
ORDER BY person_id;

CREATE TABLE IF NOT EXISTS tag_run_changes
(
    run_id      UInt64,
    person_id   String,
    tags        Map(String, String),
    old_tags    Map(String, String),
    due_ms      Int64
)
ENGINE = MergeTree
PARTITION BY run_id
ORDER BY person_id;
