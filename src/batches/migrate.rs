//! `migrate`: applies the database migrations of this image. Run it by hand (or from the
//! release pipeline) before a new image's batches run; no other batch ever migrates silently.

use std::time::Duration;

use clap::Args;

use super::{Batch, bind};
use crate::db::SchemaNeed;
use crate::runtime::RunContext;

#[derive(Debug, Args)]
pub struct Options {}

pub const BATCH: Batch = Batch {
    name: "migrate",
    about: "Applies pending database migrations (manual; run before a new image's batches)",
    long_about: "Applies the database migrations built into this image that the database has \
not applied yet. Other batches refuse to start while migrations are pending, so run this first \
whenever a release adds one. Safe to re-run: applied migrations are skipped, and concurrent runs \
wait for each other. The number applied is the `applied` count of `run finished`.",
    exclusive: false,
    time_limit: Duration::from_secs(30 * 60),
    schema: SchemaNeed::Migrates,
    writes_exports: false,
    launches: false,
    options: <Options as Args>::augment_args,
    prepare: |matches| bind(matches, run),
};

async fn run(ctx: RunContext, _options: Options) -> anyhow::Result<()> {
    let applied = ctx.db.migrate().await?;
    ctx.counts
        .add("applied", i64::try_from(applied).unwrap_or(i64::MAX));
    tracing::info!(applied, "migrations applied");
    Ok(())
}
