-- Which catalog entry a run serves (BATCH_ENTRY, set in each entry's task definition: one batch may
-- have several entries, e.g. a daily and a month-start export) and which run launched it
-- (BATCH_PARENT_RUN_ID, set by a batch that starts other batches, e.g. export-enqueue starting
-- its workers). Both are NULL for runs started another way and for runs recorded before.
ALTER TABLE batch_runs ADD COLUMN entry TEXT;
ALTER TABLE batch_runs ADD COLUMN parent_run_id TEXT;
CREATE INDEX batch_runs_by_parent ON batch_runs (parent_run_id);

-- The missed-run watcher watches catalog entries (several may share a batch): its tables are
-- keyed by entry, and a missed fire time also names its batch. Rows from before hold shorthand
-- entries, whose name is their batch's.
ALTER TABLE schedule_watches RENAME COLUMN batch TO entry;
ALTER TABLE missed_runs RENAME COLUMN batch TO entry;
ALTER TABLE missed_runs ADD COLUMN batch TEXT NOT NULL DEFAULT '';
UPDATE missed_runs SET batch = entry;
