//! The form a job exports: its tenant and its ordered, typed columns.

use anyhow::{Context, bail};

use crate::db::Db;
use crate::on_pool;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    Text,
    Integer,
    Decimal,
    Boolean,
    Date,
    DateTime,
}

impl ColumnKind {
    pub fn parse(kind: &str) -> Option<ColumnKind> {
        Some(match kind {
            "text" => ColumnKind::Text,
            "integer" => ColumnKind::Integer,
            "decimal" => ColumnKind::Decimal,
            "boolean" => ColumnKind::Boolean,
            "date" => ColumnKind::Date,
            "datetime" => ColumnKind::DateTime,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ColumnKind::Text => "text",
            ColumnKind::Integer => "integer",
            ColumnKind::Decimal => "decimal",
            ColumnKind::Boolean => "boolean",
            ColumnKind::Date => "date",
            ColumnKind::DateTime => "datetime",
        }
    }
}

#[derive(Debug, Clone)]
pub struct FormColumn {
    pub label: String,
    pub kind: ColumnKind,
}

#[derive(Debug, Clone)]
pub struct Form {
    pub id: i64,
    pub name: String,
    pub tenant_id: i64,
    pub tenant_slug: String,
    pub columns: Vec<FormColumn>,
}

#[derive(sqlx::FromRow)]
struct FormRow {
    id: i64,
    name: String,
    tenant_id: i64,
    tenant_slug: String,
}

#[derive(sqlx::FromRow)]
struct ColumnRow {
    label: String,
    kind: String,
}

pub async fn load(db: &Db, form_id: i64) -> anyhow::Result<Form> {
    let form: FormRow = on_pool!(db, |pool| sqlx::query_as(
        "SELECT f.id, f.name, f.tenant_id, t.slug AS tenant_slug
         FROM forms f JOIN tenants t ON t.id = f.tenant_id WHERE f.id = $1"
    )
    .bind(form_id)
    .fetch_optional(pool)
    .await)?
    .with_context(|| format!("form {form_id} does not exist"))?;
    let rows: Vec<ColumnRow> = on_pool!(db, |pool| sqlx::query_as(
        "SELECT label, kind FROM form_columns WHERE form_id = $1 ORDER BY position"
    )
    .bind(form_id)
    .fetch_all(pool)
    .await)?;
    let mut columns = Vec::with_capacity(rows.len());
    for row in rows {
        let Some(kind) = ColumnKind::parse(&row.kind) else {
            bail!(
                "form {form_id}, column `{}`: unknown kind `{}`",
                row.label,
                row.kind
            );
        };
        columns.push(FormColumn {
            label: row.label,
            kind,
        });
    }
    Ok(Form {
        id: form.id,
        name: form.name,
        tenant_id: form.tenant_id,
        tenant_slug: form.tenant_slug,
        columns,
    })
}
