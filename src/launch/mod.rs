//! Batches that start other batches, sized to their work: `export-enqueue` ends by starting as
//! many `export-worker` tasks as the jobs waiting call for, never more than `LAUNCH_MAX_TASKS`
//! (the bound that protects the shared database). On ECS the tasks are started with RunTask
//! (`ecs.rs`); on the embedded default they are child processes of this binary (`local.rs`), so
//! `demo` shows the same flow on one machine. Chosen by the configuration, like `storage/`.
//!
//! Every launched task carries the parent's run id (`BATCH_PARENT_RUN_ID`, and ECS `startedBy`),
//! which its history row and every one of its log lines record.

pub mod config;
mod ecs;
mod local;

use std::time::Duration;

use anyhow::Context;

pub use config::{EcsTarget, LaunchConfig, LaunchTarget};

use crate::runtime::RunContext;

/// The variable that ties a launched run to the run that launched it.
pub const PARENT_RUN_ID_VAR: &str = "BATCH_PARENT_RUN_ID";

/// What to start: `count` runs of `batch args...`, launched by run `parent_run_id`.
#[derive(Debug, Clone)]
pub struct Request {
    pub batch: String,
    pub args: Vec<String>,
    pub count: u32,
    pub parent_run_id: String,
}

impl Request {
    /// The launched container's command: the batch and its arguments.
    fn command(&self) -> Vec<String> {
        std::iter::once(self.batch.clone())
            .chain(self.args.iter().cloned())
            .collect()
    }
}

/// Where tasks are started.
#[derive(Debug, Clone)]
pub enum Launcher {
    Ecs(ecs::EcsLauncher),
    Local(local::LocalLauncher),
}

impl Launcher {
    pub async fn from_target(target: &LaunchTarget) -> anyhow::Result<Launcher> {
        Ok(match target {
            LaunchTarget::Ecs(ecs) => Launcher::Ecs(ecs::EcsLauncher::new(ecs.clone()).await),
            LaunchTarget::Local => Launcher::Local(local::LocalLauncher::new()?),
        })
    }

    /// Starts the request's tasks; returns how many started. Fails (after retrying what may
    /// pass) when not all of them could be started, saying how many did and why the rest did not.
    pub async fn launch(&self, request: &Request, ctx: &RunContext) -> anyhow::Result<u32> {
        match self {
            Launcher::Ecs(ecs) => ecs.launch(request, &ctx.stop).await,
            Launcher::Local(local) => local.launch(request, &ctx.stop).await,
        }
    }
}

/// Starts what `waiting` jobs call for under the run's `LAUNCH_*` configuration (nothing when it
/// has none), counting `launched_tasks` in the run's counts. Used at the end of a batch's work.
pub async fn launch_for(ctx: &RunContext, waiting: u64) -> anyhow::Result<()> {
    match &ctx.config.launch {
        Some(config) => launch_with(ctx, config, waiting).await,
        None => {
            tracing::info!(
                waiting,
                "no LAUNCH_BATCH configured: nothing launched (the export-worker sweeper takes the jobs)"
            );
            Ok(())
        }
    }
}

/// The same with a launch of the caller's choosing (`demo` launches its own workers).
pub async fn launch_with(
    ctx: &RunContext,
    config: &LaunchConfig,
    waiting: u64,
) -> anyhow::Result<()> {
    let count = config.tasks_for(waiting);
    tracing::info!(
        waiting,
        launch_batch = %config.batch,
        tasks = count,
        max_tasks = config.max_tasks,
        jobs_per_task = config.jobs_per_task,
        "launching tasks for the waiting jobs"
    );
    if count == 0 {
        return Ok(());
    }
    let request = Request {
        batch: config.batch.clone(),
        args: config.args.clone(),
        count,
        parent_run_id: ctx.run_id.clone(),
    };
    let launcher = Launcher::from_target(&config.target).await?;
    let result = launcher.launch(&request, ctx).await;
    if let Ok(started) = &result {
        ctx.counts.add("launched_tasks", i64::from(*started));
    }
    result
        .map(|_| ())
        .with_context(|| format!("launching {count} `{}` task(s)", config.batch))
}

/// Waits before attempt `attempt` (1-based) of a retried call: 1 s, 2 s, 4 s, 8 s.
fn backoff(attempt: u32) -> Duration {
    Duration::from_secs(1 << attempt.saturating_sub(1).min(3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_eight_seconds() {
        let waits: Vec<u64> = (1..=6).map(|a| backoff(a).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 8, 8]);
    }
}
