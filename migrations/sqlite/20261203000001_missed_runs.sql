-- Missed-run detection (`batch missed-runs`): which schedule each watched batch had and since
-- when, and every scheduled run that got no success within its grace, reported once.
-- Timestamps are RFC 3339 text in UTC, always written by the application.

-- A schedule is watched from the moment the watcher first sees it (or sees it changed), so
-- nothing before that is reported: not the history of a new batch, not the old schedule's runs.
CREATE TABLE schedule_watches (
    batch           TEXT PRIMARY KEY,
    schedule        TEXT NOT NULL,
    watched_since   TEXT NOT NULL,
    -- Fire times up to here have been judged; the next run starts after it.
    checked_until   TEXT NOT NULL
);

-- One row per missed fire time: the primary key is what makes each report happen once.
CREATE TABLE missed_runs (
    batch           TEXT NOT NULL,
    scheduled_time  TEXT NOT NULL,
    grace_minutes   INTEGER NOT NULL,
    detected_at     TEXT NOT NULL,
    -- What did run for that fire time, in words ("no run started", "1 failed").
    seen            TEXT NOT NULL,
    -- When the notification was published; NULL = not yet (the next watcher run retries).
    notified_at     TEXT,
    PRIMARY KEY (batch, scheduled_time)
);
CREATE INDEX missed_runs_by_time ON missed_runs (scheduled_time DESC);
