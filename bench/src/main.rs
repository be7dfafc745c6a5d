//! `xlsx-bench`: the measuring tool of scripts/bench.sh. Each command prints one JSON object on
//! stdout; bench/run.py reads it.
//!
//!   xlsx-bench write ROWS.tsv OUT.xlsx --level N --tempdir DIR [--low-memory]
//!       rust_xlsxwriter alone: loads the rows (not timed), then writes them as the export does
//!       (header, formats, widths, frozen pane, constant memory) and times only the writing.
//!   xlsx-bench deflate BOOK.xlsx --level N
//!       the deflate bound: compresses the workbook's sheet XML, held in memory, on one thread
//!       with the same deflate implementation the writer uses.
//!   xlsx-bench inspect BOOK.xlsx
//!       sheets, rows and cells of a workbook, to prove every program wrote the same workbook.

mod deflate;
mod inspect;
mod rows;
mod usage;
mod write;

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(json) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("xlsx-bench: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(args: Vec<String>) -> Result<String, String> {
    let mut positional = Vec::new();
    let mut level = None;
    let mut tempdir = None;
    let mut low_memory = false;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--level" => {
                let value = args.next().ok_or("--level needs a value")?;
                level = Some(
                    value
                        .parse::<u8>()
                        .ok()
                        .filter(|l| *l <= 9)
                        .ok_or(format!("--level {value}: expected 0 to 9"))?,
                );
            }
            "--tempdir" => {
                tempdir = Some(PathBuf::from(args.next().ok_or("--tempdir needs a value")?))
            }
            "--low-memory" => low_memory = true,
            other if other.starts_with("--") => return Err(format!("unknown option {other}")),
            _ => positional.push(arg),
        }
    }
    let need_level = || level.ok_or_else(|| "--level is required".to_string());
    match positional
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["write", rows, out] => {
            let tempdir = tempdir.unwrap_or_else(std::env::temp_dir);
            write::run(
                rows.as_ref(),
                out.as_ref(),
                need_level()?,
                &tempdir,
                low_memory,
            )
        }
        ["deflate", book] => deflate::run(book.as_ref(), need_level()?),
        ["inspect", book] => inspect::run(book.as_ref()),
        _ => Err(
            "usage: xlsx-bench write ROWS.tsv OUT.xlsx --level N [--tempdir DIR] [--low-memory] \
                  | deflate BOOK.xlsx --level N | inspect BOOK.xlsx"
                .into(),
        ),
    }
}
