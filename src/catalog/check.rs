//! The catalog check: what a reviewer cannot be trusted to see in a plan. Every problem names
//! the catalog block (or tfvars entry) it is about.

use chrono::Utc;

use super::schedule::Schedule;
use super::{Catalog, Override};
use crate::batches::{self, Batch};

/// Every problem of the catalog and the environments' overrides against `registry`.
pub fn check(catalog: &Catalog, overrides: &[Override], registry: &[Batch]) -> Vec<String> {
    let mut problems = Vec::new();
    for name in &catalog.local_only {
        if !registry.iter().any(|batch| batch.name == name) {
            problems.push(format!(
                "local_only `{name}`: no batch of that name in this binary"
            ));
        }
        if catalog.entries.iter().any(|entry| entry.name == *name) {
            problems.push(format!(
                "local_only `{name}`: also has a catalog block; it is either deployed or not"
            ));
        }
    }
    for entry in &catalog.entries {
        let block = format!("catalog block `{}`", entry.name);
        match registry.iter().find(|batch| batch.name == entry.name) {
            None => problems.push(format!(
                "{block}: no batch `{}` in this binary (known: {})",
                entry.name,
                names(registry)
            )),
            Some(batch) => {
                if let Err(error) = batch.check_arguments(&entry.args) {
                    // clap's message up to its usage line: what is wrong, and with which argument.
                    let text = error.to_string();
                    let reason: Vec<&str> = text
                        .lines()
                        .map(str::trim)
                        .take_while(|l| !l.starts_with("Usage"))
                        .filter(|l| !l.is_empty())
                        .collect();
                    problems.push(format!(
                        "{block}: args {:?} are not accepted by `batch {}`: {}",
                        entry.args,
                        entry.name,
                        reason.join(" ")
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
    }
    for batch in registry {
        let listed = catalog.entries.iter().any(|entry| entry.name == batch.name)
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
        if !catalog.entries.iter().any(|c| c.name == entry.name) {
            problems.push(format!("{place}: no catalog block of that name"));
        }
        if let Some(expression) = &entry.schedule
            && let Some(problem) = schedule_problem(expression)
        {
            problems.push(format!("{place}: schedule {problem}"));
        }
    }
    problems
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

/// The check against this binary's own registry.
pub fn check_against_registry(catalog: &Catalog, overrides: &[Override]) -> Vec<String> {
    check(catalog, overrides, batches::REGISTRY)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Entry;

    fn entry(name: &str, schedule: &str) -> Entry {
        Entry {
            name: name.to_owned(),
            description: Some("a batch".to_owned()),
            schedule: Some(schedule.to_owned()),
            args: Vec::new(),
            task_count: 1,
            grace_minutes: None,
        }
    }

    #[test]
    fn a_schedule_whose_years_are_past_is_reported() {
        let catalog = Catalog {
            entries: vec![entry("past", "cron(0 0 1 1 ? 2020-2021)")],
            local_only: Vec::new(),
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
