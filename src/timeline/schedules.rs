//! Which fire times the time line shows as ticks: the environment's effective schedules
//! (`REPORT_SCHEDULES`, which Terraform sets to what it hands the watcher as `WATCH_SCHEDULES`) or,
//! on a developer's machine, the catalog file.

use std::path::Path;

use anyhow::Context;

use crate::catalog::schedule::Schedule;
use crate::catalog::{self, CATALOG_PATH};
use crate::missed_runs::config::Watched;

/// One catalog entry's schedule, as the time line draws it.
#[derive(Debug, Clone)]
pub struct Scheduled {
    /// The catalog entry (the row it belongs to).
    pub entry: String,
    pub batch: String,
    pub schedule: Schedule,
    /// How late a success may come (`None`: not watched, so never reported missed).
    pub grace: Option<chrono::Duration>,
}

/// Where the schedules came from, for the page and the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `REPORT_SCHEDULES`.
    Variable,
    /// A catalog file (its path).
    Catalog(String),
    /// Nothing known: no ticks.
    Unknown,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Variable => f.write_str("REPORT_SCHEDULES"),
            Source::Catalog(path) => write!(f, "the catalog {path}"),
            Source::Unknown => f.write_str("none known (no REPORT_SCHEDULES, no catalog file)"),
        }
    }
}

impl From<&Watched> for Scheduled {
    fn from(watched: &Watched) -> Scheduled {
        Scheduled {
            entry: watched.entry.clone(),
            batch: watched.batch.clone(),
            schedule: watched.schedule.clone(),
            grace: Some(watched.grace),
        }
    }
}

/// The schedules to draw: the catalog file named on the command line; else `REPORT_SCHEDULES`;
/// else `terraform/catalog/batches.tf` when run from the repository root; else none.
pub fn load(
    catalog: Option<&Path>,
    watched: Option<&[Watched]>,
) -> anyhow::Result<(Vec<Scheduled>, Source)> {
    if let Some(path) = catalog {
        return from_catalog(path);
    }
    if let Some(watched) = watched {
        return Ok((
            watched.iter().map(Scheduled::from).collect(),
            Source::Variable,
        ));
    }
    let default = Path::new(CATALOG_PATH);
    if default.is_file() {
        return from_catalog(default);
    }
    Ok((Vec::new(), Source::Unknown))
}

/// Every scheduled entry of a catalog file, in its order and its zone (no environment's
/// overrides).
fn from_catalog(path: &Path) -> anyhow::Result<(Vec<Scheduled>, Source)> {
    let catalog = catalog::read_catalog(path)?;
    let scheduled = catalog
        .effective(&[])
        .into_iter()
        .filter_map(|entry| Some((entry.schedule()?, entry)))
        .map(|(schedule, entry)| {
            let schedule = schedule
                .map_err(anyhow::Error::msg)
                .with_context(|| format!("{}: entry `{}`", path.display(), entry.name))?;
            Ok(Scheduled {
                entry: entry.name,
                batch: entry.batch,
                schedule,
                grace: entry
                    .grace_minutes
                    .map(|m| chrono::Duration::minutes(i64::from(m))),
            })
        })
        .collect::<anyhow::Result<_>>()?;
    Ok((scheduled, Source::Catalog(path.display().to_string())))
}
