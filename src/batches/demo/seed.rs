//! `demo-seed`: fills the database with realistic sample records (manual; never in production).

use std::time::Duration;

use chrono::Utc;
use clap::Args;

use super::sample_data::{SeedPlan, seed};
use super::sample_history;
use super::{Batch, bind, refuse_on_ecs};
use crate::db::SchemaNeed;
use crate::runtime::RunContext;

#[derive(Debug, Args)]
pub struct Options {
    /// How many records to add.
    #[arg(long, value_name = "N", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(0..=10_000_000))]
    pub records: u64,
    /// Spread them over this many days, ending yesterday in EXPORT_TIME_ZONE.
    #[arg(long, value_name = "DAYS", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=366))]
    pub days: u32,
    /// Random seed, for reproducible data.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Also add two days of realistic run history ending now (failures, a timeout, a skipped and
    /// a missed run among hundreds of successes), for the time line (`batch history --html`).
    #[arg(long)]
    pub run_history: bool,
}

pub const BATCH: Batch = Batch {
    name: "demo-seed",
    about: "Adds realistic sample records (tenants, forms, Japanese text, NULLs) for demos",
    long_about: "Creates three sample tenants and their forms (if missing) and adds --records \
records spread over the --days days before today in EXPORT_TIME_ZONE: Japanese and other \
non-ASCII text, NULLs, formula-like and control-character text, the odd very long note. With \
--run-history, also records two days of realistic run history ending now (hundreds of \
successes; a failed, a timed-out, an interrupted, a skipped and a killed run; a missed fire \
time), for the time line. For demos, local development and benchmarks; never schedule it. \
Counts: tenants, forms, records (and runs, missed).",
    exclusive: false,
    time_limit: Duration::from_secs(60 * 60),
    schema: SchemaNeed::Current,
    writes_exports: false,
    launches: false,
    options: <Options as Args>::augment_args,
    prepare: |matches| bind(matches, run),
};

impl Options {
    fn plan(&self, ctx: &RunContext) -> SeedPlan {
        SeedPlan {
            records: self.records,
            days: self.days,
            time_zone: ctx.config.time_zone,
            seed: self.seed,
            now: Utc::now(),
        }
    }
}

async fn run(ctx: RunContext, options: Options) -> anyhow::Result<()> {
    refuse_on_ecs(&ctx, "demo-seed")?;
    seed(&ctx.db, &options.plan(&ctx), &ctx.counts).await?;
    if options.run_history {
        sample_history::seed_history(&ctx.db, Utc::now(), options.seed, &ctx.counts).await?;
    }
    Ok(())
}
