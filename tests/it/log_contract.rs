//! The run's own log lines are a contract: the RunSucceeded metric, the saved queries and on-call
//! read `run started` / `run finished`, so they, the other lines of the runtime and every ERROR
//! are written whatever `RUST_LOG` says, in either format, and even when the batch panics.

use crate::helpers::{Output, Sandbox};
use serde_json::Value;

/// `None` is `RUST_LOG` unset. The two with target directives once lost every line after the
/// first database query on PostgreSQL.
const FILTERS: [Option<&str>; 6] = [
    None,
    Some("warn"),
    Some("error"),
    Some("batchbox=debug,sqlx=warn"),
    Some("info,foo=debug"),
    Some("off"),
];

/// The runtime's own lines every run writes exactly once, whatever `RUST_LOG` says.
const CONTRACT_LINES: [&str; 4] = [
    "run started",
    "run configured",
    "lock acquired",
    "run finished",
];

fn run_with_filter(db: &Sandbox, args: &[&str], filter: Option<&str>) -> Output {
    match filter {
        Some(filter) => db.run_with(args, &[("RUST_LOG", filter)]),
        None => db.run(args),
    }
}

fn messages<'a>(lines: &'a [Value], message: &str) -> Vec<&'a Value> {
    lines.iter().filter(|l| l["message"] == message).collect()
}

both_backends!(
    the_runs_own_lines_are_written_whatever_rust_log_says,
    |db| {
        for filter in FILTERS {
            for (args, code, status) in [
                (&["canary"][..], 0, "succeeded"),
                (&["canary", "--fail"][..], 1, "failed"),
            ] {
                let output = run_with_filter(db, args, filter);
                let context = format!("RUST_LOG={filter:?} batch {args:?}\n{}", output.stdout);
                assert_eq!(output.code, code, "{context}");
                let lines = output.json_lines();
                for message in CONTRACT_LINES {
                    assert_eq!(
                        messages(&lines, message).len(),
                        1,
                        "one `{message}` line: {context}"
                    );
                }
                assert_eq!(lines[0]["message"], "run started", "{context}");
                assert_eq!(
                    lines.last().unwrap()["message"],
                    "run finished",
                    "{context}"
                );
                assert_eq!(output.finished()["status"], status, "{context}");
                if status == "failed" {
                    // Every ERROR is written too, not only the runtime's own.
                    assert_eq!(messages(&lines, "batch failed").len(), 1, "{context}");
                }
                let run_id = output.run_id();
                for line in &lines {
                    assert_eq!(line["batch"], "canary", "{context}");
                    assert_eq!(line["run_id"], run_id.as_str(), "{context}");
                }
            }
        }
    }
);

both_backends!(rust_log_still_tunes_the_other_lines, |db| {
    // A batch's own INFO line that comes right after a database query: a filter with target
    // directives once dropped it on PostgreSQL, whatever the directives said about it.
    let args = ["canary", "--hold", "10ms"];
    for (filter, written) in [
        (Some("batchbox=debug,sqlx=warn"), true),
        (Some("info,foo=debug"), true),
        (None, true),
        (Some("warn"), false),
        (Some("batchbox=warn"), false),
    ] {
        let output = run_with_filter(db, &args, filter);
        output.assert_code(0);
        let holding = messages(&output.json_lines(), "holding the lock").len();
        assert_eq!(
            holding,
            usize::from(written),
            "RUST_LOG={filter:?}\n{}",
            output.stdout
        );
    }

    // sqlx logs each statement at DEBUG: on with `sqlx=debug`, off by default.
    let quiet = db.run(&["canary"]);
    assert!(
        quiet
            .json_lines()
            .iter()
            .all(|l| l["target"] != "sqlx::query"),
        "{}",
        quiet.stdout
    );
    let chatty = db.run_with(&["canary"], &[("RUST_LOG", "info,sqlx=debug")]);
    chatty.assert_code(0);
    assert!(
        chatty
            .json_lines()
            .iter()
            .any(|l| l["target"] == "sqlx::query"),
        "{}",
        chatty.stdout
    );
    assert_eq!(messages(&chatty.json_lines(), "run finished").len(), 1);
});

both_backends!(
    the_pretty_format_writes_the_runs_own_lines_whatever_rust_log_says,
    |db| {
        for filter in FILTERS {
            let mut command = db.command(&["canary"]);
            command.env("LOG_FORMAT", "pretty");
            if let Some(filter) = filter {
                command.env("RUST_LOG", filter);
            }
            let output = command.output().expect("run batch");
            let stdout = String::from_utf8_lossy(&output.stdout);
            assert_eq!(
                output.status.code(),
                Some(0),
                "RUST_LOG={filter:?}\n{stdout}"
            );
            for message in CONTRACT_LINES {
                assert_eq!(
                    stdout.matches(message).count(),
                    1,
                    "one `{message}` with RUST_LOG={filter:?}:\n{stdout}"
                );
            }
        }
    }
);

both_backends!(
    a_malformed_rust_log_is_a_configuration_error_naming_it,
    |db| {
        for filter in ["batchbox=loud", "[[[", "info,sqlx=sometimes"] {
            let output = db.run_with(&["canary"], &[("RUST_LOG", filter)]);
            let context = format!("RUST_LOG={filter}\n{}", output.stdout);
            assert_eq!(output.code, 2, "{context}");
            let lines = output.json_lines();
            let problems: Vec<&str> = messages(&lines, "invalid configuration")
                .iter()
                .map(|l| l["variable"].as_str().unwrap())
                .collect();
            assert_eq!(problems, ["RUST_LOG"], "{context}");
            // The failure stays visible to the alarm and the queries.
            assert_eq!(messages(&lines, "run started").len(), 1, "{context}");
            let finished = output.finished();
            assert_eq!(finished["status"], "failed", "{context}");
            assert_eq!(finished["exit_code"], 2, "{context}");
        }
    }
);

both_backends!(a_panic_is_one_json_line_and_the_run_ends_failed, |db| {
    for place in ["work", "task"] {
        for filter in [None, Some("off")] {
            let output = run_with_filter(db, &["canary", "--panic", place], filter);
            let context = format!(
                "--panic {place} RUST_LOG={filter:?}\nstdout:\n{}\nstderr:\n{}",
                output.stdout, output.stderr
            );
            assert_eq!(output.code, 1, "{context}");
            assert!(
                !output.stderr.contains("panicked"),
                "no plain-text panic on stderr: {context}"
            );
            let lines = output.json_lines();
            let panics = messages(&lines, "panic");
            assert_eq!(panics.len(), 1, "one panic line: {context}");
            let panic = panics[0];
            let run_id = output.run_id();
            assert_eq!(panic["level"], "ERROR", "{context}");
            assert_eq!(panic["batch"], "canary", "{context}");
            assert_eq!(panic["run_id"], run_id.as_str(), "{context}");
            assert!(
                panic["error"].as_str().unwrap().contains("--panic"),
                "the panic's message: {context}"
            );
            assert!(
                panic["location"].as_str().unwrap().contains("canary.rs"),
                "where it panicked: {context}"
            );

            assert_eq!(messages(&lines, "run started").len(), 1, "{context}");
            let finished = output.finished();
            assert_eq!(finished["status"], "failed", "{context}");
            assert_eq!(finished["exit_code"], 1, "{context}");
            assert!(
                finished["error"].as_str().unwrap().contains("panicked"),
                "{context}"
            );
            let record = db.run_record(&run_id);
            assert_eq!(record["status"], "failed", "{context}");
            assert_eq!(record["exit_code"], 1, "{context}");
        }
    }
});

#[test]
fn the_panic_trigger_is_refused_on_ecs() {
    let db = Sandbox::migrated(crate::helpers::Backend::Sqlite);
    let output = db.run_with(
        &["canary", "--panic", "work"],
        &[("ECS_CONTAINER_METADATA_URI_V4", "http://127.0.0.1:9/v4/x")],
    );
    // A hidden test trigger must not be able to take down a production task.
    assert_eq!(output.code, 1, "{}", output.stdout);
    let lines = output.json_lines();
    assert!(messages(&lines, "panic").is_empty(), "{}", output.stdout);
    assert!(
        output.finished()["error"]
            .as_str()
            .unwrap()
            .contains("refuses to run on ECS"),
        "{}",
        output.stdout
    );
}

both_backends!(
    an_export_error_names_its_job_even_with_rust_log_warn,
    |db| {
        db.run(&["demo-seed", "--records", "20"]).assert_code(0);
        let day = crate::helpers::export::yesterday().to_string();
        // One attempt per job (a job keeps the attempts it was queued with).
        db.run_with(
            &["export-enqueue", "--date", &day],
            &[("EXPORT_MAX_ATTEMPTS", "1")],
        )
        .assert_code(0);
        // A job the worker cannot export: its time zone is unknown.
        let job_id: i64 = crate::helpers::block_on(async {
            let handle = db.open().await;
            let id = batchbox::on_pool!(&handle, |pool| sqlx::query_scalar(
                "UPDATE export_jobs SET time_zone = 'Mars/Olympus_Mons'
                 WHERE id = (SELECT min(id) FROM export_jobs) RETURNING id"
            )
            .fetch_one(pool)
            .await)
            .unwrap();
            handle.close().await;
            id
        });
        let output = db.run_with(
            &["export-worker"],
            &[("RUST_LOG", "warn"), ("EXPORT_CONCURRENCY", "1")],
        );
        output.assert_code(1);
        let lines = output.json_lines();
        let failed = messages(&lines, "export job failed on its last attempt");
        assert_eq!(failed.len(), 1, "{}", output.stdout);
        assert_eq!(failed[0]["job_id"], job_id, "{}", failed[0]);
        assert_eq!(failed[0]["lane"], 0, "{}", failed[0]);
        assert!(
            messages(&lines, "export job succeeded").is_empty(),
            "INFO stays filtered out"
        );
    }
);
