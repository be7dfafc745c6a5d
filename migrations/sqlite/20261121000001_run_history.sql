-- Run history: one row per run of any batch, the time line that `batch history` prints.
-- Timestamps are RFC 3339 text in UTC, always written by the application.
CREATE TABLE batch_runs (
    run_id          TEXT PRIMARY KEY,
    batch           TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'timed_out', 'interrupted', 'skipped')),
    arguments       TEXT NOT NULL,            -- JSON array of the command-line arguments
    started_at      TEXT NOT NULL,
    finished_at     TEXT,
    -- started_at + time limit + stop grace: a row still `running` after this is stale.
    deadline_at     TEXT NOT NULL,
    exit_code       INTEGER,
    counts          TEXT,                     -- JSON object
    error           TEXT,
    ecs_task_arn    TEXT,
    scheduled_time  TEXT
);
CREATE INDEX batch_runs_by_start ON batch_runs (started_at DESC);
CREATE INDEX batch_runs_by_batch_and_start ON batch_runs (batch, started_at DESC);

-- Who holds an exclusive batch's lock. The lock itself is a file lock beside the database
-- (released by the kernel when the holder dies); this row only names the holder for the log.
CREATE TABLE batch_locks (
    batch       TEXT PRIMARY KEY,
    run_id      TEXT NOT NULL,
    acquired_at TEXT NOT NULL
);
