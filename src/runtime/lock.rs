//! Overlap protection for exclusive batches: one run at a time per batch.
//!
//! The lock must vanish when its holder dies, however it dies (SIGKILL, OOM, a lost task), so it
//! is never a row that someone has to clean up:
//! - PostgreSQL: a session advisory lock on a dedicated connection; the server drops it when the
//!   connection closes, which the kernel does when the process dies.
//! - SQLite: an exclusive file lock on a file beside the database; the kernel drops it with the
//!   process.
//!
//! The `batch_locks` row only names the holder, so a skipped run can say who holds the lock.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::PathBuf;

use anyhow::Context;
use chrono::Utc;
use sqlx::{Connection, PgConnection};

use crate::db::Db;
use crate::on_pool;

/// Keeps an exclusive batch's lock until released or dropped.
pub enum RunLock {
    Postgres(PgConnection),
    File(File),
}

pub enum LockAttempt {
    Acquired(RunLock),
    /// Another run holds the lock; its run id when it could be read.
    Held {
        holder_run_id: Option<String>,
    },
}

/// Tries once, without waiting: an exclusive batch that finds its lock taken is skipped.
pub async fn try_acquire(db: &Db, batch: &str, run_id: &str) -> anyhow::Result<LockAttempt> {
    let lock = match db {
        Db::Postgres(pool) => {
            // A separate connection, not one of the pool's: the lock lives as long as it does,
            // and the batch keeps its whole pool for its work.
            let mut conn = PgConnection::connect_with(&pool.connect_options())
                .await
                .context("could not open the lock connection")?;
            let acquired: bool =
                sqlx::query_scalar("SELECT pg_try_advisory_lock(hashtextextended($1, 0))")
                    .bind(lock_key(batch))
                    .fetch_one(&mut conn)
                    .await?;
            acquired.then_some(RunLock::Postgres(conn))
        }
        Db::Sqlite(_) => {
            let path = lock_file(db, batch)?;
            let file = OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
                .with_context(|| format!("could not open the lock file {}", path.display()))?;
            match file.try_lock() {
                Ok(()) => Some(RunLock::File(file)),
                Err(TryLockError::WouldBlock) => None,
                Err(TryLockError::Error(e)) => {
                    return Err(e).with_context(|| format!("could not lock {}", path.display()));
                }
            }
        }
    };
    match lock {
        Some(lock) => {
            record_holder(db, batch, run_id).await?;
            Ok(LockAttempt::Acquired(lock))
        }
        None => Ok(LockAttempt::Held {
            holder_run_id: holder(db, batch).await.ok().flatten(),
        }),
    }
}

impl RunLock {
    /// Releases explicitly; dropping the lock releases it too (closing the connection or file).
    pub async fn release(self, batch: &str) {
        match self {
            RunLock::Postgres(mut conn) => {
                let _ = sqlx::query("SELECT pg_advisory_unlock(hashtextextended($1, 0))")
                    .bind(lock_key(batch))
                    .execute(&mut conn)
                    .await;
                let _ = conn.close().await;
            }
            RunLock::File(file) => {
                let _ = file.unlock();
            }
        }
    }
}

/// Namespaced so batchbox's advisory locks never collide with another application's.
fn lock_key(batch: &str) -> String {
    format!("batchbox:batch:{batch}")
}

fn lock_file(db: &Db, batch: &str) -> anyhow::Result<PathBuf> {
    let database = db.sqlite_path().context("no SQLite file to lock beside")?;
    let mut name = database.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{batch}.lock"));
    Ok(database.with_file_name(name))
}

async fn record_holder(db: &Db, batch: &str, run_id: &str) -> anyhow::Result<()> {
    on_pool!(db, |pool| {
        sqlx::query(
        "INSERT INTO batch_locks (batch, run_id, acquired_at) VALUES ($1, $2, $3)
         ON CONFLICT (batch) DO UPDATE SET run_id = excluded.run_id, acquired_at = excluded.acquired_at"
    )
    .bind(batch)
    .bind(run_id)
    .bind(Utc::now())
    .execute(pool)
    .await
    .map(|done| done.rows_affected())
    })?;
    Ok(())
}

async fn holder(db: &Db, batch: &str) -> anyhow::Result<Option<String>> {
    let run_id = on_pool!(db, |pool| sqlx::query_scalar(
        "SELECT run_id FROM batch_locks WHERE batch = $1"
    )
    .bind(batch)
    .fetch_optional(pool)
    .await)?;
    Ok(run_id)
}
