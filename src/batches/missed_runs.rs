//! `missed-runs`: reports scheduled runs that got no success within their grace.

use std::time::Duration;

use clap::Args;

use super::{Batch, bind};
use crate::db::SchemaNeed;
use crate::missed_runs::notify::Publisher;
use crate::missed_runs::{Reporting, watch};
use crate::runtime::RunContext;
use crate::runtime::status::Misconfigured;

#[derive(Debug, Args)]
pub struct Options {}

pub const BATCH: Batch = Batch {
    name: "missed-runs",
    about: "Reports scheduled runs that did not succeed within their grace",
    long_about: "Compares each watched catalog entry's schedule (WATCH_SCHEDULES, handed over by \
Terraform) with the run history. Every fire time with no success within the entry's grace is \
recorded once: an ERROR line `missed run`, a `missed` row in `batch history`, and a message to \
WATCH_TOPIC_ARN. A schedule is watched from when this batch first sees it, so nothing before \
that is reported. Counts: watched, judged, missed, notified.",
    exclusive: true,
    time_limit: Duration::from_secs(5 * 60),
    schema: SchemaNeed::Current,
    writes_exports: false,
    launches: false,
    options: <Options as Args>::augment_args,
    prepare: |matches| bind(matches, run),
};

async fn run(ctx: RunContext, _options: Options) -> anyhow::Result<()> {
    let watch_config = &ctx.config.watch;
    let Some(schedules) = &watch_config.schedules else {
        return Err(Misconfigured(
            "WATCH_SCHEDULES is not set: missed-runs needs the watched schedules (Terraform sets it on its task definition)".into(),
        )
        .into());
    };
    let publisher = match &watch_config.topic_arn {
        Some(topic) => Some(Publisher::new(topic.clone()).await),
        None => {
            tracing::warn!(
                "WATCH_TOPIC_ARN is not set: missed runs go to the log and history only"
            );
            None
        }
    };
    let chat = match &watch_config.chat_topic_arn {
        Some(topic) => Some(Publisher::new(topic.clone()).await),
        None => None,
    };
    let reporting = Reporting {
        publisher: publisher.as_ref(),
        chat: chat.as_ref(),
        environment: watch_config.environment.as_deref(),
        time_zone: ctx.config.time_zone,
    };
    watch(
        &ctx.db,
        schedules,
        chrono::Utc::now(),
        &reporting,
        &ctx.counts,
    )
    .await
}
