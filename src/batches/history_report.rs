//! `history-report`: the run time line as one HTML page in the bucket, every hour, so that anyone
//! with console access opens it without a database connection.

use std::time::Duration;

use clap::Args;

use super::{Batch, bind};
use crate::db::SchemaNeed;
use crate::runtime::RunContext;
use crate::runtime::history::HistoryQuery;
use crate::runtime::status::Misconfigured;
use crate::storage::Storage;
use crate::timeline::{self, schedules};

#[derive(Debug, Args)]
pub struct Options {
    /// How far back the page goes (from 1h to 92d).
    #[arg(long, value_name = "DURATION", default_value = "48h", value_parser = parse_window)]
    window: chrono::Duration,
}

fn parse_window(raw: &str) -> Result<chrono::Duration, String> {
    let expected = || format!("expected a duration from 1h to 92d, such as 48h or 7d, not `{raw}`");
    let window = humantime::parse_duration(raw).map_err(|_| expected())?;
    if !(Duration::from_secs(3600)..=Duration::from_secs(92 * 86_400)).contains(&window) {
        return Err(expected());
    }
    chrono::Duration::from_std(window).map_err(|_| expected())
}

pub const BATCH: Batch = Batch {
    name: "history-report",
    about: "Writes the run time line (an HTML page) to the bucket for people without database access",
    long_about: "Draws the run history of the last --window (default 48h) as one self-contained \
HTML page, as `batch history --html` does: a row per catalog entry, a bar per run coloured by \
status, each entry's scheduled fire times as ticks (from REPORT_SCHEDULES, which Terraform sets; \
locally the catalog file) with missed ones marked. Puts it at REPORT_KEY (default \
reports/timeline.html) in EXPORT_BUCKET with content type text/html, replacing the last one; on \
the embedded default, under EXPORT_LOCAL_DIR. Counts: runs, missed, rows, bytes.",
    exclusive: true,
    time_limit: Duration::from_secs(10 * 60),
    schema: SchemaNeed::Current,
    // It writes to the export's bucket: on ECS it needs EXPORT_BUCKET, checked before the run.
    writes_exports: true,
    launches: false,
    options: <Options as Args>::augment_args,
    prepare: |matches| bind(matches, run),
};

async fn run(ctx: RunContext, options: Options) -> anyhow::Result<()> {
    let config = &ctx.config;
    let on_ecs = config.run.ecs_metadata_uri.is_some();
    if on_ecs && config.report.schedules.is_none() {
        return Err(Misconfigured(
            "REPORT_SCHEDULES is not set: history-report draws the environment's schedules from it (Terraform sets it on its task definition)".into(),
        )
        .into());
    }
    let (schedules, source) = schedules::load(None, config.report.schedules.as_deref())?;
    if source == schedules::Source::Unknown {
        tracing::warn!(
            "no schedules known (no REPORT_SCHEDULES, no catalog file): the page has no fire times"
        );
    }
    let now = chrono::Utc::now();
    let request = timeline::Request {
        query: HistoryQuery {
            batch: None,
            parent: None,
            since: Some(now - options.window),
            status: None,
            limit: timeline::MAX_RUNS,
        },
        schedules,
        source,
        until: now,
        time_zone: config.time_zone,
        environment: config.report.environment.clone(),
    };
    let storage = Storage::from_config(&config.export.storage).await;
    let (location, written) = timeline::publish(
        &ctx.db,
        &request,
        &storage,
        &config.report.key,
        &ctx.stop,
        now,
    )
    .await?;
    ctx.counts.add("runs", written.runs as i64);
    ctx.counts.add("missed", written.missed as i64);
    ctx.counts.add("rows", written.rows as i64);
    ctx.counts
        .add("bytes", i64::try_from(written.bytes).unwrap_or(i64::MAX));
    tracing::info!(
        location,
        runs = written.runs,
        missed = written.missed,
        "time line written"
    );
    if written.runs >= timeline::MAX_RUNS as usize {
        tracing::warn!(
            drawn = written.runs,
            "the window holds more runs than one page draws; the oldest are left out"
        );
    }
    Ok(())
}
