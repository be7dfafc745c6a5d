//! The export queue, `export_jobs`: one job per (tenant, form, period).
//!
//! Workers claim one job at a time with a lease: `FOR UPDATE SKIP LOCKED` on PostgreSQL (SQLite
//! serializes writers, so the same single-statement claim is atomic there). A claim takes
//! pending jobs whose next attempt time has come, and running jobs whose lease expired because
//! their worker died. Every state change checks the lease owner, so a worker that lost its
//! lease can never overwrite the result of the worker that took the job over.

use chrono::{DateTime, NaiveDate, Utc};

use crate::calendar::Period;
use crate::db::Db;
use crate::on_pool;

/// A claimed job.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Job {
    pub id: i64,
    pub tenant_id: i64,
    pub form_id: i64,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub time_zone: String,
    pub attempts: i32,
    pub max_attempts: i32,
}

/// One (tenant, form, period) to export.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub tenant_id: i64,
    pub form_id: i64,
    pub period: Period,
    pub time_zone: String,
    pub max_attempts: i32,
    /// Records in the job's period when it was queued: larger jobs are claimed first.
    pub record_count: i64,
}

/// The claim, one statement: the largest claimable job becomes this lane's (the oldest among
/// equals), so that the biggest exports of a peak start first instead of holding it open at the
/// end; retries still wait out their backoff (`next_attempt_at`). A job already running
/// under this lane's own lease is one whose claim committed while its answer was lost to a broken
/// connection (a lane holds one job at a time): it is taken again, as the same attempt. `$lock` is the
/// row-lock clause, which only PostgreSQL has (SQLite runs one writer at a time anyway).
macro_rules! claim_sql {
    ($lock:literal) => {
        concat!(
            "UPDATE export_jobs
             SET status = 'running', lease_expires_at = $2, updated_at = $3,
                 attempts = CASE WHEN status = 'running' AND lease_owner = $1 THEN attempts ELSE attempts + 1 END,
                 lease_owner = $1
             WHERE id = (
                 SELECT id FROM export_jobs
                 WHERE (status = 'pending' AND next_attempt_at <= $3)
                    OR (status = 'running' AND lease_expires_at < $3 AND attempts < max_attempts)
                    OR (status = 'running' AND lease_owner = $1)
                 ORDER BY record_count DESC, next_attempt_at, id
                 LIMIT 1",
            $lock,
            ")
             RETURNING id, tenant_id, form_id, period_start, period_end, time_zone, attempts, max_attempts"
        )
    };
}

/// Inserts the job unless one exists for the same tenant, form and period; true if inserted.
pub async fn insert(db: &Db, job: &NewJob, now: DateTime<Utc>) -> anyhow::Result<bool> {
    let inserted = on_pool!(db, |pool| {
        sqlx::query(
        "INSERT INTO export_jobs
            (tenant_id, form_id, period_start, period_end, time_zone, status, attempts, max_attempts,
             next_attempt_at, created_at, updated_at, record_count)
         VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $7, $7, $7, $8)
         ON CONFLICT (tenant_id, form_id, period_start, period_end) DO NOTHING"
    )
    .bind(job.tenant_id)
    .bind(job.form_id)
    .bind(job.period.start)
    .bind(job.period.end)
    .bind(&job.time_zone)
    .bind(job.max_attempts)
    .bind(now)
    .bind(job.record_count)
    .execute(pool)
    .await
    .map(|done| done.rows_affected())
    })?;
    Ok(inserted == 1)
}

/// Which failed jobs to put back.
#[derive(Debug, Clone, Copy)]
pub enum Requeue {
    /// One job by id (`export-requeue --job`).
    Job(i64),
    /// Every failed job (`export-requeue --failed`).
    AllFailed,
    /// The job of this tenant, form and period (`export-enqueue --requeue-failed`).
    Key {
        tenant_id: i64,
        form_id: i64,
        period: Period,
    },
}

/// Puts failed jobs back as pending with a fresh set of attempts; returns how many.
pub async fn requeue(db: &Db, which: Requeue, now: DateTime<Utc>) -> anyhow::Result<u64> {
    let (id, key) = match which {
        Requeue::Job(id) => (Some(id), None),
        Requeue::AllFailed => (None, None),
        Requeue::Key {
            tenant_id,
            form_id,
            period,
        } => (None, Some((tenant_id, form_id, period))),
    };
    let requeued = on_pool!(db, |pool| {
        sqlx::query(
        "UPDATE export_jobs
         SET status = 'pending', attempts = 0, next_attempt_at = $6, lease_owner = NULL,
             lease_expires_at = NULL, updated_at = $6, finished_at = NULL
         WHERE status = 'failed' AND ($1 IS NULL OR id = $1)
           AND ($2 IS NULL OR (tenant_id = $2 AND form_id = $3 AND period_start = $4 AND period_end = $5))"
    )
    .bind(id)
    .bind(key.map(|k| k.0))
    .bind(key.map(|k| k.1))
    .bind(key.map(|k| k.2.start))
    .bind(key.map(|k| k.2.end))
    .bind(now)
    .execute(pool)
    .await
    .map(|done| done.rows_affected())
    })?;
    Ok(requeued)
}

/// Claims the next job for `owner` (a worker lane: `{run id}:{lane}`) until `lease_until`.
pub async fn claim(
    db: &Db,
    owner: &str,
    lease_until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<Job>> {
    let sql = match db {
        Db::Postgres(_) => claim_sql!(" FOR UPDATE SKIP LOCKED"),
        Db::Sqlite(_) => claim_sql!(""),
    };
    let job = on_pool!(db, |pool| sqlx::query_as::<_, Job>(sql)
        .bind(owner)
        .bind(lease_until)
        .bind(now)
        .fetch_optional(pool)
        .await)?;
    Ok(job)
}

/// Extends the lease; false means the lease was lost (another worker took the job over).
pub async fn renew(
    db: &Db,
    job_id: i64,
    owner: &str,
    lease_until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let renewed = on_pool!(db, |pool| sqlx::query(
        "UPDATE export_jobs SET lease_expires_at = $3, updated_at = $4
         WHERE id = $1 AND lease_owner = $2 AND status = 'running'"
    )
    .bind(job_id)
    .bind(owner)
    .bind(lease_until)
    .bind(now)
    .execute(pool)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(renewed == 1)
}

/// Where a finished export went.
#[derive(Debug, Clone)]
pub struct Exported {
    pub object_key: String,
    pub rows: i64,
    pub bytes: i64,
}

/// Marks the job succeeded; false if the lease was lost first.
pub async fn complete(
    db: &Db,
    job_id: i64,
    owner: &str,
    exported: &Exported,
    now: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let done = on_pool!(db, |pool| {
        sqlx::query(
        "UPDATE export_jobs
         SET status = 'succeeded', object_key = $3, row_count = $4, byte_size = $5, last_error = NULL,
             lease_owner = NULL, lease_expires_at = NULL, updated_at = $6, finished_at = $6
         WHERE id = $1 AND lease_owner = $2 AND status = 'running'"
    )
    .bind(job_id)
    .bind(owner)
    .bind(&exported.object_key)
    .bind(exported.rows)
    .bind(exported.bytes)
    .bind(now)
    .execute(pool)
    .await
    .map(|done| done.rows_affected())
    })?;
    Ok(done == 1)
}

/// Records a failed attempt: back to pending until `retry_at`, or failed for good when `None`.
pub async fn record_failure(
    db: &Db,
    job_id: i64,
    owner: &str,
    error: &str,
    retry_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let status = if retry_at.is_some() {
        "pending"
    } else {
        "failed"
    };
    let finished_at = retry_at.is_none().then_some(now);
    let updated = on_pool!(db, |pool| sqlx::query(
        "UPDATE export_jobs
         SET status = $3, last_error = $4, next_attempt_at = COALESCE($5, next_attempt_at),
             lease_owner = NULL, lease_expires_at = NULL, updated_at = $6, finished_at = $7
         WHERE id = $1 AND lease_owner = $2 AND status = 'running'"
    )
    .bind(job_id)
    .bind(owner)
    .bind(status)
    .bind(error)
    .bind(retry_at)
    .bind(now)
    .bind(finished_at)
    .execute(pool)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(updated == 1)
}

/// Gives a job back untouched (the worker is stopping): pending at once, and the interrupted
/// attempt does not count.
pub async fn release(
    db: &Db,
    job_id: i64,
    owner: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let released = on_pool!(db, |pool| sqlx::query(
        "UPDATE export_jobs
         SET status = 'pending', attempts = attempts - 1, next_attempt_at = $3, lease_owner = NULL,
             lease_expires_at = NULL, updated_at = $3
         WHERE id = $1 AND lease_owner = $2 AND status = 'running'"
    )
    .bind(job_id)
    .bind(owner)
    .bind(now)
    .execute(pool)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(released == 1)
}

/// Jobs whose worker died during their last attempt cannot be claimed again: mark them failed.
pub async fn fail_abandoned(db: &Db, now: DateTime<Utc>) -> anyhow::Result<u64> {
    let failed = on_pool!(db, |pool| {
        sqlx::query(
        "UPDATE export_jobs
         SET status = 'failed', lease_owner = NULL, lease_expires_at = NULL, updated_at = $1, finished_at = $1,
             last_error = 'the worker running its last attempt stopped without finishing (lease expired)'
                          || COALESCE('; before that: ' || last_error, '')
         WHERE status = 'running' AND lease_expires_at < $1 AND attempts >= max_attempts"
    )
    .bind(now)
    .execute(pool)
    .await
    .map(|done| done.rows_affected())
    })?;
    Ok(failed)
}

/// When the next pending job becomes claimable (now or later), if there is one. A worker waits
/// for retries in backoff rather than leaving them to the next scheduled run.
pub async fn next_pending_at(db: &Db) -> anyhow::Result<Option<DateTime<Utc>>> {
    let next = on_pool!(db, |pool| {
        sqlx::query_scalar::<_, DateTime<Utc>>(
        "SELECT next_attempt_at FROM export_jobs WHERE status = 'pending' ORDER BY next_attempt_at LIMIT 1"
    )
    .fetch_optional(pool)
    .await
    })?;
    Ok(next)
}

/// When the next lease of a job held by another worker (not a lane of `run_id`) expires, if any
/// job is running elsewhere. The sweeper waits for it: a live worker renews its lease, a dead
/// one's lease expires and the job becomes claimable.
pub async fn next_lease_expiry_elsewhere(
    db: &Db,
    run_id: &str,
) -> anyhow::Result<Option<DateTime<Utc>>> {
    let next = on_pool!(db, |pool| {
        sqlx::query_scalar::<_, DateTime<Utc>>(
            "SELECT lease_expires_at FROM export_jobs
             WHERE status = 'running' AND lease_owner NOT LIKE $1
             ORDER BY lease_expires_at LIMIT 1",
        )
        .bind(format!("{run_id}:%"))
        .fetch_optional(pool)
        .await
    })?;
    Ok(next)
}

/// Pending jobs counted on either side of `at`: how many may be claimed by then (`due`, the work
/// a launch is sized for) and how many not before (`later`: retries in backoff past a worker's
/// time limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pending {
    pub due: i64,
    pub later: i64,
}

pub async fn pending_at(db: &Db, at: DateTime<Utc>) -> anyhow::Result<Pending> {
    let (due, later) = on_pool!(db, |pool| {
        sqlx::query_as::<_, (i64, i64)>(
            "SELECT COALESCE(SUM(CASE WHEN next_attempt_at <= $1 THEN 1 ELSE 0 END), 0),
                    COALESCE(SUM(CASE WHEN next_attempt_at > $1 THEN 1 ELSE 0 END), 0)
             FROM export_jobs WHERE status = 'pending'",
        )
        .bind(at)
        .fetch_one(pool)
        .await
    })?;
    Ok(Pending { due, later })
}
