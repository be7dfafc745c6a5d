-- Run history: one row per run of any batch, the time line that `batch history` prints.
CREATE TABLE batch_runs (
    run_id          TEXT PRIMARY KEY,
    batch           TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'timed_out', 'interrupted', 'skipped')),
    arguments       TEXT NOT NULL,            -- JSON array of the command-line arguments
    started_at      TIMESTAMPTZ NOT NULL,
    finished_at     TIMESTAMPTZ,
    -- started_at + time limit + stop grace: a row still `running` after this is stale (its
    -- process was killed without a chance to record the end).
    deadline_at     TIMESTAMPTZ NOT NULL,
    exit_code       INTEGER,
    counts          JSONB,
    error           TEXT,
    ecs_task_arn    TEXT,
    scheduled_time  TIMESTAMPTZ
);
CREATE INDEX batch_runs_by_start ON batch_runs (started_at DESC);
CREATE INDEX batch_runs_by_batch_and_start ON batch_runs (batch, started_at DESC);

-- Who holds an exclusive batch's lock. The lock itself is a session advisory lock (released by
-- the server when the holder's connection dies); this row only names the holder for the log.
CREATE TABLE batch_locks (
    batch       TEXT PRIMARY KEY,
    run_id      TEXT NOT NULL,
    acquired_at TIMESTAMPTZ NOT NULL
);
