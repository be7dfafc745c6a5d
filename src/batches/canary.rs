//! `canary`: a run that does nothing but prove the whole path works - the schedule fires, ECS
//! starts the task, the database answers, the logs arrive, history records it. Scheduled and
//! watched by `missed-runs`, a fire time with no success tells when scheduling itself broke. `--fail` tests the failure
//! notification; `--hold` keeps the lock a while (to see overlap protection and stops at work).
//! The hidden `--panic work|task` panics in the work itself or in a task it spawns, so that tests
//! can prove a panic is logged as one line and ends the run `failed`; it is refused on ECS.

use std::time::Duration;

use anyhow::bail;
use clap::{Args, ValueEnum};

use super::{Batch, bind};
use crate::db::SchemaNeed;
use crate::on_pool;
use crate::runtime::RunContext;

#[derive(Debug, Args)]
pub struct Options {
    /// Hold the batch's lock this long before finishing (e.g. 30s); stops early when asked to.
    #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = parse_hold)]
    hold: Duration,
    /// End the run as failed, to check that a failure reaches the people on call.
    #[arg(long)]
    fail: bool,
    /// Panic in the work itself or in a task it spawns (tests only; refused on ECS).
    #[arg(long, value_name = "WHERE", hide = true)]
    panic: Option<PanicIn>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum PanicIn {
    /// The batch's work future.
    Work,
    /// A task the work spawns; the work ignores how it ended, as careless code would.
    Task,
}

fn parse_hold(raw: &str) -> Result<Duration, String> {
    crate::config::HoldTime::parse(raw).map(|d| d.0)
}

pub const BATCH: Batch = Batch {
    name: "canary",
    about: "Proves that schedule, task, database, logs and history work; changes nothing",
    long_about: "Proves that the path every batch depends on works: the schedule fires, the task \
starts, the database answers, the log lines arrive and the run is recorded in history. It changes \
no data. Schedule it often and watch it (missed-runs reports a fire time with no success) to learn \
when scheduling broke; run it \
with --fail to check that a failure reaches the people on call.",
    exclusive: true,
    time_limit: Duration::from_secs(5 * 60),
    schema: SchemaNeed::Current,
    writes_exports: false,
    launches: false,
    options: <Options as Args>::augment_args,
    prepare: |matches| bind(matches, run),
};

async fn run(ctx: RunContext, options: Options) -> anyhow::Result<()> {
    let answer: i64 = on_pool!(&ctx.db, |pool| sqlx::query_scalar(
        "SELECT CAST(1 AS BIGINT)"
    )
    .fetch_one(pool)
    .await)?;
    ctx.counts.add("database_checks", answer);
    if !options.hold.is_zero() {
        tracing::info!(hold = %humantime::format_duration(options.hold), "holding the lock");
        tokio::select! {
            _ = tokio::time::sleep(options.hold) => {}
            _ = ctx.stop.requested() => {
                tracing::info!("stop requested: releasing the lock early");
                return Ok(());
            }
        }
    }
    if let Some(place) = options.panic {
        if ctx.config.run.ecs_metadata_uri.is_some() {
            bail!("--panic is for tests and refuses to run on ECS");
        }
        match place {
            PanicIn::Work => panic!("panicking on purpose (--panic work)"),
            PanicIn::Task => {
                let task = tokio::spawn(async { panic!("panicking on purpose (--panic task)") });
                let _ = task.await;
            }
        }
    }
    if options.fail {
        bail!("failing on purpose (--fail): this run checks that failures are reported");
    }
    Ok(())
}
