//! The export worker: claims jobs one at a time per lane, `EXPORT_CONCURRENCY` lanes per task,
//! and for each streams the records into a workbook, uploads it and marks the job done.
//!
//! One bad job never stops the others: its error is recorded on the job, which is retried with
//! exponential backoff and jitter until its max attempts, then marked failed. A worker stops
//! when no job is left to claim (it waits for retries in backoff), at its time limit or on
//! SIGTERM; jobs in hand are then released, not left running.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, bail};
use chrono::Utc;
use chrono_tz::Tz;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::period::ExportPeriod;
use super::queue::{self, Exported, Job};
use super::records::{self, RecordQuery};
use super::workbook::{self, EXCEL_MAX_ROWS, WorkbookPlan};
use super::{JobError, form, object_key};
use crate::config::ExportConfig;
use crate::db::Db;
use crate::runtime::RunContext;
use crate::runtime::counts::Counts;
use crate::runtime::stop::Stop;
use crate::storage::Storage;

/// Longest pause between looks at the queue while retries wait out their backoff.
const IDLE_POLL: Duration = Duration::from_secs(5);

/// Everything the lanes of one worker share.
pub struct Worker {
    pub db: Db,
    pub storage: Storage,
    pub settings: ExportConfig,
    /// The lease owner written on claimed jobs: the run id.
    pub owner: String,
    pub stop: Stop,
    pub counts: Counts,
    /// Rows per sheet; Excel's maximum unless a test shrinks it.
    pub rows_per_sheet: u32,
    failed: Mutex<Vec<i64>>,
}

impl Worker {
    /// A worker for this run: its database, settings, stop and counts; the run id owns the leases.
    pub fn new(ctx: &RunContext, storage: Storage) -> Worker {
        Worker {
            db: ctx.db.clone(),
            storage,
            settings: ctx.config.export.clone(),
            owner: ctx.run_id.clone(),
            stop: ctx.stop.clone(),
            counts: ctx.counts.clone(),
            rows_per_sheet: EXCEL_MAX_ROWS - 1,
            failed: Mutex::new(Vec::new()),
        }
    }

    /// Runs the lanes until the queue is empty or a stop is requested. Fails if any job ended
    /// failed during this run, naming them.
    pub async fn run(self) -> anyhow::Result<()> {
        tracing::info!(
            lanes = self.settings.concurrency,
            zip_level = self.settings.zip_level,
            "export worker ready"
        );
        let worker = Arc::new(self);
        let mut lanes = tokio::task::JoinSet::new();
        for lane in 0..worker.settings.concurrency {
            let worker = Arc::clone(&worker);
            lanes.spawn(
                async move { worker.lane().await }.instrument(tracing::info_span!("lane", lane)),
            );
        }
        let mut lane_error = None;
        while let Some(result) = lanes.join_next().await {
            if let Err(e) = result.context("a worker lane panicked").and_then(|r| r) {
                tracing::error!(error = format!("{e:#}"), "worker lane stopped on an error");
                lane_error.get_or_insert(e);
            }
        }
        let failed = worker
            .failed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if !failed.is_empty() {
            bail!(
                "{} export job(s) ended failed in this run (ids {failed:?}); their last_error is in export_jobs; \
                 after fixing the cause, `batch export-requeue --failed` puts them back",
                failed.len()
            );
        }
        match lane_error {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    async fn lane(&self) -> anyhow::Result<()> {
        loop {
            if self.stop.is_requested() {
                return Ok(());
            }
            let now = Utc::now();
            let abandoned = queue::fail_abandoned(&self.db, now).await?;
            if abandoned > 0 {
                self.counts.add("failed", abandoned as i64);
                tracing::error!(
                    jobs = abandoned,
                    "jobs whose worker died during their last attempt marked failed"
                );
            }
            let lease_until = now + chrono::Duration::from_std(self.settings.lease)?;
            match queue::claim(&self.db, &self.owner, lease_until, now).await? {
                Some(job) => {
                    let span = tracing::info_span!(
                        "job",
                        job_id = job.id,
                        tenant_id = job.tenant_id,
                        form_id = job.form_id,
                        period = %job.period_start,
                        attempt = job.attempts
                    );
                    self.process(job).instrument(span).await?;
                }
                None => match queue::next_pending_at(&self.db).await? {
                    Some(at) => {
                        let wait = (at - Utc::now())
                            .to_std()
                            .unwrap_or_default()
                            .clamp(Duration::from_millis(100), IDLE_POLL);
                        tokio::select! {
                            _ = tokio::time::sleep(wait) => {}
                            _ = self.stop.requested() => return Ok(()),
                        }
                    }
                    None => return Ok(()),
                },
            }
        }
    }

    /// One claimed job, start to finish. Errors of the job are recorded on the job; only
    /// database errors while recording end the lane.
    async fn process(&self, job: Job) -> anyhow::Result<()> {
        self.counts.add("claimed", 1);
        tracing::info!(max_attempts = job.max_attempts, "export job claimed");
        let started = std::time::Instant::now();
        let lost = CancellationToken::new();
        let heartbeat = tokio::spawn(heartbeat(
            self.db.clone(),
            job.id,
            self.owner.clone(),
            self.settings.lease,
            lost.clone(),
        ));
        let outcome = tokio::select! {
            result = self.export(&job) => result,
            _ = lost.cancelled() => Err(JobError::LeaseLost),
        };
        heartbeat.abort();
        let now = Utc::now();
        let outcome = match outcome {
            // An error caused by the stop itself (an aborted upload) is a stop, not a failure.
            Err(JobError::Failed(_)) if self.stop.is_requested() => Err(JobError::Stopped),
            other => other,
        };
        match outcome {
            Ok(exported) => {
                if queue::complete(&self.db, job.id, &self.owner, &exported, now).await? {
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
                queue::release(&self.db, job.id, &self.owner, now).await?;
                self.counts.add("released", 1);
                tracing::info!("export job released: this worker is stopping");
            }
            Err(JobError::LeaseLost) => {
                self.counts.add("lease_lost", 1);
                tracing::warn!("lease lost to another worker; this attempt is abandoned");
            }
            Err(JobError::Failed(e)) => {
                let error = format!("{e:#}");
                if job.attempts < job.max_attempts {
                    let delay = backoff(self.settings.retry_base, job.attempts);
                    let retry_at = now + chrono::Duration::from_std(delay)?;
                    queue::record_failure(
                        &self.db,
                        job.id,
                        &self.owner,
                        &error,
                        Some(retry_at),
                        now,
                    )
                    .await?;
                    self.counts.add("retried", 1);
                    tracing::warn!(
                        error,
                        retry_in_ms = delay.as_millis() as u64,
                        "export job failed; it will be retried"
                    );
                } else {
                    queue::record_failure(&self.db, job.id, &self.owner, &error, None, now).await?;
                    self.counts.add("failed", 1);
                    self.failed
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push(job.id);
                    tracing::error!(error, "export job failed on its last attempt");
                }
            }
        }
        Ok(())
    }

    /// Database -> workbook (on a blocking thread, fed through a small channel) -> storage.
    async fn export(&self, job: &Job) -> Result<Exported, JobError> {
        let form = form::load(&self.db, job.form_id).await?;
        let tz: Tz = job.time_zone.parse().map_err(|_| {
            anyhow::anyhow!("job {}: unknown time zone `{}`", job.id, job.time_zone)
        })?;
        let period = ExportPeriod::from_bounds(job.period_start, job.period_end)?;
        let (from, to) = period.utc_bounds(tz);
        let key = object_key(&self.settings.prefix, &form.tenant_slug, form.id, &period)?;
        let temp_dir = self
            .settings
            .temp_dir
            .clone()
            .unwrap_or_else(std::env::temp_dir);
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
        let written = writer.await.context("the workbook writer panicked")?;
        let rows = read?;
        let stats = written?;
        if stats.rows != rows {
            return Err(
                anyhow::anyhow!("read {rows} records but wrote {} rows", stats.rows).into(),
            );
        }
        if stats.truncated_cells + stats.replaced_chars + stats.cells_as_text > 0 {
            tracing::warn!(
                truncated_cells = stats.truncated_cells,
                replaced_chars = stats.replaced_chars,
                cells_as_text = stats.cells_as_text,
                "some values were adjusted to fit Excel"
            );
        }
        if self.stop.is_requested() {
            return Err(JobError::Stopped);
        }
        let bytes = self.storage.put_file(&key, file.path(), &self.stop).await?;
        Ok(Exported {
            object_key: key.to_string(),
            rows: rows as i64,
            bytes: bytes as i64,
        })
    }
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
