//! `demo`: the whole export on one machine for a new user - sample data, enqueue, launched
//! workers - on the embedded default (SQLite and a local directory instead of S3), then where the
//! workbooks are. The workers are child processes started by the same launcher that starts ECS
//! tasks in production (`launch`), so the demo shows the production flow.

use std::time::Duration;

use chrono::Utc;
use clap::Args;

pub mod read_back;
pub mod sample_data;
pub mod sample_history;
pub mod seed;

use self::sample_data::{SeedPlan, seed};
use super::{Batch, bind, refuse_on_ecs};
use crate::calendar::Period;
use crate::db::SchemaNeed;
use crate::export::enqueue::{EnqueuePlan, enqueue};
use crate::export::queue;
use crate::launch::{self, LaunchConfig, LaunchTarget};
use crate::on_pool;
use crate::runtime::RunContext;
use crate::runtime::history::HistoryQuery;
use crate::storage::Storage;
use crate::timeline;

#[derive(Debug, Args)]
pub struct Options {
    /// Sample records to create on the first run (later runs reuse them).
    #[arg(long, value_name = "N", default_value_t = 500, value_parser = clap::value_parser!(u64).range(0..=10_000_000))]
    records: u64,
}

pub const BATCH: Batch = Batch {
    name: "demo",
    about: "Runs the whole xlsx export locally on sample data and shows where the workbooks are",
    long_about: "For a first look: on an empty database, adds sample records for yesterday \
(as demo-seed does), queues yesterday's exports (as export-enqueue does), starts two export-worker \
processes that export them (as export-enqueue starts its worker tasks on ECS), waits for them and \
prints where each workbook is, then writes the run time line (as history-report does, to \
REPORT_KEY under the local directory) and prints its path. With no DATABASE_URL and no EXPORT_BUCKET \
everything stays on this machine: ./batchbox-data/batchbox.sqlite3 and ./batchbox-data/exports/. \
Refuses to run on ECS.",
    exclusive: true,
    time_limit: Duration::from_secs(30 * 60),
    schema: SchemaNeed::Current,
    writes_exports: true,
    launches: false,
    options: <Options as Args>::augment_args,
    prepare: |matches| bind(matches, run),
};

/// Two workers for the sample's four jobs, as `launch = { batch = "export-worker", max_tasks = 2,
/// jobs_per_task = 2 }` would start them.
fn workers() -> LaunchConfig {
    LaunchConfig {
        batch: super::export_worker::BATCH.name.to_owned(),
        args: Vec::new(),
        max_tasks: 2,
        jobs_per_task: 2,
        target: LaunchTarget::Local,
    }
}

async fn run(ctx: RunContext, options: Options) -> anyhow::Result<()> {
    refuse_on_ecs(&ctx, "demo")?;
    let export = &ctx.config.export;
    let now = Utc::now();
    let existing: i64 = on_pool!(&ctx.db, |pool| sqlx::query_scalar(
        "SELECT count(*) FROM records"
    )
    .fetch_one(pool)
    .await)?;
    if existing == 0 {
        let plan = SeedPlan {
            records: options.records,
            days: 1,
            time_zone: ctx.config.time_zone,
            seed: 42,
            now,
        };
        seed(&ctx.db, &plan, &ctx.counts).await?;
    }
    let period = Period::previous_day(now, ctx.config.time_zone);
    let plan = EnqueuePlan::new(export, ctx.config.time_zone, vec![period], true);
    enqueue(&ctx.db, &plan, &ctx.counts).await?;
    let waiting = queue::pending_at(&ctx.db, Utc::now()).await?.due;
    launch::launch_with(&ctx, &workers(), u64::try_from(waiting).unwrap_or(0)).await?;
    let storage = Storage::from_config(&export.storage).await;

    eprintln!("\nWorkbooks for {}:", period.label());
    for job in read_back::jobs(&ctx.db).await? {
        if let (Some(key), true) = (&job.object_key, job.period_start == period.start) {
            let location = storage.locate(key);
            tracing::info!(
                job_id = job.id,
                workbook = location,
                rows = job.row_count,
                "workbook ready"
            );
            eprintln!("  {location}  ({} rows)", job.row_count.unwrap_or_default());
        }
    }
    time_line(&ctx, &storage).await
}

/// The run time line of the last 48 hours, where `history-report` would put it (`REPORT_KEY`
/// under the local directory); its path is printed.
async fn time_line(ctx: &RunContext, storage: &Storage) -> anyhow::Result<()> {
    let (schedules, source) =
        timeline::schedules::load(None, ctx.config.report.schedules.as_deref())?;
    let now = Utc::now();
    let request = timeline::Request {
        query: HistoryQuery {
            batch: None,
            parent: None,
            since: Some(now - timeline::DEFAULT_WINDOW),
            status: None,
            limit: timeline::MAX_RUNS,
        },
        schedules,
        source,
        until: now,
        time_zone: ctx.config.time_zone,
        environment: None,
    };
    let (location, written) = timeline::publish(
        &ctx.db,
        &request,
        storage,
        &ctx.config.report.key,
        &ctx.stop,
        now,
    )
    .await?;
    tracing::info!(
        time_line = location,
        runs = written.runs,
        "time line written"
    );
    eprintln!("\nTime line of the runs (open it in a browser):\n  {location}");
    Ok(())
}
