//! LibreOffice Calc, headless, as the spreadsheet application that opens a workbook the way a
//! user would: each sheet converted to CSV and read back. A workbook it cannot open, or opens
//! only after a repair, yields no CSV and fails the test. `soffice` must be on the PATH
//! (`scripts/test.sh` installs Debian's `libreoffice-calc-nogui`); without it the test fails.

use std::path::Path;
use std::process::Command;
use std::sync::Mutex;

/// One LibreOffice at a time: two starting together (the tests of both backends run in
/// parallel) can crash while each syncs the shared extension repositories.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Every sheet of the workbook at `xlsx`, by name, as rows of cells (text as LibreOffice shows
/// it, numbers as plain digits, dates as ISO text).
pub fn sheets(xlsx: &Path) -> Vec<(String, Vec<Vec<String>>)> {
    let dir = tempfile::tempdir().expect("temp dir");
    let profile = dir.path().join("profile");
    let out = dir.path().join("out");
    // Filter options: comma, double quote, UTF-8 (76), from line 1, default formats, language 0,
    // quoted fields as text, detect special numbers, raw values (not as shown), no formulas,
    // no trimming, every sheet to its own file (-1, named `<file>-<sheet>.csv`).
    let filter = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1";
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let status = Command::new("soffice")
        .args(["--headless", "--norestore", "--nolockcheck"])
        .arg(format!(
            "-env:UserInstallation=file://{}",
            profile.display()
        ))
        .args(["--convert-to", filter, "--outdir"])
        .arg(&out)
        .arg(xlsx)
        .output()
        .expect(
            "`soffice` (LibreOffice) must be installed: apt-get install libreoffice-calc-nogui",
        );
    assert!(
        status.status.success(),
        "LibreOffice could not convert {}: {}",
        xlsx.display(),
        String::from_utf8_lossy(&status.stderr)
    );
    let stem = xlsx.file_stem().unwrap().to_string_lossy().into_owned();
    let mut sheets: Vec<(String, Vec<Vec<String>>)> = std::fs::read_dir(&out)
        .expect("LibreOffice wrote its output directory")
        .map(|entry| {
            let path = entry.unwrap().path();
            let file = path.file_stem().unwrap().to_string_lossy().into_owned();
            let sheet = file
                .strip_prefix(&format!("{stem}-"))
                .unwrap_or_else(|| panic!("unexpected output {file}"))
                .to_owned();
            let text = std::fs::read_to_string(&path).expect("UTF-8 CSV");
            (sheet, parse_csv(&text))
        })
        .collect();
    assert!(!sheets.is_empty(), "LibreOffice wrote no sheet");
    sheets.sort();
    sheets
}

/// RFC 4180 CSV: quoted fields may hold commas, quotes (doubled) and line breaks.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, '\r') => {}
            (false, c) => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}
