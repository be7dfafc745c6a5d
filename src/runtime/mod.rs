//! One run of one batch: configuration, history row, lock, time limit, signals, exit code.
//!
//! Every run, whatever happens, logs exactly one `run started` and one `run finished` line and
//! (once the database is reachable) leaves one `batch_runs` row that says how it ended.

pub mod counts;
mod drive;
pub mod ecs;
mod ending;
pub mod history;
pub mod lock;
pub mod panics;
pub mod status;
pub mod stop;

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use futures_util::FutureExt;
use tracing::Instrument;

use crate::config::settings::Setting;
use crate::config::{self, Config, LogConfig, Problems};
use crate::db::{Db, SchemaNeed};
use crate::telemetry::{self, LogTarget, RUN};
use counts::Counts;
use drive::{drive, unwind_into_error};
use history::NewRun;
use lock::LockAttempt;
use status::{Misconfigured, RunStatus, exit_code};
use stop::{Signals, Stop};

/// What the runtime needs to know of a batch.
#[derive(Debug, Clone, Copy)]
pub struct RunSpec {
    pub batch: &'static str,
    pub exclusive: bool,
    pub time_limit: Duration,
    pub schema: SchemaNeed,
    /// Writes exports (needs `EXPORT_BUCKET` on ECS).
    pub writes_exports: bool,
}

/// What a batch gets for its run.
#[derive(Debug, Clone)]
pub struct RunContext {
    pub db: Db,
    pub config: Config,
    pub run_id: String,
    pub stop: Stop,
    pub counts: Counts,
    /// When the time limit passes and the batch is asked to stop.
    pub deadline: chrono::DateTime<Utc>,
}

/// A batch's work, started with its context.
pub type RunFuture = Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send>>;

/// How long the final history write and closing the pool may take, so that after a SIGTERM the
/// process ends within ECS's stop timeout: grace (at most 20 s) + 3 s + 1 s < 25 s.
const RECORD_TIMEOUT: Duration = Duration::from_secs(3);
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

/// Runs one batch in this process and returns the process exit code.
pub fn launch(
    spec: RunSpec,
    arguments: Vec<String>,
    max_runtime_flag: Option<Duration>,
    work: impl FnOnce(RunContext) -> RunFuture,
) -> u8 {
    let vars = config::process_env();
    let run_id = uuid::Uuid::now_v7().to_string();
    let at_terminal = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let (log_config, log_problems) = LogConfig::from_vars(&vars, at_terminal);
    telemetry::init(
        log_config,
        LogTarget::Stdout,
        &line_fields(&spec, &run_id, &vars),
    );
    panics::log_and_remember();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            tracing::error!(target: RUN, error = %e, "could not start the async runtime");
            return exit_code::FAILURE;
        }
    };
    let run = Run {
        spec,
        started: Instant::now(),
        new_run: NewRun {
            run_id: run_id.clone(),
            batch: spec.batch.to_owned(),
            arguments,
            started_at: Utc::now(),
            deadline_at: Utc::now(),
            ecs_task_arn: None,
            scheduled_time: None,
            entry: None,
            parent_run_id: None,
        },
        counts: Counts::default(),
        misconfigured: false,
    };
    let span = tracing::info_span!(target: RUN, "run", batch = spec.batch, run_id = %run_id);
    let started = run.started;
    let supervised = runtime.block_on(
        AssertUnwindSafe(run.supervise(vars, log_problems, max_runtime_flag, work))
            .catch_unwind()
            .instrument(span),
    );
    // The batch's own panics end its run through `unwind_into_error`; this is the last guard, for
    // a panic in the runtime itself: the hook has logged it, and the run still ends with its
    // `run finished` line (its history row, if written, stays `running` and shows as `stale`
    // once its deadline passes).
    let code = supervised.unwrap_or_else(|payload| {
        tracing::error!(target: RUN,
            status = RunStatus::Failed.as_str(),
            exit_code = exit_code::FAILURE,
            duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            error = format!("the runtime panicked: {}", panics::message(payload.as_ref())),
            "run finished"
        );
        exit_code::FAILURE
    });
    // Do not wait for work abandoned after its grace period.
    runtime.shutdown_timeout(Duration::from_millis(500));
    code
}

/// The fields on every line of a run: its batch and run id, and, when its environment says so,
/// its catalog entry and the run that launched it, so that Logs Insights finds a launch's
/// tasks with `filter parent_run_id = "..."`. Read before the configuration (the logger comes
/// first); a malformed value is left out here and reported with the configuration's problems.
fn line_fields(
    spec: &RunSpec,
    run_id: &str,
    vars: &[(String, String)],
) -> Vec<(&'static str, String)> {
    let mut fields = vec![
        ("batch", spec.batch.to_owned()),
        ("run_id", run_id.to_owned()),
    ];
    let var = |name: &str| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim());
    if let Some(entry) = var("BATCH_ENTRY").and_then(|raw| config::EntryName::parse(raw).ok()) {
        fields.push(("entry", entry.0));
    }
    if let Some(parent) =
        var(crate::launch::PARENT_RUN_ID_VAR).and_then(|raw| config::RunId::parse(raw).ok())
    {
        fields.push(("parent_run_id", parent.0));
    }
    fields
}

struct Run {
    spec: RunSpec,
    started: Instant,
    new_run: NewRun,
    counts: Counts,
    /// The batch failed with `Misconfigured`: exit 2, not 1.
    misconfigured: bool,
}

/// Whether the run's row was inserted when it started, or is written whole at its end (`migrate`,
/// whose table may not exist yet, and runs that failed before their row was inserted).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Recording {
    Started,
    AtEnd,
}

impl Run {
    async fn supervise(
        mut self,
        vars: Vec<(String, String)>,
        log_problems: Problems,
        max_runtime_flag: Option<Duration>,
        work: impl FnOnce(RunContext) -> RunFuture,
    ) -> u8 {
        // Installed first: from here on SIGTERM asks for a clean stop instead of killing us.
        let signals = Signals::install();
        tracing::info!(target: RUN,
            exclusive = self.spec.exclusive,
            command_line = self.new_run.arguments.join(" "),
            version = env!("CARGO_PKG_VERSION"),
            "run started"
        );
        let mut signals = match signals {
            Ok(signals) => signals,
            Err(e) => {
                return self.end_unrecorded(
                    exit_code::FAILURE,
                    format!("could not install signal handlers: {e}"),
                );
            }
        };

        let config = match (
            Config::for_run(&vars, self.spec.writes_exports),
            log_problems,
        ) {
            (Ok(config), log_problems) if log_problems.is_empty() => config,
            (result, mut problems) => {
                if let Err(more) = result {
                    problems.extend(more);
                }
                for (variable, problem) in problems.iter() {
                    tracing::error!(target: RUN, variable, problem, "invalid configuration");
                }
                let names = problems.variables().join(", ");
                return self
                    .end_unrecorded(exit_code::USAGE, format!("invalid configuration: {names}"));
            }
        };
        let time_limit = max_runtime_flag
            .or(config.run.max_runtime)
            .unwrap_or(self.spec.time_limit);
        let grace = config.run.stop_grace;

        let db = match Db::open(&config.database, &format!("batchbox/{}", self.spec.batch)).await {
            Ok(db) => db,
            Err(e) => {
                return self.end_unrecorded(exit_code::FAILURE, format!("{e:#}"));
            }
        };
        if let Err(e) = db.ensure(self.spec.schema).await {
            return self
                .end(
                    &db,
                    Recording::AtEnd,
                    RunStatus::Failed,
                    Some(format!("{e:#}")),
                )
                .await;
        }

        self.new_run.ecs_task_arn = ecs::task_arn(config.run.ecs_metadata_uri.as_deref()).await;
        self.new_run.scheduled_time = config.run.scheduled_time;
        self.new_run.entry = config.run.entry.clone();
        self.new_run.parent_run_id = config.run.parent_run_id.clone();
        self.new_run.deadline_at = self.new_run.started_at
            + chrono::Duration::from_std(time_limit + grace).unwrap_or(chrono::Duration::MAX);
        tracing::info!(target: RUN,
            time_limit_secs = time_limit.as_secs(),
            database = %db.describe(),
            ecs_task_arn = self.new_run.ecs_task_arn.as_deref(),
            scheduled_time = config.run.scheduled_time.map(|t| t.to_rfc3339()),
            "run configured"
        );

        let recording = match self.spec.schema {
            SchemaNeed::Migrates => Recording::AtEnd,
            SchemaNeed::Current => match history::record_start(&db, &self.new_run).await {
                Ok(()) => Recording::Started,
                Err(e) => {
                    let error = format!("could not record the run in batch_runs: {e:#}");
                    return self
                        .end(&db, Recording::AtEnd, RunStatus::Failed, Some(error))
                        .await;
                }
            },
        };

        let lock = if self.spec.exclusive {
            match lock::try_acquire(&db, self.spec.batch, &self.new_run.run_id).await {
                Ok(LockAttempt::Acquired(lock)) => {
                    tracing::info!(target: RUN, "lock acquired");
                    Some(lock)
                }
                Ok(LockAttempt::Held { holder_run_id }) => {
                    tracing::warn!(target: RUN,
                        holder_run_id = holder_run_id.as_deref().unwrap_or("unknown"),
                        "skipped: another run of this exclusive batch holds its lock"
                    );
                    return self.end(&db, recording, RunStatus::Skipped, None).await;
                }
                Err(e) => {
                    let error = format!("could not take the batch lock: {e:#}");
                    return self
                        .end(&db, recording, RunStatus::Failed, Some(error))
                        .await;
                }
            }
        } else {
            None
        };

        let stop = Stop::default();
        let context = RunContext {
            db: db.clone(),
            config,
            run_id: self.new_run.run_id.clone(),
            stop: stop.clone(),
            counts: self.counts.clone(),
            deadline: chrono::Duration::from_std(time_limit)
                .ok()
                .and_then(|limit| Utc::now().checked_add_signed(limit))
                .unwrap_or(chrono::DateTime::<Utc>::MAX_UTC),
        };
        let work = work(context);
        // A configuration error the batch found itself (its write probe) ends the run as a
        // usage error, exit 2, like one found before the run.
        let misconfigured = Arc::new(AtomicBool::new(false));
        let found = Arc::clone(&misconfigured);
        let work: RunFuture = Box::pin(async move {
            work.await
                .inspect_err(|e| found.store(e.is::<Misconfigured>(), Ordering::Relaxed))
        });
        let work = unwind_into_error(work);
        let (mut status, mut error) = drive(work, time_limit, grace, &stop, &mut signals).await;
        self.misconfigured = misconfigured.load(Ordering::Relaxed);
        if let (RunStatus::Succeeded, Some(panic)) = (status, panics::first()) {
            // A task of the batch panicked and the batch went on as if nothing happened.
            status = RunStatus::Failed;
            error = Some(format!("a task of the batch {panic}"));
        }
        if let Some(lock) = lock {
            lock.release(self.spec.batch).await;
        }
        self.end(&db, recording, status, error).await
    }
}
