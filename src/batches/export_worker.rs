//! `export-worker`: carries out queued export jobs; run as many tasks at once as the database
//! allows.

use std::time::Duration;

use clap::Args;

use super::{Batch, bind};
use crate::db::SchemaNeed;
use crate::export::worker::Worker;
use crate::runtime::RunContext;
use crate::storage::Storage;

#[derive(Debug, Args)]
pub struct Options {}

pub const BATCH: Batch = Batch {
    name: "export-worker",
    about: "Exports queued jobs to xlsx in S3; many tasks may run at once",
    long_about: "Claims export jobs from export_jobs one at a time (EXPORT_CONCURRENCY at once \
per task) with a lease, streams each job's records from the database into an .xlsx workbook and \
uploads it to EXPORT_BUCKET (or the local EXPORT_LOCAL_DIR) under a deterministic key, then marks \
the job succeeded. A failed job is retried with exponential backoff up to EXPORT_MAX_ATTEMPTS, \
then marked failed; a job whose worker died is claimed again once its lease expires. Stops when \
no job is left, at its time limit or on SIGTERM (jobs in hand are released). Exits non-zero if \
any job ended failed in the run. Counts: claimed, succeeded, retried, failed, released, rows, bytes.",
    exclusive: false,
    time_limit: Duration::from_secs(60 * 60),
    schema: SchemaNeed::Current,
    storage: true,
    options: <Options as Args>::augment_args,
    prepare: |matches| bind(matches, run),
};

async fn run(ctx: RunContext, _options: Options) -> anyhow::Result<()> {
    let storage = Storage::from_config(&ctx.config.export).await;
    Worker::new(&ctx, storage).run().await
}
