//! `batch history`: the time line of runs, newest first.

use std::path::PathBuf;

use chrono::{DateTime, NaiveTime, Utc};
use clap::parser::ValueSource;
use clap::{Arg, ArgAction, ArgMatches, Command};

use crate::calendar::{self, FIRST_DATE, LAST_DATE};
use crate::config::{self, Config, LogConfig};
use crate::db::{Db, SchemaNeed};
use crate::runtime::history::{self, HistoryQuery, RunRecord, ShownStatus};
use crate::runtime::status::exit_code;
use crate::telemetry::{self, LogTarget};
use crate::timeline::{self, schedules};

pub fn command() -> Command {
    Command::new("history")
        .about("Shows the time line of runs, newest first")
        .long_about(
            "Shows recorded runs, newest first. A run still `running` past its time limit \
(plus the stop grace) is shown as `stale`: its process was killed (SIGKILL, out of memory, lost \
task) before it could record how it ended. A scheduled run that got no success within its \
grace (found by `missed-runs`) is shown as `missed` at its scheduled time, with no run id.\n\n\
With --html FILE, writes the time line as one self-contained HTML page instead (no external \
scripts or fonts; it opens offline): a row per catalog entry, a bar per run coloured by status, \
the entry's scheduled fire times as ticks with missed ones marked, and each run's details on \
hover or click. The filters apply; the window is the last 48 hours unless --since says, and up \
to 10000 runs are drawn unless --limit says. Fire times come from --catalog, else \
REPORT_SCHEDULES, else terraform/catalog/batches.tf when run from the repository root.",
        )
        .arg(Arg::new("batch").long("batch").value_name("NAME").help("Only runs of this batch"))
        .arg(
            Arg::new("parent")
                .long("parent")
                .value_name("RUN_ID")
                .help("Only this run and the runs it launched (e.g. an export-enqueue and its workers)"),
        )
        .arg(
            Arg::new("since")
                .long("since")
                .value_name("WHEN")
                .value_parser(parse_since)
                .help("Only runs started since: 2026-11-20, 2026-11-20T09:00:00+09:00, or an age such as 24h or 7d"),
        )
        .arg(
            Arg::new("status")
                .long("status")
                .value_name("STATUS")
                .value_parser(|s: &str| s.parse::<ShownStatus>())
                .help("running, succeeded, failed, timed_out, interrupted, skipped, stale or missed"),
        )
        .arg(
            Arg::new("limit")
                .long("limit")
                .value_name("N")
                .default_value("50")
                .value_parser(clap::value_parser!(u32).range(1..=10_000))
                .help("At most this many runs"),
        )
        .arg(Arg::new("json").long("json").action(ArgAction::SetTrue).help("One JSON array"))
        .arg(
            Arg::new("html")
                .long("html")
                .value_name("FILE")
                .value_parser(clap::value_parser!(PathBuf))
                .conflicts_with("json")
                .help("Write the time line as one self-contained HTML page to FILE (default window: the last 48 hours)"),
        )
        .arg(
            Arg::new("catalog")
                .long("catalog")
                .value_name("PATH")
                .value_parser(clap::value_parser!(PathBuf))
                .requires("html")
                .help("With --html: the catalog file whose schedules are drawn as ticks"),
        )
}

/// A date, an RFC 3339 time or an age, always ending up within the dates a run can have.
fn parse_since(raw: &str) -> Result<DateTime<Utc>, String> {
    let expected = || {
        format!(
            "expected a date (2026-11-20) or an RFC 3339 time from {FIRST_DATE} to {LAST_DATE}, \
or an age such as 24h or 7d"
        )
    };
    let since = if let Ok(time) = DateTime::parse_from_rfc3339(raw) {
        time.with_timezone(&Utc)
    } else if let Ok(date) = calendar::parse_date(raw) {
        date.and_time(NaiveTime::MIN).and_utc()
    } else {
        let age = humantime::parse_duration(raw).map_err(|_| expected())?;
        chrono::Duration::from_std(age)
            .ok()
            .and_then(|age| Utc::now().checked_sub_signed(age))
            .ok_or_else(expected)?
    };
    if since.date_naive() < FIRST_DATE || since.date_naive() > LAST_DATE {
        return Err(expected());
    }
    Ok(since)
}

pub fn print(matches: &ArgMatches) -> u8 {
    let vars = config::process_env();
    // Its logs go to stderr (stdout is the history itself): that is the stream a person reads.
    let at_terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let (log_config, mut problems) = LogConfig::from_vars(&vars, at_terminal);
    telemetry::init(log_config, LogTarget::Stderr, &[]);
    // A malformed LOG_FORMAT or RUST_LOG is a configuration error here too, as for a run.
    let config = Config::from_vars(&vars).map_err(|p| problems.extend(p));
    let config = match config {
        Ok(config) if problems.is_empty() => config,
        _ => {
            for (variable, problem) in problems.iter() {
                eprintln!("error: {variable}: {problem}");
            }
            return exit_code::USAGE;
        }
    };
    let mut query = HistoryQuery {
        batch: matches.get_one::<String>("batch").cloned(),
        parent: matches.get_one::<String>("parent").cloned(),
        since: matches.get_one::<DateTime<Utc>>("since").copied(),
        status: matches.get_one::<ShownStatus>("status").copied(),
        limit: *matches.get_one::<u32>("limit").expect("has a default"),
    };
    let json = matches.get_flag("json");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime starts");
    let now = Utc::now();
    if let Some(path) = matches.get_one::<PathBuf>("html") {
        if matches.value_source("limit") == Some(ValueSource::DefaultValue) {
            query.limit = timeline::MAX_RUNS;
        }
        query.since = Some(query.since.unwrap_or(now - timeline::DEFAULT_WINDOW));
        let catalog = matches.get_one::<PathBuf>("catalog").map(PathBuf::as_path);
        return write_html(&runtime, &config, query, catalog, path, now);
    }
    let result = runtime.block_on(async {
        let db = Db::open(&config.database, "batchbox/history").await?;
        db.ensure(SchemaNeed::Current).await?;
        let runs = history::list(&db, &query, now).await;
        db.close().await;
        runs
    });
    match result {
        Ok(runs) if json => {
            let views: Vec<_> = runs.iter().map(|run| run.to_view(now)).collect();
            println!(
                "{}",
                serde_json::to_string_pretty(&views).expect("plain data serializes")
            );
            exit_code::SUCCESS
        }
        Ok(runs) => {
            print_table(&runs, now);
            exit_code::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            exit_code::FAILURE
        }
    }
}

fn write_html(
    runtime: &tokio::runtime::Runtime,
    config: &Config,
    query: HistoryQuery,
    catalog: Option<&std::path::Path>,
    path: &std::path::Path,
    now: DateTime<Utc>,
) -> u8 {
    let (schedules, source) = match schedules::load(catalog, config.report.schedules.as_deref()) {
        Ok(found) => found,
        Err(e) => {
            eprintln!("error: {e:#}");
            return exit_code::USAGE;
        }
    };
    let request = timeline::Request {
        query,
        schedules,
        source,
        until: now,
        time_zone: config.time_zone,
        environment: config.report.environment.clone(),
    };
    let result = runtime.block_on(async {
        let db = Db::open(&config.database, "batchbox/history").await?;
        db.ensure(SchemaNeed::Current).await?;
        let written = timeline::write_file(&db, &request, path, now).await;
        db.close().await;
        written
    });
    match result {
        Ok(written) => {
            eprintln!(
                "wrote {} ({} runs, {} missed fire times, {} rows; fire times from {})",
                path.display(),
                written.runs,
                written.missed,
                written.rows,
                request.source
            );
            if written.runs >= request.query.limit as usize {
                eprintln!(
                    "warning: only the newest {} runs are drawn; narrow --since or the filters, or raise --limit",
                    request.query.limit
                );
            }
            exit_code::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            exit_code::FAILURE
        }
    }
}

fn print_table(runs: &[RunRecord], now: DateTime<Utc>) {
    if runs.is_empty() {
        eprintln!("no runs match");
        return;
    }
    println!(
        "{:<19}  {:<18}  {:<11}  {:>4}  {:>9}  {:<36}  DETAILS",
        "STARTED (UTC)", "BATCH", "STATUS", "EXIT", "DURATION", "RUN ID"
    );
    for run in runs {
        let exit = run
            .exit_code
            .map(|c| c.to_string())
            .unwrap_or_else(|| "-".into());
        let duration = run
            .duration_ms()
            .map(|ms| format!("{:.1}s", ms as f64 / 1000.0))
            .unwrap_or_else(|| "-".into());
        println!(
            "{:<19}  {:<18}  {:<11}  {:>4}  {:>9}  {:<36}  {}",
            run.started_at.format("%Y-%m-%d %H:%M:%S"),
            run.batch,
            run.shown_status(now).as_str(),
            exit,
            duration,
            if run.run_id.is_empty() {
                "-"
            } else {
                &run.run_id
            },
            details(run)
        );
    }
}

/// The entry (when not the batch's own) and the launching run, then counts, then the error's
/// first line: what on-call reads first.
fn details(run: &RunRecord) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Some(entry) = run.entry.as_ref().filter(|entry| **entry != run.batch) {
        parts.push(format!("entry={entry}"));
    }
    if let Some(parent) = &run.parent_run_id {
        parts.push(format!("launched_by={parent}"));
    }
    parts.extend(
        run.counts
            .iter()
            .flat_map(|counts| counts.0.iter().map(|(k, v)| format!("{k}={v}"))),
    );
    if let Some(error) = &run.error {
        let first_line = error.lines().next().unwrap_or_default();
        let short: String = first_line.chars().take(120).collect();
        // A missed fire time's text says what happened instead; it is not a run's error.
        if run.shown_status(Utc::now()) == ShownStatus::Missed {
            parts.push(short);
        } else {
            parts.push(format!("error: {short}"));
        }
    }
    parts.join(" ")
}
