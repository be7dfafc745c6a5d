//! The Terraform catalog as data: `terraform/catalog/batches.tf` (one block per catalog entry: a
//! named schedule of one batch) and the per-environment overrides in
//! `terraform/envs/*/terraform.tfvars`. Read with hcl-rs, checked against this binary's registry
//! (`check`), and previewed in local time (`batch schedule`).

pub mod check;
pub mod cron;
pub mod schedule;
pub mod zone;

use std::path::Path;

use anyhow::{Context, bail};
use hcl::{Body, Expression, ObjectKey};

use schedule::Schedule;
use zone::Engine;

/// Where the catalog lives in the repository.
pub const CATALOG_PATH: &str = "terraform/catalog/batches.tf";

/// One block of the catalog: an entry, named by its key, that runs one batch. Several entries may
/// run the same batch (a daily and a monthly export with different arguments and sizes).
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The entry's name: Terraform names the task definition, rules and alarms after it.
    pub name: String,
    /// The batch it runs (container command[0]); `batch = ...`, or the entry's name when absent.
    pub batch: String,
    pub description: Option<String>,
    /// `None` = manual (task definition only).
    pub schedule: Option<String>,
    /// The IANA zone its cron is read in (`timezone = ...`); `None`: the catalog's default.
    pub timezone: Option<String>,
    pub args: Vec<String>,
    /// Tasks started per schedule event (Terraform's default: 1).
    pub task_count: u32,
    /// How late a success may be before `missed-runs` reports the fire time; `None`: not watched.
    pub grace_minutes: Option<u32>,
    /// Tasks of another entry this entry's run starts (`launch = { ... }`); `None`: none.
    pub launch: Option<Launch>,
}

/// `launch = { batch = "export-worker", args = [], max_tasks = 20, jobs_per_task = 25 }`: the
/// entry's run starts up to `max_tasks` tasks of `batch`, one per `jobs_per_task` jobs, with the
/// task definition of the catalog entry named `batch` (a shorthand entry, scheduled or manual).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Launch {
    pub batch: String,
    /// Arguments after the batch name in the launched tasks' command (default: none).
    pub args: Vec<String>,
    pub max_tasks: u32,
    pub jobs_per_task: u32,
}

/// The whole catalog file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Catalog {
    pub entries: Vec<Entry>,
    /// Batches (not entries) deliberately not deployed (`local_only = [...]`): local tools such as `demo`.
    pub local_only: Vec<String>,
    /// `default_timezone = ...`: the zone of every entry that names none; `None`: UTC.
    pub default_timezone: Option<String>,
}

/// A `batch_overrides` entry of an environment's tfvars, keyed by catalog entry name: a field
/// that is set wins.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Override {
    pub file: String,
    /// The catalog entry it changes.
    pub name: String,
    pub schedule: Option<String>,
    pub timezone: Option<String>,
    pub enabled: Option<bool>,
    pub task_count: Option<u32>,
    pub grace_minutes: Option<u32>,
}

/// An entry as one environment runs it: the catalog block with the environment's overrides
/// applied (a field that is set wins). The one reading of the catalog that scripts use, through
/// `batch schedule --json`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Effective {
    /// The catalog entry.
    pub name: String,
    /// The batch it runs (container command[0]).
    pub batch: String,
    pub description: Option<String>,
    /// `None`: manual (task definition only).
    pub schedule: Option<String>,
    /// The schedule comes from the environment's overrides.
    pub schedule_overridden: bool,
    /// The IANA zone its cron is read in: the override's, the entry's, the catalog's default,
    /// or `UTC`, the first that is set.
    pub timezone: String,
    /// The override's `enabled` (the environment's `schedules_enabled` may still turn all off).
    pub enabled: bool,
    pub args: Vec<String>,
    pub task_count: u32,
    pub grace_minutes: Option<u32>,
    pub launch: Option<Launch>,
}

impl Catalog {
    /// The entry named `name`.
    pub fn entry(&self, name: &str) -> Option<&Entry> {
        self.entries.iter().find(|entry| entry.name == name)
    }

    pub fn effective(&self, overrides: &[Override]) -> Vec<Effective> {
        self.entries
            .iter()
            .map(|entry| {
                let o = overrides.iter().find(|o| o.name == entry.name);
                let overridden = o.and_then(|o| o.schedule.clone());
                let timezone = o
                    .and_then(|o| o.timezone.clone())
                    .or_else(|| entry.timezone.clone())
                    .or_else(|| self.default_timezone.clone())
                    .unwrap_or_else(|| zone::UTC_NAMES[0].to_owned());
                Effective {
                    name: entry.name.clone(),
                    batch: entry.batch.clone(),
                    description: entry.description.clone(),
                    schedule_overridden: overridden.is_some(),
                    timezone,
                    schedule: overridden.or_else(|| entry.schedule.clone()),
                    enabled: o.and_then(|o| o.enabled).unwrap_or(true),
                    args: entry.args.clone(),
                    task_count: o.and_then(|o| o.task_count).unwrap_or(entry.task_count),
                    grace_minutes: o.and_then(|o| o.grace_minutes).or(entry.grace_minutes),
                    launch: entry.launch.clone(),
                }
            })
            .collect()
    }
}

impl Effective {
    /// Its schedule, read in its zone; `None` when manual.
    pub fn schedule(&self) -> Option<Result<Schedule, String>> {
        let expression = self.schedule.as_deref()?;
        Some(
            zone::parse_zone(&self.timezone)
                .map_err(|why| format!("timezone {why}"))
                .and_then(|zone| Schedule::parse_in(expression, zone)),
        )
    }
}

/// Reads the catalog file: `locals { batches = { "entry" = { ... } }, local_only = [...],
/// default_timezone = "..." }`.
pub fn read_catalog(path: &Path) -> anyhow::Result<Catalog> {
    let body = parse(path)?;
    let local = |name: &str| {
        body.blocks()
            .filter(|block| block.identifier() == "locals")
            .flat_map(|block| block.body().attributes())
            .find(|attribute| attribute.key() == name)
            .map(|attribute| attribute.expr().clone())
    };
    let local_only = strings(
        local("local_only").as_ref(),
        &format!("{}: `local_only`", path.display()),
    )?;
    let batches = local("batches")
        .with_context(|| format!("{}: no `locals {{ batches = {{ ... }} }}`", path.display()))?;
    let entries = read_entries(path, &batches)?;
    let default_timezone = match local("default_timezone") {
        None | Some(Expression::Null) => None,
        Some(Expression::String(name)) => Some(name),
        Some(other) => bail!(
            "{}: `default_timezone` must be a plain string such as \"UTC\" or \"Asia/Tokyo\", not `{other}`",
            path.display()
        ),
    };
    Ok(Catalog {
        entries,
        local_only,
        default_timezone,
    })
}

fn read_entries(path: &Path, batches: &Expression) -> anyhow::Result<Vec<Entry>> {
    let Expression::Object(entries) = batches else {
        bail!("{}: `batches` is not an object", path.display());
    };
    entries
        .iter()
        .map(|(key, value)| {
            let name = key_name(key);
            let Expression::Object(fields) = value else {
                bail!("catalog block `{name}` is not an object");
            };
            let block = Block {
                fields,
                place: format!("catalog block `{name}`"),
            };
            Ok(Entry {
                batch: block.text("batch")?.unwrap_or_else(|| name.clone()),
                description: block.text("description")?,
                schedule: block.text("schedule")?,
                timezone: block.text("timezone")?,
                args: block.strings("args")?,
                task_count: block.number("task_count")?.unwrap_or(1),
                grace_minutes: block.number("grace_minutes")?,
                launch: read_launch(&block)?,
                name,
            })
        })
        .collect()
}

/// The `launch` object of a catalog block (absent or `null`: none). Its fields are checked by
/// name, so that a misspelt one (`max_task`) is an error rather than a default.
fn read_launch(block: &Block) -> anyhow::Result<Option<Launch>> {
    let fields = match block.field("launch") {
        None | Some(Expression::Null) => return Ok(None),
        Some(Expression::Object(fields)) => fields,
        Some(other) => bail!(
            "{}: `launch` must be an object such as {{ batch = \"export-worker\", max_tasks = 20, jobs_per_task = 25 }}, not `{other}`",
            block.place
        ),
    };
    let launch = Block {
        fields,
        place: format!("{}: `launch`", block.place),
    };
    const FIELDS: [&str; 4] = ["batch", "args", "max_tasks", "jobs_per_task"];
    if let Some(unknown) = fields
        .keys()
        .map(key_name)
        .find(|key| !FIELDS.contains(&key.as_str()))
    {
        bail!(
            "{}: unknown field `{unknown}` (the fields are {})",
            launch.place,
            FIELDS.join(", ")
        );
    }
    let required = |wanted: &str| anyhow::anyhow!("{}: `{wanted}` is required", launch.place);
    Ok(Some(Launch {
        batch: launch.text("batch")?.ok_or_else(|| required("batch"))?,
        args: launch.strings("args")?,
        max_tasks: launch
            .number("max_tasks")?
            .ok_or_else(|| required("max_tasks"))?,
        jobs_per_task: launch
            .number("jobs_per_task")?
            .ok_or_else(|| required("jobs_per_task"))?,
    }))
}

/// Reads `batch_overrides` from an environment's tfvars (absent = none).
pub fn read_overrides(path: &Path) -> anyhow::Result<Vec<Override>> {
    let body = parse(path)?;
    let Some(attribute) = body.attributes().find(|a| a.key() == "batch_overrides") else {
        return Ok(Vec::new());
    };
    let Expression::Object(entries) = attribute.expr() else {
        bail!("{}: `batch_overrides` is not an object", path.display());
    };
    let file = path.display().to_string();
    entries
        .iter()
        .map(|(key, value)| {
            let name = key_name(key);
            let Expression::Object(fields) = value else {
                bail!("{file}: `batch_overrides.{name}` is not an object");
            };
            let block = Block {
                fields,
                place: format!("{file}: `batch_overrides.{name}`"),
            };
            Ok(Override {
                file: file.clone(),
                schedule: match block.field("schedule") {
                    Some(Expression::String(s)) => Some(s.clone()),
                    _ => None,
                },
                timezone: block.text("timezone")?,
                enabled: match block.field("enabled") {
                    Some(Expression::Bool(b)) => Some(*b),
                    _ => None,
                },
                task_count: block.number("task_count")?,
                grace_minutes: block.number("grace_minutes")?,
                name,
            })
        })
        .collect()
}

/// An environment's `schedule_engine` (absent: the default, rules).
pub fn read_engine(path: &Path) -> anyhow::Result<Engine> {
    let body = parse(path)?;
    match body
        .attributes()
        .find(|a| a.key() == "schedule_engine")
        .map(|a| a.expr())
    {
        None | Some(Expression::Null) => Ok(Engine::default()),
        Some(Expression::String(raw)) => {
            Engine::parse(raw).map_err(|why| anyhow::anyhow!("{}: {why}", path.display()))
        }
        Some(other) => bail!(
            "{}: `schedule_engine` must be \"rules\" or \"scheduler\", not `{other}`",
            path.display()
        ),
    }
}

/// One object of the catalog or of `batch_overrides`; `place` names it in errors.
struct Block<'a> {
    fields: &'a hcl::Object<ObjectKey, Expression>,
    place: String,
}

impl Block<'_> {
    fn field(&self, wanted: &str) -> Option<&Expression> {
        self.fields
            .iter()
            .find(|(k, _)| key_name(k) == wanted)
            .map(|(_, v)| v)
    }

    /// A plain string; `None` when the field is absent or `null`.
    fn text(&self, wanted: &str) -> anyhow::Result<Option<String>> {
        match self.field(wanted) {
            None | Some(Expression::Null) => Ok(None),
            Some(Expression::String(s)) => Ok(Some(s.clone())),
            Some(other) => bail!(
                "{}: `{wanted}` must be a plain string or null, not `{other}`",
                self.place
            ),
        }
    }

    /// A list of plain strings; empty when the field is absent.
    fn strings(&self, wanted: &str) -> anyhow::Result<Vec<String>> {
        strings(self.field(wanted), &format!("{}: `{wanted}`", self.place))
    }

    /// A whole number; `None` when the field is absent or `null`.
    fn number(&self, wanted: &str) -> anyhow::Result<Option<u32>> {
        self.field(wanted)
            .filter(|v| !matches!(v, Expression::Null))
            .map(whole_number)
            .transpose()
            .with_context(|| format!("{}: `{wanted}`", self.place))
    }
}

/// A whole number written literally.
fn whole_number(expression: &Expression) -> anyhow::Result<u32> {
    match expression {
        Expression::Number(n) => n
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .with_context(|| format!("`{n}` is not a whole number")),
        other => bail!("must be a literal whole number, not `{other}`"),
    }
}

/// A list of plain strings (absent = empty); `what` names the attribute in the error.
fn strings(expression: Option<&Expression>, what: &str) -> anyhow::Result<Vec<String>> {
    match expression {
        None => Ok(Vec::new()),
        Some(Expression::Array(items)) => items
            .iter()
            .map(|item| match item {
                Expression::String(s) => Ok(s.clone()),
                other => bail!("{what} must list plain strings, not `{other}`"),
            })
            .collect(),
        Some(other) => bail!("{what} must be a list of strings, not `{other}`"),
    }
}

fn parse(path: &Path) -> anyhow::Result<Body> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("could not read {}", path.display()))?;
    hcl::parse(&text).with_context(|| format!("{} is not valid HCL", path.display()))
}

fn key_name(key: &ObjectKey) -> String {
    match key {
        ObjectKey::Identifier(identifier) => identifier.to_string(),
        ObjectKey::Expression(Expression::String(s)) => s.clone(),
        ObjectKey::Expression(other) => other.to_string(),
        _ => key.to_string(),
    }
}
