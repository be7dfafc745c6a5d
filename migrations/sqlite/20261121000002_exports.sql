-- Form records and their export to xlsx. Timestamps are RFC 3339 text in UTC, dates YYYY-MM-DD.

CREATE TABLE tenants (
    id            INTEGER PRIMARY KEY,
    slug          TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    -- Rollout group for moving customers onto the export group by group (EXPORT_TENANT_ALLOWLIST).
    rollout_group TEXT NOT NULL DEFAULT 'default'
);

CREATE TABLE forms (
    id        INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    name      TEXT NOT NULL
);

-- A form's ordered columns; a record holds one value per column, in this order.
CREATE TABLE form_columns (
    form_id  INTEGER NOT NULL REFERENCES forms (id),
    position INTEGER NOT NULL CHECK (position >= 0),
    label    TEXT NOT NULL,
    kind     TEXT NOT NULL CHECK (kind IN ('text', 'integer', 'decimal', 'boolean', 'date', 'datetime')),
    PRIMARY KEY (form_id, position)
);

CREATE TABLE records (
    id           INTEGER PRIMARY KEY,
    tenant_id    INTEGER NOT NULL REFERENCES tenants (id),
    form_id      INTEGER NOT NULL REFERENCES forms (id),
    recorded_at  TEXT NOT NULL,
    recorded_by  TEXT NOT NULL,
    -- JSON array, one value per form column (see the PostgreSQL migration).
    field_values TEXT NOT NULL
);
CREATE INDEX records_by_form_and_time ON records (tenant_id, form_id, recorded_at, id);
CREATE INDEX records_by_time ON records (recorded_at);

-- The export queue: one job per tenant, form and period; workers claim jobs with a lease.
CREATE TABLE export_jobs (
    id               INTEGER PRIMARY KEY,
    tenant_id        INTEGER NOT NULL REFERENCES tenants (id),
    form_id          INTEGER NOT NULL REFERENCES forms (id),
    period_start     TEXT NOT NULL,
    period_end       TEXT NOT NULL,
    time_zone        TEXT NOT NULL,
    status           TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'succeeded', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    max_attempts     INTEGER NOT NULL CHECK (max_attempts >= 1),
    lease_owner      TEXT,
    lease_expires_at TEXT,
    next_attempt_at  TEXT NOT NULL,
    last_error       TEXT,
    object_key       TEXT,
    row_count        INTEGER,
    byte_size        INTEGER,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    finished_at      TEXT,
    UNIQUE (tenant_id, form_id, period_start, period_end)
);
CREATE INDEX export_jobs_claimable ON export_jobs (status, next_attempt_at);
