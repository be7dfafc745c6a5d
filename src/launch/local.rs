//! Launching on the embedded default: child processes of this same binary, one per task, with
//! the parent's environment (database, storage) and its run id. The parent waits for them, so a
//! `demo` or a hand-run enqueue ends when its workers have drained the queue; a stop request
//! (Ctrl-C, the time limit) is passed on to them as SIGTERM, as ECS would stop its tasks.

use std::path::PathBuf;
use std::process::Stdio;

use anyhow::Context;
use futures_util::future::join_all;
use tokio::process::{Child, Command};

use super::{PARENT_RUN_ID_VAR, Request};
use crate::runtime::stop::Stop;

/// What a launched child must not inherit from its parent: the parent's own entry, schedule
/// and launch (a launched worker launches nothing).
const NOT_INHERITED: &[&str] = &["BATCH_ENTRY", "BATCH_SCHEDULED_TIME", "BATCH_PARENT_RUN_ID"];
const NOT_INHERITED_PREFIX: &str = "LAUNCH_";

#[derive(Debug, Clone)]
pub struct LocalLauncher {
    program: PathBuf,
}

impl LocalLauncher {
    pub fn new() -> anyhow::Result<LocalLauncher> {
        let program = std::env::current_exe()
            .context("could not find this program to start the launched batches")?;
        Ok(LocalLauncher { program })
    }

    pub async fn launch(&self, request: &Request, stop: &Stop) -> anyhow::Result<u32> {
        let mut children = Vec::new();
        for n in 1..=request.count {
            match self.spawn(request) {
                Ok(child) => {
                    tracing::info!(pid = child.id(), launch_batch = %request.batch, "process started");
                    children.push(child);
                }
                Err(e) => {
                    terminate(&children);
                    wait_all(children).await;
                    return Err(e.context(format!(
                        "could not start process {n} of {} (`{}`)",
                        request.count, request.batch
                    )));
                }
            }
        }
        let started = u32::try_from(children.len()).unwrap_or(u32::MAX);
        let stopped = tokio::select! {
            () = wait_all_ref(&mut children) => false,
            () = stop.requested() => true,
        };
        if stopped {
            tracing::warn!("stop requested: passing it on to the launched processes");
            terminate(&children);
            wait_all(children).await;
        }
        Ok(started)
    }

    fn spawn(&self, request: &Request) -> anyhow::Result<Child> {
        let mut command = Command::new(&self.program);
        command
            .args(request.command())
            .stdin(Stdio::null())
            .stdout(Stdio::inherit())
            .stderr(Stdio::inherit());
        for (name, _) in std::env::vars_os() {
            let text = name.to_string_lossy();
            if NOT_INHERITED.contains(&text.as_ref()) || text.starts_with(NOT_INHERITED_PREFIX) {
                command.env_remove(&name);
            }
        }
        // As on ECS, where the launched entry is the shorthand entry named after its batch.
        command
            .env("BATCH_ENTRY", &request.batch)
            .env(PARENT_RUN_ID_VAR, &request.parent_run_id);
        Ok(command.spawn()?)
    }
}

/// Asks every child still running to stop (SIGTERM), as ECS stops a task.
fn terminate(children: &[Child]) {
    for child in children {
        if let Some(pid) = child.id().and_then(|pid| i32::try_from(pid).ok()) {
            // SAFETY: kill(2) on a child's pid that has not been reaped yet (tokio reaps it
            // only when its wait completes): it cannot name another process.
            unsafe {
                libc::kill(pid, libc::SIGTERM);
            }
        }
    }
}

async fn wait_all(mut children: Vec<Child>) {
    wait_all_ref(&mut children).await;
}

/// Waits for every child and logs how each ended (their own logs say why).
async fn wait_all_ref(children: &mut [Child]) {
    let ends = join_all(children.iter_mut().map(|child| {
        let pid = child.id();
        async move { (pid, child.wait().await) }
    }))
    .await;
    for (pid, end) in ends {
        match end {
            Ok(status) if status.success() => tracing::info!(pid, "launched process ended"),
            Ok(status) => tracing::warn!(
                pid,
                exit_code = status.code(),
                "launched process ended with a failure (its own lines say why)"
            ),
            Err(e) => tracing::warn!(pid, error = %e, "could not wait for a launched process"),
        }
    }
}
