//! Whatever a record or a form holds, its job succeeds with a workbook Excel can open: text cut
//! by UTF-16 units (as Excel counts), sheet names that fit and avoid the reserved one, dates and
//! numbers Excel cannot show kept as text, and every change counted. Each workbook is read back
//! twice: with calamine, and by LibreOffice Calc opening it as a user would.

use crate::helpers::export::{self as ex, TZ};
use crate::helpers::s3::S3Server;
use crate::helpers::{Backend, Sandbox, block_on};
use batchbox::export::excel_limits::{MAX_CELL_UNITS, TRUNCATION_MARKER, utf16_len};
use batchbox::export::form::ColumnKind;
use batchbox::on_pool;
use calamine::Data;
use serde_json::{Value, json};

const TRUCK_FORM: &str = "🚚 Delivery log for the Kanto region depot";
const YOSHINOYA_FORM: &str = "𠮷野家 daily inspection records for the branch";

fn with_s3(db: &Sandbox) -> S3Server {
    let s3 = S3Server::start(&db.dir.path().join("s3"));
    db.set_env(s3.env());
    s3
}

/// Inserts one record whose `field_values` is this JSON text, exactly as written (numbers such
/// as `1e-400` do not survive a round trip through serde_json).
fn insert_raw(db: &Sandbox, tenant: i64, form: i64, minute: i64, json_text: &str) {
    let (start, _) = batchbox::calendar::Period::day(ex::yesterday()).utc_bounds(TZ);
    let at = start + chrono::Duration::minutes(minute);
    let sql = match db.backend {
        Backend::Postgres => {
            "INSERT INTO records (tenant_id, form_id, recorded_at, recorded_by, field_values)
             VALUES ($1, $2, $3, 'tester', CAST($4 AS jsonb))"
        }
        Backend::Sqlite => {
            "INSERT INTO records (tenant_id, form_id, recorded_at, recorded_by, field_values)
             VALUES ($1, $2, $3, 'tester', $4)"
        }
    };
    block_on(async {
        let handle = db.open().await;
        on_pool!(&handle, |pool| sqlx::query(sql)
            .bind(tenant)
            .bind(form)
            .bind(at)
            .bind(json_text)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))
        .unwrap();
        handle.close().await;
    });
}

fn export_yesterday(db: &Sandbox) -> crate::helpers::Output {
    db.run(&["export-enqueue", "--date", &ex::yesterday().to_string()])
        .assert_code(0);
    db.run(&["export-worker"])
}

fn text(cell: &Data) -> &str {
    match cell {
        Data::String(s) => s,
        other => panic!("expected text, found {other:?}"),
    }
}

both_backends!(
    astral_text_long_labels_and_odd_values_fit_excel_and_every_change_is_counted,
    |db| {
        let s3 = with_s3(db);
        let long_label = "L".repeat(40_000);
        let columns = [
            (long_label.as_str(), ColumnKind::Text),
            ("Day", ColumnKind::Date),
            ("At", ColumnKind::DateTime),
            ("Amount", ColumnKind::Decimal),
        ];
        let (tenant, truck) = ex::make_form(db, "kanto", TRUCK_FORM, &columns);
        let emoji = "😀".repeat(20_000);
        insert_raw(
            db,
            tenant,
            truck,
            1,
            &json!([
                emoji,
                "0001-01-01",
                "0001-01-01T00:00:00Z",
                "1e-400",
                "extra",
                2
            ])
            .to_string(),
        );
        // 9999-12-31T14:59:59Z is the last second Excel can show in Tokyo; one second later
        // is year 10000 there. 1e-400 as a JSON number, not a string.
        insert_raw(
            db,
            tenant,
            truck,
            2,
            r#"["𠮷", "9999-12-31", "9999-12-31T14:59:59Z", 1e-400]"#,
        );
        insert_raw(
            db,
            tenant,
            truck,
            3,
            r#"["", "1900-01-01", "9999-12-31T15:00:00Z", 0.0]"#,
        );
        let (yoshinoya_tenant, yoshinoya) = ex::make_form(
            db,
            "yoshinoya",
            YOSHINOYA_FORM,
            &[("Note", ColumnKind::Text)],
        );
        let (history_tenant, history) =
            ex::make_form(db, "hist", "History", &[("Note", ColumnKind::Text)]);
        insert_raw(db, yoshinoya_tenant, yoshinoya, 4, r#"["吉"]"#);
        insert_raw(db, history_tenant, history, 5, r#"["h"]"#);

        let worker = export_yesterday(db);
        worker.assert_code(0);
        let jobs = ex::jobs(db);
        assert_eq!(jobs.len(), 3);
        assert!(
            jobs.iter()
                .all(|j| j.status == "succeeded" && j.attempts == 1),
            "every job succeeds on its first attempt: {jobs:?}"
        );

        // The counts say what changed.
        let adjusted = worker
            .json_lines()
            .into_iter()
            .find(|l| l["message"] == "some values were adjusted to fit Excel")
            .expect("an adjustment summary");
        assert_eq!(adjusted["truncated_cells"], 2, "the label and the emoji");
        assert_eq!(adjusted["dates_as_text"], 3);
        assert_eq!(adjusted["numbers_as_text"], 2);
        assert_eq!(adjusted["dropped_values"], 2);
        let dropped = worker
            .json_lines()
            .into_iter()
            .find(|l| l["message"].as_str().unwrap().contains("more values than"))
            .expect("a warning naming the record with extra values");
        assert!(dropped["record_id"].is_i64());

        let job_of = |form: i64| jobs.iter().find(|j| j.form_id == form).unwrap();
        let key = |form: i64| job_of(form).object_key.clone().unwrap();

        // calamine
        let book = ex::read_workbook(s3.get(&key(truck)).0);
        let (name, rows) = &book.sheets[0];
        assert_eq!(name, "🚚 Delivery log for the Kanto r");
        assert_eq!(utf16_len(name), 31);
        let label = text(&rows[0][3]);
        assert!(utf16_len(label) <= MAX_CELL_UNITS && label.ends_with(TRUNCATION_MARKER));
        let cut = text(&rows[1][3]);
        assert_eq!(utf16_len(cut), MAX_CELL_UNITS - 1, "no half surrogate pair");
        assert!(
            cut.strip_suffix(TRUNCATION_MARKER)
                .unwrap()
                .chars()
                .all(|c| c == '😀')
        );
        assert_eq!(rows[1][4], Data::String("0001-01-01".into()));
        assert_eq!(rows[1][5], Data::String("0001-01-01T00:00:00Z".into()));
        assert_eq!(rows[1][6], Data::String("1e-400".into()));
        assert_eq!(rows[1].len(), 7, "extra values have no column");
        assert_eq!(rows[2][3], Data::String("𠮷".into()));
        assert_eq!(
            ex::normalize(&rows[2][4]),
            Data::String("9999-12-31T00:00:00.000".into())
        );
        assert_eq!(
            ex::normalize(&rows[2][5]),
            Data::String("9999-12-31T23:59:59.000".into())
        );
        assert!(
            matches!(&rows[2][6], Data::String(s) if s.contains('1')),
            "1e-400 is not 0: {:?}",
            rows[2][6]
        );
        assert_eq!(
            ex::normalize(&rows[3][4]),
            Data::String("1900-01-01T00:00:00.000".into())
        );
        assert_eq!(rows[3][5], Data::String("9999-12-31T15:00:00Z".into()));
        assert_eq!(rows[3][6], Data::Float(0.0), "a real zero stays a number");

        let names = |form: i64| -> Vec<String> {
            ex::read_workbook(s3.get(&key(form)).0)
                .sheets
                .into_iter()
                .map(|(n, _)| n)
                .collect()
        };
        assert_eq!(names(yoshinoya), ["𠮷野家 daily inspection records f"]);
        assert_eq!(names(history), ["History_"]);

        // LibreOffice opens each workbook, every sheet under its name.
        for (form, expected) in [
            (truck, "🚚 Delivery log for the Kanto r"),
            (yoshinoya, "𠮷野家 daily inspection records f"),
            (history, "History_"),
        ] {
            let path = db.dir.path().join(format!("form-{form}.xlsx"));
            std::fs::write(&path, s3.get(&key(form)).0).unwrap();
            let sheets = crate::helpers::libreoffice::sheets(&path);
            let names: Vec<&str> = sheets.iter().map(|(n, _)| n.trim_end()).collect();
            assert_eq!(names, [expected], "LibreOffice sees the sheet name");
            if form == truck {
                let rows = &sheets[0].1;
                assert!(rows[0][3].ends_with(TRUNCATION_MARKER), "the cut label");
                let cut = &rows[1][3];
                assert!(cut.starts_with("😀😀") && cut.ends_with(TRUNCATION_MARKER));
                assert_eq!(utf16_len(cut), MAX_CELL_UNITS - 1);
                assert_eq!(
                    rows[1][4], "0001-01-01",
                    "a date Excel cannot show, as text"
                );
                assert_eq!(rows[1][6], "1e-400");
                assert_eq!(rows[3][6], "0");
            }
        }
    }
);

both_backends!(
    a_form_with_more_columns_than_excel_fails_naming_the_form_and_column,
    |db| {
        let _s3 = with_s3(db);
        db.set_env([("EXPORT_MAX_ATTEMPTS", "1")]);
        let (tenant, form) = ex::make_form(db, "wide", "Wide", &[("c1", ColumnKind::Text)]);
        // 16,382 columns + the 3 fixed ones = 16,385: one more than a sheet has.
        let sql = match db.backend {
            Backend::Postgres => {
                "INSERT INTO form_columns (form_id, position, label, kind)
                 SELECT $1, g, 'c' || g, 'text' FROM generate_series(2, 16382) AS g"
            }
            Backend::Sqlite => {
                "WITH RECURSIVE g(n) AS (SELECT 2 UNION ALL SELECT n + 1 FROM g WHERE n < 16382)
                 INSERT INTO form_columns (form_id, position, label, kind)
                 SELECT $1, n, 'c' || n, 'text' FROM g"
            }
        };
        block_on(async {
            let handle = db.open().await;
            on_pool!(&handle, |pool| sqlx::query(sql)
                .bind(form)
                .execute(pool)
                .await
                .map(|done| done.rows_affected()))
            .unwrap();
            handle.close().await;
        });
        insert_raw(db, tenant, form, 1, r#"["a"]"#);
        export_yesterday(db).assert_code(1);
        let job = &ex::jobs(db)[0];
        assert_eq!(job.status, "failed");
        let error = job.last_error.as_deref().unwrap();
        assert!(
            error.contains(&format!("form {form}")) && error.contains("`c16382`"),
            "{error}"
        );
    }
);

#[test]
fn invalid_utf8_in_a_record_fails_its_job_naming_the_record_and_column() {
    // Only SQLite stores such bytes; PostgreSQL checks every text value's encoding.
    let db = Sandbox::migrated(Backend::Sqlite);
    let _s3 = with_s3(&db);
    db.set_env([("EXPORT_MAX_ATTEMPTS", "1")]);
    let (tenant, form) = ex::make_form(&db, "bytes", "Bytes", &[("Note", ColumnKind::Text)]);
    insert_raw(&db, tenant, form, 1, r#"["fine"]"#);
    let bad: i64 = block_on(async {
        let handle = db.open().await;
        let id = on_pool!(&handle, |pool| sqlx::query_scalar(
            "UPDATE records SET recorded_by = CAST(X'66FF6F' AS TEXT) RETURNING id"
        )
        .fetch_one(pool)
        .await)
        .unwrap();
        handle.close().await;
        id
    });
    export_yesterday(&db).assert_code(1);
    let job = &ex::jobs(&db)[0];
    let error = job.last_error.as_deref().unwrap();
    assert!(
        error.contains(&format!("record {bad}")) && error.contains("recorded_by"),
        "{error}"
    );
}

#[test]
fn serde_json_reads_1e_minus_400_as_zero_so_these_tests_insert_raw_json() {
    // Guard for the test data above: serde_json really turns 1e-400 into 0, so without the raw
    // insert the underflow case would test nothing.
    let parsed: Value = serde_json::from_str("[1e-400]").unwrap();
    assert_eq!(parsed[0].as_f64(), Some(0.0));
}
