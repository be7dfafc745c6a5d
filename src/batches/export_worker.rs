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
    long_about: "First proves it can write to EXPORT_TEMP_DIR and to the bucket (a probe object \
it deletes again); if not, exits 2 with no job touched. Then claims export jobs from export_jobs \
one at a time (EXPORT_CONCURRENCY at once per task, each lane with its own lease), streams each job's records from the database into an .xlsx workbook and \
uploads it to EXPORT_BUCKET (or the local EXPORT_LOCAL_DIR) under a deterministic key, then marks \
the job succeeded. A failed job is retried with exponential backoff up to EXPORT_MAX_ATTEMPTS, \
then marked failed; an error that is the worker's (access denied, no such bucket, full temporary \
disk) releases the job and stops the worker (exit 1); database restarts are ridden out for up to \
two minutes. A job whose worker died is claimed again once its lease expires, by the one idle \
worker that stays while others hold jobs. Stops when no job is left before its time limit (later \
retries are counted deferred), at its time limit or on SIGTERM (jobs in hand are released). Exits \
1 if any job ended failed in the run. Counts: claimed, succeeded, retried, failed, released, \
deferred, rows, bytes.",
    exclusive: false,
    time_limit: Duration::from_secs(60 * 60),
    schema: SchemaNeed::Current,
    writes_exports: true,
    launches: false,
    options: <Options as Args>::augment_args,
    prepare: |matches| bind(matches, run),
};

async fn run(ctx: RunContext, _options: Options) -> anyhow::Result<()> {
    let storage = Storage::from_config(&ctx.config.export.storage).await;
    Worker::new(&ctx, storage).run().await
}
