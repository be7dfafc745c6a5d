//! A realistic two days of run history for the time line (`demo-seed --run-history`): what the
//! catalog's entries would have left behind, with the trouble on-call looks for: a failed canary,
//! a failed and a killed (stale) export worker, a timed-out sweeper, an interrupted report, an
//! enqueue started by hand that was skipped, and a missed history-prune. Deterministic for a seed.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Duration, DurationRound, Utc};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::db::Db;
use crate::missed_runs::store::{self as missed_store, MissedRun};
use crate::runtime::counts::Counts;
use crate::runtime::history::{self, Ending, NewRun};
use crate::runtime::status::RunStatus;

/// How far back the history goes: the time line's default window.
const SPAN_HOURS: i64 = 48;

struct Seeder {
    /// Recorded at the end, in one transaction.
    recorded: Mutex<Vec<(NewRun, Option<Ending>)>>,
    rng: Mutex<SmallRng>,
    now: DateTime<Utc>,
    runs: AtomicI64,
}

/// One run to record.
struct Run<'a> {
    entry: &'a str,
    batch: &'a str,
    args: &'a [&'a str],
    started: DateTime<Utc>,
    took: Duration,
    /// `None`: never recorded its end (killed), shown `running` or `stale`.
    status: Option<RunStatus>,
    counts: &'a [(&'a str, i64)],
    error: Option<&'a str>,
    scheduled: Option<DateTime<Utc>>,
    parent: Option<String>,
}

impl Seeder {
    fn record(&self, run: Run<'_>) -> anyhow::Result<String> {
        let run_id = uuid::Uuid::now_v7().to_string();
        let time_limit = crate::batches::find(run.batch)
            .map(|b| b.time_limit)
            .unwrap_or(std::time::Duration::from_secs(3600));
        let task: String = (0..32)
            .map(|_| char::from_digit(self.rng().random_range(0..16), 16).unwrap_or('0'))
            .collect();
        let new = NewRun {
            run_id: run_id.clone(),
            batch: run.batch.to_owned(),
            arguments: std::iter::once(run.batch)
                .chain(run.args.iter().copied())
                .map(str::to_owned)
                .collect(),
            started_at: run.started,
            deadline_at: run.started + Duration::from_std(time_limit)?,
            ecs_task_arn: Some(format!(
                "arn:aws:ecs:ap-northeast-1:123456789012:task/batchbox-demo/{task}"
            )),
            scheduled_time: run.scheduled,
            entry: Some(run.entry.to_owned()),
            parent_run_id: run.parent,
        };
        let ending = run.status.map(|status| Ending {
            status,
            finished_at: (run.started + run.took).min(self.now),
            exit_code: status.exit_code(),
            counts: run
                .counts
                .iter()
                .map(|(k, v)| ((*k).to_owned(), *v))
                .collect::<BTreeMap<_, _>>(),
            error: run.error.map(str::to_owned),
        });
        self.recorded
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push((new, ending));
        self.runs.fetch_add(1, Ordering::Relaxed);
        Ok(run_id)
    }

    fn rng(&self) -> std::sync::MutexGuard<'_, SmallRng> {
        self.rng
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn seconds(&self, from: i64, to: i64) -> Duration {
        Duration::milliseconds(self.rng().random_range(from * 1000..to * 1000))
    }

    /// Fire times at `minute` past every `every` minutes (UTC) in the span, oldest first.
    fn fires(&self, every: i64, minute: i64) -> Vec<DateTime<Utc>> {
        let start = (self.now - Duration::hours(SPAN_HOURS))
            .duration_trunc(Duration::hours(1))
            .unwrap_or(self.now);
        let mut fires = Vec::new();
        let mut t = start + Duration::minutes(minute);
        while t <= self.now {
            if t >= self.now - Duration::hours(SPAN_HOURS) {
                fires.push(t);
            }
            t += Duration::minutes(every);
        }
        fires
    }
}

/// Records the two days before `now`; counts `runs` and `missed`.
pub async fn seed_history(
    db: &Db,
    now: DateTime<Utc>,
    seed: u64,
    counts: &Counts,
) -> anyhow::Result<()> {
    let s = Seeder {
        recorded: Mutex::new(Vec::new()),
        rng: Mutex::new(SmallRng::seed_from_u64(seed)),
        now,
        runs: AtomicI64::new(0),
    };
    // The watcher, every 10 minutes: hundreds of short successes.
    for fire in s.fires(10, 0) {
        let took = s.seconds(1, 3);
        s.record(Run {
            entry: "missed-runs",
            batch: "missed-runs",
            args: &[],
            started: fire + s.seconds(20, 50),
            took,
            status: Some(RunStatus::Succeeded),
            counts: &[
                ("watched", 7),
                ("judged", 1),
                ("missed", 0),
                ("notified", 0),
            ],
            error: None,
            scheduled: Some(fire),
            parent: None,
        })?;
    }
    // The canary, hourly; one failed (the database did not answer).
    let canaries = s.fires(60, 0);
    for (n, fire) in canaries.iter().enumerate() {
        let failed = n == canaries.len() * 3 / 5;
        let took = if failed {
            Duration::seconds(31)
        } else {
            s.seconds(1, 4)
        };
        s.record(Run {
            entry: "canary",
            batch: "canary",
            args: &["--max-runtime", "5m"],
            started: *fire + s.seconds(15, 45),
            took,
            status: Some(if failed { RunStatus::Failed } else { RunStatus::Succeeded }),
            counts: &[],
            error: failed.then_some("pool timed out while waiting for an open connection (DATABASE_ACQUIRE_TIMEOUT 30s)"),
            scheduled: Some(*fire),
            parent: None,
        })?;
    }
    // The report, hourly; one interrupted by a deploy.
    let reports = s.fires(60, 15);
    for (n, fire) in reports.iter().enumerate() {
        let interrupted = n == reports.len() / 4;
        let took = s.seconds(2, 6);
        s.record(Run {
            entry: "history-report",
            batch: "history-report",
            args: &[],
            started: *fire + s.seconds(15, 45),
            took,
            status: Some(if interrupted {
                RunStatus::Interrupted
            } else {
                RunStatus::Succeeded
            }),
            counts: if interrupted {
                &[]
            } else {
                &[("runs", 512), ("missed", 1), ("rows", 8)]
            },
            error: interrupted.then_some("interrupted by SIGTERM"),
            scheduled: Some(*fire),
            parent: None,
        })?;
    }
    // The sweeper, hourly at minute 5; one ran into its time limit.
    let sweeps = s.fires(60, 5);
    for (n, fire) in sweeps.iter().enumerate() {
        let timed_out = n == sweeps.len() / 3;
        let took = if timed_out {
            Duration::hours(1)
        } else {
            s.seconds(2, 40)
        };
        s.record(Run {
            entry: "export-worker",
            batch: "export-worker",
            args: &[],
            started: *fire + s.seconds(15, 45),
            took,
            status: Some(if timed_out {
                RunStatus::TimedOut
            } else {
                RunStatus::Succeeded
            }),
            counts: if timed_out {
                &[("succeeded", 3)]
            } else {
                &[("succeeded", 0), ("failed", 0)]
            },
            error: timed_out.then_some("the time limit (1h) passed; the run was asked to stop"),
            scheduled: Some(*fire),
            parent: None,
        })?;
    }
    // The daily enqueue at 15:30 UTC and the workers it launched; on the first day one worker was
    // killed (out of memory) and a person started the enqueue by hand while it ran (skipped); on
    // the second, one worker failed a job on its last attempt.
    for (day, fire) in s
        .fires(60, 30)
        .into_iter()
        .filter(|t| t.format("%H").to_string() == "15")
        .enumerate()
    {
        let started = fire + s.seconds(20, 40);
        let enqueue = s.record(Run {
            entry: "export-enqueue",
            batch: "export-enqueue",
            args: &[],
            started,
            took: s.seconds(30, 60),
            status: Some(RunStatus::Succeeded),
            counts: &[("queued", 96), ("waiting", 96), ("launched_tasks", 4)],
            error: None,
            scheduled: Some(fire),
            parent: None,
        })?;
        if day == 0 {
            s.record(Run {
                entry: "export-enqueue",
                batch: "export-enqueue",
                args: &["--date", "2026-11-20"],
                started: started + Duration::seconds(20),
                took: Duration::milliseconds(900),
                status: Some(RunStatus::Skipped),
                counts: &[],
                error: None,
                scheduled: None,
                parent: None,
            })?;
        }
        for worker in 0..4 {
            let minutes = s.rng().random_range(8..35);
            let took = Duration::minutes(minutes) + s.seconds(0, 59);
            let (status, error) = match (day, worker) {
                (0, 2) => (None, None),
                (1, 1) => (
                    Some(RunStatus::Failed),
                    Some(
                        "1 export job failed on its last attempt: job 4812 (tenant 東京支社, form 7, 2026-11-20): S3 returned 503 SlowDown",
                    ),
                ),
                _ => (Some(RunStatus::Succeeded), None),
            };
            s.record(Run {
                entry: "export-worker",
                batch: "export-worker",
                args: &[],
                started: started + Duration::seconds(50) + s.seconds(5, 40),
                took,
                status,
                counts: &[
                    ("succeeded", 24),
                    ("failed", if error.is_some() { 1 } else { 0 }),
                ],
                error,
                scheduled: None,
                parent: Some(enqueue.clone()),
            })?;
        }
    }
    // The nightly prune at 18:30 UTC: the first ran, the second never started.
    let mut missed = 0;
    for (day, fire) in s
        .fires(60, 30)
        .into_iter()
        .filter(|t| t.format("%H").to_string() == "18")
        .enumerate()
    {
        if day == 0 {
            s.record(Run {
                entry: "history-prune",
                batch: "history-prune",
                args: &["--older-than-days", "90", "--max-runtime", "15m"],
                started: fire + s.seconds(15, 45),
                took: s.seconds(3, 9),
                status: Some(RunStatus::Succeeded),
                counts: &[("deleted", 2281), ("deleted_missed", 0)],
                error: None,
                scheduled: Some(fire),
                parent: None,
            })?;
        } else if fire + Duration::minutes(60) < now {
            let recorded = missed_store::record_missed(
                db,
                &MissedRun {
                    entry: "history-prune".into(),
                    batch: "history-prune".into(),
                    scheduled_time: fire,
                    grace_minutes: 60,
                    detected_at: fire + Duration::minutes(70),
                    seen: "no run started".into(),
                    notified_at: None,
                },
            )
            .await?;
            missed += i64::from(recorded);
        }
    }
    let recorded = std::mem::take(&mut *s.recorded.lock().unwrap_or_else(|p| p.into_inner()));
    history::record_past(db, &recorded).await?;
    counts.add("runs", s.runs.load(Ordering::Relaxed));
    counts.add("missed", missed);
    Ok(())
}
