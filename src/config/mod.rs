//! Configuration from environment variables, read with envy, typed and grouped by concern: the
//! runtime's own groups here (database, run, logs, the company's time zone), each wing's in the
//! wing (the export's in `export::config`), all read with the machinery in `settings` so that
//! every problem in the environment is reported at once.

pub mod settings;

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Deserialize;
use sqlx::postgres::PgConnectOptions;
use sqlx::sqlite::SqliteConnectOptions;

use self::settings::{
    Bounded, DAY, MINUTE, SECOND, Setting, Var, field_names, read, unknown_variables,
};
pub use self::settings::{Problems, Within, process_env};
use crate::export::config::ExportConfig;
use crate::launch::LaunchConfig;
use crate::missed_runs::config::WatchConfig;
use crate::timeline::config::ReportConfig;

/// Everything a run reads from its environment.
#[derive(Debug, Clone)]
pub struct Config {
    pub database: DatabaseConfig,
    pub run: RunConfig,
    /// `EXPORT_TIME_ZONE` (the name predates other batches thinking in days): the company's time
    /// zone. Business days and months (`calendar::Period`) are calendar days and months in it,
    /// and datetimes in exported workbooks are shown in it.
    pub time_zone: Tz,
    pub export: ExportConfig,
    pub watch: WatchConfig,
    /// `REPORT_*`: where the time line page goes.
    pub report: ReportConfig,
    /// `LAUNCH_*`: what this run starts when its work is done (`None`: nothing).
    pub launch: Option<LaunchConfig>,
}

/// `DATABASE_*`: where run history and batch data live.
#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    /// `DATABASE_URL`; `None` selects the embedded SQLite file under `data_dir`.
    pub url: Option<DatabaseUrl>,
    /// `DATABASE_MAX_CONNECTIONS`: pool bound per task; dozens of tasks share one server.
    pub max_connections: u32,
    /// `DATABASE_ACQUIRE_TIMEOUT`: how long to wait for a connection before failing the run.
    pub acquire_timeout: Duration,
    /// `BATCH_DATA_DIR`: home of the embedded database when `DATABASE_URL` is unset.
    pub data_dir: PathBuf,
}

/// `BATCH_*` and what ECS sets: how one run behaves.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// `BATCH_MAX_RUNTIME`: overrides the batch's default time limit (`--max-runtime` wins).
    pub max_runtime: Option<Duration>,
    /// `BATCH_STOP_GRACE`: time a batch gets to release what it holds after a stop request.
    pub stop_grace: Duration,
    /// `BATCH_SCHEDULED_TIME`: the schedule event time this run serves (set by the EventBridge target).
    pub scheduled_time: Option<DateTime<Utc>>,
    /// `ECS_CONTAINER_METADATA_URI_V4`: set by ECS; used to record the task ARN.
    pub ecs_metadata_uri: Option<String>,
    /// `BATCH_ENTRY`: the catalog entry this run serves (set in each entry's task definition).
    pub entry: Option<String>,
    /// `BATCH_PARENT_RUN_ID`: the run that launched this one (see `launch`).
    pub parent_run_id: Option<String>,
}

/// `BATCH_ENTRY`: a catalog entry's name, as Terraform names resources after it.
#[derive(Debug, Clone)]
pub(crate) struct EntryName(pub String);

impl Setting for EntryName {
    fn parse(raw: &str) -> Result<Self, String> {
        let ok = (1..=64).contains(&raw.len())
            && raw
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if ok {
            Ok(EntryName(raw.to_owned()))
        } else {
            Err("expected a catalog entry name: 1-64 lowercase letters, digits and hyphens".into())
        }
    }
}

/// `BATCH_PARENT_RUN_ID`: a run id (a UUID, as every run id is).
#[derive(Debug, Clone)]
pub(crate) struct RunId(pub String);

impl Setting for RunId {
    fn parse(raw: &str) -> Result<Self, String> {
        uuid::Uuid::parse_str(raw)
            .map(|id| RunId(id.hyphenated().to_string()))
            .map_err(|_| "expected a run id (a UUID, as `batch history` shows)".into())
    }
}

/// `LOG_FORMAT` and `RUST_LOG`, read before anything else so that even configuration errors are
/// logged in the format the operator asked for.
#[derive(Debug)]
pub struct LogConfig {
    pub format: LogFormat,
    pub filter: LogFilter,
}

/// `RUST_LOG`, parsed: which of the lines other than the run's own are written.
#[derive(Debug)]
pub struct LogFilter(pub tracing_subscriber::EnvFilter);

impl Default for LogFilter {
    fn default() -> Self {
        LogFilter(tracing_subscriber::EnvFilter::new("info"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Pretty,
}

impl LogFormat {
    /// The format when `LOG_FORMAT` is unset: pretty for a person at a terminal (`cargo run --
    /// demo`), JSON anywhere else (ECS, pipes, tests), where a program reads the lines.
    pub fn default_for(at_terminal: bool) -> LogFormat {
        if at_terminal {
            LogFormat::Pretty
        } else {
            LogFormat::Json
        }
    }
}

/// The largest pool a task may ask for; more would defeat the point of bounding it.
const MAX_POOL: u32 = 64;
/// ECS waits 30 s after SIGTERM before SIGKILL; the grace plus recording the run (at most 4 s,
/// see `runtime`) must fit in 25 s.
const MAX_STOP_GRACE: Duration = Duration::from_secs(20);
const DEFAULT_STOP_GRACE: Duration = Duration::from_secs(15);

/// `DATABASE_URL`, parsed where it enters: a URL sqlx cannot parse is a configuration error
/// (exit 2), not a failed run. Debug never shows it: it carries a password.
#[derive(Clone)]
pub enum DatabaseUrl {
    Postgres(Box<PgConnectOptions>),
    Sqlite(Box<SqliteConnectOptions>),
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseUrl::Postgres(_) => f.write_str("DatabaseUrl::Postgres(***)"),
            DatabaseUrl::Sqlite(_) => f.write_str("DatabaseUrl::Sqlite(***)"),
        }
    }
}

/// Only the schemes batchbox can talk to; sqlx's own parser says whether the rest is valid.
impl Setting for DatabaseUrl {
    const SECRET: bool = true;
    fn parse(raw: &str) -> Result<Self, String> {
        // sqlx's messages may quote the URL, password included: they are never shown.
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            PgConnectOptions::from_str(raw)
                .map(|o| DatabaseUrl::Postgres(Box::new(o)))
                .map_err(|_| {
                    "is not a valid PostgreSQL URL (host, port, database or parameters)".into()
                })
        } else if raw.starts_with("sqlite:") {
            SqliteConnectOptions::from_str(raw)
                .map(|o| DatabaseUrl::Sqlite(Box::new(o)))
                .map_err(|_| "is not a valid SQLite URL such as sqlite:path?mode=rwc".into())
        } else {
            Err("expected a URL starting with postgres://, postgresql:// or sqlite:".into())
        }
    }
}

impl Setting for LogFormat {
    fn parse(raw: &str) -> Result<Self, String> {
        match raw {
            "json" => Ok(Self::Json),
            "pretty" => Ok(Self::Pretty),
            _ => Err("expected `json` or `pretty`".into()),
        }
    }
}

/// A malformed filter is an error, never silently replaced: an operator who asked for
/// `batchbox=debug` and got `info` would be misled about what the logs can show.
impl Setting for LogFilter {
    fn parse(raw: &str) -> Result<Self, String> {
        tracing_subscriber::EnvFilter::builder()
            .parse(raw)
            .map(LogFilter)
            .map_err(|e| {
                format!("expected tracing filter directives such as `info` or `batchbox=debug,sqlx=warn` ({e})")
            })
    }
}

/// A run's time limit (`BATCH_MAX_RUNTIME`, `--max-runtime`): a week is far beyond any batch,
/// and keeps every deadline derived from it representable.
pub type RunTime = Within<SECOND, { 7 * DAY }>;
/// How long a batch may stay stopped-but-busy (`canary --hold`): up to a run's longest limit.
pub type HoldTime = Within<0, { 7 * DAY }>;
/// `BATCH_STOP_GRACE`: the upper bound is what ECS allows, checked with its own message below.
type StopGrace = Within<1, DAY>;
/// `DATABASE_ACQUIRE_TIMEOUT`: SQLite keeps its busy timeout in a 32-bit count of milliseconds.
type AcquireTimeout = Within<100, { 10 * MINUTE }>;

/// Parses a run's time limit (the syntax of `--max-runtime`).
pub fn parse_run_time(raw: &str) -> Result<Duration, String> {
    RunTime::parse(raw).map(|d| d.0)
}

#[derive(Deserialize)]
struct DatabaseVars {
    #[serde(default)]
    url: Var<DatabaseUrl>,
    #[serde(default)]
    max_connections: Var<Bounded<1, MAX_POOL>>,
    #[serde(default)]
    acquire_timeout: Var<AcquireTimeout>,
}

#[derive(Deserialize)]
struct BatchVars {
    #[serde(default)]
    max_runtime: Var<RunTime>,
    #[serde(default)]
    stop_grace: Var<StopGrace>,
    #[serde(default)]
    scheduled_time: Var<DateTime<Utc>>,
    #[serde(default)]
    data_dir: Var<PathBuf>,
    #[serde(default)]
    entry: Var<EntryName>,
    #[serde(default)]
    parent_run_id: Var<RunId>,
}

/// The business calendar's one variable, under the export's prefix for compatibility.
#[derive(Deserialize)]
struct CalendarVars {
    #[serde(default)]
    time_zone: Var<Tz>,
}

#[derive(Deserialize)]
struct AwsVars {
    #[serde(default)]
    region: Var<String>,
    #[serde(default)]
    default_region: Var<String>,
}

#[derive(Deserialize)]
struct EcsVars {
    #[serde(default)]
    container_metadata_uri_v4: Var<String>,
}

#[derive(Deserialize)]
struct LogVars {
    #[serde(default, rename = "log_format")]
    format: Var<LogFormat>,
    #[serde(default, rename = "rust_log")]
    filter: Var<LogFilter>,
}

/// The groups whose prefixes are the project's own: under them, a variable batchbox does not
/// read is a mistake (`EXPORT_CONCURENCY=8` would otherwise run with the default, silently).
/// The names come from the groups' fields, so a new field is known as soon as it exists.
fn known_variables() -> Vec<(&'static str, Vec<String>)> {
    let named = |prefix: &'static str, fields: Vec<&str>| {
        let names = fields
            .iter()
            .map(|f| format!("{prefix}{}", f.to_ascii_uppercase()))
            .collect();
        (prefix, names)
    };
    vec![
        named("DATABASE_", field_names::<DatabaseVars>().to_vec()),
        named("BATCH_", field_names::<BatchVars>().to_vec()),
        named(
            "EXPORT_",
            [field_names::<CalendarVars>(), ExportConfig::variables()].concat(),
        ),
        named("WATCH_", WatchConfig::variables().to_vec()),
        named("LAUNCH_", LaunchConfig::variables().to_vec()),
        named("REPORT_", ReportConfig::variables().to_vec()),
    ]
}

impl LogConfig {
    /// Never fails, so that even a run with a bad `LOG_FORMAT` or `RUST_LOG` logs its start and
    /// end: the bad value falls back to the default and is reported with the other problems.
    /// `at_terminal`: whether the logs go to a terminal (see `LogFormat::default_for`).
    pub fn from_vars(vars: &[(String, String)], at_terminal: bool) -> (LogConfig, Problems) {
        let mut problems = Problems::default();
        let raw: Option<LogVars> = read("", vars, &mut problems);
        let (format, filter) = raw.map_or((Var::Unset, Var::Unset), |r| (r.format, r.filter));
        let config = LogConfig {
            format: problems.or_default("LOG_FORMAT", format, LogFormat::default_for(at_terminal)),
            filter: problems.or_default("RUST_LOG", filter, LogFilter::default()),
        };
        (config, problems)
    }
}

impl Config {
    /// Reads every group and reports every problem, or returns the typed configuration.
    pub fn from_vars(vars: &[(String, String)]) -> Result<Config, Problems> {
        let mut p = Problems::default();
        let database: Option<DatabaseVars> = read("DATABASE_", vars, &mut p);
        let batch: Option<BatchVars> = read("BATCH_", vars, &mut p);
        let ecs: Option<EcsVars> = read("ECS_", vars, &mut p);
        let calendar: Option<CalendarVars> = read("EXPORT_", vars, &mut p);
        let aws: Option<AwsVars> = read("AWS_", vars, &mut p);
        unknown_variables(&known_variables(), vars, &mut p);
        let (Some(database), Some(batch), Some(ecs), Some(calendar), Some(aws)) =
            (database, batch, ecs, calendar, aws)
        else {
            return Err(p);
        };

        let stop_grace = p
            .or_default(
                "BATCH_STOP_GRACE",
                batch.stop_grace,
                Within(DEFAULT_STOP_GRACE),
            )
            .0;
        if stop_grace > MAX_STOP_GRACE {
            p.add(
                "BATCH_STOP_GRACE",
                format!(
                    "must be at most {}s so the run ends before ECS kills it",
                    MAX_STOP_GRACE.as_secs()
                ),
            );
        }
        let data_dir = p.or_default(
            "BATCH_DATA_DIR",
            batch.data_dir,
            PathBuf::from("batchbox-data"),
        );
        let Some(export) = ExportConfig::from_vars(vars, &data_dir, &mut p) else {
            return Err(p);
        };
        let Some(watch) = WatchConfig::from_vars(vars, &mut p) else {
            return Err(p);
        };
        let Some(report) = ReportConfig::from_vars(vars, &mut p) else {
            return Err(p);
        };
        let ecs_metadata_uri = p.optional(
            "ECS_CONTAINER_METADATA_URI_V4",
            ecs.container_metadata_uri_v4,
        );
        let Some(launch) = LaunchConfig::from_vars(vars, ecs_metadata_uri.is_some(), &mut p) else {
            return Err(p);
        };
        let region = p.optional("AWS_REGION", aws.region);
        let default_region = p.optional("AWS_DEFAULT_REGION", aws.default_region);
        if export.storage.bucket.is_some() && region.is_none() && default_region.is_none() {
            p.add(
                "AWS_REGION",
                "is missing; it is required with EXPORT_BUCKET (ECS sets it)".into(),
            );
        }
        let config = Config {
            time_zone: p.or_default(
                "EXPORT_TIME_ZONE",
                calendar.time_zone,
                chrono_tz::Asia::Tokyo,
            ),
            export,
            watch,
            report,
            launch,
            database: DatabaseConfig {
                url: p.optional("DATABASE_URL", database.url),
                max_connections: p
                    .or_default(
                        "DATABASE_MAX_CONNECTIONS",
                        database.max_connections,
                        Bounded(4),
                    )
                    .0,
                acquire_timeout: p
                    .or_default(
                        "DATABASE_ACQUIRE_TIMEOUT",
                        database.acquire_timeout,
                        Within(Duration::from_secs(30)),
                    )
                    .0,
                data_dir: data_dir.clone(),
            },
            run: RunConfig {
                max_runtime: p
                    .optional("BATCH_MAX_RUNTIME", batch.max_runtime)
                    .map(|d| d.0),
                stop_grace,
                scheduled_time: p.optional("BATCH_SCHEDULED_TIME", batch.scheduled_time),
                ecs_metadata_uri,
                entry: p.optional("BATCH_ENTRY", batch.entry).map(|e| e.0),
                parent_run_id: p
                    .optional("BATCH_PARENT_RUN_ID", batch.parent_run_id)
                    .map(|id| id.0),
            },
        };
        // On ECS the embedded SQLite file would live and die with the task: a forgotten secret
        // must fail loudly, not succeed against an empty throwaway database.
        if config.run.ecs_metadata_uri.is_some() && config.database.url.is_none() {
            p.add(
                "DATABASE_URL",
                "is missing; it is required on ECS (the embedded database is for local runs only)"
                    .into(),
            );
        }
        if p.is_empty() { Ok(config) } else { Err(p) }
    }

    /// The configuration of one run of a batch: `from_vars`, plus what batches that write
    /// exports need (see `ExportConfig::check_for_run`).
    pub fn for_run(vars: &[(String, String)], writes_exports: bool) -> Result<Config, Problems> {
        let config = Config::from_vars(vars)?;
        let mut p = Problems::default();
        if writes_exports {
            let on_ecs = config.run.ecs_metadata_uri.is_some();
            config
                .export
                .check_for_run(&config.database, on_ecs, &mut p);
        }
        if p.is_empty() { Ok(config) } else { Err(p) }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An environment from pairs, for tests of any group.
    pub(crate) fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn an_empty_environment_selects_the_embedded_defaults() {
        let config = Config::from_vars(&[]).expect("defaults are valid");
        assert!(config.database.url.is_none());
        assert_eq!(config.database.max_connections, 4);
        assert_eq!(config.run.stop_grace, Duration::from_secs(15));
        assert_eq!(config.run.max_runtime, None);
    }

    #[test]
    fn every_bad_variable_is_reported_by_name_at_once() {
        let problems = Config::from_vars(&vars(&[
            ("DATABASE_URL", "mysql://root:hunter2@db/x"),
            ("DATABASE_MAX_CONNECTIONS", "lots"),
            ("BATCH_MAX_RUNTIME", "soon"),
            ("BATCH_STOP_GRACE", "1m"),
            ("BATCH_SCHEDULED_TIME", "yesterday"),
        ]))
        .unwrap_err();
        assert_eq!(
            problems.variables(),
            [
                "BATCH_MAX_RUNTIME",
                "BATCH_SCHEDULED_TIME",
                "BATCH_STOP_GRACE",
                "DATABASE_MAX_CONNECTIONS",
                "DATABASE_URL"
            ]
        );
        let text = problems.to_string();
        assert!(!text.contains("hunter2"), "secret leaked: {text}");
        assert!(
            text.contains("`lots`"),
            "non-secret values help the reader: {text}"
        );
    }

    #[test]
    fn on_ecs_a_missing_database_url_is_an_error() {
        let problems = Config::from_vars(&vars(&[(
            "ECS_CONTAINER_METADATA_URI_V4",
            "http://169.254.170.2/v4/x",
        )]))
        .unwrap_err();
        assert_eq!(problems.variables(), ["DATABASE_URL"]);
    }

    #[test]
    fn an_empty_value_is_a_problem_not_a_default() {
        let problems = Config::from_vars(&vars(&[("DATABASE_MAX_CONNECTIONS", " ")])).unwrap_err();
        assert_eq!(problems.variables(), ["DATABASE_MAX_CONNECTIONS"]);
    }

    #[test]
    fn a_pool_smaller_than_the_lanes_plus_one_is_rejected_naming_both_variables() {
        let starved = vars(&[
            ("EXPORT_CONCURRENCY", "16"),
            ("DATABASE_MAX_CONNECTIONS", "1"),
        ]);
        let problems = Config::for_run(&starved, true).unwrap_err();
        assert_eq!(problems.variables(), ["DATABASE_MAX_CONNECTIONS"]);
        let text = problems.to_string();
        assert!(text.contains("EXPORT_CONCURRENCY=16"), "{text}");
        assert!(text.contains("at least 17"), "{text}");
        let exact = vars(&[
            ("EXPORT_CONCURRENCY", "3"),
            ("DATABASE_MAX_CONNECTIONS", "4"),
        ]);
        assert!(Config::for_run(&exact, true).is_ok());
        assert!(
            Config::for_run(&starved, false).is_ok(),
            "batches without export lanes are not concerned"
        );
    }

    #[test]
    fn the_known_variables_are_exactly_those_the_configuration_page_lists() {
        let page = include_str!("../../docs/configuration.md");
        let documented: std::collections::BTreeSet<&str> = page
            .lines()
            .filter_map(|line| line.strip_prefix("| `")?.split('`').next())
            .filter(|name| {
                [
                    "DATABASE_",
                    "BATCH_",
                    "EXPORT_",
                    "WATCH_",
                    "LAUNCH_",
                    "REPORT_",
                ]
                .iter()
                .any(|p| name.starts_with(p))
            })
            .collect();
        let known: std::collections::BTreeSet<String> = known_variables()
            .into_iter()
            .flat_map(|(_, names)| names)
            .collect();
        let known: std::collections::BTreeSet<&str> = known.iter().map(String::as_str).collect();
        assert_eq!(documented, known);
    }

    #[test]
    fn a_misspelled_variable_names_the_closest_known_one() {
        let problems = Config::from_vars(&vars(&[("EXPORT_CONCURENCY", "8")])).unwrap_err();
        assert_eq!(problems.variables(), ["EXPORT_CONCURENCY"]);
        assert!(
            problems
                .to_string()
                .contains("did you mean EXPORT_CONCURRENCY?")
        );
    }

    #[test]
    fn durations_outside_their_range_are_refused() {
        for (variable, value) in [
            ("BATCH_MAX_RUNTIME", "300000y"),
            ("EXPORT_LEASE", "1ns"),
            ("EXPORT_RETRY_BASE", "300000y"),
            ("DATABASE_ACQUIRE_TIMEOUT", "30d"),
        ] {
            let problems = Config::from_vars(&vars(&[(variable, value)])).unwrap_err();
            assert_eq!(problems.variables(), [variable]);
        }
        let config = Config::from_vars(&vars(&[("EXPORT_LEASE", "2s")])).unwrap();
        assert_eq!(config.export.lease, Duration::from_secs(2));
    }

    #[test]
    fn a_bad_log_format_falls_back_to_json_and_is_reported() {
        let (config, problems) = LogConfig::from_vars(&vars(&[("LOG_FORMAT", "xml")]), false);
        assert_eq!(config.format, LogFormat::Json);
        assert_eq!(problems.variables(), ["LOG_FORMAT"]);
    }

    #[test]
    fn logs_are_pretty_at_a_terminal_and_json_elsewhere_unless_log_format_says() {
        assert_eq!(LogFormat::default_for(true), LogFormat::Pretty);
        assert_eq!(LogFormat::default_for(false), LogFormat::Json);
        for at_terminal in [true, false] {
            let json = LogConfig::from_vars(&vars(&[("LOG_FORMAT", "json")]), at_terminal);
            assert_eq!(json.0.format, LogFormat::Json);
            let pretty = LogConfig::from_vars(&vars(&[("LOG_FORMAT", "pretty")]), at_terminal);
            assert_eq!(pretty.0.format, LogFormat::Pretty);
        }
        let (at_terminal, _) = LogConfig::from_vars(&[], true);
        assert_eq!(at_terminal.format, LogFormat::Pretty);
    }

    #[test]
    fn a_malformed_rust_log_is_reported_not_replaced_silently() {
        for raw in ["batchbox=loud", "[[[", "info,sqlx=sometimes"] {
            let (config, problems) = LogConfig::from_vars(&vars(&[("RUST_LOG", raw)]), false);
            assert_eq!(problems.variables(), ["RUST_LOG"], "{raw}");
            assert!(problems.to_string().contains(raw), "{problems}");
            assert_eq!(config.filter.0.to_string(), "info", "{raw}");
        }
    }

    #[test]
    fn rust_log_directives_are_accepted_as_written() {
        for raw in ["warn", "off", "batchbox=debug,sqlx=warn", "info,foo=debug"] {
            let (config, problems) = LogConfig::from_vars(&vars(&[("RUST_LOG", raw)]), false);
            assert!(problems.is_empty(), "{raw}: {problems}");
            // EnvFilter shows its directives most specific first.
            let sorted = |text: &str| {
                let mut directives: Vec<String> = text.split(',').map(str::to_owned).collect();
                directives.sort();
                directives
            };
            assert_eq!(sorted(&config.filter.0.to_string()), sorted(raw));
        }
    }
}
