//! The rows of one export, as bench/run.py dumps them from PostgreSQL with COPY (text format):
//! a header line of `label:kind` fields, then one line per record with every value already in the
//! form the workbook shows (datetimes in the export's time zone), `\N` for NULL.

use std::path::Path;

use chrono::{NaiveDate, NaiveDateTime};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Integer,
    Decimal,
    Boolean,
    Date,
    DateTime,
}

pub enum Cell {
    Empty,
    Number(f64),
    Bool(bool),
    Text(Box<str>),
    Date(NaiveDate),
    DateTime(NaiveDateTime),
}

pub struct Rows {
    pub columns: Vec<(String, Kind)>,
    pub rows: Vec<Vec<Cell>>,
}

pub fn load(path: &Path) -> Result<Rows, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut lines = text.lines();
    let header = lines.next().ok_or(format!("{}: empty", path.display()))?;
    let columns = header
        .split('\t')
        .map(|field| {
            let (label, kind) = field
                .rsplit_once(':')
                .ok_or(format!("header field `{field}`: expected label:kind"))?;
            Ok((label.to_string(), kind_of(kind)?))
        })
        .collect::<Result<Vec<_>, String>>()?;
    let mut rows = Vec::new();
    for (n, line) in lines.enumerate() {
        let fields: Vec<&str> = line.split('\t').collect();
        if fields.len() != columns.len() {
            return Err(format!(
                "line {}: {} fields, expected {}",
                n + 2,
                fields.len(),
                columns.len()
            ));
        }
        let row = fields
            .iter()
            .zip(&columns)
            .map(|(field, (label, kind))| {
                cell(field, *kind).map_err(|e| format!("line {}, column {label}: {e}", n + 2))
            })
            .collect::<Result<Vec<_>, String>>()?;
        rows.push(row);
    }
    Ok(Rows { columns, rows })
}

fn kind_of(kind: &str) -> Result<Kind, String> {
    Ok(match kind {
        "text" => Kind::Text,
        "integer" => Kind::Integer,
        "decimal" => Kind::Decimal,
        "boolean" => Kind::Boolean,
        "date" => Kind::Date,
        "datetime" => Kind::DateTime,
        other => return Err(format!("unknown kind `{other}`")),
    })
}

fn cell(field: &str, kind: Kind) -> Result<Cell, String> {
    if field == "\\N" {
        return Ok(Cell::Empty);
    }
    let bad = |e: &dyn std::fmt::Display| format!("`{field}`: {e}");
    Ok(match kind {
        Kind::Text => Cell::Text(unescape(field).into_boxed_str()),
        Kind::Integer | Kind::Decimal => Cell::Number(field.parse().map_err(|e| bad(&e))?),
        Kind::Boolean => Cell::Bool(field == "t" || field == "true"),
        Kind::Date => {
            Cell::Date(NaiveDate::parse_from_str(field, "%Y-%m-%d").map_err(|e| bad(&e))?)
        }
        Kind::DateTime => Cell::DateTime(
            NaiveDateTime::parse_from_str(field, "%Y-%m-%dT%H:%M:%S%.f").map_err(|e| bad(&e))?,
        ),
    })
}

/// COPY's text format escapes backslash, tab, newline and carriage return.
fn unescape(field: &str) -> String {
    if !field.contains('\\') {
        return field.to_string();
    }
    let mut out = String::with_capacity(field.len());
    let mut chars = field.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}
