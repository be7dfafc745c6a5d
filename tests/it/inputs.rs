//! Every input is checked where it enters: object keys that cannot leave their prefix, bounded
//! durations, dates and counts, usage errors that are usage errors, misspelled variables, and the
//! embedded database's first use by two runs at once.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Instant;

use crate::helpers::export::{self as ex, TZ};
use crate::helpers::s3::S3Server;
use crate::helpers::{Backend, Sandbox};
use batchbox::calendar::Period;
use batchbox::export::form::ColumnKind;
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestCaseError, TestRunner};
use serde_json::{Value, json};

/// Slugs that must never become a path: each fails its own job, naming the slug.
const HOSTILE_SLUGS: &[&str] = &["..", ".", "", "a/../b", "..\\up", "new\nline"];
/// A slug with a space and Japanese text is a folder name like any other, kept as it is.
const PLAIN_SLUG: &str = "東京 支社";

/// One tenant per slug, each with one record yesterday; returns (slug, form id) pairs.
fn tenants_with_records(db: &Sandbox, slugs: &[&str]) -> Vec<(String, i64)> {
    let day = ex::yesterday();
    let (start, _) = Period::day(day).utc_bounds(TZ);
    let forms = slugs
        .iter()
        .map(|slug| {
            let (tenant, form) = ex::make_form(db, slug, "Visits", &[("Label", ColumnKind::Text)]);
            ex::insert(
                db,
                tenant,
                form,
                vec![(start + chrono::Duration::hours(1), vec![json!("x")])],
            );
            (slug.to_string(), form)
        })
        .collect();
    db.run(&["export-enqueue", "--date", &day.to_string()])
        .assert_code(0);
    forms
}

/// Runs the worker once and checks that exactly the plain slug's job succeeded, at its key, and
/// that every hostile one failed at once (a slug that cannot be a key never will be: no retry,
/// although each job has 3 attempts), naming its slug. Returns the key.
fn export_and_check_hostile_jobs(db: &Sandbox) -> String {
    let forms = tenants_with_records(db, &[HOSTILE_SLUGS, &[PLAIN_SLUG]].concat());
    let worker = db.run(&["export-worker"]);
    worker.assert_code(1);
    let day = ex::yesterday();
    let mut good_key = None;
    for job in ex::jobs(db) {
        let (slug, form) = forms
            .iter()
            .find(|(_, form)| *form == job.form_id)
            .expect("a job of one of our forms");
        if slug == PLAIN_SLUG {
            assert_eq!(job.status, "succeeded", "{job:?}");
            let key = job.object_key.clone().unwrap();
            assert_eq!(key, format!("exports/{PLAIN_SLUG}/form-{form}/{day}.xlsx"));
            good_key = Some(key);
        } else {
            assert_eq!(job.status, "failed", "slug {slug:?}: {job:?}");
            assert_eq!(job.attempts, 1, "failed at once: {job:?}");
            let error = job.last_error.as_deref().unwrap();
            assert!(
                error.contains(&format!("{slug:?}")),
                "slug {slug:?}: {error}"
            );
            assert_eq!(job.object_key, None);
        }
    }
    good_key.expect("the plain slug's job")
}

fn files_under(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
}

both_backends!(hostile_tenant_slugs_never_leave_the_prefix_on_s3, |db| {
    let s3 = S3Server::start(&db.dir.path().join("s3"));
    db.set_env(s3.env());
    let key = export_and_check_hostile_jobs(db);
    assert_eq!(s3.keys(), [key], "one object, under the prefix");
});

both_backends!(
    hostile_tenant_slugs_never_leave_the_prefix_on_local_storage,
    |db| {
        let area = db.dir.path().join("area");
        let local_dir = area.join("local");
        db.set_env([("EXPORT_LOCAL_DIR", local_dir.display().to_string())]);
        let key = export_and_check_hostile_jobs(db);
        assert_eq!(files_under(&area), [local_dir.join(&key)]);
    }
);

/// Runs `batch` with `env`; returns the output and the variables its `invalid configuration`
/// lines name.
fn rejected_variables(db: &Sandbox, args: &[&str], env: &[(&str, &str)]) -> BTreeSet<String> {
    let output = db.run_with(args, env);
    output.assert_code(2);
    output
        .json_lines()
        .iter()
        .filter(|l| l["message"] == "invalid configuration")
        .map(|l| l["variable"].as_str().unwrap().to_owned())
        .collect()
}

fn no_run_of(db: &Sandbox, batch: &str) {
    assert_eq!(
        db.history(&["--batch", batch]),
        Vec::<Value>::new(),
        "a usage error records no run"
    );
}

both_backends!(
    an_export_prefix_that_is_not_plain_names_is_a_configuration_error,
    |db| {
        for prefix in [
            ".", "./", "..", "a/../b", "a//b", "/exports", "a\\b", "a/./b",
        ] {
            assert_eq!(
                rejected_variables(db, &["export-worker"], &[("EXPORT_PREFIX", prefix)]),
                BTreeSet::from(["EXPORT_PREFIX".to_owned()]),
                "EXPORT_PREFIX={prefix:?}"
            );
        }
        no_run_of(db, "export-worker");
    }
);

both_backends!(a_prefix_of_several_names_nests_the_keys, |db| {
    let local_dir = db.dir.path().join("local");
    db.set_env([
        ("EXPORT_LOCAL_DIR", local_dir.display().to_string()),
        ("EXPORT_PREFIX", "a/b".to_owned()),
    ]);
    let forms = tenants_with_records(db, &["acme"]);
    db.run(&["export-worker"]).assert_code(0);
    let key = format!("a/b/acme/form-{}/{}.xlsx", forms[0].1, ex::yesterday());
    assert_eq!(ex::jobs(db)[0].object_key.as_deref(), Some(key.as_str()));
    assert_eq!(files_under(&local_dir), [local_dir.join(key)]);
});

both_backends!(
    durations_beyond_their_bounds_are_configuration_errors_naming_the_variable,
    |db| {
        for (variable, value) in [
            ("BATCH_MAX_RUNTIME", "300000y"),
            ("EXPORT_LEASE", "300000y"),
            ("EXPORT_RETRY_BASE", "300000y"),
            ("DATABASE_ACQUIRE_TIMEOUT", "30d"),
            ("BATCH_STOP_GRACE", "300000y"),
            ("EXPORT_LEASE", "1ns"),
        ] {
            assert_eq!(
                rejected_variables(db, &["export-worker"], &[(variable, value)]),
                BTreeSet::from([variable.to_owned()]),
                "{variable}={value}"
            );
        }
        no_run_of(db, "export-worker");
    }
);

both_backends!(dates_and_durations_on_the_command_line_are_bounded, |db| {
    for args in [
        &["export-enqueue", "--date", "+262142-12-31"][..],
        &[
            "export-enqueue",
            "--to",
            "1970-01-01",
            "--from",
            "1969-12-31",
        ],
        &["export-enqueue", "--monthly", "--month", "+262142-12"],
        &["history", "--since", "300000y"],
        &["history", "--since", "+262142-12-31"],
        &["canary", "--max-runtime", "300000y"],
        &["canary", "--hold", "300000y"],
        &["demo-seed", "--records", "18446744073709551615"],
    ] {
        let output = db.run(args);
        output.assert_code(2);
        let option = args[args.len() - 2];
        assert!(
            output.stderr.contains(option) && !output.stderr.contains("panicked"),
            "{args:?}: {}",
            output.stderr
        );
    }
    no_run_of(db, "export-enqueue");
});

both_backends!(
    a_day_that_did_not_exist_in_the_zone_is_an_empty_period,
    |db| {
        let output = db.run_with(
            &["export-enqueue", "--date", "2011-12-30"],
            &[("EXPORT_TIME_ZONE", "Pacific/Apia")],
        );
        output.assert_code(0);
    }
);

both_backends!(from_after_to_is_a_usage_error_with_no_run_recorded, |db| {
    let output = db.run(&[
        "export-enqueue",
        "--from",
        "2026-11-20",
        "--to",
        "2026-11-01",
    ]);
    output.assert_code(2);
    assert!(
        output
            .stderr
            .contains("--from 2026-11-20 is after --to 2026-11-01"),
        "{}",
        output.stderr
    );
    let too_long = db.run(&[
        "export-enqueue",
        "--from",
        "2020-01-01",
        "--to",
        "2026-01-01",
    ]);
    too_long.assert_code(2);
    no_run_of(db, "export-enqueue");
});

#[test]
fn a_database_url_that_cannot_be_parsed_is_a_configuration_error_and_keeps_its_secret() {
    let db = Sandbox::new(Backend::Sqlite);
    for url in [
        "postgres://batch:hunter2@db.internal:notaport/batchbox",
        "postgres://batch:hunter2@db.internal/batchbox?sslmode=sometimes",
        "sqlite:x.sqlite3?mode=sometimes&pw=hunter2",
    ] {
        let output = db.run_with(&["canary"], &[("DATABASE_URL", url)]);
        output.assert_code(2);
        let problems: Vec<Value> = output
            .json_lines()
            .into_iter()
            .filter(|l| l["message"] == "invalid configuration")
            .collect();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0]["variable"], "DATABASE_URL");
        assert!(!output.stdout.contains("hunter2"), "{}", output.stdout);
    }
}

#[test]
fn a_misspelled_variable_is_reported_with_the_closest_known_one() {
    let db = Sandbox::migrated(Backend::Sqlite);
    let output = db.run_with(
        &["export-worker"],
        &[("EXPORT_CONCURENCY", "8"), ("BATCH_MAX_RUNTIM", "5m")],
    );
    output.assert_code(2);
    let problems: Vec<(String, String)> = output
        .json_lines()
        .iter()
        .filter(|l| l["message"] == "invalid configuration")
        .map(|l| {
            (
                l["variable"].as_str().unwrap().to_owned(),
                l["problem"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert_eq!(problems[0].0, "BATCH_MAX_RUNTIM");
    assert!(problems[0].1.contains("BATCH_MAX_RUNTIME"), "{problems:?}");
    assert_eq!(problems[1].0, "EXPORT_CONCURENCY");
    assert!(problems[1].1.contains("EXPORT_CONCURRENCY"), "{problems:?}");
    no_run_of(&db, "export-worker");
    // `history` reads the same configuration, and says so the same way.
    let history = db.run_with(&["history"], &[("EXPORT_CONCURENCY", "8")]);
    history.assert_code(2);
    assert!(
        history.stderr.contains("EXPORT_CONCURRENCY"),
        "{}",
        history.stderr
    );
}

/// `batch ARGS` on the embedded default (no DATABASE_URL) in `data_dir`, started now.
fn embedded(db: &Sandbox, data_dir: &Path, args: &[&str]) -> std::process::Child {
    let mut command = db.command(args);
    command
        .env_remove("DATABASE_URL")
        .env("BATCH_DATA_DIR", data_dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command.spawn().expect("spawn batch")
}

#[test]
fn two_batches_started_together_on_a_fresh_embedded_database_both_work() {
    let db = Sandbox::new(Backend::Sqlite);
    for round in 0..5 {
        let data_dir = db.dir.path().join(format!("fresh-{round}"));
        let children = [
            embedded(&db, &data_dir, &["canary"]),
            embedded(&db, &data_dir, &["history-prune"]),
        ];
        for child in children {
            let output = child.wait_with_output().unwrap();
            let stdout = String::from_utf8_lossy(&output.stdout);
            assert_eq!(output.status.code(), Some(0), "round {round}: {stdout}");
            assert!(
                !stdout.contains("already exists"),
                "round {round}: {stdout}"
            );
        }
    }
}

fn migrations(backend: Backend) -> usize {
    let dir = match backend {
        Backend::Postgres => "migrations/postgres",
        Backend::Sqlite => "migrations/sqlite",
    };
    std::fs::read_dir(crate::helpers::repo_root().join(dir))
        .unwrap()
        .count()
}

fn applied(output: &Output) -> i64 {
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    crate::helpers::finished_line(&crate::helpers::json_lines(&stdout))["counts"]["applied"]
        .as_i64()
        .unwrap_or(0)
}

#[test]
fn concurrent_migrate_runs_report_what_each_applied_postgres() {
    concurrent_migrate_runs_report_what_each_applied(Backend::Postgres, 3, 2);
}

/// Many rounds on SQLite: a fresh file switched to WAL by one process can answer the other with
/// SQLITE_BUSY without waiting. Two processes at a time hit it most often (several rounds in 100
/// before opening was retried); 300 rounds failed every run of the old code.
#[test]
fn concurrent_migrate_runs_report_what_each_applied_sqlite() {
    concurrent_migrate_runs_report_what_each_applied(Backend::Sqlite, 300, 2);
}

fn concurrent_migrate_runs_report_what_each_applied(
    backend: Backend,
    rounds: usize,
    processes: usize,
) {
    for round in 0..rounds {
        let db = Sandbox::new(backend);
        let children: Vec<_> = (0..processes)
            .map(|_| {
                db.command(&["migrate"])
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let total: i64 = children
            .into_iter()
            .map(|child| applied(&child.wait_with_output().unwrap()))
            .sum();
        assert_eq!(total as usize, migrations(backend), "round {round}");
        if round == 0 {
            db.run(&["canary"]).assert_code(0);
        }
    }
}

/// Values that reach the edges: arbitrary text, numbers with every duration unit, signed and
/// long-year dates, and URL-like strings.
fn hostile_value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[0-9]{1,22} ?(ns|us|ms|s|m|h|d|w|M|y|years|)",
        "[+-]?[0-9]{1,7}-[0-9]{1,3}-[0-9]{1,3}(T[0-9]{2}:[0-9]{2}:[0-9]{2}(Z|[+-][0-9]{2}:[0-9]{2}))?",
        "[+-]?[0-9]{1,7}-[0-9]{1,3}",
        "-?[0-9]{1,25}",
        "(postgres|postgresql)://[a-z:@]{0,8}[^ ]{0,12}",
        "sqlite:[^?]{0,8}(\\?[a-z=&]{0,16})?",
        "[./\\\\a]{0,6}",
    ]
    .prop_map(|v| v.replace('\0', ""))
}

/// Every variable `batch` reads (and the closest misspellings are covered by their own test).
const VARIABLES: &[&str] = &[
    "DATABASE_URL",
    "DATABASE_MAX_CONNECTIONS",
    "DATABASE_ACQUIRE_TIMEOUT",
    "BATCH_MAX_RUNTIME",
    "BATCH_STOP_GRACE",
    "BATCH_SCHEDULED_TIME",
    "BATCH_DATA_DIR",
    "EXPORT_BUCKET",
    "EXPORT_PREFIX",
    "EXPORT_KMS_KEY_ID",
    "EXPORT_S3_FORCE_PATH_STYLE",
    "EXPORT_LOCAL_DIR",
    "EXPORT_TIME_ZONE",
    "EXPORT_TENANT_ALLOWLIST",
    "EXPORT_CONCURRENCY",
    "WATCH_SCHEDULES",
    "WATCH_TOPIC_ARN",
    "WATCH_CHAT_TOPIC_ARN",
    "WATCH_ENVIRONMENT",
    "EXPORT_MAX_ATTEMPTS",
    "EXPORT_RETRY_BASE",
    "EXPORT_LEASE",
    "EXPORT_ZIP_LEVEL",
    "EXPORT_TEMP_DIR",
    "LOG_FORMAT",
    "RUST_LOG",
];

/// Every option that takes a value, as `batch` arguments around the value (`{}`).
const OPTIONS: &[&[&str]] = &[
    &["export-enqueue", "--date", "{}"],
    &["export-enqueue", "--from", "{}", "--to", "2026-11-20"],
    &["export-enqueue", "--from", "2026-11-01", "--to", "{}"],
    &["export-enqueue", "--monthly", "--month", "{}"],
    &["export-requeue", "--job", "{}"],
    &["history", "--since", "{}"],
    &["history", "--limit", "{}"],
    &["history", "--status", "{}"],
    &["history", "--batch", "{}"],
    &["history-prune", "--older-than-days", "{}"],
    &["canary", "--max-runtime", "{}"],
    &["demo-seed", "--days", "{}", "--records", "0"],
    &["{}"],
];

fn never_panics(db: &Sandbox, args: &[String], env: &[(&str, &str)]) -> Result<(), TestCaseError> {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = db.run_with(&args, env);
    let all = format!("{}{}", output.stdout, output.stderr);
    prop_assert!(
        [0, 1, 2].contains(&output.code) && !all.contains("panicked"),
        "batch {args:?} with {env:?} exited {}:\n{all}",
        output.code
    );
    Ok(())
}

/// Cases per variable and per option: each spawns `batch` (about 25 ms), so the whole property
/// takes about a minute.
const CASES: u32 = 64;

/// Arbitrary text in every variable and every option: `batch` answers 0, 1 or 2, never a panic
/// (101). On SQLite in a temporary directory; `export-worker` reads every variable and, with an
/// empty queue, finishes at once when they are valid.
#[test]
fn arbitrary_variables_and_options_never_panic() {
    let db = Sandbox::migrated(Backend::Sqlite);
    let started = Instant::now();
    let config = || ProptestConfig {
        cases: CASES,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    for variable in VARIABLES {
        TestRunner::new(config())
            .run(&hostile_value(), |value| {
                // A database URL may name a host that never answers: give up on it quickly.
                let env = [
                    (*variable, value.as_str()),
                    ("DATABASE_ACQUIRE_TIMEOUT", "2s"),
                ];
                let env = if *variable == "DATABASE_ACQUIRE_TIMEOUT" {
                    &env[..1]
                } else {
                    &env[..]
                };
                never_panics(&db, &["export-worker".to_owned()], env)
            })
            .unwrap_or_else(|e| panic!("{variable}: {e}"));
    }
    for option in OPTIONS {
        TestRunner::new(config())
            .run(&hostile_value(), |value| {
                let args: Vec<String> = option.iter().map(|a| a.replace("{}", &value)).collect();
                never_panics(&db, &args, &[])
            })
            .unwrap_or_else(|e| panic!("{option:?}: {e}"));
    }
    // Each zone with a day near its oddities: the whole run, not only the period arithmetic.
    TestRunner::new(config())
        .run(
            &(
                proptest::sample::select(chrono_tz::TZ_VARIANTS.to_vec()),
                (1970i32..2040, 1u32..13, 1u32..32),
            ),
            |(zone, (year, month, day))| {
                let date = format!("{year}-{month:02}-{day:02}");
                never_panics(
                    &db,
                    &["export-enqueue".into(), "--date".into(), date],
                    &[("EXPORT_TIME_ZONE", zone.name())],
                )
            },
        )
        .unwrap();
    eprintln!(
        "{} cases in {:?}",
        CASES as usize * (VARIABLES.len() + OPTIONS.len() + 1),
        started.elapsed()
    );
}
