//! `export-enqueue`: finds what to export for a period and queues one job per tenant and form.

use std::time::Duration;

use chrono::{NaiveDate, Utc};
use clap::error::ErrorKind;
use clap::{ArgMatches, Args, FromArgMatches};

use super::{Batch, Work, bind};
use crate::calendar::{Period, parse_date, parse_month};
use crate::db::SchemaNeed;
use crate::export::enqueue::{EnqueuePlan, enqueue};
use crate::export::queue;
use crate::launch;
use crate::runtime::RunContext;

#[derive(Debug, Args)]
pub struct Options {
    /// Export this day (YYYY-MM-DD, in EXPORT_TIME_ZONE) instead of yesterday.
    #[arg(long, value_name = "DATE", conflicts_with_all = ["from", "monthly"], value_parser = parse_date)]
    date: Option<NaiveDate>,
    /// Backfill: the first day of a range, one job per day (with --to).
    #[arg(long, value_name = "DATE", requires = "to", conflicts_with = "monthly", value_parser = parse_date)]
    from: Option<NaiveDate>,
    /// Backfill: the last day of the range, inclusive (with --from).
    #[arg(long, value_name = "DATE", requires = "from", value_parser = parse_date)]
    to: Option<NaiveDate>,
    /// Export a calendar month instead of a day: the previous month, or --month.
    #[arg(long)]
    monthly: bool,
    /// With --monthly: the month to export (YYYY-MM).
    #[arg(long, value_name = "YYYY-MM", requires = "monthly", value_parser = parse_month)]
    month: Option<(i32, u32)>,
    /// Put back jobs of these periods that ended failed (without it, existing jobs are left alone).
    #[arg(long)]
    requeue_failed: bool,
}

impl Options {
    /// The periods the options name by themselves (`None`: yesterday or last month, which depend
    /// on the time zone and the clock of the run).
    fn explicit_periods(&self) -> anyhow::Result<Option<Vec<Period>>> {
        Ok(match (self.date, self.from, self.to, self.month) {
            (Some(date), ..) => Some(vec![Period::day(date)]),
            (None, Some(from), Some(to), _) => Some(Period::each_day(from, to)?),
            (None, _, _, Some((year, month))) => Some(vec![Period::month(year, month)?]),
            _ => None,
        })
    }
}

/// Checks what can be checked before the run (`--from` after `--to`, a backfill too long), so
/// that a wrong command line is a usage error (exit 2) and leaves no failed run behind.
fn prepare(matches: &ArgMatches) -> Result<Work, clap::Error> {
    let options = Options::from_arg_matches(matches)?;
    if let Err(e) = options.explicit_periods() {
        return Err(clap::Error::raw(
            ErrorKind::ValueValidation,
            format!("{e}\n"),
        ));
    }
    bind(matches, run)
}

pub const BATCH: Batch = Batch {
    name: "export-enqueue",
    about: "Queues one xlsx export job per tenant and form with records in a period",
    long_about: "Finds every (tenant, form) with records in a period and inserts one export job \
for each into export_jobs, for export-worker tasks to carry out. The period is yesterday in \
EXPORT_TIME_ZONE (default Asia/Tokyo) unless --date, --from/--to (a backfill, one job per day) \
or --monthly [--month] says otherwise. Idempotent: a job that exists for the same tenant, form \
and period is left alone (use --requeue-failed to put back the failed ones). Only tenants in \
EXPORT_TENANT_ALLOWLIST are considered when it is set. With LAUNCH_BATCH set (a catalog entry's \
`launch`), it then starts one LAUNCH_BATCH task per LAUNCH_JOBS_PER_TASK due jobs, at most \
LAUNCH_MAX_TASKS: ECS tasks with LAUNCH_CLUSTER, child processes without. Counts: found, \
inserted, already_present, requeued, outside_allowlist, waiting, launched_tasks.",
    exclusive: true,
    time_limit: Duration::from_secs(30 * 60),
    schema: SchemaNeed::Current,
    writes_exports: false,
    launches: true,
    options: <Options as Args>::augment_args,
    prepare,
};

async fn run(ctx: RunContext, options: Options) -> anyhow::Result<()> {
    let tz = ctx.config.time_zone;
    let now = Utc::now();
    let periods = match options.explicit_periods()? {
        Some(periods) => periods,
        None if options.monthly => vec![Period::previous_month(now, tz)],
        None => vec![Period::previous_day(now, tz)],
    };
    let plan = EnqueuePlan::new(&ctx.config.export, tz, periods, options.requeue_failed);
    enqueue(&ctx.db, &plan, &ctx.counts).await?;
    // Only now, with every job committed, are workers started: none can find the queue before
    // this run has filled it. Sized for every due job, the ones queued earlier included.
    let waiting = queue::pending_at(&ctx.db, Utc::now()).await?.due;
    ctx.counts.add("waiting", waiting);
    launch::launch_for(&ctx, u64::try_from(waiting).unwrap_or(0)).await
}
