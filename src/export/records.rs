//! The record source: one form's records in a period, streamed from the database in chunks so
//! that a million-row export never holds more than a few chunks in memory.

use anyhow::Context;
use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use tokio::sync::mpsc;

use super::JobError;
use crate::db::Db;
use crate::on_pool;
use crate::runtime::stop::Stop;

/// Records per chunk handed to the workbook writer.
pub const CHUNK: usize = 512;

/// One record as stored; `field_values` (a JSON array) is parsed by the writer, off the
/// database task.
#[derive(Debug, Clone)]
pub struct Record {
    pub id: i64,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: String,
    pub field_values: String,
}

/// Decoded by hand so that a value the database cannot hand over as text (invalid UTF-8 in an
/// SQLite row) fails the job naming the record and the column, not only "a column".
impl<'r, R> sqlx::FromRow<'r, R> for Record
where
    R: sqlx::Row,
    &'static str: sqlx::ColumnIndex<R>,
    i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    DateTime<Utc>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    fn from_row(row: &'r R) -> Result<Self, sqlx::Error> {
        let id: i64 = row.try_get("id")?;
        let named = |column: &str, e: sqlx::Error| match e {
            sqlx::Error::ColumnDecode { source, .. } => sqlx::Error::ColumnDecode {
                index: format!("`{column}` of record {id}"),
                source,
            },
            other => other,
        };
        Ok(Record {
            id,
            recorded_at: row
                .try_get("recorded_at")
                .map_err(|e| named("recorded_at", e))?,
            recorded_by: row
                .try_get("recorded_by")
                .map_err(|e| named("recorded_by", e))?,
            field_values: row
                .try_get("field_values")
                .map_err(|e| named("field_values", e))?,
        })
    }
}

/// What to read.
#[derive(Debug, Clone, Copy)]
pub struct RecordQuery {
    pub tenant_id: i64,
    pub form_id: i64,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

/// Sends every matching record, oldest first, to `sink`; returns how many were sent. Stops early
/// (with `JobError::Stopped`) when a stop is requested, and quietly when the writer hung up
/// (its own error then explains why).
pub async fn stream(
    db: &Db,
    query: RecordQuery,
    sink: mpsc::Sender<Vec<Record>>,
    stop: &Stop,
) -> Result<u64, JobError> {
    let mut sent = 0u64;
    let mut chunk = Vec::with_capacity(CHUNK);
    on_pool!(db, |pool| {
        let mut rows = sqlx::query_as::<_, Record>(
            "SELECT id, recorded_at, recorded_by, CAST(field_values AS TEXT) AS field_values
             FROM records
             WHERE tenant_id = $1 AND form_id = $2 AND recorded_at >= $3 AND recorded_at < $4
             ORDER BY recorded_at, id",
        )
        .bind(query.tenant_id)
        .bind(query.form_id)
        .bind(query.from)
        .bind(query.to)
        .fetch(pool);
        while let Some(record) = rows.try_next().await.context("reading records")? {
            chunk.push(record);
            if chunk.len() == CHUNK {
                if stop.is_requested() {
                    return Err(JobError::Stopped);
                }
                sent += chunk.len() as u64;
                if sink
                    .send(std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK)))
                    .await
                    .is_err()
                {
                    return Ok(sent);
                }
            }
        }
    });
    sent += chunk.len() as u64;
    if !chunk.is_empty() {
        let _ = sink.send(chunk).await;
    }
    Ok(sent)
}
