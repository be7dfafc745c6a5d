//! `export-requeue`: "just re-run it" - puts failed export jobs back in the queue.

use std::time::Duration;

use anyhow::bail;
use chrono::Utc;
use clap::Args;

use super::{Batch, bind};
use crate::db::SchemaNeed;
use crate::export::queue::{self, Requeue};
use crate::runtime::RunContext;

#[derive(Debug, Args)]
pub struct Options {
    /// The failed job to put back.
    #[arg(
        long,
        value_name = "ID",
        required_unless_present = "failed",
        conflicts_with = "failed"
    )]
    job: Option<i64>,
    /// Put back every failed job.
    #[arg(long)]
    failed: bool,
}

pub const BATCH: Batch = Batch {
    name: "export-requeue",
    about: "Puts failed export jobs back in the queue (--job ID or --failed)",
    long_about: "Puts failed export jobs back in the queue with a fresh set of attempts: one \
job (--job ID) or every failed job (--failed). Fix the cause first (the job's last_error says \
what failed), then run this and an export-worker. Counts: requeued.",
    exclusive: false,
    time_limit: Duration::from_secs(5 * 60),
    schema: SchemaNeed::Current,
    writes_exports: false,
    launches: false,
    options: <Options as Args>::augment_args,
    prepare: |matches| bind(matches, run),
};

async fn run(ctx: RunContext, options: Options) -> anyhow::Result<()> {
    let which = match options.job {
        Some(id) => Requeue::Job(id),
        None => Requeue::AllFailed,
    };
    let requeued = queue::requeue(&ctx.db, which, Utc::now()).await?;
    ctx.counts.add("requeued", requeued as i64);
    if let Requeue::Job(id) = which
        && requeued == 0
    {
        bail!(
            "job {id} is not a failed export job (it does not exist, or it is pending, running or succeeded)"
        );
    }
    tracing::info!(requeued, "failed export jobs put back in the queue");
    Ok(())
}
