//! Records -> xlsx -> S3, against a real database and a real S3 API server.

use std::time::Duration;

use crate::helpers::export::{self as ex, Book, TZ};
use crate::helpers::s3::S3Server;
use batchbox::export::form::ColumnKind;
use calamine::Data;
use chrono::Days;
use serde_json::{Value, json};

fn with_s3(db: &crate::helpers::Sandbox) -> S3Server {
    let s3 = S3Server::start(&db.dir.path().join("s3"));
    db.set_env(s3.env());
    s3
}

fn workbook(s3: &S3Server, key: &str) -> Book {
    let (bytes, content_type) = s3.get(key);
    assert_eq!(
        content_type.as_deref(),
        Some(batchbox::export::XLSX_CONTENT_TYPE)
    );
    ex::read_workbook(bytes)
}

both_backends!(
    round_trip_every_cell_type_and_sheet_matches_the_database,
    |db| {
        let s3 = with_s3(db);
        db.run(&["demo-seed", "--records", "400"]).assert_code(0);
        assert_eq!(
            db.run(&["export-enqueue"]).finished()["counts"]["inserted"],
            4
        );
        let worker = db.run(&["export-worker"]);
        worker.assert_code(0);
        assert_eq!(worker.finished()["counts"]["succeeded"], 4);
        assert_eq!(worker.finished()["counts"]["rows"], 400);

        let jobs = ex::jobs(db);
        assert_eq!(jobs.len(), 4);
        let mut keys: Vec<String> = jobs
            .iter()
            .map(|j| j.object_key.clone().expect("succeeded jobs have keys"))
            .collect();
        keys.sort();
        assert_eq!(s3.keys(), keys, "one object per job, nothing else");
        for job in &jobs {
            assert_eq!(job.status, "succeeded");
            let form = ex::form(db, job.form_id);
            let records = ex::records_of(db, job);
            assert_eq!(job.row_count, Some(records.len() as i64));
            let book = workbook(&s3, job.object_key.as_ref().unwrap());
            assert_eq!(book.formulas, 0, "no cell is a formula");
            assert_eq!(book.sheets.len(), 1);
            let (name, rows) = &book.sheets[0];
            assert_eq!(
                name,
                &batchbox::export::excel_limits::sheet_name(&form.name, 1)
            );
            assert_eq!(rows.len(), records.len() + 1, "header + one row per record");
            let header: Vec<Data> = ["Record ID", "Recorded at", "Recorded by"]
                .iter()
                .map(|h| Data::String(h.to_string()))
                .chain(form.columns.iter().map(|c| Data::String(c.label.clone())))
                .collect();
            assert_eq!(rows[0], header);
            for (record, row) in records.iter().zip(&rows[1..]) {
                let values: Vec<Value> = serde_json::from_str(&record.field_values).unwrap();
                let mut expected = vec![
                    Data::Float(record.id as f64),
                    Data::String(ex::recorded_at_text(record.recorded_at)),
                    Data::String(record.recorded_by.clone()),
                ];
                expected.extend(
                    form.columns
                        .iter()
                        .zip(&values)
                        .map(|(c, v)| ex::expected_cell(c.kind, v)),
                );
                let mut actual: Vec<Data> = row.iter().map(ex::normalize).collect();
                actual.resize(expected.len(), Data::Empty);
                assert_eq!(actual, expected, "record {} of job {}", record.id, job.id);
            }
        }
    }
);

both_backends!(edge_values_survive_as_readable_cells, |db| {
    let s3 = with_s3(db);
    let columns = [
        ("備考 / Notes", ColumnKind::Text),
        ("Count", ColumnKind::Integer),
        ("Amount", ColumnKind::Decimal),
        ("OK", ColumnKind::Boolean),
        ("Day", ColumnKind::Date),
        ("At", ColumnKind::DateTime),
    ];
    let (tenant, form) = ex::make_form(db, "edge", "Edge: cases [1/2]?", &columns);
    let day = ex::yesterday();
    let (start, _) = batchbox::calendar::Period::day(day).utc_bounds(TZ);
    let at = |minute: i64| start + chrono::Duration::minutes(minute);
    let long = "長".repeat(40_000);
    ex::insert(
        db,
        tenant,
        form,
        vec![
            (
                at(1),
                vec![
                    json!("東京都千代田区 ☃ naïve"),
                    json!(42),
                    json!("12.50"),
                    json!(true),
                    json!("2026-01-31"),
                    json!("2026-01-31T23:30:00Z"),
                ],
            ),
            (
                at(2),
                vec![
                    Value::Null,
                    Value::Null,
                    Value::Null,
                    Value::Null,
                    Value::Null,
                    Value::Null,
                ],
            ),
            (
                at(3),
                vec![
                    json!("=HYPERLINK(\"http://x\")"),
                    json!(-1),
                    json!("0.001"),
                    json!(false),
                    Value::Null,
                    Value::Null,
                ],
            ),
            (
                at(4),
                vec![
                    json!("+1 @user -2"),
                    json!("not a number"),
                    json!("abc"),
                    json!("yes"),
                    json!("someday"),
                    json!(7),
                ],
            ),
            (
                at(5),
                vec![
                    json!("bell\u{7} esc\u{1b} ok\ttab"),
                    Value::Null,
                    Value::Null,
                    Value::Null,
                    Value::Null,
                    Value::Null,
                ],
            ),
            (at(6), vec![json!(long)]),
        ],
    );
    db.run(&["export-enqueue", "--date", &day.to_string()])
        .assert_code(0);
    let worker = db.run(&["export-worker"]);
    worker.assert_code(0);
    let job = &ex::jobs(db)[0];
    let book = workbook(&s3, job.object_key.as_ref().unwrap());
    assert_eq!(book.formulas, 0, "formula-like text is never a formula");
    let (name, rows) = &book.sheets[0];
    assert_eq!(name, "Edge_ cases _1_2__");
    let cell = |row: usize, col: usize| rows[row].get(3 + col).cloned().unwrap_or(Data::Empty);

    assert_eq!(cell(1, 0), Data::String("東京都千代田区 ☃ naïve".into()));
    assert_eq!(cell(1, 1), Data::Float(42.0));
    assert_eq!(cell(1, 2), Data::Float(12.5));
    assert_eq!(cell(1, 3), Data::Bool(true));
    assert_eq!(
        ex::normalize(&cell(1, 4)),
        Data::String("2026-01-31T00:00:00.000".into())
    );
    assert_eq!(
        ex::normalize(&cell(1, 5)),
        Data::String("2026-02-01T08:30:00.000".into()),
        "shown in Tokyo time"
    );
    assert!(
        (0..6).all(|c| cell(2, c) == Data::Empty),
        "NULLs are empty cells: {:?}",
        rows[2]
    );
    assert_eq!(cell(3, 0), Data::String("=HYPERLINK(\"http://x\")".into()));
    assert_eq!(cell(4, 0), Data::String("+1 @user -2".into()));
    // Values that do not fit their column are kept as text.
    assert_eq!(cell(4, 1), Data::String("not a number".into()));
    assert_eq!(cell(4, 2), Data::String("abc".into()));
    assert_eq!(cell(4, 3), Data::String("yes".into()));
    assert_eq!(cell(4, 5), Data::String("7".into()));
    assert_eq!(
        cell(5, 0),
        Data::String("bell\u{FFFD} esc\u{FFFD} ok\ttab".into())
    );
    let Data::String(cut) = cell(6, 0) else {
        panic!("long text is text")
    };
    assert_eq!(cut.chars().count(), 32_767);
    assert!(
        cut.starts_with("長長長")
            && cut.ends_with(batchbox::export::excel_limits::TRUNCATION_MARKER)
    );

    let warnings: Vec<Value> = worker
        .json_lines()
        .into_iter()
        .filter(|l| l["level"] == "WARN")
        .collect();
    let truncation = warnings
        .iter()
        .find(|l| l["message"].as_str().unwrap().contains("32,767"))
        .expect("a truncation warning");
    assert_eq!(truncation["column"], "備考 / Notes");
    assert!(truncation["record_id"].is_i64());
    assert!(
        warnings
            .iter()
            .any(|l| l["message"].as_str().unwrap().contains("written as text"))
    );
});

#[test]
fn more_than_1048576_rows_continue_on_a_second_sheet_with_the_header() {
    let db = crate::helpers::Sandbox::migrated(crate::helpers::Backend::Postgres);
    let s3 = with_s3(&db);
    let (tenant, form) = ex::make_form(
        &db,
        "big",
        "Big form",
        &[("Label", ColumnKind::Text), ("N", ColumnKind::Integer)],
    );
    let day = ex::yesterday();
    ex::bulk(&db, tenant, form, day, 1_048_577);
    db.run(&["export-enqueue", "--date", &day.to_string()])
        .assert_code(0);
    let worker = db.run(&["export-worker"]);
    worker.assert_code(0);
    assert_eq!(worker.finished()["counts"]["rows"], 1_048_577);
    let bytes = worker.finished()["counts"]["bytes"].as_u64().unwrap();
    assert!(
        bytes > batchbox::storage::PART_SIZE as u64 * 2,
        "uploaded in several parts ({bytes} bytes)"
    );
    assert_eq!(s3.open_uploads(), 0, "the multipart upload was completed");
    let job = &ex::jobs(&db)[0];
    let book = workbook(&s3, job.object_key.as_ref().unwrap());
    let names: Vec<&str> = book.sheets.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["Big form", "Big form (2)"]);
    let (first, second) = (&book.sheets[0].1, &book.sheets[1].1);
    assert_eq!(
        first.len(),
        1_048_576,
        "a full sheet: header + 1,048,575 rows"
    );
    assert_eq!(second.len(), 3, "header + the last two rows");
    assert_eq!(first[0], second[0], "the header is repeated");
    assert_eq!(first[1][3], Data::String("row 1".into()));
    assert_eq!(first[1_048_575][3], Data::String("row 1048575".into()));
    assert_eq!(second[1][3], Data::String("row 1048576".into()));
    assert_eq!(second[2][3], Data::String("row 1048577".into()));
    assert_eq!(second[2][4], Data::Float(1_048_577.0));
}

/// `n` days ending yesterday, as the --from and --to of a backfill.
fn last_days(n: u64) -> (String, String) {
    let to = ex::yesterday();
    ((to - Days::new(n - 1)).to_string(), to.to_string())
}

both_backends!(four_workers_export_200_jobs_each_exactly_once, |db| {
    let s3 = with_s3(db);
    db.run(&["demo-seed", "--records", "8000", "--days", "50"])
        .assert_code(0);
    let (from, to) = last_days(50);
    let enqueue = db.run(&["export-enqueue", "--from", &from, "--to", &to]);
    assert_eq!(enqueue.finished()["counts"]["inserted"], 200);

    let workers: Vec<_> = (0..4)
        .map(|_| db.spawn_with(&["export-worker"], &[("EXPORT_CONCURRENCY", "2")]))
        .collect();
    let mut succeeded_per_job = std::collections::BTreeMap::<i64, usize>::new();
    for worker in workers {
        let (code, lines, _) = worker.wait(Duration::from_secs(300));
        assert_eq!(code, Some(0), "{lines:?}");
        for line in crate::helpers::json_lines(&lines.join("\n")) {
            if line["message"] == "export job succeeded" {
                *succeeded_per_job
                    .entry(line["job_id"].as_i64().unwrap())
                    .or_default() += 1;
            }
        }
    }
    let jobs = ex::jobs(db);
    assert_eq!(jobs.len(), 200);
    assert!(
        jobs.iter()
            .all(|j| j.status == "succeeded" && j.attempts == 1),
        "every job succeeded on its one attempt"
    );
    assert_eq!(succeeded_per_job.len(), 200);
    assert!(
        succeeded_per_job.values().all(|n| *n == 1),
        "no job exported twice: {succeeded_per_job:?}"
    );
    assert_eq!(s3.keys().len(), 200, "one object per job");
});

both_backends!(
    a_killed_worker_job_is_finished_by_another_after_its_lease,
    |db| {
        let s3 = with_s3(db);
        db.set_env([("EXPORT_LEASE", "2s")]);
        let (tenant, form) = ex::make_form(
            db,
            "crash",
            "Crash",
            &[("Label", ColumnKind::Text), ("N", ColumnKind::Integer)],
        );
        let day = ex::yesterday();
        ex::bulk(db, tenant, form, day, 300_000);
        db.run(&["export-enqueue", "--date", &day.to_string()])
            .assert_code(0);

        let doomed = db.spawn(&["export-worker"]);
        doomed.wait_for_message("export job claimed", Duration::from_secs(30));
        std::thread::sleep(Duration::from_millis(700));
        doomed.signal("KILL");
        let (code, lines, _) = doomed.wait(Duration::from_secs(10));
        assert_eq!(code, None, "killed");
        assert!(
            !lines.iter().any(|l| l.contains("export job succeeded")),
            "killed in the middle of the job"
        );
        assert_eq!(
            ex::jobs(db)[0].status,
            "running",
            "left running by the dead worker"
        );
        assert!(s3.keys().is_empty(), "no partial object is visible");

        let rescuer = crate::helpers::eventually(
            "another worker takes the job over",
            Duration::from_secs(30),
            || {
                let output = db.run(&["export-worker"]);
                (output.finished()["counts"]["claimed"] == 1).then_some(output)
            },
        );
        rescuer.assert_code(0);
        let job = &ex::jobs(db)[0];
        assert_eq!((job.status.as_str(), job.attempts), ("succeeded", 2));
        assert_eq!(
            s3.keys(),
            [job.object_key.clone().unwrap()],
            "exactly one object"
        );
        let book = workbook(&s3, job.object_key.as_ref().unwrap());
        assert_eq!(
            book.sheets[0].1.len(),
            300_001,
            "complete: header + every record"
        );
    }
);

both_backends!(sigterm_releases_the_job_in_hand, |db| {
    let s3 = with_s3(db);
    let (tenant, form) = ex::make_form(
        db,
        "stop",
        "Stop",
        &[("Label", ColumnKind::Text), ("N", ColumnKind::Integer)],
    );
    let day = ex::yesterday();
    ex::bulk(db, tenant, form, day, 300_000);
    db.run(&["export-enqueue", "--date", &day.to_string()])
        .assert_code(0);
    let worker = db.spawn(&["export-worker"]);
    worker.wait_for_message("export job claimed", Duration::from_secs(30));
    worker.signal("TERM");
    let (code, lines, waited) = worker.wait(Duration::from_secs(25));
    assert_eq!(code, Some(143));
    assert!(waited < Duration::from_secs(25));
    let finished = crate::helpers::finished_line(&crate::helpers::json_lines(&lines.join("\n")));
    assert_eq!(finished["counts"]["released"], 1);
    let job = &ex::jobs(db)[0];
    assert_eq!(
        (job.status.as_str(), job.attempts),
        ("pending", 0),
        "released, the attempt not counted"
    );
    assert!(s3.keys().is_empty());
});

both_backends!(enqueue_is_idempotent_and_backfills_one_job_per_day, |db| {
    db.run(&["demo-seed", "--records", "400", "--days", "3"])
        .assert_code(0);
    let first = db.run(&["export-enqueue"]);
    assert_eq!(first.finished()["counts"]["inserted"], 4);
    let again = db.run(&["export-enqueue"]);
    assert_eq!(again.finished()["counts"]["inserted"], 0);
    assert_eq!(again.finished()["counts"]["already_present"], 4);

    let (from, to) = last_days(3);
    let backfill = db.run(&["export-enqueue", "--from", &from, "--to", &to]);
    assert_eq!(
        backfill.finished()["counts"]["inserted"],
        8,
        "two more days of four forms"
    );
    let jobs = ex::jobs(db);
    assert_eq!(jobs.len(), 12);
    let mut keys: Vec<_> = jobs
        .iter()
        .map(|j| (j.tenant_id, j.form_id, j.period_start))
        .collect();
    keys.dedup();
    assert_eq!(keys.len(), 12, "no duplicate job");
    assert!(
        jobs.iter()
            .all(|j| (j.period_end - j.period_start).num_days() == 1)
    );

    let empty = db.run(&["export-enqueue", "--date", "2001-01-01"]);
    assert_eq!(
        empty.finished()["counts"]["found"],
        0,
        "an empty period produces no job"
    );
    db.run(&["export-enqueue", "--monthly", "--month", "2001-01"])
        .assert_code(0);
    assert_eq!(ex::jobs(db).len(), 12);
    // A reversed range is a usage error, found before the run starts.
    db.run(&["export-enqueue", "--from", &to, "--to", &from])
        .assert_code(2);
});

both_backends!(the_tenant_allowlist_limits_what_is_enqueued, |db| {
    db.run(&["demo-seed", "--records", "100"]).assert_code(0);
    let only_acme = db.run_with(&["export-enqueue"], &[("EXPORT_TENANT_ALLOWLIST", "acme")]);
    let counts = &only_acme.finished()["counts"];
    assert_eq!(
        (
            counts["inserted"].as_i64(),
            counts["outside_allowlist"].as_i64()
        ),
        (Some(2), Some(2))
    );
    let beta = db.run_with(
        &["export-enqueue"],
        &[("EXPORT_TENANT_ALLOWLIST", "group:beta")],
    );
    assert_eq!(beta.finished()["counts"]["inserted"], 2);
    assert_eq!(ex::jobs(db).len(), 4);
});

both_backends!(requeue_failed_puts_back_only_failed_jobs, |db| {
    db.run(&["demo-seed", "--records", "40"]).assert_code(0);
    db.run(&["export-enqueue"]).assert_code(0);
    let output = db.run(&["export-requeue", "--job", "1"]);
    output.assert_code(1);
    assert!(
        output.finished()["error"]
            .as_str()
            .unwrap()
            .contains("not a failed export job")
    );
    let rerun = db.run(&["export-enqueue", "--requeue-failed"]);
    assert_eq!(
        rerun.finished()["counts"]["requeued"],
        0,
        "nothing failed yet"
    );
    db.run(&["export-requeue"]).assert_code(2);

    let fail = |ids: &str| {
        crate::helpers::block_on(async {
            let handle = db.open().await;
            let sql = format!(
                "UPDATE export_jobs SET status = 'failed', attempts = 3, last_error = 'boom' WHERE id IN ({ids})"
            );
            batchbox::on_pool!(&handle, |pool| sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(pool)
                .await
                .map(|_| ()))
            .unwrap();
            handle.close().await;
        })
    };
    fail("1, 2");
    let rerun = db.run(&["export-enqueue", "--requeue-failed"]);
    assert_eq!(rerun.finished()["counts"]["requeued"], 2);
    fail("3");
    assert_eq!(
        db.run(&["export-requeue", "--job", "3"]).finished()["counts"]["requeued"],
        1
    );
    let jobs = ex::jobs(db);
    assert!(
        jobs.iter()
            .all(|j| j.status == "pending" && j.attempts == 0),
        "{jobs:?}"
    );
});

#[test]
fn the_demo_exports_sample_workbooks_on_the_embedded_default() {
    let db = crate::helpers::Sandbox::new(crate::helpers::Backend::Sqlite);
    let mut command = db.command(&["demo"]);
    command.env_remove("DATABASE_URL");
    let output = command.output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let lines = crate::helpers::json_lines(&String::from_utf8_lossy(&output.stdout));
    let ready: Vec<&Value> = lines
        .iter()
        .filter(|l| l["message"] == "workbook ready")
        .collect();
    assert_eq!(ready.len(), 4, "one workbook per sample tenant form");
    // The demo launched two workers, as export-enqueue launches its tasks on ECS.
    let demo_run = lines.iter().find(|l| l["batch"] == "demo").unwrap()["run_id"].clone();
    let worker_runs: std::collections::BTreeSet<String> = lines
        .iter()
        .filter(|l| l["batch"] == "export-worker" && l["parent_run_id"] == demo_run)
        .map(|l| l["run_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(worker_runs.len(), 2, "{lines:#?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    // And the run time line, where history-report would put it, with its path printed.
    let time_line = db.dir.path().join("data/reports/timeline.html");
    assert!(
        stderr.contains("data/reports/timeline.html") && time_line.is_file(),
        "the demo tells where the time line is: {stderr}"
    );
    for line in ready {
        let path = db.dir.path().join(line["workbook"].as_str().unwrap());
        assert!(
            path.starts_with(db.dir.path().join("data/exports")),
            "{}",
            path.display()
        );
        assert!(
            stderr.contains(line["workbook"].as_str().unwrap()),
            "the demo tells where: {stderr}"
        );
        let book = ex::read_workbook(std::fs::read(&path).unwrap());
        assert_eq!(
            book.sheets[0].1.len() as i64,
            line["rows"].as_i64().unwrap() + 1
        );
    }
}

#[test]
fn a_multipart_upload_that_is_stopped_is_aborted_and_leaves_nothing() {
    use batchbox::export::XLSX_CONTENT_TYPE as XLSX;
    use batchbox::runtime::stop::{Stop, StopReason};
    use batchbox::storage::{PART_SIZE, S3Storage};

    let dir = tempfile::tempdir().unwrap();
    let s3 = S3Server::start(&dir.path().join("s3"));
    let config = batchbox::config::Config::from_vars(&[(
        "EXPORT_S3_FORCE_PATH_STYLE".into(),
        "true".into(),
    )])
    .unwrap();
    let storage = S3Storage::with_sdk_config(
        crate::helpers::s3::BUCKET,
        &s3.sdk_config(),
        &config.export.storage,
    );
    let file = dir.path().join("big.xlsx");
    std::fs::write(&file, vec![7u8; PART_SIZE * 2 + 1]).unwrap();

    // The server's open uploads are visible to the test.
    let open = s3.leave_upload_open("probe.xlsx");
    assert_eq!(s3.open_uploads(), 1);
    s3.abort_upload("probe.xlsx", &open);
    assert_eq!(s3.open_uploads(), 0);

    let stopped = Stop::default();
    stopped.request(StopReason::Interrupted("SIGTERM"));
    let error = crate::helpers::block_on(storage.put_file(
        "exports/t/form-1/2026-11-20.xlsx",
        &file,
        XLSX,
        &stopped,
    ))
    .unwrap_err();
    assert!(
        error.to_string().contains("stopped during the upload"),
        "{error:#}"
    );
    assert_eq!(s3.open_uploads(), 0, "the started upload was aborted");
    assert!(s3.keys().is_empty(), "nothing visible");

    // The same upload, not stopped, completes in parts and leaves no open upload behind.
    let bytes = crate::helpers::block_on(storage.put_file(
        "exports/t/form-1/2026-11-20.xlsx",
        &file,
        XLSX,
        &Stop::default(),
    ))
    .unwrap();
    assert_eq!(bytes, (PART_SIZE * 2 + 1) as u64);
    assert_eq!(s3.keys(), ["exports/t/form-1/2026-11-20.xlsx"]);
    assert_eq!(s3.open_uploads(), 0);
    assert_eq!(
        s3.get("exports/t/form-1/2026-11-20.xlsx").0.len(),
        PART_SIZE * 2 + 1
    );
}

both_backends!(a_worker_claims_the_largest_due_job_first, |db| {
    let day = ex::yesterday();
    let (start, _) = batchbox::calendar::Period::day(day).utc_bounds(TZ);
    let columns = [("Note", ColumnKind::Text)];
    // Queued in this order (by tenant), sized 3, 40, 12 and 25 records.
    for (i, size) in [3, 40, 12, 25].into_iter().enumerate() {
        let (tenant, form) = ex::make_form(db, &format!("size-{i}"), "Daily log", &columns);
        let rows = (0..size)
            .map(|n| {
                (
                    start + chrono::Duration::seconds(n),
                    vec![json!(format!("row {n}"))],
                )
            })
            .collect();
        ex::insert(db, tenant, form, rows);
    }
    let enqueue = db.run(&["export-enqueue", "--date", &day.to_string()]);
    assert_eq!(enqueue.finished()["counts"]["inserted"], 4);
    let sizes: std::collections::BTreeMap<i64, i64> = crate::helpers::block_on(async {
        let handle = db.open().await;
        let rows: Vec<(i64, i64)> = batchbox::on_pool!(&handle, |pool| sqlx::query_as(
            "SELECT id, record_count FROM export_jobs"
        )
        .fetch_all(pool)
        .await)
        .unwrap();
        handle.close().await;
        rows.into_iter().collect()
    });
    let mut recorded: Vec<i64> = sizes.values().copied().collect();
    recorded.sort();
    assert_eq!(
        recorded,
        [3, 12, 25, 40],
        "each job records its size when queued"
    );

    // One lane: the claims follow, largest first.
    let worker = db.run_with(&["export-worker"], &[("EXPORT_CONCURRENCY", "1")]);
    worker.assert_code(0);
    let claimed: Vec<i64> = worker
        .json_lines()
        .iter()
        .filter(|l| l["message"] == "export job claimed")
        .map(|l| sizes[&l["job_id"].as_i64().unwrap()])
        .collect();
    assert_eq!(claimed, [40, 25, 12, 3], "{}", worker.stdout);
});
