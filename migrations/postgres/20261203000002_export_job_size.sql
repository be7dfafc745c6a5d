-- Each export job's size (its record count when it was queued), so that workers claim the
-- largest due job first: a peak ends when its slowest worker ends, and a million-row job
-- claimed last would hold it open. Jobs queued before this column existed count as 0.
ALTER TABLE export_jobs ADD COLUMN record_count BIGINT NOT NULL DEFAULT 0;
