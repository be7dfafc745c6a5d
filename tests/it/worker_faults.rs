//! A worker that cannot do the work must not burn the queue, and lanes that survive the
//! database: preflight, the worker's errors versus the job's, database restarts, dead workers'
//! jobs taken over in the same run, deferred retries and lane-owned leases.

use std::time::{Duration, Instant};

use crate::helpers::export::{self as ex};
use crate::helpers::postgres::PgServer;
use crate::helpers::s3::{BUCKET, S3Server};
use crate::helpers::{Backend, Sandbox, block_on};
use batchbox::export::form::ColumnKind;
use batchbox::on_pool;
use serde_json::Value;

fn with_s3(db: &Sandbox) -> S3Server {
    let s3 = S3Server::start(&db.dir.path().join("s3"));
    db.set_env(s3.env());
    s3
}

/// One form with `rows` records yesterday, queued as one job.
fn one_big_job(db: &Sandbox, slug: &str, rows: i64) {
    let (tenant, form) = ex::make_form(
        db,
        slug,
        slug,
        &[("Label", ColumnKind::Text), ("N", ColumnKind::Integer)],
    );
    ex::bulk(db, tenant, form, ex::yesterday(), rows);
    db.run(&["export-enqueue", "--date", &ex::yesterday().to_string()])
        .assert_code(0);
}

fn execute(db: &Sandbox, sql: &'static str) {
    block_on(async {
        let handle = db.open().await;
        on_pool!(&handle, |pool| sqlx::query(sql)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))
        .unwrap();
        handle.close().await;
    });
}

/// `(status, lease_owner)` of every job, by id.
fn leases(db: &Sandbox) -> Vec<(String, Option<String>)> {
    block_on(async {
        let handle = db.open().await;
        let rows = on_pool!(&handle, |pool| {
            sqlx::query_as::<_, (String, Option<String>)>(
                "SELECT status, lease_owner FROM export_jobs ORDER BY id",
            )
            .fetch_all(pool)
            .await
        })
        .unwrap();
        handle.close().await;
        rows
    })
}

fn untouched(db: &Sandbox) {
    for job in ex::jobs(db) {
        assert_eq!(
            (job.status.as_str(), job.attempts),
            ("pending", 0),
            "job {} was touched",
            job.id
        );
    }
}

fn config_errors(output: &crate::helpers::Output) -> Vec<Value> {
    output
        .json_lines()
        .into_iter()
        .filter(|l| l["message"] == "invalid configuration")
        .collect()
}

both_backends!(
    an_unwritable_temp_or_export_directory_stops_the_worker_before_it_claims_anything,
    |db| {
        db.run(&["demo-seed", "--records", "40"]).assert_code(0);
        db.run(&["export-enqueue"]).assert_code(0);

        let no_temp = db.run_with(&["export-worker"], &[("EXPORT_TEMP_DIR", "/nonexistent")]);
        no_temp.assert_code(2);
        let errors = config_errors(&no_temp);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0]["variable"], "EXPORT_TEMP_DIR");
        assert!(
            errors[0]["problem"]
                .as_str()
                .unwrap()
                .contains("/nonexistent")
        );
        assert_eq!(no_temp.finished()["exit_code"], 2);
        untouched(db);

        let file = db.dir.path().join("a-file");
        std::fs::write(&file, "not a directory").unwrap();
        let no_dir = db.run_with(
            &["export-worker"],
            &[("EXPORT_LOCAL_DIR", file.to_str().unwrap())],
        );
        no_dir.assert_code(2);
        assert_eq!(config_errors(&no_dir)[0]["variable"], "EXPORT_LOCAL_DIR");
        untouched(db);

        let fine = db.run(&["export-worker"]);
        fine.assert_code(0);
        assert_eq!(fine.finished()["counts"]["succeeded"], 4);
        let probes = db.dir.path().join("data/exports/.batchbox-probe");
        assert!(!probes.exists(), "the probe leaves nothing behind");
    }
);

both_backends!(
    a_wrong_secret_key_stops_the_worker_before_it_claims_anything,
    |db| {
        let s3 = with_s3(db);
        db.run(&["demo-seed", "--records", "40"]).assert_code(0);
        db.run(&["export-enqueue"]).assert_code(0);

        let wrong = db.run_with(
            &["export-worker"],
            &[("AWS_SECRET_ACCESS_KEY", "not-the-secret")],
        );
        wrong.assert_code(2);
        assert_eq!(config_errors(&wrong)[0]["variable"], "EXPORT_BUCKET");
        let error = wrong.finished()["error"].as_str().unwrap().to_owned();
        assert!(error.contains("SignatureDoesNotMatch"), "{error}");
        assert!(!error.contains("not-the-secret"), "{error}");
        untouched(db);
        assert!(s3.keys().is_empty());

        db.run(&["export-worker"]).assert_code(0);
        let mut keys: Vec<String> = ex::jobs(db)
            .into_iter()
            .map(|j| j.object_key.expect("succeeded"))
            .collect();
        keys.sort();
        assert_eq!(s3.keys(), keys, "the probe leaves nothing behind");
    }
);

both_backends!(
    an_s3_outage_at_start_touches_no_job_and_a_failing_upload_is_retried_then_failed,
    |db| {
        let mut s3 = with_s3(db);
        db.set_env([("EXPORT_RETRY_BASE", "200ms"), ("EXPORT_MAX_ATTEMPTS", "3")]);
        let (tenant, form) = ex::make_form(db, "blocked", "Blocked", &[("N", ColumnKind::Integer)]);
        ex::insert(
            db,
            tenant,
            form,
            vec![(
                ex::yesterday().and_hms_opt(3, 0, 0).unwrap().and_utc(),
                vec![1.into()],
            )],
        );
        db.run(&["export-enqueue", "--date", &ex::yesterday().to_string()])
            .assert_code(0);

        s3.stop();
        let down = db.run(&["export-worker"]);
        down.assert_code(2);
        assert_eq!(config_errors(&down)[0]["variable"], "EXPORT_BUCKET");
        untouched(db);

        // The server answers the probe but fails this job's upload (a file where the tenant's
        // directory should be): a 5xx, which is not the worker's fault and is retried.
        s3.restart();
        let blocker = db
            .dir
            .path()
            .join("s3")
            .join(BUCKET)
            .join("exports/blocked");
        std::fs::create_dir_all(blocker.parent().unwrap()).unwrap();
        std::fs::write(&blocker, "in the way").unwrap();
        let failing = db.run(&["export-worker"]);
        failing.assert_code(1);
        let counts = &failing.finished()["counts"];
        assert_eq!(
            (counts["retried"].as_i64(), counts["failed"].as_i64()),
            (Some(2), Some(1)),
            "{counts}"
        );
        let job = &ex::jobs(db)[0];
        assert_eq!((job.status.as_str(), job.attempts), ("failed", 3));
        assert!(job.last_error.as_deref().unwrap().contains("S3"));

        std::fs::remove_file(&blocker).unwrap();
        db.run(&["export-requeue", "--failed"]).assert_code(0);
        db.run(&["export-worker"]).assert_code(0);
        assert_eq!(ex::jobs(db)[0].status, "succeeded");
        assert_eq!(s3.keys().len(), 1);
    }
);

both_backends!(
    credentials_that_stop_working_mid_run_release_the_job_and_stop_the_worker,
    |db| {
        let mut s3 = with_s3(db);
        db.set_env([("EXPORT_MAX_ATTEMPTS", "1")]);
        one_big_job(db, "rotated", 300_000);
        let worker = db.spawn(&["export-worker"]);
        worker.wait_for_message("export job claimed", Duration::from_secs(30));
        // The same bucket behind the same endpoint, now with another secret for the worker's
        // access key: its credentials were rotated away while it was writing the workbook.
        s3.stop();
        let mut rotated = std::process::Command::new(std::env::var("S3S_FS_BIN").unwrap())
            .args(["--host", "127.0.0.1", "--port", &s3.port.to_string()])
            .args([
                "--access-key",
                "batchbox-test-key",
                "--secret-key",
                "rotated-secret",
            ])
            .arg(db.dir.path().join("s3"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();

        let (code, lines, _) = worker.wait(Duration::from_secs(120));
        let _ = rotated.kill();
        let _ = rotated.wait();
        assert_eq!(code, Some(1), "{lines:#?}");
        let finished =
            crate::helpers::finished_line(&crate::helpers::json_lines(&lines.join("\n")));
        let error = finished["error"].as_str().unwrap();
        assert!(
            error.contains("cannot export") && error.contains("SignatureDoesNotMatch"),
            "{error}: {:?}",
            ex::jobs(db)[0].last_error
        );
        assert_eq!(finished["counts"]["released"], 1);
        let job = &ex::jobs(db)[0];
        assert_eq!(
            (job.status.as_str(), job.attempts),
            ("pending", 0),
            "released with its attempt, not failed"
        );
    }
);

both_backends!(
    a_worker_whose_only_work_is_a_retry_after_its_time_limit_exits_0_with_it_deferred,
    |db| {
        db.run(&["demo-seed", "--records", "10"]).assert_code(0);
        db.run(&["export-enqueue"]).assert_code(0);
        execute(
            db,
            "UPDATE export_jobs SET time_zone = 'Mars/Olympus' WHERE id = (SELECT min(id) FROM export_jobs)",
        );
        let started = Instant::now();
        let worker = db.run_with(
            &["export-worker"],
            &[("EXPORT_RETRY_BASE", "1h"), ("BATCH_MAX_RUNTIME", "60s")],
        );
        worker.assert_code(0);
        assert!(started.elapsed() < Duration::from_secs(30), "did not idle");
        let counts = &worker.finished()["counts"];
        assert_eq!(
            (counts["retried"].as_i64(), counts["deferred"].as_i64()),
            (Some(1), Some(1)),
            "{counts}"
        );
        let jobs = ex::jobs(db);
        assert_eq!(
            jobs.iter().filter(|j| j.status == "pending").count(),
            1,
            "the retry waits for the next run"
        );
    }
);

both_backends!(
    a_dead_worker_job_is_finished_by_the_sweeper_in_the_same_run,
    |db| {
        let s3 = with_s3(db);
        db.set_env([("EXPORT_LEASE", "2s")]);
        one_big_job(db, "doomed", 300_000);
        let doomed = db.spawn(&["export-worker"]);
        doomed.wait_for_message("export job claimed", Duration::from_secs(30));

        let sweeper = db.spawn(&["export-worker"]);
        sweeper.wait_for_message(
            "no job left to claim; this worker stays while other workers hold jobs, to take over any whose lease expires",
            Duration::from_secs(30),
        );
        let started = Instant::now();
        let idle = db.run(&["export-worker"]);
        idle.assert_code(0);
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "a third worker does not idle too"
        );
        assert_eq!(idle.finished()["counts"]["claimed"], Value::Null);

        doomed.signal("KILL");
        let (code, lines, _) = sweeper.wait(Duration::from_secs(120));
        assert_eq!(code, Some(0), "{lines:#?}");
        let finished =
            crate::helpers::finished_line(&crate::helpers::json_lines(&lines.join("\n")));
        assert_eq!(finished["counts"]["succeeded"], 1);
        let job = &ex::jobs(db)[0];
        assert_eq!((job.status.as_str(), job.attempts), ("succeeded", 2));
        assert_eq!(s3.keys().len(), 1);
    }
);

/// A real full disk: a 1 MiB tmpfs as EXPORT_TEMP_DIR (mounting it needs root, as the rest of
/// the suite's setup does; the test fails, never skips, without it).
struct TinyDisk(std::path::PathBuf);

impl TinyDisk {
    fn mount(at: std::path::PathBuf) -> TinyDisk {
        std::fs::create_dir_all(&at).unwrap();
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
            .arg(&at)
            .status()
            .expect("mount");
        assert!(status.success(), "mounting a 1 MiB tmpfs needs root");
        TinyDisk(at)
    }
}

impl Drop for TinyDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

both_backends!(
    a_temp_disk_that_fills_mid_job_releases_the_job_and_stops_the_worker,
    |db| {
        let _s3 = with_s3(db);
        let disk = TinyDisk::mount(db.dir.path().join("tiny"));
        db.set_env([
            ("EXPORT_MAX_ATTEMPTS", "1"),
            ("EXPORT_TEMP_DIR", disk.0.to_str().unwrap()),
        ]);
        // About 15 MB of sheet XML: the probe's small file fits, the workbook does not.
        one_big_job(db, "full", 300_000);
        let worker = db.run(&["export-worker"]);
        worker.assert_code(1);
        let error = worker.finished()["error"].as_str().unwrap().to_owned();
        assert!(error.contains("No space left on device"), "{error}");
        // At least once: before the stop reaches every lane, another lane may claim the job the
        // first released and meet the same full disk (seen once under load). Each release keeps
        // the job whole, which is what matters, checked below.
        let released = worker.finished()["counts"]["released"]
            .as_i64()
            .unwrap_or(0);
        assert!(released >= 1, "{}", worker.stdout);
        let job = &ex::jobs(db)[0];
        assert_eq!(
            (job.status.as_str(), job.attempts),
            ("pending", 0),
            "released with its attempt, not failed: {:?}",
            job.last_error
        );
    }
);

both_backends!(each_lane_owns_its_leases, |db| {
    let _s3 = with_s3(db);
    one_big_job(db, "lane-a", 200_000);
    one_big_job(db, "lane-b", 200_000);
    let worker = db.spawn_with(&["export-worker"], &[("EXPORT_CONCURRENCY", "2")]);
    let run_id = worker.wait_for_message("run started", Duration::from_secs(30))["run_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let owners = crate::helpers::eventually("both jobs running", Duration::from_secs(60), || {
        let leases = leases(db);
        leases
            .iter()
            .all(|(status, _)| status == "running")
            .then(|| {
                leases
                    .into_iter()
                    .map(|(_, owner)| owner.unwrap())
                    .collect::<Vec<_>>()
            })
    });
    assert_ne!(owners[0], owners[1], "one owner per lane");
    for owner in &owners {
        assert!(owner.starts_with(&format!("{run_id}:")), "{owner}");
    }
    worker.signal("TERM");
    let (code, _, _) = worker.wait(Duration::from_secs(30));
    assert_eq!(code, Some(143));
});

/// The scenario: PostgreSQL restarted under load with four workers. Its own server, so
/// the restart disturbs no other test.
#[test]
fn four_workers_ride_out_a_postgres_restart_and_finish_every_job() {
    let server = PgServer::start();
    let db = Sandbox::migrated_on(&server.url());
    assert_eq!(db.backend, Backend::Postgres);
    let s3 = with_s3(&db);
    const JOBS: usize = 40;
    for i in 0..JOBS {
        let (tenant, form) = ex::make_form(
            &db,
            &format!("t{i}"),
            "Load",
            &[("Label", ColumnKind::Text), ("N", ColumnKind::Integer)],
        );
        ex::bulk(&db, tenant, form, ex::yesterday(), 20_000);
    }
    db.run(&["export-enqueue", "--date", &ex::yesterday().to_string()])
        .assert_code(0);

    let workers: Vec<_> = (0..4)
        .map(|_| db.spawn_with(&["export-worker"], &[("EXPORT_CONCURRENCY", "2")]))
        .collect();
    let done_before =
        crate::helpers::eventually("a few jobs done", Duration::from_secs(120), || {
            let done = ex::jobs(&db)
                .iter()
                .filter(|j| j.status == "succeeded")
                .count();
            (done >= 4).then_some(done)
        });
    server.restart();
    assert!(
        done_before < JOBS,
        "the restart came while there was work left"
    );

    for worker in workers {
        let (code, lines, _) = worker.wait(Duration::from_secs(300));
        assert_eq!(code, Some(0), "{lines:#?}");
    }
    let jobs = ex::jobs(&db);
    assert!(
        jobs.iter()
            .all(|j| j.status == "succeeded" && j.attempts == 1),
        "every job succeeded, the restart used up no attempt: {:?}",
        jobs.iter()
            .map(|j| (j.id, &j.status, j.attempts, &j.last_error))
            .collect::<Vec<_>>()
    );
    assert_eq!(s3.keys().len(), JOBS);
}
