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
//!
//! `preflight` proves a worker can work before it claims; `job` is one claimed job, start to
//! finish.

mod job;
mod preflight;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use tracing::Instrument;

use super::config::ExportConfig;
use super::excel_limits::MAX_ROWS;
use super::queue;
use crate::db::Db;
use crate::db::reconnect::{self, BUDGET};
use crate::runtime::RunContext;
use crate::runtime::counts::Counts;
use crate::runtime::lock::{self, LockAttempt, RunLock};
use crate::runtime::stop::Stop;
use crate::storage::Storage;
use crate::telemetry::CONTEXT;

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
                    .instrument(tracing::info_span!(target: CONTEXT, "lane", lane)),
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
                        target: CONTEXT,
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
        match queue::pending_at(&self.db, self.deadline)
            .await
            .map(|p| p.later)
        {
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
}

/// A poisoned lock still holds whole values (a list, an error message).
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}
