//! The registry: every batch the image can run. An ECS task definition's `command` names one.
//!
//! Adding a batch = one module here + one line in `REGISTRY` + one block in the Terraform catalog.

pub mod canary;
pub mod demo;
pub mod export_enqueue;
pub mod export_requeue;
pub mod export_worker;
pub mod history_prune;
pub mod history_report;
pub mod migrate;
pub mod missed_runs;

use std::future::Future;
use std::time::Duration;

use clap::{ArgMatches, FromArgMatches};

use crate::db::SchemaNeed;
use crate::runtime::{RunContext, RunFuture, RunSpec};

/// A batch's work, bound to its parsed options, waiting for its run context.
pub type Work = Box<dyn FnOnce(RunContext) -> RunFuture + Send>;

/// One batch: what `batch list` shows, what the runtime enforces, and how to run it.
pub struct Batch {
    /// The subcommand, and the `command` of its ECS task definition.
    pub name: &'static str,
    /// One line for `batch list` and the catalog.
    pub about: &'static str,
    /// What `batch <name> --help` explains.
    pub long_about: &'static str,
    /// At most one run at a time; a run that finds another holding the lock is skipped.
    pub exclusive: bool,
    /// Default time limit; `--max-runtime` or `BATCH_MAX_RUNTIME` override it.
    pub time_limit: Duration,
    pub schema: SchemaNeed,
    /// Writes exports: on ECS it then needs `EXPORT_BUCKET`, checked before the run starts.
    pub writes_exports: bool,
    /// Starts tasks of another batch (the catalog's `launch`): only such a batch may have a
    /// `launch` block, whose entry then runs with the permission to start them.
    pub launches: bool,
    /// Adds the batch's own options (a `clap::Args` type's `augment_args`).
    pub options: fn(clap::Command) -> clap::Command,
    /// Parses the options and binds them to the batch's `run`.
    pub prepare: fn(&ArgMatches) -> Result<Work, clap::Error>,
}

/// Every batch, in the order `batch list` shows them.
pub const REGISTRY: &[Batch] = &[
    export_enqueue::BATCH,
    export_worker::BATCH,
    export_requeue::BATCH,
    history_prune::BATCH,
    history_report::BATCH,
    missed_runs::BATCH,
    canary::BATCH,
    migrate::BATCH,
    demo::BATCH,
    demo::seed::BATCH,
];

pub fn find(name: &str) -> Option<&'static Batch> {
    REGISTRY.iter().find(|batch| batch.name == name)
}

impl Batch {
    /// The batch's whole command line: its own options, `--max-runtime` and its help.
    pub fn command(&self) -> clap::Command {
        let sub = clap::Command::new(self.name)
            .about(self.about)
            .long_about(self.long_about)
            .after_help(format!(
                "Exclusive: {} · default time limit: {}",
                if self.exclusive {
                    "yes (one run at a time; a second run is skipped)"
                } else {
                    "no (many runs may work at once)"
                },
                humantime::format_duration(self.time_limit),
            ))
            .arg(
                clap::Arg::new("max-runtime")
                    .long("max-runtime")
                    .value_name("DURATION")
                    .help("Stop the run after this long (e.g. 30m); overrides BATCH_MAX_RUNTIME and the default")
                    .value_parser(crate::config::parse_run_time),
            );
        (self.options)(sub)
    }

    /// Checks arguments the way `batch <name> ARGS` would (parsing, then the batch's own checks
    /// in `prepare`), without running anything.
    pub fn check_arguments(&self, args: &[String]) -> Result<(), clap::Error> {
        let argv = std::iter::once(self.name.to_owned()).chain(args.iter().cloned());
        let matches = self.command().try_get_matches_from(argv)?;
        (self.prepare)(&matches).map(|_| ())
    }

    pub fn spec(&self) -> RunSpec {
        RunSpec {
            batch: self.name,
            exclusive: self.exclusive,
            time_limit: self.time_limit,
            schema: self.schema,
            writes_exports: self.writes_exports,
        }
    }
}

/// Batches that write sample data (`demo`, `demo-seed`) run on developers' machines only; the
/// catalog lists them in `local_only` so they have no task definition, and this stops a stray run.
pub fn refuse_on_ecs(ctx: &RunContext, batch: &str) -> anyhow::Result<()> {
    if ctx.config.run.ecs_metadata_uri.is_some() {
        anyhow::bail!("{batch} writes sample data and refuses to run on ECS");
    }
    Ok(())
}

/// Parses a batch's options into `A` and binds them to its `run`; used by every `prepare`.
pub fn bind<A, F, Fut>(matches: &ArgMatches, run: F) -> Result<Work, clap::Error>
where
    A: FromArgMatches + Send + 'static,
    F: FnOnce(RunContext, A) -> Fut + Send + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let options = A::from_arg_matches(matches)?;
    Ok(Box::new(move |context| Box::pin(run(context, options))))
}
