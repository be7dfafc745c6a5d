//! The run history time line, and the batches that keep it.

use std::time::Duration;

use crate::helpers::{Sandbox, block_on};

both_backends!(history_shows_runs_newest_first_and_filters_work, |db| {
    let first = db.run(&["canary"]).run_id();
    let failed = db.run(&["canary", "--fail"]).run_id();
    let pruned = db.run(&["history-prune"]).run_id();

    let all: Vec<String> = db
        .history(&[])
        .iter()
        .map(|r| r["run_id"].as_str().unwrap().to_owned())
        .collect();
    // `migrate` ran first, when the test database was made.
    assert_eq!(all[..3], [pruned.clone(), failed.clone(), first.clone()]);

    let canaries = db.history(&["--batch", "canary"]);
    assert_eq!(canaries.len(), 2);
    assert!(canaries.iter().all(|r| r["batch"] == "canary"));

    let failures = db.history(&["--status", "failed"]);
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0]["run_id"], failed.as_str());

    assert_eq!(db.history(&["--limit", "1"])[0]["run_id"], pruned.as_str());
    assert_eq!(db.history(&["--since", "1h"]).len(), 4);
    assert_eq!(db.history(&["--since", "2999-01-01"]).len(), 0);

    let table = db.run(&["history", "--batch", "canary"]);
    table.assert_code(0);
    let rows: Vec<&str> = table.stdout.lines().skip(1).collect();
    assert_eq!(rows.len(), 2);
    assert!(
        rows[0].contains(&failed) && rows[0].contains("failed"),
        "{}",
        table.stdout
    );

    db.run(&["history", "--status", "finished"]).assert_code(2);
});

both_backends!(a_killed_run_shows_as_stale_once_past_its_time_limit, |db| {
    let mut command = db.command(&["canary", "--hold", "60s", "--max-runtime", "1s"]);
    command.env("BATCH_STOP_GRACE", "1s");
    let mut killed = command
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let run_id = crate::helpers::eventually("the run is recorded", Duration::from_secs(20), || {
        db.history(&["--batch", "canary"])
            .first()
            .map(|r| r["run_id"].as_str().unwrap().to_owned())
    });
    killed.kill().unwrap();
    killed.wait().unwrap();

    crate::helpers::eventually("the run shows as stale", Duration::from_secs(20), || {
        (db.run_record(&run_id)["status"] == "stale").then_some(())
    });
    let stale = db.history(&["--status", "stale"]);
    assert_eq!(stale.len(), 1);
    assert_eq!(stale[0]["run_id"], run_id.as_str());
    assert!(db.history(&["--status", "running"]).is_empty());
});

both_backends!(history_prune_deletes_old_runs_and_counts_them, |db| {
    let kept = db.run(&["canary"]).run_id();
    block_on(async {
        let handle = db.open().await;
        for days_ago in [100, 95, 30] {
            let started_at = chrono::Utc::now() - chrono::Duration::days(days_ago);
            let run = batchbox::runtime::history::NewRun {
                run_id: format!("old-{days_ago}"),
                batch: "canary".into(),
                arguments: vec!["canary".into()],
                started_at,
                deadline_at: started_at + chrono::Duration::minutes(5),
                ecs_task_arn: None,
                scheduled_time: None,
                entry: None,
                parent_run_id: None,
            };
            batchbox::runtime::history::record_start(&handle, &run)
                .await
                .unwrap();
        }
        handle.close().await;
    });

    let output = db.run(&["history-prune"]);
    output.assert_code(0);
    assert_eq!(output.finished()["counts"]["deleted"], 2);
    let left: Vec<String> = db
        .history(&[])
        .iter()
        .map(|r| r["run_id"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        left.contains(&kept) && left.contains(&"old-30".to_owned()),
        "{left:?}"
    );
    assert!(
        !left.iter().any(|id| id == "old-100" || id == "old-95"),
        "{left:?}"
    );

    let output = db.run(&["history-prune", "--older-than-days", "7"]);
    assert_eq!(output.finished()["counts"]["deleted"], 1);
});

both_backends!(batches_refuse_to_start_until_migrate_has_run, |db| {
    let unmigrated = Sandbox::new(db.backend);
    let output = unmigrated.run(&["canary"]);
    output.assert_code(1);
    assert!(
        output.finished()["error"]
            .as_str()
            .unwrap()
            .contains("run `batch migrate`"),
        "{}",
        output.stdout
    );

    let migrate = unmigrated.run(&["migrate"]);
    migrate.assert_code(0);
    assert!(migrate.finished()["counts"]["applied"].as_u64().unwrap() >= 1);
    assert_eq!(
        unmigrated.run(&["migrate"]).finished()["counts"]["applied"],
        0
    );
    unmigrated.run(&["canary"]).assert_code(0);
    let batches: Vec<String> = unmigrated
        .history(&[])
        .iter()
        .map(|r| r["batch"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(batches, ["canary", "migrate", "migrate"]);
});
