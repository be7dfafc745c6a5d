//! Realistic sample data: several tenants and forms, Japanese and other non-ASCII text, NULLs,
//! formula-like and very long text, spread over the days before today in the export time zone.
//! Deterministic for a given seed, so a demo or a benchmark can be reproduced.

use anyhow::Context;
use chrono::{DateTime, Days, Utc};
use chrono_tz::Tz;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use sqlx::types::Json;

use crate::calendar::Period;
use crate::db::Db;
use crate::export::form::ColumnKind;
use crate::on_pool;
use crate::runtime::counts::Counts;

/// Rows per INSERT statement, well under SQLite's and PostgreSQL's bind-parameter limits.
const INSERT_ROWS: usize = 500;

/// What to seed.
#[derive(Debug, Clone)]
pub struct SeedPlan {
    pub records: u64,
    /// Records are spread over this many days, ending yesterday (in `time_zone`).
    pub days: u32,
    pub time_zone: Tz,
    pub seed: u64,
    pub now: DateTime<Utc>,
}

struct TenantSpec {
    slug: &'static str,
    name: &'static str,
    group: &'static str,
}

const TENANTS: [TenantSpec; 3] = [
    TenantSpec {
        slug: "acme",
        name: "Acme Corporation",
        group: "default",
    },
    TenantSpec {
        slug: "tokyo-shoji",
        name: "東京商事株式会社",
        group: "beta",
    },
    TenantSpec {
        slug: "globex",
        name: "Globex GmbH",
        group: "beta",
    },
];

const INSPECTION: (&str, &[(&str, ColumnKind)]) = (
    "設備日常点検 / Daily inspection",
    &[
        ("設備 / Equipment", ColumnKind::Text),
        ("所見 / Notes", ColumnKind::Text),
        ("数量 / Count", ColumnKind::Integer),
        ("金額 / Amount (JPY)", ColumnKind::Decimal),
        ("合格 / Passed", ColumnKind::Boolean),
        ("点検日 / Inspected on", ColumnKind::Date),
        ("完了日時 / Completed at", ColumnKind::DateTime),
    ],
);

const DELIVERY: (&str, &[(&str, ColumnKind)]) = (
    "Delivery log",
    &[
        ("Item", ColumnKind::Text),
        ("Quantity", ColumnKind::Integer),
        ("Weight (kg)", ColumnKind::Decimal),
        ("Signed", ColumnKind::Boolean),
        ("Delivered at", ColumnKind::DateTime),
    ],
);

const WORDS: [&str; 16] = [
    "ポンプ",
    "コンプレッサー",
    "冷却塔",
    "配電盤",
    "ボイラー",
    "エレベーター",
    "Förderband",
    "Kühlturm",
    "boiler",
    "conveyor",
    "異常なし",
    "要交換",
    "軽微な漏れ",
    "清掃済み",
    "café",
    "naïve résumé",
];
const PEOPLE: [&str; 6] = [
    "山田 太郎",
    "佐藤 花子",
    "Jürgen Müller",
    "María García",
    "鈴木 一郎",
    "Olivia Smith",
];
/// Text that a careless writer would turn into a formula or a corrupt file.
const AWKWARD: [&str; 5] = [
    "=SUM(A1:A9)",
    "+81-3-1234-5678",
    "-5 (adjusted)",
    "@mention",
    "bell\u{7}and\u{1}controls",
];

/// Creates the tenants and forms if missing and appends `plan.records` records. Counts:
/// `tenants`, `forms`, `records`.
pub async fn seed(db: &Db, plan: &SeedPlan, counts: &Counts) -> anyhow::Result<()> {
    let mut forms = Vec::new();
    for (i, tenant) in TENANTS.iter().enumerate() {
        let tenant_id = ensure_tenant(db, tenant).await?;
        forms.push(ensure_form(db, tenant_id, INSPECTION).await?);
        if i == 0 {
            forms.push(ensure_form(db, tenant_id, DELIVERY).await?);
        }
    }
    counts.add("tenants", TENANTS.len() as i64);
    counts.add("forms", forms.len() as i64);

    let yesterday = Period::previous_day(plan.now, plan.time_zone);
    let first_day = yesterday.start - Days::new(u64::from(plan.days.max(1)) - 1);
    let (from, _) = Period::day(first_day).utc_bounds(plan.time_zone);
    let (_, to) = yesterday.utc_bounds(plan.time_zone);
    let span_ms = (to - from).num_milliseconds();

    let mut rng = SmallRng::seed_from_u64(plan.seed);
    let mut batch = Vec::with_capacity(INSERT_ROWS);
    for n in 0..plan.records {
        let form = &forms[(n as usize) % forms.len()];
        let recorded_at = from + chrono::Duration::milliseconds(rng.random_range(0..span_ms));
        let values: Vec<Value> = form
            .columns
            .iter()
            .map(|kind| sample_value(&mut rng, *kind, recorded_at))
            .collect();
        batch.push((
            form.tenant_id,
            form.id,
            recorded_at,
            PEOPLE[rng.random_range(0..PEOPLE.len())],
            values,
        ));
        if batch.len() == INSERT_ROWS {
            insert_records(db, &batch).await?;
            counts.add("records", batch.len() as i64);
            batch.clear();
        }
    }
    if !batch.is_empty() {
        insert_records(db, &batch).await?;
        counts.add("records", batch.len() as i64);
    }
    Ok(())
}

/// A form made (or found) by the seed.
pub struct SeededForm {
    pub id: i64,
    pub tenant_id: i64,
    pub columns: Vec<ColumnKind>,
}

async fn ensure_tenant(db: &Db, tenant: &TenantSpec) -> anyhow::Result<i64> {
    on_pool!(db, |pool| {
        sqlx::query(
        "INSERT INTO tenants (slug, name, rollout_group) VALUES ($1, $2, $3) ON CONFLICT (slug) DO NOTHING"
    )
    .bind(tenant.slug)
    .bind(tenant.name)
    .bind(tenant.group)
    .execute(pool)
    .await
    .map(|done| done.rows_affected())
    })?;
    let id = on_pool!(db, |pool| sqlx::query_scalar(
        "SELECT id FROM tenants WHERE slug = $1"
    )
    .bind(tenant.slug)
    .fetch_one(pool)
    .await)?;
    Ok(id)
}

/// Finds the tenant's form by name or creates it with its columns.
pub async fn ensure_form(
    db: &Db,
    tenant_id: i64,
    (name, columns): (&str, &[(&str, ColumnKind)]),
) -> anyhow::Result<SeededForm> {
    let existing: Option<i64> = on_pool!(db, |pool| sqlx::query_scalar(
        "SELECT id FROM forms WHERE tenant_id = $1 AND name = $2"
    )
    .bind(tenant_id)
    .bind(name)
    .fetch_optional(pool)
    .await)?;
    let kinds = columns.iter().map(|(_, kind)| *kind).collect();
    if let Some(id) = existing {
        return Ok(SeededForm {
            id,
            tenant_id,
            columns: kinds,
        });
    }
    let id: i64 = on_pool!(db, |pool| sqlx::query_scalar(
        "INSERT INTO forms (tenant_id, name) VALUES ($1, $2) RETURNING id"
    )
    .bind(tenant_id)
    .bind(name)
    .fetch_one(pool)
    .await)?;
    for (position, (label, kind)) in columns.iter().enumerate() {
        on_pool!(db, |pool| sqlx::query(
            "INSERT INTO form_columns (form_id, position, label, kind) VALUES ($1, $2, $3, $4)"
        )
        .bind(id)
        .bind(position as i32)
        .bind(*label)
        .bind(kind.as_str())
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
    }
    Ok(SeededForm {
        id,
        tenant_id,
        columns: kinds,
    })
}

pub type NewRecord = (i64, i64, DateTime<Utc>, &'static str, Vec<Value>);

/// Inserts records in one statement.
pub async fn insert_records(db: &Db, records: &[NewRecord]) -> anyhow::Result<()> {
    on_pool!(db, |pool| {
        let mut insert = sqlx::QueryBuilder::new(
            "INSERT INTO records (tenant_id, form_id, recorded_at, recorded_by, field_values) ",
        );
        insert.push_values(records, |mut row, (tenant, form, at, by, values)| {
            row.push_bind(*tenant)
                .push_bind(*form)
                .push_bind(*at)
                .push_bind(*by)
                .push_bind(Json(values));
        });
        insert
            .build()
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
    })
    .context("could not insert sample records")?;
    Ok(())
}

fn sample_value(rng: &mut SmallRng, kind: ColumnKind, recorded_at: DateTime<Utc>) -> Value {
    if rng.random_ratio(1, 10) {
        return Value::Null;
    }
    match kind {
        ColumnKind::Text => {
            let roll = rng.random_range(0..1000);
            if roll == 0 {
                // Long text, as notes sometimes are.
                Value::String("長い所見の記録。".repeat(rng.random_range(200..800)))
            } else if roll < 20 {
                Value::String(AWKWARD[rng.random_range(0..AWKWARD.len())].to_owned())
            } else {
                let words: Vec<&str> = (0..rng.random_range(1..4))
                    .map(|_| WORDS[rng.random_range(0..WORDS.len())])
                    .collect();
                Value::String(words.join(" "))
            }
        }
        ColumnKind::Integer => json!(rng.random_range(-5..5000)),
        ColumnKind::Decimal => Value::String(format!(
            "{}.{:02}",
            rng.random_range(0..100_000),
            rng.random_range(0..100)
        )),
        ColumnKind::Boolean => Value::Bool(rng.random_bool(0.8)),
        ColumnKind::Date => Value::String(
            (recorded_at.date_naive() - Days::new(rng.random_range(0..3))).to_string(),
        ),
        ColumnKind::DateTime => {
            let at = recorded_at - chrono::Duration::minutes(rng.random_range(0..600));
            Value::String(at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        }
    }
}
