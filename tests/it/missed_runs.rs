//! `missed-runs`: every fire time of a watched schedule that got no success within its grace
//! is reported once (log, history, SNS), whatever the schedule's shape, and nothing before the
//! watch began or on days without a fire time.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::helpers::sns::SnsServer;
use crate::helpers::{Sandbox, block_on, eventually};
use batchbox::missed_runs::store;
use batchbox::runtime::history::{Ending, NewRun, record_whole};
use batchbox::runtime::status::RunStatus;
use chrono::{DateTime, Datelike, NaiveTime, TimeZone, Utc, Weekday};
use serde_json::{Value, json};

/// Records a finished run of `batch`, as an ECS-scheduled run for `fire` records it.
fn record_run(db: &Sandbox, batch: &str, fire: DateTime<Utc>, status: RunStatus, minutes: i64) {
    record_entry_run(db, batch, None, fire, status, minutes);
}

/// The same, for a run that names its catalog entry (`BATCH_ENTRY`, set by its task definition).
fn record_entry_run(
    db: &Sandbox,
    batch: &str,
    entry: Option<&str>,
    fire: DateTime<Utc>,
    status: RunStatus,
    minutes: i64,
) {
    block_on(async {
        let pool = db.open().await;
        let started = fire + chrono::Duration::seconds(20);
        let run = NewRun {
            run_id: uuid::Uuid::now_v7().to_string(),
            batch: batch.into(),
            arguments: vec![],
            started_at: started,
            deadline_at: started + chrono::Duration::hours(2),
            ecs_task_arn: None,
            scheduled_time: Some(fire),
            entry: entry.map(str::to_owned),
            parent_run_id: None,
        };
        let ending = Ending {
            status,
            finished_at: started + chrono::Duration::minutes(minutes),
            exit_code: if status == RunStatus::Succeeded { 0 } else { 1 },
            counts: BTreeMap::new(),
            error: None,
        };
        record_whole(&pool, &run, &ending).await.unwrap();
        pool.close().await;
    });
}

/// As if the watcher had been watching `batch` with `schedule` since `since`.
fn watched_since(db: &Sandbox, batch: &str, schedule: &str, since: DateTime<Utc>) {
    block_on(async {
        let pool = db.open().await;
        store::start_watching(&pool, batch, schedule, since)
            .await
            .unwrap();
        pool.close().await;
    });
}

fn schedules(entries: &[(&str, &str, u32)]) -> String {
    let map: serde_json::Map<String, Value> = entries
        .iter()
        .map(|(batch, schedule, grace)| {
            (
                (*batch).to_owned(),
                json!({"schedule": schedule, "grace_minutes": grace}),
            )
        })
        .collect();
    Value::Object(map).to_string()
}

/// One watcher run. Every line it logs carries the running batch, `missed-runs`, whatever entry
/// it is about (that one is `watched_entry`): the log contract on-call's queries rely on.
fn watch(db: &Sandbox, watched: &str) -> crate::helpers::Output {
    let output = db.run_with(
        &["missed-runs"],
        &[
            ("WATCH_SCHEDULES", watched),
            ("WATCH_ENVIRONMENT", "staging"),
        ],
    );
    for line in output.json_lines() {
        assert_eq!(line["batch"], "missed-runs", "{line}");
    }
    output
}

fn count(output: &crate::helpers::Output, name: &str) -> i64 {
    output.finished()["counts"][name].as_i64().unwrap_or(0)
}

fn missed_times(db: &Sandbox, batch: &str) -> Vec<String> {
    let mut times: Vec<String> = db
        .history(&["--status", "missed", "--batch", batch, "--limit", "10000"])
        .iter()
        .map(|row| {
            assert_eq!(row["status"], "missed", "{row}");
            assert!(row["run_id"].is_null(), "{row}");
            row["scheduled_time"].as_str().unwrap().to_owned()
        })
        .collect();
    times.sort();
    times
}

fn rfc3339(t: DateTime<Utc>) -> String {
    // As `batch history --json` writes times (serde's chrono format).
    serde_json::to_value(t)
        .unwrap()
        .as_str()
        .unwrap()
        .to_owned()
}

/// The days from `first` to `last` at `hh:mm` UTC.
fn daily(first: DateTime<Utc>, last: DateTime<Utc>, hh: u32, mm: u32) -> Vec<DateTime<Utc>> {
    let mut day = first.date_naive();
    let mut times = Vec::new();
    while day <= last.date_naive() {
        let t = day
            .and_time(NaiveTime::from_hms_opt(hh, mm, 0).unwrap())
            .and_utc();
        if t > first && t <= last {
            times.push(t);
        }
        day = day.succ_opt().unwrap();
    }
    times
}

both_backends!(
    a_new_schedule_is_watched_from_now_and_its_past_is_never_reported,
    |db| {
        let yesterday = Utc::now() - chrono::Duration::days(1);
        record_run(db, "canary", yesterday, RunStatus::Failed, 1);
        let watched = schedules(&[("canary", "cron(0 * * * ? *)", 30)]);
        let first = watch(db, &watched);
        first.assert_code(0);
        assert_eq!(count(&first, "missed"), 0, "{}", first.stdout);
        assert_eq!(count(&first, "watched"), 1);
        assert!(
            first.stdout.contains("watching a new schedule from now on"),
            "{}",
            first.stdout
        );
        let again = watch(db, &watched);
        again.assert_code(0);
        assert_eq!(count(&again, "missed"), 0, "{}", again.stdout);
        assert!(missed_times(db, "canary").is_empty());
    }
);

both_backends!(
    each_missed_daily_run_is_reported_once_to_the_topic_and_in_history,
    |db| {
        let sns = SnsServer::start();
        db.set_env(sns.env());
        let now = Utc::now();
        let since = now - chrono::Duration::days(5);
        // Daily at 03:00 UTC with an hour of grace: the fire times whose grace has passed.
        let due: Vec<_> = daily(since, now - chrono::Duration::hours(1), 3, 0);
        assert!(due.len() >= 4, "{due:?}");
        watched_since(db, "history-prune", "cron(0 3 * * ? *)", since);
        // Succeeded in time; failed; succeeded after the grace; nothing at all for the others.
        record_run(db, "history-prune", due[0], RunStatus::Succeeded, 5);
        record_run(db, "history-prune", due[1], RunStatus::Failed, 5);
        record_run(db, "history-prune", due[2], RunStatus::Succeeded, 90);
        let watched = schedules(&[("history-prune", "cron(0 3 * * ? *)", 60)]);

        let first = watch(db, &watched);
        first.assert_code(0);
        let expected: Vec<String> = due[1..].iter().map(|t| rfc3339(*t)).collect();
        assert_eq!(
            count(&first, "missed"),
            expected.len() as i64,
            "{}",
            first.stdout
        );
        assert_eq!(count(&first, "notified"), expected.len() as i64);
        assert_eq!(missed_times(db, "history-prune"), expected);
        let errors: Vec<Value> = first
            .json_lines()
            .into_iter()
            .filter(|l| l["message"] == "missed run: no success within the grace")
            .collect();
        assert_eq!(errors.len(), expected.len(), "{}", first.stdout);
        assert!(
            errors
                .iter()
                .all(|l| l["level"] == "ERROR" && l["watched_entry"] == "history-prune")
        );

        let notifications = eventually(
            "every missed run reaches the subscriber",
            Duration::from_secs(20),
            || {
                let n = sns.notifications();
                (n.len() >= expected.len()).then_some(n)
            },
        );
        let mut subjects: Vec<String> = notifications
            .iter()
            .map(|n| n["Subject"].as_str().unwrap().to_owned())
            .collect();
        subjects.sort();
        let wanted: Vec<String> = due[1..]
            .iter()
            .map(|t| {
                format!(
                    "batchbox staging: missed run of history-prune at {} UTC",
                    t.format("%Y-%m-%d %H:%M")
                )
            })
            .collect();
        assert_eq!(subjects, wanted);
        let failed_day = notifications
            .iter()
            .find(|n| {
                n["Subject"]
                    .as_str()
                    .unwrap()
                    .contains(&due[1].format("%Y-%m-%d").to_string())
            })
            .unwrap();
        let body = failed_day["Message"].as_str().unwrap();
        assert!(body.contains("What ran:     1 failed"), "{body}");
        assert!(body.contains("Schedule:     cron(0 3 * * ? *)"), "{body}");
        assert!(body.contains("A scheduled run was missed"), "{body}");
        let late_day = notifications
            .iter()
            .find(|n| {
                n["Subject"]
                    .as_str()
                    .unwrap()
                    .contains(&due[2].format("%Y-%m-%d").to_string())
            })
            .unwrap();
        assert!(
            late_day["Message"]
                .as_str()
                .unwrap()
                .contains("1 succeeded after the grace")
        );

        // Once: a second pass reports nothing more.
        let second = watch(db, &watched);
        second.assert_code(0);
        assert_eq!(count(&second, "missed"), 0, "{}", second.stdout);
        assert_eq!(count(&second, "notified"), 0);
        std::thread::sleep(Duration::from_millis(500));
        assert_eq!(sns.notifications().len(), expected.len());
        // The history shows them among the runs, newest first, at their scheduled times.
        let all = db.history(&["--batch", "history-prune"]);
        assert!(
            all.iter().any(|r| r["status"] == "missed")
                && all.iter().any(|r| r["status"] == "succeeded")
        );
    }
);

/// A batch, its schedule, the hour (UTC) it fires at, and on which days.
type Case = (&'static str, &'static str, u32, fn(DateTime<Utc>) -> bool);

both_backends!(
    weekday_weekly_monthly_and_nth_weekday_schedules_expect_only_their_own_days,
    |db| {
        let now = Utc::now();
        let since = now - chrono::Duration::days(70);
        let cases: [Case; 4] = [
            ("canary", "cron(0 19 ? * SUN-THU *)", 19, |t| {
                !matches!(t.weekday(), Weekday::Fri | Weekday::Sat)
            }),
            ("history-prune", "cron(0 3 ? * MON *)", 3, |t| {
                t.weekday() == Weekday::Mon
            }),
            ("export-enqueue", "cron(0 0 1 * ? *)", 0, |t| t.day() == 1),
            // The first Monday of the month.
            ("export-worker", "cron(0 9 ? * 2#1 *)", 9, |t| {
                t.weekday() == Weekday::Mon && t.day() <= 7
            }),
        ];
        let grace = 60;
        for (batch, schedule, hour, fires_on) in &cases {
            watched_since(db, batch, schedule, since);
            // A success on every day the schedule fires: nothing may be reported.
            let due = daily(since, now - chrono::Duration::minutes(grace), *hour, 0);
            for t in due.into_iter().filter(|t| fires_on(*t)) {
                record_run(db, batch, t, RunStatus::Succeeded, 2);
            }
        }
        let watched = schedules(
            &cases
                .iter()
                .map(|(b, s, ..)| (*b, *s, grace as u32))
                .collect::<Vec<_>>(),
        );
        let output = watch(db, &watched);
        output.assert_code(0);
        assert_eq!(count(&output, "missed"), 0, "{}", output.stdout);
        assert!(
            count(&output, "judged") >= 50 + 10 + 2 + 2,
            "{}",
            output.stdout
        );
        for (batch, ..) in &cases {
            assert!(missed_times(db, batch).is_empty(), "{batch}");
        }
    }
);

both_backends!(
    a_failed_publish_loses_nothing_and_the_next_pass_notifies_once,
    |db| {
        let mut sns = SnsServer::start();
        db.set_env(sns.env());
        let now = Utc::now();
        let fire = Utc
            .with_ymd_and_hms(now.year(), now.month(), now.day(), 0, 0, 0)
            .unwrap()
            - chrono::Duration::days(1);
        let since = fire - chrono::Duration::hours(1);
        watched_since(db, "canary", "cron(0 0 * * ? *)", since);
        let due = daily(since, now - chrono::Duration::minutes(30), 0, 0).len() as i64;
        let watched = schedules(&[("canary", "cron(0 0 * * ? *)", 30)]);
        sns.stop();
        let down = watch(db, &watched);
        down.assert_code(1);
        assert!(
            down.finished()["error"]
                .as_str()
                .unwrap()
                .contains("recorded but not notified"),
            "{}",
            down.stdout
        );
        assert_eq!(count(&down, "missed"), due, "{}", down.stdout);
        assert_eq!(missed_times(db, "canary").len() as i64, due);

        let up = SnsServer::start();
        db.set_env(up.env());
        let next = watch(db, &watched);
        next.assert_code(0);
        assert_eq!(count(&next, "missed"), 0, "{}", next.stdout);
        assert_eq!(count(&next, "notified"), due, "{}", next.stdout);
        eventually(
            "each reaches the subscriber",
            Duration::from_secs(20),
            || (up.notifications().len() as i64 == due).then_some(()),
        );
        let last = watch(db, &watched);
        assert_eq!(count(&last, "notified"), 0, "{}", last.stdout);
    }
);

both_backends!(
    an_entry_left_out_is_forgotten_and_watched_afresh_when_it_returns,
    |db| {
        let since = Utc::now() - chrono::Duration::days(3);
        watched_since(db, "canary", "cron(0 * * * ? *)", since);
        let off = watch(db, &schedules(&[]));
        off.assert_code(0);
        assert_eq!(count(&off, "watched"), 0);
        // Back again: the three days it was not watched are not reported.
        let back = watch(db, &schedules(&[("canary", "cron(0 * * * ? *)", 30)]));
        back.assert_code(0);
        assert_eq!(count(&back, "missed"), 0, "{}", back.stdout);
        // A changed schedule is watched afresh too.
        watched_since(db, "canary", "cron(0 * * * ? *)", since);
        let changed = watch(db, &schedules(&[("canary", "cron(30 * * * ? *)", 30)]));
        assert_eq!(count(&changed, "missed"), 0, "{}", changed.stdout);
    }
);

both_backends!(
    bad_or_missing_watch_settings_exit_2_naming_the_variable_and_entry,
    |db| {
        let unset = db.run(&["missed-runs"]);
        unset.assert_code(2);
        assert!(
            unset.stdout.contains("WATCH_SCHEDULES is not set"),
            "{}",
            unset.stdout
        );
        let bad = watch(
            db,
            r#"{"canary": {"schedule": "cron(0 0 ? * 3#1,6#3 *)", "grace_minutes": 30}}"#,
        );
        bad.assert_code(2);
        assert!(
            bad.stdout.contains("WATCH_SCHEDULES") && bad.stdout.contains("entry `canary`"),
            "{}",
            bad.stdout
        );
        let typo = db.run_with(&["missed-runs"], &[("WATCH_SCHEDULE", "{}")]);
        typo.assert_code(2);
        assert!(
            typo.stdout.contains("did you mean WATCH_SCHEDULES"),
            "{}",
            typo.stdout
        );
    }
);

both_backends!(entries_sharing_a_batch_are_judged_by_their_own_runs, |db| {
    let now = Utc::now();
    let since = now - chrono::Duration::days(3);
    let due: Vec<_> = daily(since, now - chrono::Duration::hours(1), 3, 0);
    // Two entries of one batch on the same schedule (a daily and a month-start export would
    // differ in schedule; the same one makes the point sharper): only the first one ran.
    watched_since(db, "prune-daily", "cron(0 3 * * ? *)", since);
    watched_since(db, "prune-extra", "cron(0 3 * * ? *)", since);
    for fire in &due {
        record_entry_run(
            db,
            "history-prune",
            Some("prune-daily"),
            *fire,
            RunStatus::Succeeded,
            5,
        );
    }
    let watched = json!({
            "prune-daily": {"batch": "history-prune", "schedule": "cron(0 3 * * ? *)", "grace_minutes": 60},
            "prune-extra": {"batch": "history-prune", "schedule": "cron(0 3 * * ? *)", "grace_minutes": 60},
        })
        .to_string();
    let run = watch(db, &watched);
    run.assert_code(0);
    assert_eq!(count(&run, "missed"), due.len() as i64, "{}", run.stdout);
    let missed = db.history(&["--status", "missed", "--limit", "10000"]);
    assert_eq!(missed.len(), due.len());
    for row in &missed {
        assert_eq!(row["entry"], "prune-extra", "{row}");
        assert_eq!(row["batch"], "history-prune", "{row}");
    }
    let expected: Vec<String> = due.iter().map(|t| rfc3339(*t)).collect();
    assert_eq!(missed_times(db, "history-prune"), expected);
});

both_backends!(
    a_schedule_in_a_time_zone_is_expected_at_its_local_times,
    |db| {
        // 03:00 daily in Tokyo (EventBridge Scheduler reads the cron there) is 18:00 UTC the day
        // before; read in UTC it would be 03:00 UTC. The history and the message say which.
        let now = Utc::now();
        let since = now - chrono::Duration::days(3);
        let due: Vec<_> = daily(since, now - chrono::Duration::hours(1), 18, 0);
        assert!(due.len() >= 2, "{due:?}");
        let shown = "cron(0 3 * * ? *) in Asia/Tokyo";
        watched_since(db, "history-prune", shown, since);
        record_run(db, "history-prune", due[0], RunStatus::Succeeded, 5);
        let watched = json!({"history-prune": {
            "schedule": "cron(0 3 * * ? *)", "grace_minutes": 60, "timezone": "Asia/Tokyo"
        }})
        .to_string();
        let output = watch(db, &watched);
        output.assert_code(0);
        assert!(
            !output.stdout.contains("watching a new schedule"),
            "the stored text names the zone, so nothing restarts: {}",
            output.stdout
        );
        let expected: Vec<String> = due[1..].iter().map(|t| rfc3339(*t)).collect();
        assert_eq!(
            missed_times(db, "history-prune"),
            expected,
            "{}",
            output.stdout
        );
        // The same cron moved to another zone is another schedule: watched afresh from now.
        let moved = watched.replace("Asia/Tokyo", "America/New_York");
        let again = watch(db, &moved);
        again.assert_code(0);
        assert!(
            again
                .stdout
                .contains("cron(0 3 * * ? *) in America/New_York"),
            "{}",
            again.stdout
        );
        assert!(
            again.stdout.contains("watching a new schedule from now on"),
            "{}",
            again.stdout
        );
    }
);

both_backends!(
    each_missed_run_reaches_the_chat_once_as_a_custom_notification_apart_from_the_e_mail,
    |db| {
        let sns = SnsServer::start();
        let chat = sns.add_topic("batchbox-test-chat");
        db.set_env(sns.env());
        let now = Utc::now();
        let since = now - chrono::Duration::days(2);
        let due: Vec<_> = daily(since, now - chrono::Duration::hours(1), 3, 0);
        assert!(!due.is_empty(), "{due:?}");
        watched_since(db, "history-prune", "cron(0 3 * * ? *)", since);
        let watched = schedules(&[("history-prune", "cron(0 3 * * ? *)", 60)]);

        // The chat topic refuses (it does not exist): the e-mails still go out, the run fails
        // naming the chat, and nothing is lost.
        let missing = chat
            .arn
            .replace("batchbox-test-chat", "batchbox-test-no-such-topic");
        db.set_env(vec![("WATCH_CHAT_TOPIC_ARN", missing)]);
        let refused = watch(db, &watched);
        refused.assert_code(1);
        assert!(
            refused.finished()["error"]
                .as_str()
                .unwrap()
                .contains("recorded but not posted to the chat"),
            "{}",
            refused.stdout
        );
        assert_eq!(
            count(&refused, "notified"),
            due.len() as i64,
            "{}",
            refused.stdout
        );
        assert_eq!(count(&refused, "posted_to_chat"), 0);

        // The real chat topic: each missed run is posted once, and no e-mail is repeated.
        db.set_env(vec![("WATCH_CHAT_TOPIC_ARN", chat.arn.clone())]);
        let posted = watch(db, &watched);
        posted.assert_code(0);
        assert_eq!(count(&posted, "notified"), 0, "{}", posted.stdout);
        assert_eq!(
            count(&posted, "posted_to_chat"),
            due.len() as i64,
            "{}",
            posted.stdout
        );
        let messages = eventually(
            "each reaches the chat topic's subscriber",
            Duration::from_secs(20),
            || {
                let n = chat.notifications();
                (n.len() == due.len()).then_some(n)
            },
        );
        let schema: Value = serde_json::from_str(
            &std::fs::read_to_string(
                crate::helpers::repo_root()
                    .join("tests/judges/chat_custom_notification.schema.json"),
            )
            .unwrap(),
        )
        .unwrap();
        let schema = jsonschema::validator_for(&schema).unwrap();
        for message in &messages {
            assert!(
                message.get("Subject").is_none_or(Value::is_null),
                "{message}"
            );
            let notification: Value =
                serde_json::from_str(message["Message"].as_str().unwrap()).unwrap();
            let problems: Vec<String> = schema
                .iter_errors(&notification)
                .map(|e| e.to_string())
                .collect();
            assert!(problems.is_empty(), "{problems:?}\n{notification:#}");
            assert_eq!(notification["metadata"]["eventType"], "batch-run-missed");
            assert_eq!(
                notification["metadata"]["additionalContext"]["entry"],
                "history-prune"
            );
        }
        let again = watch(db, &watched);
        again.assert_code(0);
        assert_eq!(count(&again, "posted_to_chat"), 0, "{}", again.stdout);
        assert_eq!(count(&again, "notified"), 0, "{}", again.stdout);
    }
);
