//! Run history: the `batch_runs` table, written by every run and read by `batch history`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::types::Json;

use super::status::RunStatus;
use crate::db::Db;
use crate::missed_runs::store::{self as missed_store, MissedRun};
use crate::on_pool;

/// The status of a missed fire time: never stored in `batch_runs` (it is in `missed_runs`).
const MISSED: &str = "missed";

/// What is known when a run starts.
#[derive(Debug, Clone)]
pub struct NewRun {
    pub run_id: String,
    pub batch: String,
    pub arguments: Vec<String>,
    pub started_at: DateTime<Utc>,
    /// After this, a row still `running` is stale: its process died without recording the end.
    pub deadline_at: DateTime<Utc>,
    pub ecs_task_arn: Option<String>,
    pub scheduled_time: Option<DateTime<Utc>>,
    /// The catalog entry it serves (`BATCH_ENTRY`).
    pub entry: Option<String>,
    /// The run that launched it (`BATCH_PARENT_RUN_ID`).
    pub parent_run_id: Option<String>,
}

/// How a run ended.
#[derive(Debug, Clone)]
pub struct Ending {
    pub status: RunStatus,
    pub finished_at: DateTime<Utc>,
    pub exit_code: u8,
    pub counts: BTreeMap<String, i64>,
    pub error: Option<String>,
}

const INSERT_RUN: &str =
    "INSERT INTO batch_runs (run_id, batch, status, arguments, started_at, deadline_at,
                                 ecs_task_arn, scheduled_time, entry, parent_run_id)
         VALUES ($1, $2, 'running', $3, $4, $5, $6, $7, $8, $9)";
const RECORD_END: &str =
    "UPDATE batch_runs SET status = $2, finished_at = $3, exit_code = $4, counts = $5, error = $6
         WHERE run_id = $1";

/// `INSERT_RUN` with the run's values bound (`arguments`: its JSON).
macro_rules! insert_run {
    ($run:expr, $arguments:expr) => {
        sqlx::query(INSERT_RUN)
            .bind(&$run.run_id)
            .bind(&$run.batch)
            .bind($arguments)
            .bind($run.started_at)
            .bind($run.deadline_at)
            .bind(&$run.ecs_task_arn)
            .bind($run.scheduled_time)
            .bind(&$run.entry)
            .bind(&$run.parent_run_id)
    };
}

/// `RECORD_END` with the ending's values bound.
macro_rules! end_run {
    ($run_id:expr, $ending:expr) => {
        sqlx::query(RECORD_END)
            .bind($run_id)
            .bind($ending.status.as_str())
            .bind($ending.finished_at)
            .bind(i32::from($ending.exit_code))
            .bind(Json(&$ending.counts))
            .bind(&$ending.error)
    };
}

/// Inserts the run as `running`.
pub async fn record_start(db: &Db, run: &NewRun) -> anyhow::Result<()> {
    let arguments = serde_json::to_string(&run.arguments)?;
    on_pool!(db, |pool| {
        insert_run!(run, &arguments)
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
    })?;
    Ok(())
}

/// Records the end of a run started with `record_start`.
pub async fn record_end(db: &Db, run_id: &str, ending: &Ending) -> anyhow::Result<()> {
    on_pool!(db, |pool| {
        end_run!(run_id, ending)
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
    })?;
    Ok(())
}

/// Records a whole run at its end: for `migrate`, whose table may not exist when it starts.
pub async fn record_whole(db: &Db, run: &NewRun, ending: &Ending) -> anyhow::Result<()> {
    record_start(db, run).await?;
    record_end(db, &run.run_id, ending).await
}

/// Records many past runs in one transaction (sample history for demos): each as it started and,
/// with an ending, as it ended.
pub async fn record_past(db: &Db, runs: &[(NewRun, Option<Ending>)]) -> anyhow::Result<()> {
    on_pool!(db, |pool| {
        let mut tx = pool.begin().await?;
        for (run, ending) in runs {
            let arguments = serde_json::to_string(&run.arguments)?;
            insert_run!(run, &arguments).execute(&mut *tx).await?;
            if let Some(ending) = ending {
                end_run!(&run.run_id, ending).execute(&mut *tx).await?;
            }
        }
        tx.commit().await?;
    });
    Ok(())
}

/// Deletes runs that started before `cutoff`; returns how many.
pub async fn prune(db: &Db, cutoff: DateTime<Utc>) -> anyhow::Result<u64> {
    let result = on_pool!(db, |pool| sqlx::query(
        "DELETE FROM batch_runs WHERE started_at < $1"
    )
    .bind(cutoff)
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(result)
}

/// A row of `batch_runs`, as `batch history` shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RunRecord {
    pub run_id: String,
    pub batch: String,
    pub status: String,
    pub arguments: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub deadline_at: DateTime<Utc>,
    pub exit_code: Option<i32>,
    pub counts: Option<Json<BTreeMap<String, i64>>>,
    pub error: Option<String>,
    pub ecs_task_arn: Option<String>,
    pub scheduled_time: Option<DateTime<Utc>>,
    pub entry: Option<String>,
    pub parent_run_id: Option<String>,
}

/// The status `batch history` shows: a `running` row past its deadline is `stale`, because a
/// process killed with SIGKILL (or an OOM kill) never gets to record its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShownStatus {
    Recorded(RunStatus),
    Stale,
    /// A fire time of a watched schedule with no success within its grace (`missed-runs`).
    Missed,
}

impl ShownStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ShownStatus::Recorded(status) => status.as_str(),
            ShownStatus::Stale => "stale",
            ShownStatus::Missed => "missed",
        }
    }
}

impl std::str::FromStr for ShownStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "stale" => return Ok(ShownStatus::Stale),
            "missed" => return Ok(ShownStatus::Missed),
            _ => {}
        }
        s.parse().map(ShownStatus::Recorded).map_err(|_| {
            let names: Vec<&str> = RunStatus::ALL.iter().map(|s| s.as_str()).collect();
            format!(
                "unknown status `{s}`; expected one of {}, stale, missed",
                names.join(", ")
            )
        })
    }
}

impl RunRecord {
    /// A missed fire time, shown among the runs: no run id, started at its scheduled time, and
    /// what did run (if anything) as its error.
    pub fn missed(missed: &MissedRun) -> RunRecord {
        RunRecord {
            run_id: String::new(),
            batch: missed.batch.clone(),
            status: MISSED.into(),
            arguments: "[]".into(),
            started_at: missed.scheduled_time,
            finished_at: None,
            deadline_at: missed.scheduled_time
                + chrono::Duration::minutes(i64::from(missed.grace_minutes)),
            exit_code: None,
            counts: None,
            error: Some(format!(
                "no success within {} of its schedule: {}",
                missed.grace_text(),
                missed.seen
            )),
            ecs_task_arn: None,
            scheduled_time: Some(missed.scheduled_time),
            entry: Some(missed.entry.clone()),
            parent_run_id: None,
        }
    }

    pub fn shown_status(&self, now: DateTime<Utc>) -> ShownStatus {
        if self.status == MISSED {
            return ShownStatus::Missed;
        }
        match self.status.parse() {
            Ok(RunStatus::Running) if self.deadline_at < now => ShownStatus::Stale,
            Ok(status) => ShownStatus::Recorded(status),
            // The CHECK constraint makes this unreachable; show it as the failure it would be.
            Err(_) => ShownStatus::Recorded(RunStatus::Failed),
        }
    }

    pub fn duration_ms(&self) -> Option<i64> {
        self.finished_at
            .map(|end| (end - self.started_at).num_milliseconds())
    }

    /// The JSON shape of `batch history --json`.
    pub fn to_view(&self, now: DateTime<Utc>) -> RunView {
        RunView {
            run_id: (!self.run_id.is_empty()).then(|| self.run_id.clone()),
            batch: self.batch.clone(),
            status: self.shown_status(now).as_str(),
            arguments: serde_json::from_str(&self.arguments).unwrap_or_default(),
            started_at: self.started_at,
            finished_at: self.finished_at,
            duration_ms: self.duration_ms(),
            exit_code: self.exit_code,
            counts: self
                .counts
                .as_ref()
                .map(|c| c.0.clone())
                .unwrap_or_default(),
            error: self.error.clone(),
            ecs_task_arn: self.ecs_task_arn.clone(),
            scheduled_time: self.scheduled_time,
            entry: self.entry.clone(),
            parent_run_id: self.parent_run_id.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct RunView {
    /// `null` for a missed fire time: no run happened.
    pub run_id: Option<String>,
    pub batch: String,
    pub status: &'static str,
    pub arguments: Vec<String>,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub duration_ms: Option<i64>,
    pub exit_code: Option<i32>,
    pub counts: BTreeMap<String, i64>,
    pub error: Option<String>,
    pub ecs_task_arn: Option<String>,
    pub scheduled_time: Option<DateTime<Utc>>,
    /// The catalog entry the run served, when its task definition said.
    pub entry: Option<String>,
    /// The run that launched this one.
    pub parent_run_id: Option<String>,
}

/// Filters of `batch history`.
#[derive(Debug, Clone)]
pub struct HistoryQuery {
    pub batch: Option<String>,
    /// Only the runs launched by this run (and the run itself).
    pub parent: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub status: Option<ShownStatus>,
    pub limit: u32,
}

/// Runs and missed fire times newest first, filtered. `now` decides staleness, so one instant
/// is used throughout.
pub async fn list(
    db: &Db,
    query: &HistoryQuery,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<RunRecord>> {
    let missed = match query.status {
        // A missed fire time has no run, so no parent either.
        _ if query.parent.is_some() => Vec::new(),
        None | Some(ShownStatus::Missed) => {
            missed_store::list(db, query.batch.as_deref(), query.since, query.limit).await?
        }
        Some(_) => Vec::new(),
    };
    let mut rows = match query.status {
        Some(ShownStatus::Missed) => Vec::new(),
        _ => list_runs(db, query, now).await?,
    };
    rows.extend(missed.iter().map(RunRecord::missed));
    rows.sort_by(|a, b| (b.started_at, &b.run_id).cmp(&(a.started_at, &a.run_id)));
    rows.truncate(query.limit as usize);
    Ok(rows)
}

async fn list_runs(
    db: &Db,
    query: &HistoryQuery,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<RunRecord>> {
    // `stale` and `running` are both stored as `running`; they differ by the deadline.
    let (stored, stale) = match query.status {
        None | Some(ShownStatus::Missed) => (None, None),
        Some(ShownStatus::Stale) => (Some(RunStatus::Running), Some(true)),
        Some(ShownStatus::Recorded(RunStatus::Running)) => (Some(RunStatus::Running), Some(false)),
        Some(ShownStatus::Recorded(status)) => (Some(status), None),
    };
    let rows = on_pool!(db, |pool| {
        sqlx::query_as::<_, RunRecord>(
        "SELECT run_id, batch, status, arguments, started_at, finished_at, deadline_at, exit_code,
                counts, error, ecs_task_arn, scheduled_time, entry, parent_run_id
         FROM batch_runs
         WHERE ($1 IS NULL OR batch = $1)
           AND ($2 IS NULL OR started_at >= $2)
           AND ($3 IS NULL OR status = $3)
           AND ($4 IS NULL OR (deadline_at < $5) = $4)
           AND ($7 IS NULL OR parent_run_id = $7 OR run_id = $7)
         ORDER BY started_at DESC, run_id DESC
         LIMIT $6"
    )
    .bind(&query.batch)
    .bind(query.since)
    .bind(stored.map(RunStatus::as_str))
    .bind(stale)
    .bind(now)
    .bind(i64::from(query.limit))
    .bind(&query.parent)
    .fetch_all(pool)
    .await
    })?;
    Ok(rows)
}
