//! Export test data and read-back: jobs, records, bulk inserts, and workbooks read with calamine
//! (an xlsx reader independent of the writer).

use std::io::Cursor;

use batchbox::batches::demo::read_back::{self, JobRow};
use batchbox::batches::demo::sample_data;
use batchbox::calendar::Period;
use batchbox::export::form::{ColumnKind, Form};
use batchbox::export::records::Record;
use batchbox::on_pool;
use calamine::{Data, Reader, Xlsx};
use chrono::{DateTime, NaiveDate, Utc};

use super::{Sandbox, block_on};

pub const TZ: chrono_tz::Tz = chrono_tz::Asia::Tokyo;

pub fn jobs(db: &Sandbox) -> Vec<JobRow> {
    block_on(async {
        let handle = db.open().await;
        let jobs = read_back::jobs(&handle).await.unwrap();
        handle.close().await;
        jobs
    })
}

pub fn yesterday() -> NaiveDate {
    Period::previous_day(Utc::now(), TZ).start
}

pub fn form(db: &Sandbox, form_id: i64) -> Form {
    block_on(async {
        let handle = db.open().await;
        let form = batchbox::export::form::load(&handle, form_id)
            .await
            .unwrap();
        handle.close().await;
        form
    })
}

/// The records a job covers, in export order, read straight from the database.
pub fn records_of(db: &Sandbox, job: &JobRow) -> Vec<Record> {
    let period = Period::from_bounds(job.period_start, job.period_end).unwrap();
    let (from, to) = period.utc_bounds(TZ);
    block_on(async {
        let handle = db.open().await;
        let records = on_pool!(&handle, |pool| sqlx::query_as::<_, Record>(
            "SELECT id, recorded_at, recorded_by, CAST(field_values AS TEXT) AS field_values FROM records
             WHERE tenant_id = $1 AND form_id = $2 AND recorded_at >= $3 AND recorded_at < $4
             ORDER BY recorded_at, id"
        )
        .bind(job.tenant_id)
        .bind(job.form_id)
        .bind(from)
        .bind(to)
        .fetch_all(pool)
        .await)
        .unwrap();
        handle.close().await;
        records
    })
}

/// A tenant with one form of the given columns; returns (tenant id, form id).
pub fn make_form(
    db: &Sandbox,
    slug: &str,
    name: &str,
    columns: &[(&str, ColumnKind)],
) -> (i64, i64) {
    block_on(async {
        let handle = db.open().await;
        let tenant: i64 = on_pool!(&handle, |pool| sqlx::query_scalar(
            "INSERT INTO tenants (slug, name) VALUES ($1, $1) RETURNING id"
        )
        .bind(slug)
        .fetch_one(pool)
        .await)
        .unwrap();
        let form = sample_data::ensure_form(&handle, tenant, (name, columns))
            .await
            .unwrap();
        handle.close().await;
        (tenant, form.id)
    })
}

/// Inserts records, each `(recorded_at, values)`.
pub fn insert(
    db: &Sandbox,
    tenant: i64,
    form: i64,
    rows: Vec<(DateTime<Utc>, Vec<serde_json::Value>)>,
) {
    block_on(async {
        let handle = db.open().await;
        let rows: Vec<_> = rows
            .into_iter()
            .map(|(at, values)| (tenant, form, at, "tester", values))
            .collect();
        for chunk in rows.chunks(500) {
            sample_data::insert_records(&handle, chunk).await.unwrap();
        }
        handle.close().await;
    })
}

/// `n` records `[\"row {i}\", i]` one millisecond apart from the start of `day` (Tokyo), made
/// by the database itself on PostgreSQL (fast) and in batches on SQLite.
pub fn bulk(db: &Sandbox, tenant: i64, form: i64, day: NaiveDate, n: i64) {
    let (start, _) = Period::day(day).utc_bounds(TZ);
    match db.backend {
        super::Backend::Postgres => block_on(async {
            let handle = db.open().await;
            let batchbox::db::Db::Postgres(pool) = &handle else {
                unreachable!()
            };
            sqlx::query(
                "INSERT INTO records (tenant_id, form_id, recorded_at, recorded_by, field_values)
                 SELECT $1, $2, $3 + g * interval '1 millisecond', 'bulk', jsonb_build_array('row ' || g, g)
                 FROM generate_series(1, $4) AS g",
            )
            .bind(tenant)
            .bind(form)
            .bind(start)
            .bind(n)
            .execute(pool)
            .await
            .unwrap();
            handle.close().await;
        }),
        super::Backend::Sqlite => {
            let rows = (1..=n)
                .map(|i| {
                    (
                        start + chrono::Duration::milliseconds(i),
                        vec![format!("row {i}").into(), i.into()],
                    )
                })
                .collect();
            insert(db, tenant, form, rows);
        }
    }
}

/// A workbook's sheets, each as its rows of cells.
pub struct Book {
    pub sheets: Vec<(String, Vec<Vec<Data>>)>,
    pub formulas: usize,
}

pub fn read_workbook(bytes: Vec<u8>) -> Book {
    let mut book: Xlsx<_> =
        calamine::open_workbook_from_rs(Cursor::new(bytes)).expect("a valid xlsx");
    let mut sheets = Vec::new();
    let mut formulas = 0;
    for name in book.sheet_names() {
        let range = book.worksheet_range(&name).expect("sheet");
        sheets.push((name.clone(), range.rows().map(<[Data]>::to_vec).collect()));
        formulas += book
            .worksheet_formula(&name)
            .expect("formulas")
            .used_cells()
            .filter(|(_, _, f)| !f.is_empty())
            .count();
    }
    Book { sheets, formulas }
}

/// What a cell must hold for a record value of a column kind, derived independently of the
/// writer: text with XML-forbidden characters replaced, numbers, booleans, dates.
pub fn expected_cell(kind: ColumnKind, value: &serde_json::Value) -> Data {
    use serde_json::Value;
    match (kind, value) {
        (_, Value::Null) => Data::Empty,
        (ColumnKind::Text, Value::String(s)) => Data::String(
            s.chars()
                .map(|c| {
                    if (c < ' ' && !"\t\n\r".contains(c)) || c == '\u{FFFE}' || c == '\u{FFFF}' {
                        '\u{FFFD}'
                    } else {
                        c
                    }
                })
                .collect(),
        ),
        (ColumnKind::Integer, Value::Number(n)) => Data::Float(n.as_f64().unwrap()),
        (ColumnKind::Decimal, Value::String(s)) => Data::Float(s.parse().unwrap()),
        (ColumnKind::Boolean, Value::Bool(b)) => Data::Bool(*b),
        (ColumnKind::Date, Value::String(s)) => {
            Data::String(format!("{s}T00:00:00.000")) // compared through `normalize`
        }
        (ColumnKind::DateTime, Value::String(s)) => {
            let local = DateTime::parse_from_rfc3339(s)
                .unwrap()
                .with_timezone(&TZ)
                .naive_local();
            Data::String(local.format("%Y-%m-%dT%H:%M:%S%.3f").to_string())
        }
        (kind, other) => panic!("unexpected {kind:?} value {other}"),
    }
}

/// A cell as comparable data: datetimes as `YYYY-MM-DDTHH:MM:SS.mmm` text, the rest as they are.
pub fn normalize(cell: &Data) -> Data {
    match cell {
        Data::DateTime(dt) => Data::String(local_text(dt.as_datetime().expect("a datetime"))),
        other => other.clone(),
    }
}

/// Excel stores a datetime as a fraction of a day; round it to the millisecond.
pub fn local_text(at: chrono::NaiveDateTime) -> String {
    let micros = at.and_utc().timestamp_micros();
    let rounded = DateTime::from_timestamp_micros((micros + 500).div_euclid(1000) * 1000).unwrap();
    rounded
        .naive_utc()
        .format("%Y-%m-%dT%H:%M:%S%.3f")
        .to_string()
}

/// The expected local text of a record's `recorded_at`.
pub fn recorded_at_text(at: DateTime<Utc>) -> String {
    at.with_timezone(&TZ)
        .naive_local()
        .format("%Y-%m-%dT%H:%M:%S%.3f")
        .to_string()
}
