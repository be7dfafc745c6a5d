//! `LAUNCH_*`: what a batch that starts other batches starts, how many at most, and where. Set by
//! Terraform on the task definition of a catalog entry with a `launch` block (see
//! `terraform/modules/batch_environment`); on a developer's machine, set by hand or by `demo`.

use serde::Deserialize;

use crate::config::settings::{Bounded, Problems, Setting, Var, field_names, read};

/// The most tasks one run may start: the bound that protects the shared database is the
/// catalog's `max_tasks`; this only stops a typo from starting thousands.
pub const MAX_TASKS: u32 = 100;
/// The most jobs one launched task is sized for.
pub const MAX_JOBS_PER_TASK: u32 = 100_000;

/// `LAUNCH_*`: present when `LAUNCH_BATCH` is set.
#[derive(Debug, Clone)]
pub struct LaunchConfig {
    /// `LAUNCH_BATCH`: the batch the launched tasks run.
    pub batch: String,
    /// `LAUNCH_ARGS`: its arguments, a JSON list of strings (default: none).
    pub args: Vec<String>,
    /// `LAUNCH_MAX_TASKS`: never more tasks than this, however much work waits.
    pub max_tasks: u32,
    /// `LAUNCH_JOBS_PER_TASK`: one task per this many waiting jobs (rounded up).
    pub jobs_per_task: u32,
    /// Where the tasks start: ECS when `LAUNCH_CLUSTER` is set, child processes otherwise.
    pub target: LaunchTarget,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LaunchTarget {
    /// Child processes of this binary on this machine (the embedded default, `demo`).
    Local,
    Ecs(EcsTarget),
}

/// What RunTask needs, handed over by Terraform.
#[derive(Debug, Clone, PartialEq)]
pub struct EcsTarget {
    /// `LAUNCH_CLUSTER`: the cluster ARN (or name).
    pub cluster: String,
    /// `LAUNCH_TASK_DEFINITION`: the launched entry's family (its latest ACTIVE revision runs).
    pub task_definition: String,
    /// `LAUNCH_CONTAINER`: the container whose command and environment are overridden.
    pub container: String,
    /// `LAUNCH_SUBNETS`: comma-separated subnet ids.
    pub subnets: Vec<String>,
    /// `LAUNCH_SECURITY_GROUPS`: comma-separated security group ids (may be unset).
    pub security_groups: Vec<String>,
    /// `LAUNCH_ASSIGN_PUBLIC_IP`.
    pub assign_public_ip: bool,
}

/// `LAUNCH_ARGS`: a JSON list of strings.
#[derive(Debug, Clone)]
struct Args(Vec<String>);

impl Setting for Args {
    fn parse(raw: &str) -> Result<Self, String> {
        serde_json::from_str(raw)
            .map(Args)
            .map_err(|_| "expected a JSON list of strings such as [] or [\"--dry-run\"]".into())
    }
}

/// A batch name of this image.
#[derive(Debug, Clone)]
struct BatchName(String);

impl Setting for BatchName {
    fn parse(raw: &str) -> Result<Self, String> {
        match crate::batches::find(raw) {
            Some(batch) => Ok(BatchName(batch.name.to_owned())),
            None => Err("names no batch of this image (see `batch list`)".into()),
        }
    }
}

/// A comma-separated list of AWS ids (`subnet-...`, `sg-...`).
#[derive(Debug, Clone)]
struct Ids(Vec<String>);

impl Setting for Ids {
    fn parse(raw: &str) -> Result<Self, String> {
        let ids: Vec<String> = raw.split(',').map(|id| id.trim().to_owned()).collect();
        if ids
            .iter()
            .any(|id| id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        {
            return Err("expected comma-separated ids such as subnet-0abc,subnet-0def".into());
        }
        Ok(Ids(ids))
    }
}

#[derive(Deserialize)]
struct LaunchVars {
    #[serde(default)]
    batch: Var<BatchName>,
    #[serde(default)]
    args: Var<Args>,
    #[serde(default)]
    max_tasks: Var<Bounded<1, MAX_TASKS>>,
    #[serde(default)]
    jobs_per_task: Var<Bounded<1, MAX_JOBS_PER_TASK>>,
    #[serde(default)]
    cluster: Var<String>,
    #[serde(default)]
    task_definition: Var<String>,
    #[serde(default)]
    container: Var<String>,
    #[serde(default)]
    subnets: Var<Ids>,
    #[serde(default)]
    security_groups: Var<Ids>,
    #[serde(default)]
    assign_public_ip: Var<bool>,
}

impl LaunchConfig {
    /// The names this group reads after `LAUNCH_`, for the unknown-variable check.
    pub(crate) fn variables() -> &'static [&'static str] {
        field_names::<LaunchVars>()
    }

    /// Reads `LAUNCH_*` (`Some(None)`: nothing to launch), adding every problem to `p`.
    /// `on_ecs`: a task on ECS must launch on ECS, never as child processes inside itself.
    pub(crate) fn from_vars(
        vars: &[(String, String)],
        on_ecs: bool,
        p: &mut Problems,
    ) -> Option<Option<LaunchConfig>> {
        let v: LaunchVars = read("LAUNCH_", vars, p)?;
        let batch = p.optional("LAUNCH_BATCH", v.batch);
        let args = p.or_default("LAUNCH_ARGS", v.args, Args(Vec::new())).0;
        let max_tasks = p.optional("LAUNCH_MAX_TASKS", v.max_tasks);
        let jobs_per_task = p.optional("LAUNCH_JOBS_PER_TASK", v.jobs_per_task);
        let cluster = p.optional("LAUNCH_CLUSTER", v.cluster);
        let task_definition = p.optional("LAUNCH_TASK_DEFINITION", v.task_definition);
        let container = p.optional("LAUNCH_CONTAINER", v.container);
        let subnets = p.optional("LAUNCH_SUBNETS", v.subnets);
        let security_groups = p.optional("LAUNCH_SECURITY_GROUPS", v.security_groups);
        let assign_public_ip = p.or_default("LAUNCH_ASSIGN_PUBLIC_IP", v.assign_public_ip, false);

        let Some(BatchName(batch)) = batch else {
            // Anything else set without the batch is a half-written launch, not "no launch".
            for (name, set) in [
                ("LAUNCH_MAX_TASKS", max_tasks.is_some()),
                ("LAUNCH_JOBS_PER_TASK", jobs_per_task.is_some()),
                ("LAUNCH_CLUSTER", cluster.is_some()),
                ("LAUNCH_TASK_DEFINITION", task_definition.is_some()),
            ] {
                if set {
                    p.add(
                        name,
                        "is set but LAUNCH_BATCH is not: say which batch to launch".into(),
                    );
                }
            }
            return Some(None);
        };
        let required = |p: &mut Problems, name: &str, what: &str| {
            p.add(
                name,
                format!("is missing; it is required with LAUNCH_BATCH ({what})"),
            );
        };
        if max_tasks.is_none() {
            required(
                p,
                "LAUNCH_MAX_TASKS",
                "the most tasks to start, the bound that protects the database",
            );
        }
        if jobs_per_task.is_none() {
            required(
                p,
                "LAUNCH_JOBS_PER_TASK",
                "how many waiting jobs one task is started for",
            );
        }
        if let Some(batch) = crate::batches::find(&batch)
            && let Err(error) = batch.check_arguments(&args)
        {
            let text = error.to_string();
            let first = text
                .lines()
                .next()
                .unwrap_or_default()
                .trim_start_matches("error: ");
            p.add(
                "LAUNCH_ARGS",
                format!("are not accepted by `batch {}`: {first}", batch.name),
            );
        }
        let target = match cluster {
            Some(cluster) => {
                if task_definition.is_none() {
                    required(
                        p,
                        "LAUNCH_TASK_DEFINITION",
                        "the family of the launched batch's task definition",
                    );
                }
                if subnets.is_none() {
                    required(p, "LAUNCH_SUBNETS", "the subnets of the launched tasks");
                }
                LaunchTarget::Ecs(EcsTarget {
                    cluster,
                    task_definition: task_definition.unwrap_or_default(),
                    container: container.unwrap_or_else(|| "batch".to_owned()),
                    subnets: subnets.map(|s| s.0).unwrap_or_default(),
                    security_groups: security_groups.map(|s| s.0).unwrap_or_default(),
                    assign_public_ip,
                })
            }
            None if on_ecs => {
                required(
                    p,
                    "LAUNCH_CLUSTER",
                    "on ECS the launched batches run as ECS tasks, not inside this one",
                );
                LaunchTarget::Local
            }
            None => LaunchTarget::Local,
        };
        Some(Some(LaunchConfig {
            batch,
            args,
            max_tasks: max_tasks.map_or(1, |b| b.0),
            jobs_per_task: jobs_per_task.map_or(1, |b| b.0),
            target,
        }))
    }

    /// How many tasks `waiting` jobs call for: one per `jobs_per_task`, rounded up, at most
    /// `max_tasks`; none when nothing waits.
    pub fn tasks_for(&self, waiting: u64) -> u32 {
        let wanted = waiting.div_ceil(u64::from(self.jobs_per_task));
        u32::try_from(wanted.min(u64::from(self.max_tasks))).unwrap_or(self.max_tasks)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_launch(pairs: &[(&str, &str)], on_ecs: bool) -> Result<Option<LaunchConfig>, Problems> {
        let vars: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut p = Problems::default();
        let config = LaunchConfig::from_vars(&vars, on_ecs, &mut p);
        if p.is_empty() {
            Ok(config.flatten())
        } else {
            Err(p)
        }
    }

    const LOCAL: &[(&str, &str)] = &[
        ("LAUNCH_BATCH", "export-worker"),
        ("LAUNCH_MAX_TASKS", "20"),
        ("LAUNCH_JOBS_PER_TASK", "25"),
    ];

    #[test]
    fn nothing_set_launches_nothing() {
        assert!(read_launch(&[], false).unwrap().is_none());
        assert!(read_launch(&[], true).unwrap().is_none());
    }

    #[test]
    fn a_launch_is_sized_to_the_work_and_bounded() {
        let launch = read_launch(LOCAL, false).unwrap().unwrap();
        assert_eq!(launch.target, LaunchTarget::Local);
        let sizes: Vec<u32> = [0, 1, 25, 26, 499, 500, 501, 1_000_000, u64::MAX]
            .into_iter()
            .map(|waiting| launch.tasks_for(waiting))
            .collect();
        assert_eq!(sizes, [0, 1, 1, 2, 20, 20, 20, 20, 20]);
    }

    #[test]
    fn an_ecs_launch_needs_its_task_definition_and_network() {
        let mut vars = LOCAL.to_vec();
        vars.push((
            "LAUNCH_CLUSTER",
            "arn:aws:ecs:ap-northeast-1:123456789012:cluster/batch",
        ));
        let problems = read_launch(&vars, true).unwrap_err();
        assert_eq!(
            problems.variables(),
            ["LAUNCH_SUBNETS", "LAUNCH_TASK_DEFINITION"]
        );
        vars.extend([
            ("LAUNCH_TASK_DEFINITION", "batchbox-staging-export-worker"),
            ("LAUNCH_SUBNETS", "subnet-0a, subnet-0b"),
            ("LAUNCH_SECURITY_GROUPS", "sg-01"),
            ("LAUNCH_ASSIGN_PUBLIC_IP", "false"),
        ]);
        let launch = read_launch(&vars, true).unwrap().unwrap();
        let LaunchTarget::Ecs(ecs) = launch.target else {
            panic!("not ECS")
        };
        assert_eq!(ecs.subnets, ["subnet-0a", "subnet-0b"]);
        assert_eq!(ecs.container, "batch");
    }

    #[test]
    fn every_mistake_is_named() {
        // On ECS, without a cluster: never child processes inside a task.
        let problems = read_launch(LOCAL, true).unwrap_err();
        assert_eq!(problems.variables(), ["LAUNCH_CLUSTER"]);
        let problems = read_launch(
            &[
                ("LAUNCH_BATCH", "export-wroker"),
                ("LAUNCH_MAX_TASKS", "0"),
                ("LAUNCH_JOBS_PER_TASK", "many"),
                ("LAUNCH_SUBNETS", "subnet-1,,subnet-2"),
            ],
            false,
        )
        .unwrap_err();
        assert_eq!(
            problems.variables(),
            [
                "LAUNCH_BATCH",
                "LAUNCH_JOBS_PER_TASK",
                "LAUNCH_MAX_TASKS",
                "LAUNCH_SUBNETS"
            ]
        );
        let mut vars = LOCAL.to_vec();
        vars.push(("LAUNCH_ARGS", r#"["--no-such-flag"]"#));
        let problems = read_launch(&vars, false).unwrap_err();
        let text = problems.to_string();
        assert!(
            text.contains("LAUNCH_ARGS: are not accepted by `batch export-worker`"),
            "{text}"
        );
        let problems = read_launch(&[("LAUNCH_MAX_TASKS", "3")], false).unwrap_err();
        assert!(
            problems.to_string().contains("LAUNCH_BATCH is not"),
            "{problems}"
        );
    }
}
