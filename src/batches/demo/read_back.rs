//! The export queue as `demo` prints it and the tests check it: read-only, never used by the
//! export itself.

use chrono::NaiveDate;

use crate::db::Db;
use crate::on_pool;

/// A job as `demo` and the tests read it back.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct JobRow {
    pub id: i64,
    pub tenant_id: i64,
    pub form_id: i64,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub object_key: Option<String>,
    pub row_count: Option<i64>,
    pub byte_size: Option<i64>,
}

/// Every job, oldest first.
pub async fn jobs(db: &Db) -> anyhow::Result<Vec<JobRow>> {
    let jobs = on_pool!(db, |pool| sqlx::query_as::<_, JobRow>(
        "SELECT id, tenant_id, form_id, period_start, period_end, status, attempts, last_error,
                object_key, row_count, byte_size
         FROM export_jobs ORDER BY id"
    )
    .fetch_all(pool)
    .await)?;
    Ok(jobs)
}
