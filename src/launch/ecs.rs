//! Launching on ECS: RunTask (aws-sdk-ecs) with the launched entry's task definition family, the
//! cluster and network Terraform hands over, the batch's command and the parent's run id
//! (`startedBy` and `BATCH_PARENT_RUN_ID`). RunTask starts at most 10 tasks per call.
//!
//! Failures are retried here, not inside the SDK, so that each one is logged by name:
//! throttling, server errors and unreachable endpoints, and the per-task `failures` RunTask
//! answers with (no Fargate capacity, for one). A refusal that no retry can change (access
//! denied, a missing cluster or task definition, a bad parameter) fails at once.

use std::time::Duration;

use anyhow::bail;
use aws_sdk_ecs::Client;
use aws_sdk_ecs::config::retry::RetryConfig;
use aws_sdk_ecs::config::timeout::TimeoutConfig;
use aws_sdk_ecs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ecs::types::{
    AssignPublicIp, AwsVpcConfiguration, ContainerOverride, KeyValuePair, LaunchType,
    NetworkConfiguration, TaskOverride,
};

use super::{EcsTarget, PARENT_RUN_ID_VAR, Request, backoff};
use crate::runtime::stop::Stop;

/// RunTask's own limit on `count`.
const MAX_PER_CALL: u32 = 10;
/// Attempts per call before the launch fails: 1 + 4 retries, 15 s of waiting in all.
const ATTEMPTS: u32 = 5;
/// One RunTask call may not hold a run longer than this.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// Error codes no retry changes: the configuration or the permissions are wrong.
const PERMANENT: &[&str] = &[
    "AccessDeniedException",
    "ClientException",
    "ClusterNotFoundException",
    "InvalidParameterException",
    "PlatformUnknownException",
    "PlatformTaskDefinitionIncompatibilityException",
    "UnsupportedFeatureException",
    "BlockedException",
];

#[derive(Debug, Clone)]
pub struct EcsLauncher {
    client: Client,
    target: EcsTarget,
}

impl EcsLauncher {
    pub async fn new(target: EcsTarget) -> EcsLauncher {
        let shared = aws_config::load_from_env().await;
        let config = aws_sdk_ecs::config::Builder::from(&shared)
            .retry_config(RetryConfig::disabled())
            .timeout_config(
                TimeoutConfig::builder()
                    .operation_timeout(CALL_TIMEOUT)
                    .build(),
            )
            .build();
        EcsLauncher {
            client: Client::from_conf(config),
            target,
        }
    }

    pub async fn launch(&self, request: &Request, stop: &Stop) -> anyhow::Result<u32> {
        let mut started = 0;
        while started < request.count {
            let want = (request.count - started).min(MAX_PER_CALL);
            match self.run_tasks(request, want, stop).await {
                Ok(n) => started += n,
                Err(e) => bail!(
                    "started {started} of {} `{}` task(s) in cluster {}: {e:#}",
                    request.count,
                    request.batch,
                    self.target.cluster
                ),
            }
        }
        Ok(started)
    }

    /// Starts `want` tasks, retrying what failed; returns `want` or the last failure.
    async fn run_tasks(&self, request: &Request, want: u32, stop: &Stop) -> anyhow::Result<u32> {
        let mut started = 0;
        let mut last_failure = String::new();
        for attempt in 1..=ATTEMPTS {
            if attempt > 1 {
                tokio::select! {
                    _ = tokio::time::sleep(backoff(attempt - 1)) => {}
                    _ = stop.requested() => bail!("stopped while retrying RunTask: {last_failure}"),
                }
            }
            match self.run_task(request, want - started).await {
                Ok(Answer { tasks, failures }) => {
                    for arn in &tasks {
                        tracing::info!(task_arn = %arn, launch_batch = %request.batch, "task started");
                    }
                    started += u32::try_from(tasks.len())
                        .unwrap_or(u32::MAX)
                        .min(want - started);
                    if started == want {
                        return Ok(want);
                    }
                    last_failure = format!("RunTask failures: {}", failures.join("; "));
                }
                Err(Failure::Permanent(why)) => bail!("RunTask refused: {why}"),
                Err(Failure::Transient(why)) => last_failure = format!("RunTask failed: {why}"),
            }
            tracing::warn!(
                attempt,
                attempts = ATTEMPTS,
                started,
                wanted = want,
                error = %last_failure,
                "RunTask did not start every task; retrying the rest"
            );
        }
        bail!("{last_failure} (after {ATTEMPTS} attempts)")
    }

    async fn run_task(&self, request: &Request, count: u32) -> Result<Answer, Failure> {
        let target = &self.target;
        let network = AwsVpcConfiguration::builder()
            .set_subnets(Some(target.subnets.clone()))
            .set_security_groups(Some(target.security_groups.clone()))
            .assign_public_ip(if target.assign_public_ip {
                AssignPublicIp::Enabled
            } else {
                AssignPublicIp::Disabled
            })
            .build()
            .map_err(|e| Failure::Permanent(format!("network configuration: {e}")))?;
        let container = ContainerOverride::builder()
            .name(&target.container)
            .set_command(Some(request.command()))
            .environment(
                KeyValuePair::builder()
                    .name(PARENT_RUN_ID_VAR)
                    .value(&request.parent_run_id)
                    .build(),
            )
            .build();
        let answer = self
            .client
            .run_task()
            .cluster(&target.cluster)
            .task_definition(&target.task_definition)
            .launch_type(LaunchType::Fargate)
            .count(i32::try_from(count).unwrap_or(MAX_PER_CALL as i32))
            // ECS allows 36 characters here: exactly a run id (a UUID).
            .started_by(&request.parent_run_id)
            .network_configuration(
                NetworkConfiguration::builder()
                    .awsvpc_configuration(network)
                    .build(),
            )
            .overrides(
                TaskOverride::builder()
                    .container_overrides(container)
                    .build(),
            )
            .send()
            .await
            .map_err(classify)?;
        Ok(Answer {
            tasks: answer
                .tasks()
                .iter()
                .map(|task| task.task_arn().unwrap_or("(no ARN)").to_owned())
                .collect(),
            failures: answer
                .failures()
                .iter()
                .map(|f| {
                    format!(
                        "{}{}{}",
                        f.reason().unwrap_or("unknown reason"),
                        f.detail().map(|d| format!(" ({d})")).unwrap_or_default(),
                        f.arn().map(|a| format!(" [{a}]")).unwrap_or_default()
                    )
                })
                .collect(),
        })
    }
}

struct Answer {
    tasks: Vec<String>,
    failures: Vec<String>,
}

enum Failure {
    /// Worth retrying: throttling, a server error, no answer.
    Transient(String),
    /// No retry changes it.
    Permanent(String),
}

fn classify<E, R>(error: SdkError<E, R>) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let code = error.code().map(str::to_owned);
    let message = error.message().map(str::to_owned);
    let text = match (&code, &message) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.clone(),
        _ => format!("{:#}", anyhow::Error::new(error)),
    };
    match code {
        Some(code) if PERMANENT.contains(&code.as_str()) => Failure::Permanent(text),
        _ => Failure::Transient(text),
    }
}
