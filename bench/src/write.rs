//! rust_xlsxwriter alone: the rows, already typed and in memory, written the way the export
//! writes them (src/export/workbook.rs): bold frozen header, column widths from the first rows,
//! date formats, a constant-memory worksheet (inline strings, rows streamed to a temporary file),
//! a new sheet every 1,048,575 data rows. What the export adds on top (reading the database,
//! parsing each record's JSON, cleaning text, uploading) is left out: this is the writer's own
//! cost, the floor of the export.

use std::path::Path;

use rust_xlsxwriter::{Format, Workbook, XlsxError};

use crate::rows::{self, Cell, Rows};
use crate::usage::Phase;

const DATA_ROWS_PER_SHEET: usize = 1_048_575;

pub fn run(
    rows: &Path,
    out: &Path,
    level: u8,
    tempdir: &Path,
    low_memory: bool,
) -> Result<String, String> {
    let rows = rows::load(rows)?;
    let phase = Phase::start();
    write(&rows, out, level, tempdir, low_memory).map_err(|e| format!("{}: {e}", out.display()))?;
    let figures = phase.finish();
    Ok(format!(
        r#"{{"rows":{},{}}}"#,
        rows.rows.len(),
        figures.json()
    ))
}

fn write(
    rows: &Rows,
    out: &Path,
    level: u8,
    tempdir: &Path,
    low_memory: bool,
) -> Result<(), XlsxError> {
    let mut workbook = Workbook::new();
    workbook.set_tempdir(tempdir)?;
    workbook.set_zip_compression_level(level);
    let header = Format::new().set_bold();
    let datetime = Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let widths = widths(rows);

    let chunks: Vec<_> = if rows.rows.is_empty() {
        vec![&rows.rows[..]]
    } else {
        rows.rows.chunks(DATA_ROWS_PER_SHEET).collect()
    };
    for (number, chunk) in chunks.into_iter().enumerate() {
        let sheet = if low_memory {
            workbook.add_worksheet_with_low_memory()?
        } else {
            workbook.add_worksheet_with_constant_memory()?
        };
        sheet.set_name(if number == 0 {
            "Bench".to_string()
        } else {
            format!("Bench ({})", number + 1)
        })?;
        for (col, width) in widths.iter().enumerate() {
            sheet.set_column_width(col as u16, *width)?;
        }
        for (col, (label, _)) in rows.columns.iter().enumerate() {
            sheet.write_string_with_format(0, col as u16, label, &header)?;
        }
        sheet.set_freeze_panes(1, 0)?;
        for (i, row) in chunk.iter().enumerate() {
            let r = i as u32 + 1;
            for (col, cell) in row.iter().enumerate() {
                let col = col as u16;
                match cell {
                    Cell::Empty => {}
                    Cell::Number(n) => {
                        sheet.write_number(r, col, *n)?;
                    }
                    Cell::Bool(b) => {
                        sheet.write_boolean(r, col, *b)?;
                    }
                    Cell::Text(text) => {
                        sheet.write_string(r, col, text.as_ref())?;
                    }
                    Cell::Date(day) => {
                        sheet.write_datetime_with_format(r, col, day, &date)?;
                    }
                    Cell::DateTime(at) => {
                        sheet.write_datetime_with_format(r, col, at, &datetime)?;
                    }
                }
            }
        }
    }
    workbook.save(out)
}

/// As the export: the widest of the header and the first 512 rows, plus 2, within 8..=60.
fn widths(rows: &Rows) -> Vec<f64> {
    rows.columns
        .iter()
        .enumerate()
        .map(|(col, (label, _))| {
            let data = rows.rows.iter().take(512).map(|row| match &row[col] {
                Cell::Text(text) => text
                    .chars()
                    .take(200)
                    .map(|c| if c as u32 >= 0x1100 { 2 } else { 1 })
                    .sum(),
                Cell::Number(n) => n.to_string().len(),
                Cell::Date(_) => 10,
                Cell::DateTime(_) => 19,
                Cell::Bool(_) => 5,
                Cell::Empty => 0,
            });
            let widest = data.chain([label.chars().count()]).max().unwrap_or(0);
            (widest + 2).clamp(8, 60) as f64
        })
        .collect()
}
