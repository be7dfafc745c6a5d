//! The catalog check: what a reviewer cannot be trusted to see in a plan. Every problem names
//! the catalog block (the entry, and its batch when that is another name) or the tfvars entry it
//! is about.

use chrono::Utc;

use super::schedule::Schedule;
use super::zone::{self, Engine};
use super::{Catalog, Effective, Entry, Launch, Override};
use crate::batches::{self, Batch};

/// Tasks one launch may start at most, and jobs per launched task at most: what the launching run
/// accepts in `LAUNCH_MAX_TASKS` and `LAUNCH_JOBS_PER_TASK`.
use crate::launch::config::{MAX_JOBS_PER_TASK, MAX_TASKS as MAX_LAUNCHED_TASKS};

/// Every problem of the catalog and the environments' overrides against `registry`.
pub fn check(catalog: &Catalog, overrides: &[Override], registry: &[Batch]) -> Vec<String> {
    let mut problems = Vec::new();
    if let Some(name) = &catalog.default_timezone
        && let Err(why) = zone::parse_zone(name)
    {
        problems.push(format!("catalog `default_timezone`: {why}"));
    }
    for name in &catalog.local_only {
        if !registry.iter().any(|batch| batch.name == name) {
            problems.push(format!(
                "local_only `{name}`: no batch of that name in this binary"
            ));
        }
        for entry in catalog
            .entries
            .iter()
            .filter(|entry| entry.batch == *name || entry.name == *name)
        {
            problems.push(format!(
                "local_only `{name}`: also has a catalog block (`{}`); a batch is either deployed or not",
                entry.name
            ));
        }
    }
    for entry in &catalog.entries {
        let block = place(entry);
        if let Some(problem) = name_problem(&entry.name) {
            problems.push(format!("{block}: the entry name {problem}"));
        }
        let batch = find(registry, &entry.batch);
        match batch {
            None => problems.push(format!(
                "{block}: no batch `{}` in this binary (known: {})",
                entry.batch,
                names(registry)
            )),
            Some(batch) => {
                if let Some(reason) = refusal(batch, &entry.args) {
                    problems.push(format!(
                        "{block}: args {:?} are not accepted by `batch {}`: {reason}",
                        entry.args, entry.batch
                    ));
                }
            }
        }
        if entry
            .description
            .as_deref()
            .is_none_or(|d| d.trim().is_empty())
        {
            problems.push(format!("{block}: no description (the rule's description is what a reader of the schedule sees)"));
        }
        if let Some(expression) = &entry.schedule
            && let Some(problem) = schedule_problem(expression)
        {
            problems.push(format!("{block}: schedule {problem}"));
        }
        if let Some(name) = &entry.timezone
            && let Err(why) = zone::parse_zone(name)
        {
            problems.push(format!("{block}: timezone {why}"));
        }
        if let Some(launch) = &entry.launch {
            problems.extend(launch_problems(catalog, registry, &block, batch, launch));
        }
    }
    for batch in registry {
        let listed = catalog
            .entries
            .iter()
            .any(|entry| entry.batch == batch.name)
            || catalog.local_only.iter().any(|name| name == batch.name);
        if !listed {
            problems.push(format!(
                "batch `{}` is registered but has no catalog block: add one (`schedule = null` if it is run by hand), \
                 or list it in `local_only` if it is never deployed",
                batch.name
            ));
        }
    }
    for entry in overrides {
        let place = format!("{}: batch_overrides `{}`", entry.file, entry.name);
        if catalog.entry(&entry.name).is_none() {
            problems.push(format!(
                "{place}: no catalog block of that name (overrides are keyed by entry name)"
            ));
        }
        if let Some(expression) = &entry.schedule
            && let Some(problem) = schedule_problem(expression)
        {
            problems.push(format!("{place}: schedule {problem}"));
        }
        if let Some(name) = &entry.timezone
            && let Err(why) = zone::parse_zone(name)
        {
            problems.push(format!("{place}: timezone {why}"));
        }
    }
    problems
}

/// The entries an environment schedules in a zone its engine cannot read: under the rules
/// engine, every scheduled entry whose cron is not in UTC. `environment` names where the engine
/// was chosen (a tfvars file, or the default when none was given).
pub fn engine_problems(effective: &[Effective], engine: Engine, environment: &str) -> Vec<String> {
    if engine == Engine::Scheduler {
        return Vec::new();
    }
    effective
        .iter()
        .filter(|entry| entry.schedule.is_some() && !zone::is_utc(&entry.timezone))
        .map(|entry| {
            format!(
                "entry `{}`: its schedule {} is written in {}, but {environment} uses the rules engine, \
                 which reads every schedule in UTC; set schedule_engine = \"scheduler\" there, or write the \
                 schedule in UTC (nothing converts it for you)",
                entry.name,
                entry.schedule.as_deref().unwrap_or_default(),
                entry.timezone
            )
        })
        .collect()
}

/// How problems name an entry: `catalog block `canary``, or with its batch when that differs
/// (`catalog block `export-enqueue-monthly` (batch `export-enqueue`)`).
fn place(entry: &Entry) -> String {
    if entry.batch == entry.name {
        format!("catalog block `{}`", entry.name)
    } else {
        format!("catalog block `{}` (batch `{}`)", entry.name, entry.batch)
    }
}

/// Terraform names the entry's task definition, rules, alarms and log streams after it: the
/// rules batch names always kept (modules/scheduled_batch checks the same pattern).
fn name_problem(name: &str) -> Option<String> {
    let bytes = name.as_bytes();
    let fits = (2..=40).contains(&bytes.len())
        && bytes[0].is_ascii_lowercase()
        && bytes[bytes.len() - 1] != b'-'
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-');
    (!fits).then(|| {
        "must be 2-40 characters of lowercase letters, digits and hyphens, starting with a letter \
         and not ending with a hyphen (Terraform names the task definition, rules and alarms after it)"
            .to_owned()
    })
}

/// What is wrong with a `launch`: it names a catalog entry whose batch it is, of a deployed batch
/// that accepts the arguments, within the bounds, on an entry whose batch launches.
fn launch_problems(
    catalog: &Catalog,
    registry: &[Batch],
    block: &str,
    batch: Option<&Batch>,
    launch: &Launch,
) -> Vec<String> {
    let mut problems = Vec::new();
    if let Some(batch) = batch
        && !batch.launches
    {
        let launchers: Vec<&str> = registry
            .iter()
            .filter(|b| b.launches)
            .map(|b| b.name)
            .collect();
        problems.push(format!(
            "{block}: `launch` on batch `{}`, which does not launch tasks (the batches that do: {})",
            batch.name,
            launchers.join(", ")
        ));
    }
    let place = format!("{block}: launch of `{}`", launch.batch);
    if catalog.local_only.contains(&launch.batch) {
        problems.push(format!(
            "{place}: `{}` is local_only, never deployed: there is no task definition to launch",
            launch.batch
        ));
    } else {
        match find(registry, &launch.batch) {
            None => problems.push(format!(
                "{place}: no batch `{}` in this binary (known: {})",
                launch.batch,
                names(registry)
            )),
            Some(launched) => {
                // The launched tasks run with the shared task role (the one the launcher may
                // pass); the watcher runs with a role of its own.
                if launched.name == crate::batches::missed_runs::BATCH.name {
                    problems.push(format!(
                        "{place}: `{}` runs with a task role of its own, which a launch may not pass",
                        launched.name
                    ));
                }
                if launched.launches {
                    problems.push(format!(
                        "{place}: `{}` launches tasks itself; a launched batch may not (no chains of launches)",
                        launched.name
                    ));
                }
                if let Some(reason) = refusal(launched, &launch.args) {
                    problems.push(format!(
                        "{place}: args {:?} are not accepted by `batch {}`: {reason}",
                        launch.args, launched.name
                    ));
                }
            }
        }
        match catalog.entry(&launch.batch) {
            None => problems.push(format!(
                "{place}: no catalog block `{}`: the launched tasks run the task definition of the entry of that name \
                 (add it; `schedule = null` if it only runs when launched)",
                launch.batch
            )),
            Some(target) if target.batch != launch.batch => problems.push(format!(
                "{place}: catalog block `{}` runs batch `{}`, not `{}`: the launched tasks would run another batch",
                target.name, target.batch, launch.batch
            )),
            Some(_) => {}
        }
    }
    if !(1..=MAX_LAUNCHED_TASKS).contains(&launch.max_tasks) {
        problems.push(format!(
            "{place}: max_tasks {} is outside 1-{MAX_LAUNCHED_TASKS}",
            launch.max_tasks
        ));
    }
    if !(1..=MAX_JOBS_PER_TASK).contains(&launch.jobs_per_task) {
        problems.push(format!(
            "{place}: jobs_per_task {} is outside 1-{MAX_JOBS_PER_TASK}",
            launch.jobs_per_task
        ));
    }
    problems
}

fn find<'a>(registry: &'a [Batch], name: &str) -> Option<&'a Batch> {
    registry.iter().find(|batch| batch.name == name)
}

/// Why `batch` refuses `args`: clap's message up to its usage line (what is wrong, and with which
/// argument), or `None` when it accepts them.
fn refusal(batch: &Batch, args: &[String]) -> Option<String> {
    let text = batch.check_arguments(args).err()?.to_string();
    let reason: Vec<&str> = text
        .lines()
        .map(str::trim)
        .take_while(|l| !l.starts_with("Usage"))
        .filter(|l| !l.is_empty())
        .collect();
    Some(reason.join(" "))
}

/// What is wrong with a schedule: not one EventBridge accepts, or one that will not fire again
/// (its years are past), which EventBridge accepts and then never runs.
fn schedule_problem(expression: &str) -> Option<String> {
    match Schedule::parse(expression) {
        Err(error) => Some(error),
        Ok(schedule) if schedule.next_fires(Utc::now(), 1).is_empty() => Some(format!(
            "{schedule} fires no more: its last fire time is past"
        )),
        Ok(_) => None,
    }
}

fn names(registry: &[Batch]) -> String {
    registry
        .iter()
        .map(|b| b.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The check against this binary's own registry, for an environment with `overrides` whose
/// schedules `engine` fires (`environment` names it in problems).
pub fn check_against_registry(
    catalog: &Catalog,
    overrides: &[Override],
    engine: Engine,
    environment: &str,
) -> Vec<String> {
    let mut problems = check(catalog, overrides, batches::REGISTRY);
    problems.extend(engine_problems(
        &catalog.effective(overrides),
        engine,
        environment,
    ));
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, schedule: &str) -> Entry {
        Entry {
            name: name.to_owned(),
            batch: name.to_owned(),
            description: Some("a batch".to_owned()),
            schedule: Some(schedule.to_owned()),
            timezone: None,
            args: Vec::new(),
            task_count: 1,
            grace_minutes: None,
            launch: None,
        }
    }

    /// An entry `name` that runs `batch` with `args`, daily.
    fn entry_of(name: &str, batch: &str, args: &[&str]) -> Entry {
        Entry {
            batch: batch.to_owned(),
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            ..entry(name, "cron(30 15 * * ? *)")
        }
    }

    fn launch(batch: &str, args: &[&str], max_tasks: u32, jobs_per_task: u32) -> Option<Launch> {
        Some(Launch {
            batch: batch.to_owned(),
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            max_tasks,
            jobs_per_task,
        })
    }

    /// The real registry's deployed batches, each with a shorthand entry, and `extra` entries
    /// (which replace the shorthand entries of the same name).
    fn catalog_with(extra: Vec<Entry>) -> Catalog {
        let mut entries: Vec<Entry> = batches::REGISTRY
            .iter()
            .filter(|b| !["demo", "demo-seed"].contains(&b.name))
            .map(|b| match b.name {
                "export-requeue" => entry_of(b.name, b.name, &["--failed"]),
                _ => entry(b.name, "cron(0 * * * ? *)"),
            })
            .collect();
        entries.retain(|e| !extra.iter().any(|x| x.name == e.name));
        entries.extend(extra);
        Catalog {
            entries,
            local_only: vec!["demo".to_owned(), "demo-seed".to_owned()],
            default_timezone: None,
        }
    }

    fn problems_of(catalog: &Catalog) -> Vec<String> {
        check(catalog, &[], batches::REGISTRY)
    }

    fn assert_problem(problems: &[String], wanted: &str) {
        assert!(
            problems.iter().any(|p| p.contains(wanted)),
            "no problem containing\n  {wanted}\nin\n  {}",
            problems.join("\n  ")
        );
    }

    #[test]
    fn a_catalog_with_several_entries_of_one_batch_and_a_launch_has_no_problem() {
        let catalog = catalog_with(vec![
            Entry {
                launch: launch("export-worker", &[], 20, 25),
                ..entry_of("export-enqueue", "export-enqueue", &[])
            },
            Entry {
                launch: launch("export-worker", &[], 20, 25),
                ..entry_of("export-enqueue-monthly", "export-enqueue", &["--monthly"])
            },
            Entry {
                schedule: None,
                ..entry_of("export-requeue-job", "export-requeue", &["--failed"])
            },
        ]);
        assert_eq!(problems_of(&catalog), Vec::<String>::new());
    }

    #[test]
    fn an_entry_is_checked_against_its_batch_and_named_with_it() {
        let catalog = catalog_with(vec![
            entry_of("export-enqueue-weekly", "export-enqueue", &["--weekly"]),
            entry_of("nightly-report", "report", &[]),
            Entry {
                description: None,
                ..entry_of("export-enqueue-monthly", "export-enqueue", &["--monthly"])
            },
        ]);
        let problems = problems_of(&catalog);
        assert_problem(
            &problems,
            "catalog block `export-enqueue-weekly` (batch `export-enqueue`): args [\"--weekly\"] are not accepted by `batch export-enqueue`: error: unexpected argument '--weekly'",
        );
        assert_problem(
            &problems,
            "catalog block `nightly-report` (batch `report`): no batch `report` in this binary (known: export-enqueue,",
        );
        assert_problem(
            &problems,
            "catalog block `export-enqueue-monthly` (batch `export-enqueue`): no description",
        );
    }

    #[test]
    fn a_batch_run_only_by_a_named_entry_is_in_the_catalog() {
        let mut catalog = catalog_with(vec![]);
        catalog.entries.retain(|e| e.name != "history-prune");
        catalog
            .entries
            .push(entry_of("history-prune-90-days", "history-prune", &[]));
        assert_eq!(problems_of(&catalog), Vec::<String>::new());
    }

    #[test]
    fn an_entry_name_terraform_cannot_name_resources_after_is_refused() {
        let too_long = format!("canary-{}", "x".repeat(34));
        let catalog = catalog_with(vec![
            entry_of("Canary_Hourly", "canary", &[]),
            entry_of("c", "canary", &[]),
            entry_of("canary-", "canary", &[]),
            entry_of(&too_long, "canary", &[]),
        ]);
        let problems = problems_of(&catalog);
        for name in ["Canary_Hourly", "c", "canary-", too_long.as_str()] {
            assert_problem(
                &problems,
                &format!(
                    "catalog block `{name}` (batch `canary`): the entry name must be 2-40 characters"
                ),
            );
        }
        assert!(
            !problems
                .iter()
                .any(|p| p.contains("catalog block `canary`:")),
            "{problems:#?}"
        );
    }

    #[test]
    fn a_local_only_batch_may_not_have_an_entry() {
        let catalog = catalog_with(vec![entry_of("demo-nightly", "demo", &[])]);
        assert_problem(
            &problems_of(&catalog),
            "local_only `demo`: also has a catalog block (`demo-nightly`)",
        );
    }

    #[test]
    fn a_launch_on_a_batch_that_does_not_launch_is_refused() {
        let catalog = catalog_with(vec![Entry {
            launch: launch("export-worker", &[], 4, 10),
            ..entry_of("canary", "canary", &[])
        }]);
        assert_problem(
            &problems_of(&catalog),
            "catalog block `canary`: `launch` on batch `canary`, which does not launch tasks (the batches that do: export-enqueue)",
        );
    }

    #[test]
    fn a_launch_of_an_entry_that_does_not_exist_is_refused() {
        let mut catalog = catalog_with(vec![
            Entry {
                launch: launch("export-worker", &[], 20, 25),
                ..entry_of("export-enqueue", "export-enqueue", &[])
            },
            entry_of("export-worker-sweep", "export-worker", &[]),
        ]);
        catalog.entries.retain(|e| e.name != "export-worker");
        assert_problem(
            &problems_of(&catalog),
            "catalog block `export-enqueue`: launch of `export-worker`: no catalog block `export-worker`: the launched tasks run the task definition of the entry of that name",
        );
    }

    #[test]
    fn a_launch_whose_entry_runs_another_batch_is_refused() {
        let catalog = catalog_with(vec![
            Entry {
                launch: launch("export-worker", &[], 20, 25),
                ..entry_of("export-enqueue", "export-enqueue", &[])
            },
            entry_of("export-worker", "canary", &[]),
        ]);
        assert_problem(
            &problems_of(&catalog),
            "catalog block `export-enqueue`: launch of `export-worker`: catalog block `export-worker` runs batch `canary`, not `export-worker`",
        );
    }

    #[test]
    fn a_launch_of_an_unknown_local_only_launching_or_watching_batch_is_refused() {
        let catalog = catalog_with(vec![
            Entry {
                launch: launch("export-wroker", &[], 20, 25),
                ..entry_of("export-enqueue", "export-enqueue", &[])
            },
            Entry {
                launch: launch("demo", &[], 1, 1),
                ..entry_of("export-enqueue-demo", "export-enqueue", &[])
            },
            Entry {
                launch: launch("export-enqueue", &[], 1, 1),
                ..entry_of("export-enqueue-twice", "export-enqueue", &[])
            },
            Entry {
                launch: launch("missed-runs", &[], 1, 1),
                ..entry_of("export-enqueue-watch", "export-enqueue", &[])
            },
        ]);
        let problems = problems_of(&catalog);
        assert_problem(
            &problems,
            "catalog block `export-enqueue`: launch of `export-wroker`: no batch `export-wroker` in this binary",
        );
        assert_problem(
            &problems,
            "catalog block `export-enqueue-demo` (batch `export-enqueue`): launch of `demo`: `demo` is local_only",
        );
        assert_problem(
            &problems,
            "catalog block `export-enqueue-twice` (batch `export-enqueue`): launch of `export-enqueue`: `export-enqueue` launches tasks itself",
        );
        assert_problem(
            &problems,
            "catalog block `export-enqueue-watch` (batch `export-enqueue`): launch of `missed-runs`: `missed-runs` runs with a task role of its own",
        );
    }

    #[test]
    fn a_launch_with_arguments_the_batch_refuses_is_refused() {
        let catalog = catalog_with(vec![Entry {
            launch: launch("export-worker", &["--lanes", "4"], 20, 25),
            ..entry_of("export-enqueue", "export-enqueue", &[])
        }]);
        assert_problem(
            &problems_of(&catalog),
            "catalog block `export-enqueue`: launch of `export-worker`: args [\"--lanes\", \"4\"] are not accepted by `batch export-worker`: error: unexpected argument '--lanes'",
        );
    }

    #[test]
    fn a_launch_outside_its_bounds_is_refused() {
        for (max_tasks, jobs_per_task, wanted) in [
            (0, 25, "max_tasks 0 is outside 1-100"),
            (101, 25, "max_tasks 101 is outside 1-100"),
            (20, 0, "jobs_per_task 0 is outside 1-100000"),
            (20, 100_001, "jobs_per_task 100001 is outside 1-100000"),
        ] {
            let catalog = catalog_with(vec![Entry {
                launch: launch("export-worker", &[], max_tasks, jobs_per_task),
                ..entry_of("export-enqueue", "export-enqueue", &[])
            }]);
            let problems = problems_of(&catalog);
            assert_problem(
                &problems,
                &format!("catalog block `export-enqueue`: launch of `export-worker`: {wanted}"),
            );
            assert_eq!(problems.len(), 1, "{problems:#?}");
        }
        for (max_tasks, jobs_per_task) in [(1, 1), (100, 100_000)] {
            let catalog = catalog_with(vec![Entry {
                launch: launch("export-worker", &[], max_tasks, jobs_per_task),
                ..entry_of("export-enqueue", "export-enqueue", &[])
            }]);
            assert_eq!(problems_of(&catalog), Vec::<String>::new());
        }
    }

    #[test]
    fn unknown_zone_names_are_reported_where_they_are_written() {
        let mut catalog = catalog_with(vec![Entry {
            timezone: Some("America/NewYork".to_owned()),
            ..entry("canary", "cron(0 9 * * ? *)")
        }]);
        catalog.default_timezone = Some("Tokyo".to_owned());
        let overrides = [Override {
            file: "terraform/envs/staging/terraform.tfvars".to_owned(),
            name: "history-prune".to_owned(),
            timezone: Some("𠮷/野家".to_owned()),
            ..Override::default()
        }];
        let problems = check(&catalog, &overrides, batches::REGISTRY);
        assert_problem(
            &problems,
            "catalog block `canary`: timezone `America/NewYork` is not an IANA time zone name such as `Asia/Tokyo` or `America/New_York` (did you mean `America/New_York`?)",
        );
        assert_problem(
            &problems,
            "catalog `default_timezone`: `Tokyo` is not an IANA",
        );
        assert_problem(
            &problems,
            "batch_overrides `history-prune`: timezone `𠮷/野家` is not an IANA",
        );
        assert_eq!(problems.len(), 3, "{problems:#?}");
    }

    #[test]
    fn the_rules_engine_refuses_every_schedule_not_written_in_utc() {
        let catalog = catalog_with(vec![
            Entry {
                timezone: Some("America/New_York".to_owned()),
                ..entry("canary", "cron(0 9 * * ? *)")
            },
            Entry {
                timezone: Some("Etc/UTC".to_owned()),
                ..entry("history-prune", "cron(30 18 * * ? *)")
            },
            Entry {
                timezone: Some("Asia/Tokyo".to_owned()),
                schedule: None,
                ..entry_of("export-requeue", "export-requeue", &["--failed"])
            },
        ]);
        let staging = "terraform/envs/staging/terraform.tfvars";
        let problems = engine_problems(&catalog.effective(&[]), Engine::Rules, staging);
        assert_eq!(
            problems.len(),
            1,
            "only the scheduled entry outside UTC: {problems:#?}"
        );
        assert_problem(
            &problems,
            "entry `canary`: its schedule cron(0 9 * * ? *) is written in America/New_York, but terraform/envs/staging/terraform.tfvars uses the rules engine",
        );
        assert_problem(&problems, "set schedule_engine = \"scheduler\"");
        assert!(engine_problems(&catalog.effective(&[]), Engine::Scheduler, staging).is_empty());
        // An environment's override moves an entry into a zone; the default zone reaches every
        // entry that names none.
        let overrides = [Override {
            file: staging.to_owned(),
            name: "history-prune".to_owned(),
            timezone: Some("Europe/Berlin".to_owned()),
            ..Override::default()
        }];
        let problems = engine_problems(&catalog.effective(&overrides), Engine::Rules, staging);
        assert_problem(
            &problems,
            "entry `history-prune`: its schedule cron(30 18 * * ? *) is written in Europe/Berlin",
        );
        let tokyo = Catalog {
            default_timezone: Some("Asia/Tokyo".to_owned()),
            ..catalog
        };
        let scheduled = tokyo
            .effective(&[])
            .iter()
            .filter(|e| e.schedule.is_some())
            .count();
        let problems = engine_problems(&tokyo.effective(&[]), Engine::Rules, staging);
        assert_eq!(
            problems.len(),
            scheduled - 1,
            "all but the one in Etc/UTC: {problems:#?}"
        );
    }

    #[test]
    fn a_schedule_whose_years_are_past_is_reported() {
        let catalog = Catalog {
            entries: vec![entry("past", "cron(0 0 1 1 ? 2020-2021)")],
            ..Catalog::default()
        };
        let overrides = [Override {
            file: "terraform/envs/staging/terraform.tfvars".to_owned(),
            name: "past".to_owned(),
            schedule: Some("cron(0 0 ? * MON 1999)".to_owned()),
            ..Override::default()
        }];
        let problems = check(&catalog, &overrides, &[]);
        for place in [
            "catalog block `past`: schedule cron(0 0 1 1 ? 2020-2021) fires no more",
            "batch_overrides `past`: schedule cron(0 0 ? * MON 1999) fires no more",
        ] {
            assert!(
                problems.iter().any(|p| p.contains(place)),
                "{place}\n{problems:#?}"
            );
        }
    }
}
