//! The run time line page (`batch history --html`, `history-report`, `demo`), judged by a real
//! browser: headless Chromium loads the page from a file and the test reads the DOM it rendered.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, DurationRound, Utc};

use crate::helpers::chromium::rendered_dom;
use crate::helpers::s3::S3Server;
use crate::helpers::{Sandbox, block_on};
use batchbox::missed_runs::store::{self as missed_store, MissedRun};
use batchbox::runtime::history::{self, Ending, NewRun};
use batchbox::runtime::status::RunStatus;

/// Every hour, watched with 30 minutes' grace.
const HOURLY_CANARY: &str = r#"{"canary": {"schedule": "cron(0 * * * ? *)", "grace_minutes": 30}}"#;
/// A batch name and an error that would run if they reached the page as HTML.
const HOSTILE_BATCH: &str = "<script>document.title='pwned'</script>";
const HOSTILE_ERROR: &str = "<img src=x onerror=\"document.title='pwned'\"> & 'quotes' 🚚𠮷";

fn past_run(
    batch: &str,
    started: DateTime<Utc>,
    status: Option<RunStatus>,
    deadline: Duration,
    error: Option<&str>,
) -> (NewRun, Option<Ending>) {
    let run = NewRun {
        run_id: uuid::Uuid::now_v7().to_string(),
        batch: batch.into(),
        arguments: vec![batch.into()],
        started_at: started,
        deadline_at: started + deadline,
        ecs_task_arn: Some("arn:aws:ecs:ap-northeast-1:123456789012:task/test/abc".into()),
        scheduled_time: None,
        entry: None,
        parent_run_id: None,
    };
    let ending = status.map(|status| Ending {
        status,
        finished_at: started + Duration::minutes(3),
        exit_code: status.exit_code(),
        counts: BTreeMap::from([("jobs".to_owned(), 2)]),
        error: error.map(str::to_owned),
    });
    (run, ending)
}

/// Runs no test can make by running (a timeout, a stale run, hostile text) and one missed fire
/// time of the hourly canary, two hours ago; returns that fire time.
fn record_trouble(db: &Sandbox) -> DateTime<Utc> {
    let now = Utc::now();
    let missed_fire = now.duration_trunc(Duration::hours(1)).unwrap() - Duration::hours(2);
    block_on(async {
        let handle = db.open().await;
        let minutes = |m| now - Duration::minutes(m);
        history::record_past(
            &handle,
            &[
                past_run(
                    "export-worker",
                    minutes(600),
                    Some(RunStatus::TimedOut),
                    Duration::hours(1),
                    Some("the time limit passed"),
                ),
                past_run(
                    "export-worker",
                    minutes(500),
                    Some(RunStatus::Interrupted),
                    Duration::hours(1),
                    Some(HOSTILE_ERROR),
                ),
                past_run(
                    "export-enqueue",
                    minutes(400),
                    Some(RunStatus::Skipped),
                    Duration::hours(1),
                    None,
                ),
                past_run(
                    "export-worker",
                    minutes(300),
                    None,
                    Duration::minutes(30),
                    None,
                ),
                past_run("export-worker", minutes(5), None, Duration::hours(1), None),
                past_run(
                    HOSTILE_BATCH,
                    minutes(200),
                    Some(RunStatus::Failed),
                    Duration::hours(1),
                    Some(HOSTILE_ERROR),
                ),
                // Outside the default window of 48 hours: not drawn.
                past_run(
                    "canary",
                    now - Duration::hours(50),
                    Some(RunStatus::Failed),
                    Duration::hours(1),
                    None,
                ),
            ],
        )
        .await
        .unwrap();
        missed_store::record_missed(
            &handle,
            &MissedRun {
                entry: "canary".into(),
                batch: "canary".into(),
                scheduled_time: missed_fire,
                grace_minutes: 30,
                detected_at: missed_fire + Duration::minutes(40),
                seen: "no run started <b>".into(),
                notified_at: None,
            },
        )
        .await
        .unwrap();
        handle.close().await;
    });
    missed_fire
}

fn count(dom: &str, needle: &str) -> usize {
    dom.matches(needle).count()
}

/// What every page of these runs must show in the browser: one bar per run in the window with
/// its status, the missed tick, the hourly ticks, and the hostile text as text.
fn assert_rendered(dom: &str) {
    let bars = count(dom, "class=\"bar ");
    assert_eq!(
        bars, 9,
        "migrate and two canaries run, six recorded in the window"
    );
    assert!(
        dom.contains(&format!("data-ready=\"{}\"", bars + 1)),
        "the page's script ran and found every bar and the missed tick"
    );
    for (status, n) in [
        ("succeeded", 2),
        ("failed", 2),
        ("timed_out", 1),
        ("interrupted", 1),
        ("skipped", 1),
        ("stale", 1),
        ("running", 1),
    ] {
        assert_eq!(
            count(dom, &format!("class=\"bar s-{status}")),
            n,
            "{status}"
        );
    }
    assert_eq!(
        count(dom, "class=\"tick missed"),
        1,
        "the missed fire time is marked"
    );
    assert!(
        count(dom, "class=\"tick\"") >= 40,
        "the canary's hourly fire times over 48 hours"
    );
    assert!(
        dom.contains("<title>batchbox: run time line</title>") && !dom.contains("pwned</title>"),
        "no text from the database ran as script"
    );
    assert!(
        dom.contains("&lt;script&gt;document.title='pwned'&lt;/script&gt;"),
        "the hostile batch is shown as text"
    );
    assert!(
        dom.contains("&lt;img src=x onerror=") && !dom.contains("<img"),
        "the hostile error is shown as text, not as an element"
    );
    assert!(dom.contains("🚚𠮷"), "astral-plane text survives");
}

both_backends!(
    the_page_shows_one_bar_per_run_by_status_and_the_missed_fire_time_in_chromium,
    |db| {
        db.run(&["canary"]).assert_code(0);
        db.run(&["canary", "--fail"]).assert_code(1);
        record_trouble(db);
        db.set_env([("REPORT_SCHEDULES", HOURLY_CANARY)]);
        let page = db.dir.path().join("timeline.html");
        let output = db.run(&["history", "--html", page.to_str().unwrap()]);
        output.assert_code(0);
        assert!(
            output.stderr.contains("fire times from REPORT_SCHEDULES"),
            "{}",
            output.stderr
        );
        let dom = rendered_dom(&page);
        assert_rendered(&dom);

        // The filters of `history` apply: only failed runs, and the missed tick of their rows.
        let failed = db.dir.path().join("failed.html");
        db.run(&[
            "history",
            "--html",
            failed.to_str().unwrap(),
            "--status",
            "failed",
        ])
        .assert_code(0);
        let dom = rendered_dom(&failed);
        assert_eq!(count(&dom, "class=\"bar "), 2, "the two failed runs");
        assert_eq!(count(&dom, "class=\"bar s-failed"), 2);
        let canary_only = db.dir.path().join("canary.html");
        db.run(&[
            "history",
            "--html",
            canary_only.to_str().unwrap(),
            "--batch",
            "canary",
            "--since",
            "3d",
        ])
        .assert_code(0);
        let dom = rendered_dom(&canary_only);
        assert_eq!(
            count(&dom, "class=\"bar "),
            3,
            "three canaries in three days"
        );
        assert_eq!(count(&dom, "class=\"tick missed"), 1);
    }
);

both_backends!(
    history_report_puts_the_page_in_the_bucket_as_text_html,
    |db| {
        let s3 = S3Server::start(&db.dir.path().join("s3"));
        db.set_env(s3.env());
        db.set_env([
            ("REPORT_SCHEDULES", HOURLY_CANARY),
            ("REPORT_ENVIRONMENT", "staging"),
        ]);
        db.run(&["canary"]).assert_code(0);
        db.run(&["canary", "--fail"]).assert_code(1);
        record_trouble(db);

        let key = "reports/東京 🚚/timeline.html";
        let output = db.run_with(&["history-report"], &[("REPORT_KEY", key)]);
        output.assert_code(0);
        let finished = output.finished();
        assert_eq!(
            finished["counts"]["runs"], 10,
            "its own run too: {finished}"
        );
        assert_eq!(finished["counts"]["missed"], 1, "{finished}");
        let (body, content_type) = s3.get(key);
        assert!(
            content_type
                .as_deref()
                .is_some_and(|t| t.starts_with("text/html")),
            "{content_type:?}"
        );
        let page = db.dir.path().join("from-s3.html");
        std::fs::write(&page, &body).unwrap();
        let dom = rendered_dom(&page);
        assert!(dom.contains("<title>batchbox staging: run time line</title>"));
        // history-report's own run is running while it draws the page: one more bar.
        assert_eq!(count(&dom, "class=\"bar s-running"), 2);

        // A key that could climb out of its place is refused before anything runs.
        let refused = db.run_with(&["history-report"], &[("REPORT_KEY", "reports/../x.html")]);
        refused.assert_code(2);
        assert!(refused.stdout.contains("REPORT_KEY"), "{}", refused.stdout);
    }
);
