//! `batch schedule`: the catalog's next fire times in UTC and in local time, because EventBridge
//! cron is always UTC and a reviewer thinks in Tokyo time. `--check` also runs the catalog check.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use clap::{Arg, ArgAction, ArgMatches, Command};

use crate::catalog::check::check_against_registry;
use crate::catalog::schedule::Schedule;
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
        .arg(Arg::new("count").long("count").value_name("N").default_value("3").value_parser(clap::value_parser!(u16).range(1..=50)).help("Fire times per entry"))
        .arg(Arg::new("batch").long("batch").value_name("NAME").action(ArgAction::Append).help("Only these entries, and the entries that run these batches (repeatable)"))
        .arg(Arg::new("markdown").long("markdown").action(ArgAction::SetTrue).help("A Markdown table, e.g. for a pull request comment"))
        .arg(Arg::new("json").long("json").action(ArgAction::SetTrue).conflicts_with("markdown").help("The effective entries as JSON, for scripts: {\"entries\": [...], \"local_only\": [...]}"))
        .arg(Arg::new("check").long("check").action(ArgAction::SetTrue).help("Also check the catalog against this binary"))
}

pub fn print(matches: &ArgMatches) -> u8 {
    match preview(matches, Utc::now()) {
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
    let overrides = match matches.get_one::<String>("env") {
        Some(env) => catalog::read_overrides(&PathBuf::from(format!(
            "terraform/envs/{env}/terraform.tfvars"
        )))?,
        None => Vec::new(),
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
                let (fires, error) = match next_fires(entry, now, count) {
                    Ok(fires) => (fires, None),
                    Err(error) => (Vec::new(), Some(error)),
                };
                value["next_fires"] = serde_json::json!(fires);
                value["schedule_error"] = serde_json::json!(error);
                value
            })
            .collect();
        let all = serde_json::json!({"entries": entries, "local_only": catalog.local_only});
        println!(
            "{}",
            serde_json::to_string_pretty(&all).expect("plain data serializes")
        );
    } else {
        print_preview(&effective, now, count, tz, matches.get_flag("markdown"));
    }
    if matches.get_flag("check") {
        let problems = check_against_registry(&catalog, &overrides);
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

fn next_fires(
    entry: &catalog::Effective,
    now: DateTime<Utc>,
    count: usize,
) -> Result<Vec<DateTime<Utc>>, String> {
    match entry.schedule.as_deref().map(Schedule::parse) {
        None => Ok(Vec::new()),
        Some(Ok(schedule)) => Ok(schedule.next_fires(now, count)),
        Some(Err(error)) => Err(error),
    }
}

fn print_preview(
    effective: &[catalog::Effective],
    now: DateTime<Utc>,
    count: usize,
    tz: Tz,
    markdown: bool,
) {
    if markdown {
        println!(
            "| entry | batch | schedule (UTC) | next runs (UTC) | next runs ({tz}) | description |"
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
        let fires = next_fires(entry, now, count);
        let shown = entry.schedule.as_deref().unwrap_or("manual (no schedule)");
        let note = if entry.schedule_overridden {
            " (override)"
        } else {
            ""
        };
        match fires {
            Err(error) if markdown => {
                println!("{cells} `{shown}`{note} | invalid: {error} | | {description} |")
            }
            Err(error) => println!("{title}  {shown}{note}\n    INVALID: {error}\n"),
            Ok(fires) if markdown => {
                let utc: Vec<String> = fires
                    .iter()
                    .map(|t| t.format("%a %m-%d %H:%M").to_string())
                    .collect();
                let local: Vec<String> = fires
                    .iter()
                    .map(|t| t.with_timezone(&tz).format("%a %m-%d %H:%M").to_string())
                    .collect();
                println!(
                    "{cells} `{shown}`{note} | {} | {} | {description} |",
                    utc.join("<br>"),
                    local.join("<br>")
                );
            }
            Ok(fires) => {
                println!("{title}  {shown}{note}\n    {description}");
                for fire in fires {
                    println!(
                        "    {}  =  {}",
                        fire.format("%a %Y-%m-%d %H:%M UTC"),
                        fire.with_timezone(&tz).format("%a %Y-%m-%d %H:%M %Z")
                    );
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
