//! The workbook: records to an .xlsx file with rust_xlsxwriter in constant-memory mode.
//!
//! One header row (bold, frozen), typed cells (numbers, booleans, dates and datetimes as Excel
//! dates), readable column widths, and a new sheet with the header repeated every 1,048,575 data
//! rows. Text is always written as text: a value like `=HYPERLINK(...)` is never a formula.
//! Whatever a record holds is made to fit Excel (`excel_limits`) and every value changed on the
//! way is counted, so no record can fail its job or produce a corrupt file; only a form Excel
//! cannot hold at all (more columns than a sheet has) fails, naming the form and the column.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use chrono_tz::Tz;
use rust_xlsxwriter::{Format, Workbook, Worksheet};
use serde_json::value::RawValue;
use tokio::sync::mpsc;

mod typing;

use self::typing::{AsText, Typed, datetime_cell, json_string, typed};
use super::excel_limits::{self, MAX_COLUMNS};
use super::form::{ColumnKind, FormColumn};
use super::records::Record;

/// The columns every workbook starts with, before the form's own.
pub const FIXED_HEADERS: [&str; 3] = ["Record ID", "Recorded at", "Recorded by"];
const DATE_FORMAT: &str = "yyyy-mm-dd";
const DATETIME_FORMAT: &str = "yyyy-mm-dd hh:mm:ss";
/// Warnings per job and kind of adjustment before they are only counted.
const MAX_CELL_WARNINGS: u64 = 10;

/// What to write.
#[derive(Debug, Clone)]
pub struct WorkbookPlan {
    pub job_id: i64,
    pub form_id: i64,
    pub form_name: String,
    pub columns: Vec<FormColumn>,
    /// Datetimes are shown in this zone (Excel has none).
    pub time_zone: Tz,
    pub zip_level: u8,
    /// Where rust_xlsxwriter keeps the sheet data until the file is assembled: on disk, never
    /// on tmpfs (about 620 MB per million rows).
    pub temp_dir: PathBuf,
    /// Data rows per sheet; `MAX_ROWS - 1` except in tests of the split.
    pub rows_per_sheet: u32,
}

/// What was written, and every value that was changed to fit Excel, for the job's log lines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkbookStats {
    pub rows: u64,
    pub sheets: u32,
    /// Text cut at Excel's cell limit (values and column labels).
    pub truncated_cells: u64,
    /// Characters XML forbids, replaced with U+FFFD.
    pub replaced_chars: u64,
    /// Values that do not fit their column's type, kept as text.
    pub cells_as_text: u64,
    /// Dates and datetimes Excel cannot show (before 1900, after 9999), kept as text.
    pub dates_as_text: u64,
    /// Numbers Excel would show as something else (`1e-400` is not 0), kept as text.
    pub numbers_as_text: u64,
    /// Values beyond the form's columns: there is no column to put them in.
    pub dropped_values: u64,
}

impl WorkbookStats {
    fn adjusted(&self) -> u64 {
        self.truncated_cells
            + self.replaced_chars
            + self.cells_as_text
            + self.dates_as_text
            + self.numbers_as_text
            + self.dropped_values
    }
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
    let stats = writer.stats();
    if stats.adjusted() > 0 {
        tracing::warn!(
            truncated_cells = stats.truncated_cells,
            replaced_chars = stats.replaced_chars,
            cells_as_text = stats.cells_as_text,
            dates_as_text = stats.dates_as_text,
            numbers_as_text = stats.numbers_as_text,
            dropped_values = stats.dropped_values,
            "some values were adjusted to fit Excel"
        );
    }
    Ok(stats)
}

struct Writer<'a> {
    plan: &'a WorkbookPlan,
    workbook: Workbook,
    /// The header row as written: labels cleaned and cut like any other text.
    headers: Vec<String>,
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
        if FIXED_HEADERS.len() + plan.columns.len() > MAX_COLUMNS {
            let first = &plan.columns[MAX_COLUMNS - FIXED_HEADERS.len()];
            bail!(
                "form {} has {} columns; an Excel sheet holds {MAX_COLUMNS} including the {} fixed \
                 ones, so column `{}` (number {}) and those after it do not fit",
                plan.form_id,
                plan.columns.len(),
                FIXED_HEADERS.len(),
                first.label,
                MAX_COLUMNS - FIXED_HEADERS.len() + 1
            );
        }
        let mut stats = WorkbookStats::default();
        let headers = FIXED_HEADERS
            .into_iter()
            .chain(plan.columns.iter().map(|c| c.label.as_str()))
            .map(|label| {
                let (text, truncated) = fit_text(label, &mut stats);
                if truncated {
                    tracing::warn!(
                        column = excel_limits::prefix_within_units(label, 100),
                        units = excel_limits::utf16_len(label),
                        "column label longer than Excel's cell limit; truncated with a marker"
                    );
                }
                text.into_owned()
            })
            .collect();
        let mut workbook = Workbook::new();
        workbook
            .set_tempdir(&plan.temp_dir)
            .context("could not use EXPORT_TEMP_DIR")?;
        workbook.set_zip_compression_level(plan.zip_level);
        Ok(Writer {
            plan,
            workbook,
            headers,
            header: Format::new().set_bold(),
            date: Format::new().set_num_format(DATE_FORMAT),
            datetime: Format::new().set_num_format(DATETIME_FORMAT),
            widths: Vec::new(),
            sheets: 0,
            row: 0,
            stats,
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
        let name = excel_limits::sheet_name(&self.plan.form_name, self.sheets);
        let sheet = self.workbook.add_worksheet_with_constant_memory()?;
        sheet
            .set_name(&name)
            .with_context(|| format!("form {}: sheet name `{name}`", self.plan.form_id))?;
        for (col, width) in self.widths.iter().enumerate() {
            sheet.set_column_width(col as u16, *width)?;
        }
        for (col, label) in self.headers.iter().enumerate() {
            sheet
                .write_string_with_format(0, col as u16, label, &self.header)
                .with_context(|| format!("form {}: column label `{label}`", self.plan.form_id))?;
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
        if values.len() > self.plan.columns.len() {
            let extra = (values.len() - self.plan.columns.len()) as u64;
            self.stats.dropped_values += extra;
            if self.stats.dropped_values == extra {
                tracing::warn!(
                    record_id = record.id,
                    values = values.len(),
                    columns = self.plan.columns.len(),
                    "record has more values than its form has columns; the extra values are not exported"
                );
            }
        }
        let row = self.row;
        let index = (self.sheets - 1) as usize;
        let tz = self.plan.time_zone;
        let sheet = self.workbook.worksheet_from_index(index)?;
        let mut cell = |col: usize, column: &str, kind: ColumnKind, typed: Typed<'_>| {
            Cell {
                sheet: &mut *sheet,
                row,
                col: col as u16,
                record: record.id,
                column,
                kind,
            }
            .write(typed, &self.date, &self.datetime, &mut self.stats)
            .with_context(|| format!("record {}, column `{column}`", record.id))
        };
        let [id, recorded_at, recorded_by] = FIXED_HEADERS;
        cell(0, id, ColumnKind::Integer, Typed::Number(record.id as f64))?;
        let at = datetime_cell(record.recorded_at, tz, || {
            Cow::Owned(record.recorded_at.to_rfc3339())
        });
        cell(1, recorded_at, ColumnKind::DateTime, at)?;
        let by = Typed::Text(Cow::Borrowed(&record.recorded_by));
        cell(2, recorded_by, ColumnKind::Text, by)?;
        for (i, column) in self.plan.columns.iter().enumerate() {
            let value = values.get(i).map_or("null", |raw| raw.get());
            let typed = typed(column.kind, value, tz);
            cell(FIXED_HEADERS.len() + i, &column.label, column.kind, typed)?;
        }
        self.row += 1;
        self.stats.rows += 1;
        Ok(())
    }
}

/// Where a value goes, and whose it is (for the warnings).
struct Cell<'s> {
    sheet: &'s mut Worksheet,
    row: u32,
    col: u16,
    record: i64,
    column: &'s str,
    kind: ColumnKind,
}

impl Cell<'_> {
    fn write(
        self,
        typed: Typed<'_>,
        date: &Format,
        datetime: &Format,
        stats: &mut WorkbookStats,
    ) -> anyhow::Result<()> {
        let (sheet, row, col) = (self.sheet, self.row, self.col);
        let (text, why) = match typed {
            Typed::Empty => return Ok(()),
            Typed::Number(number) => {
                sheet.write_number(row, col, number)?;
                return Ok(());
            }
            Typed::Bool(b) => {
                sheet.write_boolean(row, col, b)?;
                return Ok(());
            }
            Typed::Date(day) => {
                sheet.write_datetime_with_format(row, col, day, date)?;
                return Ok(());
            }
            Typed::DateTime(at) => {
                sheet.write_datetime_with_format(row, col, at, datetime)?;
                return Ok(());
            }
            Typed::Text(text) => (text, None),
            Typed::AsText(text, why) => (text, Some(why)),
        };
        // A value that does not fit its column, or Excel, is kept as text, never dropped.
        if let Some(why) = why {
            let count = match why {
                AsText::Mistyped => &mut stats.cells_as_text,
                AsText::DateOutOfRange => &mut stats.dates_as_text,
                AsText::NumberOutOfRange => &mut stats.numbers_as_text,
            };
            *count += 1;
            if *count <= MAX_CELL_WARNINGS {
                tracing::warn!(
                    record_id = self.record,
                    column = self.column,
                    kind = self.kind.as_str(),
                    "{}",
                    why.message()
                );
            }
        }
        let (cell, truncated) = fit_text(&text, stats);
        if truncated && stats.truncated_cells <= MAX_CELL_WARNINGS {
            tracing::warn!(
                record_id = self.record,
                column = self.column,
                units = excel_limits::utf16_len(&text),
                "text longer than Excel's 32,767-unit cell limit; truncated with a marker"
            );
        }
        sheet.write_string(row, col, cell.as_ref())?;
        Ok(())
    }
}

/// Text as Excel can hold it: forbidden characters replaced, cut at the cell limit; counts both.
fn fit_text<'t>(text: &'t str, stats: &mut WorkbookStats) -> (Cow<'t, str>, bool) {
    let (clean, replaced) = excel_limits::clean_text(text);
    stats.replaced_chars += replaced;
    let truncated = match clean {
        Cow::Borrowed(text) => excel_limits::truncate_for_cell(text),
        Cow::Owned(text) => {
            let (cut, truncated) = excel_limits::truncate_for_cell(&text);
            (Cow::Owned(cut.into_owned()), truncated)
        }
    };
    if truncated.1 {
        stats.truncated_cells += 1;
    }
    truncated
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
