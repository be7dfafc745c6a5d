//! The command line as ECS and people use it: naming batches, listing them, configuration errors.

use crate::helpers::{Backend, Sandbox};
use serde_json::Value;

#[test]
fn an_unknown_batch_exits_2_and_lists_the_known_batches() {
    let db = Sandbox::new(Backend::Sqlite);
    let output = db.run(&["export-wroker"]);
    output.assert_code(2);
    assert!(
        output.stderr.contains("unknown batch `export-wroker`"),
        "{}",
        output.stderr
    );
    for batch in batchbox::batches::REGISTRY {
        assert!(
            output.stderr.contains(batch.name),
            "{} missing from:\n{}",
            batch.name,
            output.stderr
        );
    }
    assert!(
        output.stdout.is_empty(),
        "nothing on stdout: {}",
        output.stdout
    );
}

#[test]
fn list_json_parses_and_names_every_batch() {
    let db = Sandbox::new(Backend::Sqlite);
    let output = db.run(&["list", "--json"]);
    output.assert_code(0);
    let listed: Vec<Value> = serde_json::from_str(&output.stdout).expect("list --json is JSON");
    let names: Vec<&str> = listed.iter().map(|b| b["name"].as_str().unwrap()).collect();
    let registered: Vec<&str> = batchbox::batches::REGISTRY.iter().map(|b| b.name).collect();
    assert_eq!(names, registered);
    let prune = listed
        .iter()
        .find(|b| b["name"] == "history-prune")
        .unwrap();
    assert_eq!(prune["exclusive"], true);
    assert!(!prune["description"].as_str().unwrap().is_empty());
    let options: Vec<&str> = prune["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o.as_str().unwrap())
        .collect();
    assert!(
        options.contains(&"--older-than-days") && options.contains(&"--max-runtime"),
        "{options:?}"
    );
}

#[test]
fn list_prints_each_batch_with_its_description() {
    let output = Sandbox::new(Backend::Sqlite).run(&["list"]);
    output.assert_code(0);
    for batch in batchbox::batches::REGISTRY {
        let line = output
            .stdout
            .lines()
            .find(|l| l.starts_with(batch.name))
            .expect("a line per batch");
        assert!(line.contains(batch.about), "{line}");
    }
}

/// The README shows `batch list` as it is, so a new batch cannot be left out of it.
#[test]
fn the_readme_shows_what_batch_list_prints() {
    let output = Sandbox::new(Backend::Sqlite).run(&["list"]);
    output.assert_code(0);
    let readme = std::fs::read_to_string(crate::helpers::repo_root().join("README.md")).unwrap();
    let shown = readme
        .split("$ batch list\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("README.md shows `$ batch list` in a console block");
    assert_eq!(
        shown, output.stdout,
        "update README.md's `batch list` block"
    );
}

#[test]
fn a_batch_help_explains_the_batch_and_its_options() {
    let output = Sandbox::new(Backend::Sqlite).run(&["history-prune", "--help"]);
    output.assert_code(0);
    for expected in [
        "--older-than-days",
        "--max-runtime",
        "Exclusive: yes",
        "batch_runs",
    ] {
        assert!(
            output.stdout.contains(expected),
            "`{expected}` missing from:\n{}",
            output.stdout
        );
    }
}

#[test]
fn a_bad_option_is_a_usage_error_before_any_run() {
    let db = Sandbox::new(Backend::Sqlite);
    let output = db.run(&["history-prune", "--older-than-days", "0"]);
    output.assert_code(2);
    assert!(
        output.stderr.contains("--older-than-days"),
        "{}",
        output.stderr
    );
    assert!(
        output.stdout.is_empty(),
        "no run started: {}",
        output.stdout
    );
}

#[test]
fn missing_and_malformed_variables_exit_2_each_named_without_secrets() {
    let db = Sandbox::new(Backend::Sqlite);
    let mut command = db.command(&["canary"]);
    command
        .env_remove("DATABASE_URL")
        .env(
            "ECS_CONTAINER_METADATA_URI_V4",
            "http://127.0.0.1:9/v4/task",
        ) // on ECS: URL required
        .env("DATABASE_MAX_CONNECTIONS", "many")
        .env("BATCH_MAX_RUNTIME", "forever")
        .env("LOG_FORMAT", "xml");
    let output = command.output().expect("run batch");
    assert_eq!(output.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let lines = crate::helpers::json_lines(&stdout);
    let named: Vec<&str> = lines
        .iter()
        .filter(|l| l["message"] == "invalid configuration")
        .map(|l| l["variable"].as_str().unwrap())
        .collect();
    assert_eq!(
        named,
        [
            "BATCH_MAX_RUNTIME",
            "DATABASE_MAX_CONNECTIONS",
            "DATABASE_URL",
            "LOG_FORMAT"
        ]
    );
    let finished = crate::helpers::finished_line(&lines);
    assert_eq!(finished["status"], "failed");
    assert_eq!(finished["exit_code"], 2);

    // A malformed secret is named, never shown.
    let output = db.run_with(
        &["canary"],
        &[("DATABASE_URL", "mysql://admin:s3cr3t-pw@db.internal/app")],
    );
    output.assert_code(2);
    assert!(output.stdout.contains("DATABASE_URL"), "{}", output.stdout);
    assert!(
        !output.stdout.contains("s3cr3t-pw") && !output.stderr.contains("s3cr3t-pw"),
        "secret printed"
    );
}

#[test]
fn the_embedded_default_needs_no_server_and_no_setup() {
    let db = Sandbox::new(Backend::Sqlite);
    let mut command = db.command(&["history-prune"]);
    command.env_remove("DATABASE_URL");
    let output = command.output().expect("run batch");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert!(db.dir.path().join("data/batchbox.sqlite3").exists());
    let finished = crate::helpers::finished_line(&crate::helpers::json_lines(
        &String::from_utf8_lossy(&output.stdout),
    ));
    assert_eq!(finished["status"], "succeeded");
}

/// `batch list | head -0`: the reader is gone before anything is written; the listing ends
/// quietly (by SIGPIPE, as `ls` does) instead of panicking on the write.
#[test]
fn a_reader_that_goes_away_ends_a_listing_quietly() {
    use std::process::Stdio;
    let sandbox = Sandbox::new(Backend::Sqlite);
    for args in [&["list"][..], &["schedule", "--json"][..], &["history"][..]] {
        let mut child = sandbox
            .command(args)
            .current_dir(crate::helpers::repo_root())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_ne!(output.status.code(), Some(101), "{args:?}: {stderr}");
    }
}

/// `batch history` refuses a malformed RUST_LOG as a run does, naming it, instead of ignoring it.
#[test]
fn history_names_a_malformed_rust_log() {
    let db = Sandbox::new(Backend::Sqlite);
    let output = db.run_with(&["history"], &[("RUST_LOG", "batchbox=loud")]);
    output.assert_code(2);
    assert!(
        output.stderr.contains("error: RUST_LOG:"),
        "{}",
        output.stderr
    );
}
