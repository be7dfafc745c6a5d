//! One claimed job, start to finish: heartbeat, database -> workbook -> storage, and the
//! outcome recorded on the job (done, retried with backoff, failed, or released).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::Utc;
use chrono_tz::Tz;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{Worker, lock};
use crate::calendar::Period;
use crate::db::Db;
use crate::db::reconnect::{self, BUDGET};
use crate::export::queue::{self, Exported, Job};
use crate::export::records::{self, RecordQuery};
use crate::export::workbook::{self, WorkbookPlan};
use crate::export::{JobError, XLSX_CONTENT_TYPE, form, object_key};

impl Worker {
    /// One claimed job, start to finish. Errors of the job are recorded on the job; only
    /// database errors while recording (after the reconnect budget) end the lane.
    pub(super) async fn process(&self, job: Job, owner: &str) -> anyhow::Result<()> {
        self.counts.add("claimed", 1);
        tracing::info!(max_attempts = job.max_attempts, "export job claimed");
        let started = Instant::now();
        let lost = CancellationToken::new();
        let heartbeat = tokio::spawn(heartbeat(
            self.db.clone(),
            job.id,
            owner.to_owned(),
            self.settings.lease,
            lost.clone(),
        ));
        let outcome = tokio::select! {
            result = self.export(&job) => result,
            _ = lost.cancelled() => Err(JobError::LeaseLost),
        };
        heartbeat.abort();
        let outcome = match outcome {
            // An error caused by the stop itself (an aborted upload) is a stop, not a failure.
            Err(JobError::Failed(_)) if self.stop.is_requested() => Err(JobError::Stopped),
            Err(JobError::Failed(e)) => Err(JobError::classify(e)),
            other => other,
        };
        let release = || async {
            reconnect::retry("releasing the job", BUDGET, || {
                queue::release(&self.db, job.id, owner, Utc::now())
            })
            .await
        };
        match outcome {
            Ok(exported) => {
                let completed = reconnect::retry("completing the job", BUDGET, || {
                    queue::complete(&self.db, job.id, owner, &exported, Utc::now())
                })
                .await?;
                if completed {
                    self.counts.add("succeeded", 1);
                    self.counts.add("rows", exported.rows);
                    self.counts.add("bytes", exported.bytes);
                    tracing::info!(
                        object = self.storage.locate(&exported.object_key),
                        rows = exported.rows,
                        bytes = exported.bytes,
                        duration_ms = started.elapsed().as_millis() as u64,
                        "export job succeeded"
                    );
                } else {
                    self.counts.add("lease_lost", 1);
                    tracing::warn!(
                        "the lease expired before completion; the worker that took the job over records it"
                    );
                }
            }
            Err(JobError::Stopped) => {
                release().await?;
                self.counts.add("released", 1);
                tracing::info!("export job released: this worker is stopping");
            }
            Err(JobError::LeaseLost) => {
                self.counts.add("lease_lost", 1);
                tracing::warn!("lease lost to another worker; this attempt is abandoned");
            }
            Err(JobError::Refused(e)) => {
                release().await?;
                self.counts.add("released", 1);
                let error = format!("{e:#}");
                tracing::error!(
                    error,
                    "export job released: the error is this worker's, not the job's; the worker stops"
                );
                lock(&self.refused).get_or_insert(error);
            }
            Err(JobError::Disconnected(e)) => {
                release().await?;
                self.counts.add("released", 1);
                tracing::warn!(
                    error = format!("{e:#}"),
                    "export job released: the database connection broke during the export; it will be claimed again"
                );
            }
            Err(JobError::Failed(e)) if job.attempts < job.max_attempts => {
                let error = format!("{e:#}");
                let delay = backoff(self.settings.retry_base, job.attempts);
                let retry_at = Utc::now() + chrono::Duration::from_std(delay)?;
                reconnect::retry("recording the failure", BUDGET, || {
                    queue::record_failure(
                        &self.db,
                        job.id,
                        owner,
                        &error,
                        Some(retry_at),
                        Utc::now(),
                    )
                })
                .await?;
                self.counts.add("retried", 1);
                tracing::warn!(
                    error,
                    retry_in_ms = delay.as_millis() as u64,
                    "export job failed; it will be retried"
                );
            }
            Err(JobError::Failed(e)) => {
                self.fail_job(&job, owner, e, "export job failed on its last attempt")
                    .await?;
            }
            Err(JobError::Invalid(e)) => {
                self.fail_job(
                    &job,
                    owner,
                    e,
                    "export job failed: it cannot succeed as it is, so it is not retried",
                )
                .await?;
            }
        }
        Ok(())
    }

    /// Marks the job failed for good, counts it and logs `message` at ERROR.
    async fn fail_job(
        &self,
        job: &Job,
        owner: &str,
        e: anyhow::Error,
        message: &'static str,
    ) -> anyhow::Result<()> {
        let error = format!("{e:#}");
        reconnect::retry("recording the failure", BUDGET, || {
            queue::record_failure(&self.db, job.id, owner, &error, None, Utc::now())
        })
        .await?;
        self.counts.add("failed", 1);
        lock(&self.failed).push(job.id);
        tracing::error!(error, "{message}");
        Ok(())
    }

    /// Database -> workbook (on a blocking thread, fed through a small channel) -> storage.
    async fn export(&self, job: &Job) -> Result<Exported, JobError> {
        let form = form::load(&self.db, job.form_id).await?;
        // Retried like the job's other problems: a newer image may know a zone this one does not.
        let tz: Tz = job.time_zone.parse().map_err(|_| {
            anyhow::anyhow!("job {}: unknown time zone `{}`", job.id, job.time_zone)
        })?;
        let period = Period::from_bounds(job.period_start, job.period_end)?;
        let (from, to) = period.utc_bounds(tz);
        let key = object_key(&self.settings.prefix, &form.tenant_slug, form.id, &period)
            .map_err(JobError::Invalid)?;
        let temp_dir = self.temp_dir();
        let file = tempfile::Builder::new()
            .prefix("batchbox-export-")
            .suffix(".xlsx")
            .tempfile_in(&temp_dir)
            .with_context(|| {
                format!(
                    "could not create a file in {} (EXPORT_TEMP_DIR)",
                    temp_dir.display()
                )
            })?;

        let plan = WorkbookPlan {
            job_id: job.id,
            form_id: form.id,
            form_name: form.name.clone(),
            columns: form.columns.clone(),
            time_zone: tz,
            zip_level: self.settings.zip_level,
            temp_dir,
            rows_per_sheet: self.rows_per_sheet,
        };
        let (sender, receiver) = mpsc::channel(4);
        let out: PathBuf = file.path().to_path_buf();
        let span = tracing::Span::current();
        let writer = tokio::task::spawn_blocking(move || {
            span.in_scope(|| workbook::write(&plan, receiver, &out))
        });
        let query = RecordQuery {
            tenant_id: job.tenant_id,
            form_id: job.form_id,
            from,
            to,
        };
        let read = records::stream(&self.db, query, sender, &self.stop).await;
        let written = writer.await.map_err(writer_panic)?;
        let rows = read?;
        let stats = written?;
        if stats.rows != rows {
            return Err(
                anyhow::anyhow!("read {rows} records but wrote {} rows", stats.rows).into(),
            );
        }
        if self.stop.is_requested() {
            return Err(JobError::Stopped);
        }
        let bytes = self
            .storage
            .put_file(&key, file.path(), XLSX_CONTENT_TYPE, &self.stop)
            .await?;
        Ok(Exported {
            object_key: key.to_string(),
            rows: rows as i64,
            bytes: bytes as i64,
        })
    }
}

/// rust_xlsxwriter does not return an error when it cannot write its temporary sheet file (a
/// full disk): it panics with the I/O error in its message. The error's kind decides whose fault
/// it is, as for any other I/O error: a full or read-only disk is the worker's, not the job's.
fn writer_panic(error: tokio::task::JoinError) -> anyhow::Error {
    let message = match error.try_into_panic() {
        Ok(payload) => crate::runtime::panics::message(payload.as_ref()).to_owned(),
        Err(error) => error.to_string(),
    };
    let kind = crate::storage::REFUSING_IO_KINDS
        .into_iter()
        .find(|kind| message.contains(&format!("kind: {kind:?}")));
    match kind {
        Some(kind) => anyhow::Error::new(std::io::Error::new(kind, message)),
        None => anyhow::anyhow!(message),
    }
    .context("the workbook writer panicked")
}

/// Renews the lease every third of its length; cancels `lost` when another worker has it.
async fn heartbeat(db: Db, job_id: i64, owner: String, lease: Duration, lost: CancellationToken) {
    loop {
        tokio::time::sleep(lease / 3).await;
        let now = Utc::now();
        let until = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::MAX);
        match queue::renew(&db, job_id, &owner, until, now).await {
            Ok(true) => {}
            Ok(false) => {
                lost.cancel();
                return;
            }
            // A blip in the database is not a lost lease; the next beat tries again.
            Err(e) => tracing::warn!(error = format!("{e:#}"), "could not renew the job's lease"),
        }
    }
}

/// `base * 2^(attempt - 1)`, times a random factor in [0.5, 1.5) so that jobs failing together
/// do not retry together.
pub fn backoff(base: Duration, attempt: i32) -> Duration {
    let exponent = attempt.clamp(1, 16) as u32 - 1;
    base.mul_f64(2f64.powi(exponent as i32) * rand::random_range(0.5..1.5))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_per_attempt_with_jitter() {
        let base = Duration::from_secs(10);
        for attempt in 1..=4 {
            let nominal = 10.0 * 2f64.powi(attempt - 1);
            let delay = backoff(base, attempt).as_secs_f64();
            assert!(
                delay >= nominal * 0.5 && delay < nominal * 1.5,
                "attempt {attempt}: {delay}"
            );
        }
    }
}
