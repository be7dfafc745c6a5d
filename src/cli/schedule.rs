//! `batch schedule`: the catalog's next fire times in UTC and in local time, because EventBridge
//! cron is always UTC and a reviewer thinks in Tokyo time. `--check` also runs the catalog check.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use clap::{Arg, ArgAction, ArgMatches, Command};

use chrono::Offset;

use crate::catalog::check::check_against_registry;
use crate::catalog::schedule::{Occurrence, Schedule};
use crate::catalog::zone::{self, Engine};
use crate::catalog::{self, CATALOG_PATH};
use crate::runtime::status::exit_code;

pub fn command() -> Command {
    Command::new("schedule")
        .about("Previews the Terraform catalog's schedules in UTC and local time (a repository tool)")
        .long_about(
            "Reads the Terraform catalog (terraform/catalog/batches.tf, from the repository root) and \
prints, for each entry (a named schedule of one batch; the batch is shown beside the entry when \
it has another name), its schedule and its next fire times in UTC and in --tz. With --env, the \
environment's overrides (terraform/envs/ENV/terraform.tfvars) apply. With --check, also \
checks the catalog against this binary and exits 1 on any problem. With --json, prints every \
entry as the environment runs it (batch, schedule, enabled, args, task_count, grace_minutes, \
launch, next fire times): the reading of the catalog that scripts use.",
        )
        .arg(Arg::new("catalog").long("catalog").value_name("PATH").default_value(CATALOG_PATH).value_parser(clap::value_parser!(PathBuf)).help("The catalog file"))
        .arg(Arg::new("env").long("env").value_name("ENV").help("Apply this environment's overrides (staging, production)"))
        .arg(
            Arg::new("tz")
                .long("tz")
                .value_name("ZONE")
                .default_value("Asia/Tokyo")
                .value_parser(|s: &str| s.parse::<Tz>().map_err(|_| format!("unknown time zone `{s}`")))
                .help("Time zone of the local column"),
        )
        .arg(
            Arg::new("from")
                .long("from")
                .value_name("DATE")
                .value_parser(crate::calendar::parse_date)
                .help("Preview the runs after 00:00 UTC of this date (YYYY-MM-DD) instead of now, e.g. around a change of the clocks"),
        )
        .arg(Arg::new("count").long("count").value_name("N").default_value("3").value_parser(clap::value_parser!(u16).range(1..=50)).help("Fire times per entry"))
        .arg(Arg::new("batch").long("batch").value_name("NAME").action(ArgAction::Append).help("Only these entries, and the entries that run these batches (repeatable)"))
        .arg(Arg::new("markdown").long("markdown").action(ArgAction::SetTrue).help("A Markdown table, e.g. for a pull request comment"))
        .arg(Arg::new("json").long("json").action(ArgAction::SetTrue).conflicts_with("markdown").help("The effective entries as JSON, for scripts: {\"entries\": [...], \"local_only\": [...]}"))
        .arg(Arg::new("check").long("check").action(ArgAction::SetTrue).help("Also check the catalog against this binary"))
}

pub fn print(matches: &ArgMatches) -> u8 {
    let now = matches
        .get_one::<chrono::NaiveDate>("from")
        .map_or_else(Utc::now, |date| {
            date.and_time(chrono::NaiveTime::MIN).and_utc()
        });
    match preview(matches, now) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            exit_code::USAGE
        }
    }
}

fn preview(matches: &ArgMatches, now: DateTime<Utc>) -> anyhow::Result<u8> {
    let path = matches
        .get_one::<PathBuf>("catalog")
        .expect("has a default");
    let catalog = catalog::read_catalog(path)
        .map_err(|e| e.context("run from the repository root, or pass --catalog"))?;
    let tz = *matches.get_one::<Tz>("tz").expect("has a default");
    let count = usize::from(*matches.get_one::<u16>("count").expect("has a default"));
    let only: Vec<&String> = matches
        .get_many::<String>("batch")
        .map(|v| v.collect())
        .unwrap_or_default();
    let (overrides, engine, environment) = match matches.get_one::<String>("env") {
        Some(env) => {
            let tfvars = PathBuf::from(format!("terraform/envs/{env}/terraform.tfvars"));
            (
                catalog::read_overrides(&tfvars)?,
                catalog::read_engine(&tfvars)?,
                tfvars.display().to_string(),
            )
        }
        None => (
            Vec::new(),
            Engine::default(),
            "an environment that sets no schedule_engine (no --env given)".to_owned(),
        ),
    };
    let effective: Vec<catalog::Effective> = catalog
        .effective(&overrides)
        .into_iter()
        .filter(|e| only.is_empty() || only.contains(&&e.name) || only.contains(&&e.batch))
        .collect();
    if matches.get_flag("json") {
        let entries: Vec<serde_json::Value> = effective
            .iter()
            .map(|entry| {
                let mut value = serde_json::to_value(entry).expect("plain data serializes");
                let (fires, error) = match entry.schedule() {
                    None => (Vec::new(), None),
                    Some(Ok(schedule)) => (schedule.next_fires(now, count), None),
                    Some(Err(error)) => (Vec::new(), Some(error)),
                };
                value["next_fires"] = serde_json::json!(fires);
                value["schedule_error"] = serde_json::json!(error);
                value
            })
            .collect();
        let all = serde_json::json!({
            "engine": engine,
            "entries": entries,
            "local_only": catalog.local_only,
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&all).expect("plain data serializes")
        );
    } else {
        print_preview(
            &effective,
            engine,
            now,
            count,
            tz,
            matches.get_flag("markdown"),
        );
    }
    if matches.get_flag("check") {
        let problems = check_against_registry(&catalog, &overrides, engine, &environment);
        if !problems.is_empty() {
            for problem in &problems {
                eprintln!("error: {problem}");
            }
            return Ok(exit_code::FAILURE);
        }
        eprintln!("catalog check: no problems");
    }
    Ok(exit_code::SUCCESS)
}

/// One line of the preview: a run, with its time in each zone shown, or a skipped wall-clock time.
struct Line {
    /// The run's instant; `None` for a wall-clock time the clocks skip.
    at: Option<DateTime<Utc>>,
    /// The times as shown (UTC first, then each local zone), or the skip's text.
    cells: Vec<String>,
    /// What a change of the clocks does here, in words.
    note: Option<String>,
}

/// The preview lines of one entry's next `count` runs: in UTC, in the entry's own zone when it is
/// not UTC, and in `tz` when that is another zone. `short` drops the year (the Markdown table).
fn lines(schedule: &Schedule, now: DateTime<Utc>, count: usize, tz: Tz, short: bool) -> Vec<Line> {
    let own = schedule.zone();
    let mut zones = Vec::new();
    if own != Tz::UTC {
        zones.push(own);
    }
    if tz != own && tz != Tz::UTC {
        zones.push(tz);
    }
    let (day, time) = if short {
        ("%a %m-%d", "%H:%M")
    } else {
        ("%a %Y-%m-%d", "%H:%M")
    };
    let mut previous_offset: Option<chrono::FixedOffset> = None;
    schedule
        .occurrences(now, count)
        .into_iter()
        .map(|occurrence| match occurrence {
            Occurrence::Skipped { wall } => Line {
                at: None,
                cells: vec![format!(
                    "{} {}: no run",
                    wall.format(day),
                    wall.format(time)
                )],
                note: Some(format!(
                    "{} does not exist in {own} that day: the clocks go forward, and EventBridge Scheduler skips it",
                    wall.format(time)
                )),
            },
            Occurrence::Runs { at, repeated } => {
                let mut cells = vec![format!("{} {} UTC", at.format(day), at.format(time))];
                for zone in &zones {
                    let local = at.with_timezone(zone);
                    cells.push(format!("{} {} {}", local.format(day), local.format(time), local.format("%Z")));
                }
                // Whether the clocks of the zone that moves against UTC here changed since the
                // previous run: the entry's own zone, else the local column.
                let watched = zones.first().copied().unwrap_or(Tz::UTC);
                let offset = at.with_timezone(&watched).offset().fix();
                let moved = previous_offset.filter(|before| *before != offset).map(|before| {
                    if own == Tz::UTC {
                        format!("{watched} changes its clocks from UTC{before} to UTC{offset} before this run: same time in UTC, another local time")
                    } else {
                        format!("{own} changes its clocks from UTC{before} to UTC{offset} before this run: same local time, another time in UTC")
                    }
                });
                previous_offset = Some(offset);
                let twice = repeated.then(|| {
                    format!(
                        "{} happens twice in {own} that day: the clocks go back, and EventBridge Scheduler runs once, at the first",
                        at.with_timezone(&own).format(time)
                    )
                });
                Line {
                    at: Some(at),
                    cells,
                    note: match (moved, twice) {
                        (Some(a), Some(b)) => Some(format!("{a}; {b}")),
                        (a, b) => a.or(b),
                    },
                }
            }
        })
        .collect()
}

fn print_preview(
    effective: &[catalog::Effective],
    engine: Engine,
    now: DateTime<Utc>,
    count: usize,
    tz: Tz,
    markdown: bool,
) {
    if markdown {
        // One line before the table (the pull request comment compares it with the base's).
        println!(
            "Schedule engine: `{}` ({})\n",
            engine.name(),
            match engine {
                Engine::Rules => "EventBridge scheduled rules: every schedule in UTC",
                Engine::Scheduler => "EventBridge Scheduler: each cron in its entry's time zone",
            }
        );
        println!(
            "| entry | batch | schedule | next runs (UTC) | next runs (local time) | description |"
        );
        println!("|---|---|---|---|---|---|");
    }
    for entry in effective {
        let mut description = entry.description.clone().unwrap_or_default();
        if let Some(launch) = &entry.launch {
            description.push_str(&if markdown {
                format!("<br>{}", launch_note(launch, "`"))
            } else {
                format!("\n    {}", launch_note(launch, ""))
            });
        }
        let title = if entry.batch == entry.name {
            entry.name.clone()
        } else {
            format!("{} (batch {})", entry.name, entry.batch)
        };
        let cells = format!("| `{}` | `{}` |", entry.name, entry.batch);
        let shown = entry.schedule.as_deref().unwrap_or("manual (no schedule)");
        let mut note = String::new();
        if entry.schedule.is_some() && !zone::is_utc(&entry.timezone) {
            note.push_str(&format!(" in {}", entry.timezone));
        }
        if entry.schedule_overridden {
            note.push_str(" (override)");
        }
        match entry.schedule() {
            Some(Err(error)) if markdown => {
                println!("{cells} `{shown}`{note} | invalid: {error} | | {description} |")
            }
            Some(Err(error)) => println!("{title}  {shown}{note}\n    INVALID: {error}\n"),
            None if markdown => println!("{cells} `{shown}` | | | {description} |"),
            None => println!("{title}  {shown}\n    {description}\n"),
            Some(Ok(schedule)) if markdown => {
                let lines = lines(&schedule, now, count, tz, true);
                let utc: Vec<String> = lines
                    .iter()
                    .map(|line| match line.at {
                        Some(_) => line.cells[0].clone(),
                        None => "(none)".to_owned(),
                    })
                    .collect();
                let local: Vec<String> = lines
                    .iter()
                    .map(|line| {
                        let time = line.cells.get(1).unwrap_or(&line.cells[0]);
                        match &line.note {
                            Some(text) => format!("{time} ({text})"),
                            None => time.clone(),
                        }
                    })
                    .collect();
                println!(
                    "{cells} `{shown}`{note} | {} | {} | {description} |",
                    utc.join("<br>"),
                    local.join("<br>")
                );
            }
            Some(Ok(schedule)) => {
                println!("{title}  {shown}{note}\n    {description}");
                for line in lines(&schedule, now, count, tz, false) {
                    let text = line.cells.join("  =  ");
                    match line.note {
                        Some(note) => println!("    {text}  ({note})"),
                        None => println!("    {text}"),
                    }
                }
                println!();
            }
        }
    }
}

/// One line on what an entry's run launches, e.g. `launches up to 20 export-worker tasks (one per
/// 25 jobs)`; `quote` wraps the batch and its arguments (a backtick in Markdown).
fn launch_note(launch: &catalog::Launch, quote: &str) -> String {
    let command = std::iter::once(launch.batch.as_str())
        .chain(launch.args.iter().map(String::as_str))
        .collect::<Vec<_>>()
        .join(" ");
    format!(
        "launches up to {} {quote}{command}{quote} tasks (one per {} jobs)",
        launch.max_tasks, launch.jobs_per_task
    )
}
