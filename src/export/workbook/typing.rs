//! Cell typing: a record value, given as JSON text, becomes the cell its column's kind asks for,
//! or text when it does not fit the kind or Excel (and the reason is counted).

use std::borrow::Cow;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;

use crate::export::excel_limits;
use crate::export::form::ColumnKind;

/// A record value as the cell it becomes, parsed once by its column's kind.
pub(super) enum Typed<'v> {
    Empty,
    Text(Cow<'v, str>),
    Number(f64),
    Bool(bool),
    Date(NaiveDate),
    DateTime(NaiveDateTime),
    /// Kept as text, and counted: the value does not fit its column or Excel.
    AsText(Cow<'v, str>, AsText),
}

/// Why a value is written as text.
#[derive(Clone, Copy)]
pub(super) enum AsText {
    /// Text in a number column, an unparsable date, ...
    Mistyped,
    /// A date Excel cannot show.
    DateOutOfRange,
    /// A number Excel would show as another number.
    NumberOutOfRange,
}

impl AsText {
    pub(super) fn message(self) -> &'static str {
        match self {
            AsText::Mistyped => "value does not fit its column type; written as text",
            AsText::DateOutOfRange => {
                "date outside what Excel can show (1900-01-01 to 9999-12-31); written as text"
            }
            AsText::NumberOutOfRange => {
                "number Excel would show as another number (underflow or overflow); written as text"
            }
        }
    }
}

/// Types one value of `field_values`, given as its JSON text (`"abc"`, `12`, `null`, ...): the
/// record's JSON is only split into values, and a string without escapes is borrowed, not
/// copied, so a million rows cost no allocation per cell.
pub(super) fn typed(kind: ColumnKind, value: &str, tz: Tz) -> Typed<'_> {
    if value == "null" {
        return Typed::Empty;
    }
    let text = json_string(value);
    let mistyped = || {
        Typed::AsText(
            json_string(value).unwrap_or(Cow::Borrowed(value)),
            AsText::Mistyped,
        )
    };
    let number = |number: f64, written: Cow<'_, str>| {
        if excel_limits::number_fits(number, &written) {
            Typed::Number(number)
        } else {
            Typed::AsText(Cow::Owned(written.into_owned()), AsText::NumberOutOfRange)
        }
    };
    match (kind, text) {
        (ColumnKind::Text, Some(text)) => Typed::Text(text),
        // Integers beyond 2^53 would lose digits as Excel numbers: kept as text instead.
        (ColumnKind::Integer, None) => value
            .parse::<i64>()
            .ok()
            .filter(|i| i.unsigned_abs() < 1 << 53)
            .map_or_else(mistyped, |i| Typed::Number(i as f64)),
        (ColumnKind::Decimal, None) => match json_number(value) {
            Some(n) => number(n, Cow::Borrowed(value)),
            None => mistyped(),
        },
        (ColumnKind::Decimal, Some(s)) => match s.parse::<f64>() {
            Ok(n) if !n.is_nan() => number(n, s),
            _ => mistyped(),
        },
        (ColumnKind::Boolean, None) => match value {
            "true" => Typed::Bool(true),
            "false" => Typed::Bool(false),
            _ => mistyped(),
        },
        (ColumnKind::Date, Some(s)) => match NaiveDate::parse_from_str(&s, "%Y-%m-%d") {
            Ok(day) if excel_limits::date_fits(day) => Typed::Date(day),
            Ok(_) => Typed::AsText(s, AsText::DateOutOfRange),
            Err(_) => mistyped(),
        },
        (ColumnKind::DateTime, Some(s)) => match DateTime::parse_from_rfc3339(&s) {
            Ok(at) => datetime_cell(at.with_timezone(&Utc), tz, || s),
            Err(_) => mistyped(),
        },
        _ => mistyped(),
    }
}

/// A datetime as a cell in the export's zone, or as `text` when Excel cannot show it there.
pub(super) fn datetime_cell<'v>(
    at: DateTime<Utc>,
    tz: Tz,
    text: impl FnOnce() -> Cow<'v, str>,
) -> Typed<'v> {
    let local = local(at, tz);
    if excel_limits::datetime_fits(local) {
        Typed::DateTime(local)
    } else {
        Typed::AsText(text(), AsText::DateOutOfRange)
    }
}

/// The string a JSON string literal holds (borrowed when it has no escapes); None for any other
/// JSON value.
pub(super) fn json_string(value: &str) -> Option<Cow<'_, str>> {
    let inner = value.strip_prefix('"')?.strip_suffix('"')?;
    if !inner.contains('\\') {
        return Some(Cow::Borrowed(inner));
    }
    serde_json::from_str::<String>(value).ok().map(Cow::Owned)
}

/// A JSON number as f64, None for other values (`true`, an array, ...). JSON's number syntax is
/// a subset of Rust's float syntax; numbers beyond f64 come back infinite or 0, for
/// `number_fits` to judge.
fn json_number(value: &str) -> Option<f64> {
    value.parse::<f64>().ok()
}

pub(super) fn local(at: DateTime<Utc>, tz: Tz) -> NaiveDateTime {
    at.with_timezone(&tz).naive_local()
}
