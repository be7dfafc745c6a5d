//! `history-prune`: keeps `batch_runs` from growing forever.

use std::time::Duration;

use clap::Args;

use super::{Batch, bind};
use crate::db::SchemaNeed;
use crate::missed_runs;
use crate::runtime::{RunContext, history};

#[derive(Debug, Args)]
pub struct Options {
    /// Delete runs that started more than this many days ago.
    #[arg(long, value_name = "DAYS", default_value_t = 90, value_parser = clap::value_parser!(u32).range(1..=36500))]
    older_than_days: u32,
}

pub const BATCH: Batch = Batch {
    name: "history-prune",
    about: "Deletes run history older than N days (default 90)",
    long_about: "Deletes rows of the run history (batch_runs) whose run started more than \
--older-than-days days ago (default 90), so that `batch history` stays fast. Stale `running` \
rows of killed runs are deleted like any other once they are old enough, and so are missed \
fire times (`missed_runs`). The numbers deleted are the `deleted` and `deleted_missed` counts of \
`run finished`.",
    exclusive: true,
    time_limit: Duration::from_secs(15 * 60),
    schema: SchemaNeed::Current,
    writes_exports: false,
    launches: false,
    options: <Options as Args>::augment_args,
    prepare: |matches| bind(matches, run),
};

async fn run(ctx: RunContext, options: Options) -> anyhow::Result<()> {
    let cutoff = chrono::Utc::now() - chrono::Duration::days(i64::from(options.older_than_days));
    let deleted = history::prune(&ctx.db, cutoff).await?;
    ctx.counts
        .add("deleted", i64::try_from(deleted).unwrap_or(i64::MAX));
    let deleted_missed = missed_runs::store::prune(&ctx.db, cutoff).await?;
    ctx.counts.add(
        "deleted_missed",
        i64::try_from(deleted_missed).unwrap_or(i64::MAX),
    );
    tracing::info!(deleted, deleted_missed, cutoff = %cutoff.to_rfc3339(), "pruned run history");
    Ok(())
}
