//! The export worker: claims jobs one at a time per lane, `EXPORT_CONCURRENCY` lanes per task,
//! and for each streams the records into a workbook, uploads it and marks the job done.
//!
//! Before it claims anything, a worker proves it can do the work (its temporary directory and
//! its store are writable); if not, it is misconfigured and stops with exit code 2, no job
//! touched. One bad job never stops the others: its error is recorded on the job, which is
//! retried with exponential backoff and jitter until its max attempts, then marked failed. An
//! error that is the worker's and not the job's (the store refuses it, the temporary disk is
//! full) releases the job with its attempt and stops the worker. A database restart or failover
//! is ridden out (`db::reconnect`); a job it interrupted is released and claimed again.
//!
//! Each lane owns its leases (`{run id}:{lane}`), so a lane can never renew or complete another
//! lane's job. A worker stops when no job is left to claim before its time limit (it waits for
//! retries in backoff that are due before it; later ones are counted `deferred`), at its time
//! limit or on SIGTERM; jobs in hand are then released, not left running. The first worker to
//! run out of work stays as the sweeper while other workers still hold jobs, and takes over any
//! whose lease expires (their worker died), so those finish in the same scheduled run; the other
//! idle workers exit.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use std::time::Instant;

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::config::ExportConfig;
use super::excel_limits::MAX_ROWS;
use super::queue::{self, Exported, Job};
use super::records::{self, RecordQuery};
use super::workbook::{self, WorkbookPlan};
use super::{JobError, form, object_key};
use crate::calendar::Period;
use crate::db::Db;
use crate::db::reconnect::{self, BUDGET};
use crate::runtime::RunContext;
use crate::runtime::counts::Counts;
use crate::runtime::lock::{self, LockAttempt, RunLock};
use crate::runtime::status::Misconfigured;
use crate::runtime::stop::Stop;
use crate::storage::Storage;

/// Longest pause between looks at the queue while retries wait out their backoff.
const IDLE_POLL: Duration = Duration::from_secs(5);

/// The lock that makes one idle worker the sweeper (see the module documentation).
const SWEEPER_LOCK: &str = "export-worker-sweeper";

/// Everything the lanes of one worker share.
pub struct Worker {
    pub db: Db,
    pub storage: Storage,
    pub settings: ExportConfig,
    /// This run's id; each lane's lease owner is `{run_id}:{lane}`.
    pub run_id: String,
    pub stop: Stop,
    pub counts: Counts,
    /// The time limit: a retry due after it is left for the next run.
    pub deadline: DateTime<Utc>,
    /// Rows per sheet; Excel's maximum unless a test shrinks it.
    pub rows_per_sheet: u32,
    failed: Mutex<Vec<i64>>,
    /// Why this worker stopped claiming: the first error that was its own, not a job's.
    refused: Mutex<Option<String>>,
    /// Held while this worker is the sweeper.
    sweeper: tokio::sync::Mutex<Option<RunLock>>,
}

impl Worker {
    /// A worker for this run: its database, settings, stop, counts and time limit.
    pub fn new(ctx: &RunContext, storage: Storage) -> Worker {
        Worker {
            db: ctx.db.clone(),
            storage,
            settings: ctx.config.export.clone(),
            run_id: ctx.run_id.clone(),
            stop: ctx.stop.clone(),
            counts: ctx.counts.clone(),
            deadline: ctx.deadline,
            rows_per_sheet: MAX_ROWS - 1,
            failed: Mutex::new(Vec::new()),
            refused: Mutex::new(None),
            sweeper: tokio::sync::Mutex::new(None),
        }
    }

    /// Proves the worker can do its work, then runs the lanes until the queue is empty or a
    /// stop is requested. Fails if any job ended failed during this run, naming them, or if the
    /// worker stopped because the error was its own.
    pub async fn run(self) -> anyhow::Result<()> {
        self.preflight().await?;
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
                async move { worker.lane(lane).await }
                    .instrument(tracing::info_span!("lane", lane)),
            );
        }
        let mut lane_error = None;
        while let Some(result) = lanes.join_next().await {
            if let Err(e) = result.context("a worker lane panicked").and_then(|r| r) {
                tracing::error!(error = format!("{e:#}"), "worker lane stopped on an error");
                lane_error.get_or_insert(e);
            }
        }
        if let Some(sweeper) = worker.sweeper.lock().await.take() {
            sweeper.release(SWEEPER_LOCK).await;
        }
        let refused = lock(&worker.refused).clone();
        if lane_error.is_none() && refused.is_none() && !worker.stop.is_requested() {
            worker.count_deferred().await;
        }
        let failed = lock(&worker.failed).clone();
        if !failed.is_empty() {
            bail!(
                "{} export job(s) ended failed in this run (ids {failed:?}); their last_error is in export_jobs; \
                 after fixing the cause, `batch export-requeue --failed` puts them back",
                failed.len()
            );
        }
        if let Some(error) = refused {
            bail!(
                "this worker stopped because it cannot export: {error}; the job(s) in hand were released \
                 (their attempts not counted); fix the cause, then start a worker again"
            );
        }
        match lane_error {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// The temporary directory and the store must take a file before any job is claimed: a
    /// misconfigured worker would otherwise use up every attempt of every job it claims.
    async fn preflight(&self) -> anyhow::Result<()> {
        let temp_dir = self.temp_dir();
        let temp = tempfile::Builder::new()
            .prefix("batchbox-probe-")
            .tempfile_in(&temp_dir)
            .and_then(|mut file| std::io::Write::write_all(&mut file, b"probe"));
        if let Err(e) = temp {
            return Err(misconfigured(
                "EXPORT_TEMP_DIR",
                format!("{} is not a writable directory: {e}", temp_dir.display()),
            ));
        }
        if let Err(e) = self
            .storage
            .probe(&self.settings.prefix, &self.run_id)
            .await
        {
            let variable = match self.storage {
                Storage::S3(_) => "EXPORT_BUCKET",
                Storage::Local(_) => "EXPORT_LOCAL_DIR",
            };
            return Err(misconfigured(
                variable,
                format!(
                    "the write probe under {} failed (check the bucket, the credentials and \
                     AWS_ENDPOINT_URL, or the directory): {e:#}",
                    self.storage.locate(&self.settings.prefix.to_string())
                ),
            ));
        }
        Ok(())
    }

    fn temp_dir(&self) -> PathBuf {
        self.settings
            .temp_dir
            .clone()
            .unwrap_or_else(std::env::temp_dir)
    }

    async fn lane(&self, lane: usize) -> anyhow::Result<()> {
        let owner = format!("{}:{lane}", self.run_id);
        let lease = chrono::Duration::from_std(self.settings.lease)?;
        loop {
            if self.stop.is_requested() || lock(&self.refused).is_some() {
                return Ok(());
            }
            let now = Utc::now();
            let abandoned = reconnect::retry("failing abandoned jobs", BUDGET, || {
                queue::fail_abandoned(&self.db, now)
            })
            .await?;
            if abandoned > 0 {
                self.counts.add("failed", abandoned as i64);
                tracing::error!(
                    jobs = abandoned,
                    "jobs whose worker died during their last attempt marked failed"
                );
            }
            let claimed = reconnect::retry("claiming a job", BUDGET, || {
                let now = Utc::now();
                queue::claim(&self.db, &owner, now + lease, now)
            })
            .await?;
            match claimed {
                Some(job) => {
                    let span = tracing::info_span!(
                        "job",
                        job_id = job.id,
                        tenant_id = job.tenant_id,
                        form_id = job.form_id,
                        period = %job.period_start,
                        attempt = job.attempts
                    );
                    self.process(job, &owner).instrument(span).await?;
                }
                None => match self.next_look().await? {
                    Some(wait) => {
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

    /// With nothing to claim now: how long to wait before looking again, or `None` to stop.
    /// A lane waits for a retry due before the time limit, and, on the sweeper, for the leases
    /// of jobs other workers hold (a dead worker's lease expires and its job becomes ours).
    async fn next_look(&self) -> anyhow::Result<Option<Duration>> {
        let pending = reconnect::retry("looking for retries", BUDGET, || {
            queue::next_pending_at(&self.db)
        })
        .await?
        .filter(|at| *at <= self.deadline);
        let elsewhere = reconnect::retry("looking for jobs held elsewhere", BUDGET, || {
            queue::next_lease_expiry_elsewhere(&self.db, &self.run_id)
        })
        .await?;
        let swept = match elsewhere {
            Some(at) if self.is_sweeper().await? => Some(at),
            _ => None,
        };
        let next = match (pending, swept) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Ok(next.map(|at| {
            (at - Utc::now())
                .to_std()
                .unwrap_or_default()
                .clamp(Duration::from_millis(100), IDLE_POLL)
        }))
    }

    /// Whether this worker is (or now becomes) the one idle worker that stays for the others.
    async fn is_sweeper(&self) -> anyhow::Result<bool> {
        let mut sweeper = self.sweeper.lock().await;
        if sweeper.is_some() {
            return Ok(true);
        }
        let attempt = reconnect::retry("taking the sweeper lock", BUDGET, || {
            lock::try_acquire(&self.db, SWEEPER_LOCK, &self.run_id)
        })
        .await?;
        match attempt {
            LockAttempt::Acquired(held) => {
                tracing::info!(
                    "no job left to claim; this worker stays while other workers hold jobs, \
                     to take over any whose lease expires"
                );
                *sweeper = Some(held);
                Ok(true)
            }
            LockAttempt::Held { .. } => Ok(false),
        }
    }

    /// Counts the retries left for a later run because they are due after the time limit.
    async fn count_deferred(&self) {
        match queue::pending_after(&self.db, self.deadline).await {
            Ok(0) => {}
            Ok(deferred) => {
                self.counts.add("deferred", deferred);
                tracing::info!(
                    jobs = deferred,
                    "retries due after this worker's time limit are left for the next run"
                );
            }
            Err(e) => tracing::warn!(
                error = format!("{e:#}"),
                "could not count the retries left for the next run"
            ),
        }
    }

    /// One claimed job, start to finish. Errors of the job are recorded on the job; only
    /// database errors while recording (after the reconnect budget) end the lane.
    async fn process(&self, job: Job, owner: &str) -> anyhow::Result<()> {
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
            Err(JobError::Failed(e)) => {
                let error = format!("{e:#}");
                let now = Utc::now();
                if job.attempts < job.max_attempts {
                    let delay = backoff(self.settings.retry_base, job.attempts);
                    let retry_at = now + chrono::Duration::from_std(delay)?;
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
                } else {
                    reconnect::retry("recording the failure", BUDGET, || {
                        queue::record_failure(&self.db, job.id, owner, &error, None, Utc::now())
                    })
                    .await?;
                    self.counts.add("failed", 1);
                    lock(&self.failed).push(job.id);
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
        let period = Period::from_bounds(job.period_start, job.period_end)?;
        let (from, to) = period.utc_bounds(tz);
        let key = object_key(&self.settings.prefix, &form.tenant_slug, form.id, &period)?;
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
            .put_file(&key, file.path(), super::XLSX_CONTENT_TYPE, &self.stop)
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

/// A configuration problem found by trying: logged like the configuration check's, exit 2.
fn misconfigured(variable: &str, problem: String) -> anyhow::Error {
    tracing::error!(variable, problem, "invalid configuration");
    anyhow::Error::new(Misconfigured(format!("{variable}: {problem}")))
}

/// A poisoned lock still holds whole values (a list, an error message).
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
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
