//! The workbook: records to an .xlsx file with rust_xlsxwriter in constant-memory mode.
//!
//! One header row (bold, frozen), typed cells (numbers, booleans, dates and datetimes as Excel
//! dates), readable column widths, and a new sheet with the header repeated every 1,048,575 data
//! rows. Text is always written as text: a value like `=HYPERLINK(...)` is never a formula.
//! Characters XML forbids are replaced with U+FFFD, and text over Excel's 32,767-character cell
//! limit is cut with a visible marker, so no record can produce a corrupt file.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;
use rust_xlsxwriter::{Format, Workbook, Worksheet};
use serde_json::Value;
use serde_json::value::RawValue;
use tokio::sync::mpsc;

use super::form::{ColumnKind, FormColumn};
use super::records::Record;

/// Rows of an Excel sheet, header included.
pub const EXCEL_MAX_ROWS: u32 = 1_048_576;
/// Characters in one Excel cell.
pub const EXCEL_MAX_CELL_CHARS: usize = 32_767;
/// Appended to text cut at the cell limit, so a reader sees that it was cut.
pub const TRUNCATION_MARKER: &str = "…[truncated]";
/// The columns every workbook starts with, before the form's own.
pub const FIXED_HEADERS: [&str; 3] = ["Record ID", "Recorded at", "Recorded by"];
const DATE_FORMAT: &str = "yyyy-mm-dd";
const DATETIME_FORMAT: &str = "yyyy-mm-dd hh:mm:ss";
/// Warnings per job about cut or coerced cells before they are only counted.
const MAX_CELL_WARNINGS: u64 = 10;

/// What to write.
#[derive(Debug, Clone)]
pub struct WorkbookPlan {
    pub job_id: i64,
    pub form_name: String,
    pub columns: Vec<FormColumn>,
    /// Datetimes are shown in this zone (Excel has none).
    pub time_zone: Tz,
    pub zip_level: u8,
    /// Where rust_xlsxwriter keeps the sheet data until the file is assembled: on disk, never
    /// on tmpfs (about 620 MB per million rows).
    pub temp_dir: PathBuf,
    /// Data rows per sheet; `EXCEL_MAX_ROWS - 1` except in tests of the split.
    pub rows_per_sheet: u32,
}

/// What was written, for the job's log line and counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkbookStats {
    pub rows: u64,
    pub sheets: u32,
    pub truncated_cells: u64,
    pub replaced_chars: u64,
    pub cells_as_text: u64,
}

/// Receives record chunks until the sender is done and saves the workbook at `out`. Blocking:
/// run it on a blocking thread.
pub fn write(
    plan: &WorkbookPlan,
    mut chunks: mpsc::Receiver<Vec<Record>>,
    out: &Path,
) -> anyhow::Result<WorkbookStats> {
    let mut writer = Writer::new(plan)?;
    while let Some(chunk) = chunks.blocking_recv() {
        if writer.sheets == 0 {
            writer.widths = column_widths(plan, &chunk);
        }
        for record in &chunk {
            writer.write_record(record)?;
        }
    }
    if writer.sheets == 0 {
        writer.widths = column_widths(plan, &[]);
        writer.add_sheet()?;
    }
    writer
        .workbook
        .save(out)
        .with_context(|| format!("could not save the workbook to {}", out.display()))?;
    Ok(writer.stats())
}

struct Writer<'a> {
    plan: &'a WorkbookPlan,
    workbook: Workbook,
    header: Format,
    date: Format,
    datetime: Format,
    widths: Vec<f64>,
    sheets: u32,
    /// Next row to write in the current sheet (0 is the header).
    row: u32,
    stats: WorkbookStats,
}

impl<'a> Writer<'a> {
    fn new(plan: &'a WorkbookPlan) -> anyhow::Result<Writer<'a>> {
        let mut workbook = Workbook::new();
        workbook
            .set_tempdir(&plan.temp_dir)
            .context("could not use EXPORT_TEMP_DIR")?;
        workbook.set_zip_compression_level(plan.zip_level);
        Ok(Writer {
            plan,
            workbook,
            header: Format::new().set_bold(),
            date: Format::new().set_num_format(DATE_FORMAT),
            datetime: Format::new().set_num_format(DATETIME_FORMAT),
            widths: Vec::new(),
            sheets: 0,
            row: 0,
            stats: WorkbookStats::default(),
        })
    }

    fn stats(&self) -> WorkbookStats {
        WorkbookStats {
            sheets: self.sheets,
            ..self.stats.clone()
        }
    }

    fn add_sheet(&mut self) -> anyhow::Result<()> {
        self.sheets += 1;
        let name = sheet_name(&self.plan.form_name, self.sheets);
        let headers: Vec<&str> = FIXED_HEADERS
            .into_iter()
            .chain(self.plan.columns.iter().map(|c| c.label.as_str()))
            .collect();
        let sheet = self.workbook.add_worksheet_with_constant_memory()?;
        sheet.set_name(&name)?;
        for (col, width) in self.widths.iter().enumerate() {
            sheet.set_column_width(col as u16, *width)?;
        }
        for (col, label) in headers.iter().enumerate() {
            let (label, _) = clean_text(label);
            sheet.write_string_with_format(0, col as u16, label.as_ref(), &self.header)?;
        }
        sheet.set_freeze_panes(1, 0)?;
        self.row = 1;
        Ok(())
    }

    fn write_record(&mut self, record: &Record) -> anyhow::Result<()> {
        if self.sheets == 0 || self.row > self.plan.rows_per_sheet {
            self.add_sheet()?;
        }
        let values: Vec<&RawValue> = serde_json::from_str(&record.field_values)
            .with_context(|| format!("record {}: field_values is not a JSON array", record.id))?;
        let row = self.row;
        let index = (self.sheets - 1) as usize;
        let tz = self.plan.time_zone;
        let sheet = self.workbook.worksheet_from_index(index)?;
        sheet.write_number(row, 0, record.id as f64)?;
        sheet.write_datetime_with_format(row, 1, local(record.recorded_at, tz), &self.datetime)?;
        write_text(
            sheet,
            row,
            2,
            &record.recorded_by,
            record.id,
            "Recorded by",
            &mut self.stats,
        )?;
        for (i, column) in self.plan.columns.iter().enumerate() {
            let col = (FIXED_HEADERS.len() + i) as u16;
            let value = values.get(i).map_or("null", |raw| raw.get());
            let cell = Cell {
                sheet: &mut *sheet,
                row,
                col,
                record: record.id,
                column,
            };
            cell.write(value, tz, &self.date, &self.datetime, &mut self.stats)?;
        }
        self.row += 1;
        self.stats.rows += 1;
        Ok(())
    }
}

struct Cell<'s> {
    sheet: &'s mut Worksheet,
    row: u32,
    col: u16,
    record: i64,
    column: &'s FormColumn,
}

impl Cell<'_> {
    fn write(
        self,
        value: &str,
        tz: Tz,
        date: &Format,
        datetime: &Format,
        stats: &mut WorkbookStats,
    ) -> anyhow::Result<()> {
        let (sheet, row, col) = (self.sheet, self.row, self.col);
        match typed(self.column.kind, value, tz) {
            Typed::Empty => {}
            Typed::Text(text) => {
                write_text(
                    sheet,
                    row,
                    col,
                    &text,
                    self.record,
                    &self.column.label,
                    stats,
                )?;
            }
            Typed::Number(number) => {
                sheet.write_number(row, col, number)?;
            }
            Typed::Bool(b) => {
                sheet.write_boolean(row, col, b)?;
            }
            Typed::Date(day) => {
                sheet.write_datetime_with_format(row, col, day, date)?;
            }
            Typed::DateTime(at) => {
                sheet.write_datetime_with_format(row, col, at, datetime)?;
            }
            // A value that does not fit its column's type is kept, as text, never dropped.
            Typed::Mistyped => {
                stats.cells_as_text += 1;
                if stats.cells_as_text <= MAX_CELL_WARNINGS {
                    tracing::warn!(
                        record_id = self.record,
                        column = self.column.label,
                        kind = self.column.kind.as_str(),
                        "value does not fit its column type; written as text"
                    );
                }
                let text = json_string(value).unwrap_or(Cow::Borrowed(value));
                write_text(
                    sheet,
                    row,
                    col,
                    &text,
                    self.record,
                    &self.column.label,
                    stats,
                )?;
            }
        }
        Ok(())
    }
}

/// A record value as the cell it becomes, parsed once by its column's kind.
enum Typed<'v> {
    Empty,
    Text(Cow<'v, str>),
    Number(f64),
    Bool(bool),
    Date(NaiveDate),
    DateTime(NaiveDateTime),
    /// The value does not fit its column (text in a number column, an unparsable date, ...).
    Mistyped,
}

/// Types one value of `field_values`, given as its JSON text (`"abc"`, `12`, `null`, ...): the
/// record's JSON is only split into values, and a string without escapes is borrowed, not
/// copied, so a million rows cost no allocation per cell.
fn typed(kind: ColumnKind, value: &str, tz: Tz) -> Typed<'_> {
    if value == "null" {
        return Typed::Empty;
    }
    let text = json_string(value);
    match (kind, text) {
        (ColumnKind::Text, Some(text)) => Typed::Text(text),
        // Integers beyond 2^53 would lose digits as Excel numbers: kept as text instead.
        (ColumnKind::Integer, None) => value
            .parse::<i64>()
            .ok()
            .filter(|i| i.unsigned_abs() < 1 << 53)
            .map_or(Typed::Mistyped, |i| Typed::Number(i as f64)),
        (ColumnKind::Decimal, None) => json_number(value).map_or(Typed::Mistyped, Typed::Number),
        (ColumnKind::Decimal, Some(s)) => s
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map_or(Typed::Mistyped, Typed::Number),
        (ColumnKind::Boolean, None) => match value {
            "true" => Typed::Bool(true),
            "false" => Typed::Bool(false),
            _ => Typed::Mistyped,
        },
        (ColumnKind::Date, Some(s)) => {
            NaiveDate::parse_from_str(&s, "%Y-%m-%d").map_or(Typed::Mistyped, Typed::Date)
        }
        (ColumnKind::DateTime, Some(s)) => DateTime::parse_from_rfc3339(&s)
            .map_or(Typed::Mistyped, |at| {
                Typed::DateTime(local(at.with_timezone(&Utc), tz))
            }),
        _ => Typed::Mistyped,
    }
}

/// The string a JSON string literal holds (borrowed when it has no escapes); None for any other
/// JSON value.
fn json_string(value: &str) -> Option<Cow<'_, str>> {
    let inner = value.strip_prefix('"')?.strip_suffix('"')?;
    if !inner.contains('\\') {
        return Some(Cow::Borrowed(inner));
    }
    serde_json::from_str::<String>(value).ok().map(Cow::Owned)
}

/// A JSON number as f64, None for other values (and for numbers beyond f64).
fn json_number(value: &str) -> Option<f64> {
    match serde_json::from_str::<Value>(value).ok()? {
        Value::Number(n) => n.as_f64().filter(|f| f.is_finite()),
        _ => None,
    }
}

fn write_text(
    sheet: &mut Worksheet,
    row: u32,
    col: u16,
    text: &str,
    record: i64,
    column: &str,
    stats: &mut WorkbookStats,
) -> anyhow::Result<()> {
    let (clean, replaced) = clean_text(text);
    stats.replaced_chars += replaced;
    let (cell, truncated) = truncate_for_cell(&clean);
    if truncated {
        stats.truncated_cells += 1;
        if stats.truncated_cells <= MAX_CELL_WARNINGS {
            tracing::warn!(
                record_id = record,
                column,
                chars = clean.chars().count(),
                "text longer than Excel's 32,767-character cell limit; truncated with a marker"
            );
        }
    }
    sheet.write_string(row, col, cell.as_ref())?;
    Ok(())
}

/// Replaces characters that XML 1.0 forbids (most C0 controls, U+FFFE, U+FFFF) with U+FFFD.
pub fn clean_text(text: &str) -> (Cow<'_, str>, u64) {
    let forbidden = |c: char| matches!(c, '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}');
    // Every forbidden character is a byte below 0x20 or starts with 0xEF in UTF-8: a byte scan
    // clears almost all text without decoding it.
    let suspect = |b: &u8| (*b < 0x20 && !matches!(*b, b'\t' | b'\n' | b'\r')) || *b == 0xEF;
    if !text.as_bytes().iter().any(suspect) || !text.chars().any(forbidden) {
        return (Cow::Borrowed(text), 0);
    }
    let mut replaced = 0;
    let clean = text
        .chars()
        .map(|c| {
            if forbidden(c) {
                replaced += 1;
                '\u{FFFD}'
            } else {
                c
            }
        })
        .collect();
    (Cow::Owned(clean), replaced)
}

/// Cuts text to Excel's cell limit, ending with `TRUNCATION_MARKER`.
pub fn truncate_for_cell(text: &str) -> (Cow<'_, str>, bool) {
    if text.len() <= EXCEL_MAX_CELL_CHARS || text.chars().count() <= EXCEL_MAX_CELL_CHARS {
        return (Cow::Borrowed(text), false);
    }
    let keep = EXCEL_MAX_CELL_CHARS - TRUNCATION_MARKER.chars().count();
    let mut cut: String = text.chars().take(keep).collect();
    cut.push_str(TRUNCATION_MARKER);
    (Cow::Owned(cut), true)
}

/// A valid Excel sheet name from the form name: at most 31 characters, none of `[]:*?/\`, not
/// blank, no apostrophe at either end; continuation sheets get ` (2)`, ` (3)`, ...
pub fn sheet_name(form_name: &str, number: u32) -> String {
    let suffix = if number > 1 {
        format!(" ({number})")
    } else {
        String::new()
    };
    let cleaned: String = form_name
        .chars()
        .map(|c| {
            if "[]:*?/\\".contains(c) || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    let cleaned = cleaned.trim().trim_matches('\'').trim();
    let base = if cleaned.is_empty() {
        "Records"
    } else {
        cleaned
    };
    let room = 31 - suffix.chars().count();
    let base: String = base.chars().take(room).collect();
    format!("{}{suffix}", base.trim_end().trim_end_matches('\''))
}

fn local(at: DateTime<Utc>, tz: Tz) -> NaiveDateTime {
    at.with_timezone(&tz).naive_local()
}

/// Widths from the header and the first chunk of data: the sheet's column widths must be known
/// before its rows are streamed out.
fn column_widths(plan: &WorkbookPlan, sample: &[Record]) -> Vec<f64> {
    let mut widths: Vec<usize> = FIXED_HEADERS
        .iter()
        .map(|h| display_width(h))
        .chain(plan.columns.iter().map(|c| display_width(&c.label)))
        .collect();
    widths[0] = widths[0].max(10);
    widths[1] = widths[1].max(DATETIME_FORMAT.len());
    for record in sample {
        widths[2] = widths[2].max(display_width(&record.recorded_by));
        let Ok(values) = serde_json::from_str::<Vec<&RawValue>>(&record.field_values) else {
            continue;
        };
        for (i, (column, value)) in plan.columns.iter().zip(values.iter()).enumerate() {
            let value = value.get();
            let width = match (column.kind, json_string(value)) {
                (ColumnKind::Date, _) => DATE_FORMAT.len(),
                (ColumnKind::DateTime, _) => DATETIME_FORMAT.len(),
                (_, Some(s)) => display_width(&s),
                (_, None) if value == "null" => 0,
                (_, None) => value.len(),
            };
            widths[FIXED_HEADERS.len() + i] = widths[FIXED_HEADERS.len() + i].max(width);
        }
    }
    widths
        .into_iter()
        .map(|w| (w + 2).clamp(8, 60) as f64)
        .collect()
}

/// Characters as wide as they show: CJK and other wide characters take two columns.
fn display_width(text: &str) -> usize {
    text.chars()
        .take(200)
        .map(|c| if c as u32 >= 0x1100 { 2 } else { 1 })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbidden_xml_characters_are_replaced_and_counted() {
        let (clean, replaced) = clean_text("a\u{1}b\u{1F}c\td\ne\u{FFFF}");
        assert_eq!(clean, "a\u{FFFD}b\u{FFFD}c\td\ne\u{FFFD}");
        assert_eq!(replaced, 3);
        assert!(matches!(clean_text("普通の文字列").0, Cow::Borrowed(_)));
    }

    #[test]
    fn text_over_the_cell_limit_is_cut_with_a_visible_marker() {
        let long = "あ".repeat(40_000);
        let (cut, truncated) = truncate_for_cell(&long);
        assert!(truncated);
        assert_eq!(cut.chars().count(), EXCEL_MAX_CELL_CHARS);
        assert!(cut.ends_with(TRUNCATION_MARKER));
        let exact = "x".repeat(EXCEL_MAX_CELL_CHARS);
        assert!(!truncate_for_cell(&exact).1);
    }

    #[test]
    fn sheet_names_are_valid_for_excel() {
        assert_eq!(
            sheet_name("Daily [inspection]: A/B", 1),
            "Daily _inspection__ A_B"
        );
        assert_eq!(sheet_name("'quoted'", 1), "quoted");
        assert_eq!(sheet_name("  ", 1), "Records");
        let long = sheet_name(&"設備点検記録".repeat(10), 2);
        assert_eq!(long.chars().count(), 31);
        assert!(long.ends_with(" (2)"));
    }
}
