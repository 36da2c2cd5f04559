-- Ad-platform syncs (services/segment-exporter).
--
-- How a sync ran: `full` (the first: the whole membership), `diff` (who
-- entered and who left) or `mirror` (a replace of the platform's list, on
-- a schedule: lists expire, Google drops members after 540 days); and how
-- many members it skipped (nothing the platform can match on, or consent
-- for advertising withheld).
ALTER TABLE export_runs ADD COLUMN IF NOT EXISTS mode LowCardinality(String) DEFAULT 'diff';
ALTER TABLE export_runs ADD COLUMN IF NOT EXISTS skipped UInt64 DEFAULT 0;
