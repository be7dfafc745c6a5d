//! The deflate bound: what compressing a workbook's sheet XML costs on one core, at the level the
//! workbook was written with, through flate2 on zlib-rs (the implementation rust_xlsxwriter's zip
//! writer uses). No writer can finish a workbook faster than this unless it compresses on more
//! than one core or less.

use std::io::{Read, Write};
use std::path::Path;

use flate2::Compression;
use flate2::write::DeflateEncoder;

use crate::usage::Phase;

pub fn run(book: &Path, level: u8) -> Result<String, String> {
    let xml = sheet_xml(book)?;
    let phase = Phase::start();
    let mut deflated = 0u64;
    for part in &xml {
        let mut encoder = DeflateEncoder::new(Counter(0), Compression::new(u32::from(level)));
        encoder.write_all(part).map_err(|e| e.to_string())?;
        deflated += encoder.finish().map_err(|e| e.to_string())?.0;
    }
    let figures = phase.finish();
    let xml_bytes: usize = xml.iter().map(Vec::len).sum();
    Ok(format!(
        r#"{{"sheets":{},"xml_bytes":{xml_bytes},"deflated_bytes":{deflated},{}}}"#,
        xml.len(),
        figures.json()
    ))
}

/// Every worksheet's XML, uncompressed, in memory.
pub fn sheet_xml(book: &Path) -> Result<Vec<Vec<u8>>, String> {
    let file = std::fs::File::open(book).map_err(|e| format!("{}: {e}", book.display()))?;
    let mut archive = zip::ZipArchive::new(file).map_err(|e| format!("{}: {e}", book.display()))?;
    let mut names: Vec<String> = archive
        .file_names()
        .filter_map(Result::ok)
        .filter(|name| name.starts_with("xl/worksheets/sheet") && name.ends_with(".xml"))
        .map(|name| name.into_owned())
        .collect();
    names.sort_by_key(|name| {
        name.trim_start_matches("xl/worksheets/sheet")
            .trim_end_matches(".xml")
            .parse::<u32>()
            .unwrap_or(0)
    });
    names
        .iter()
        .map(|name| {
            let mut entry = archive.by_name(name).map_err(|e| format!("{name}: {e}"))?;
            let mut xml = Vec::with_capacity(entry.size() as usize);
            entry
                .read_to_end(&mut xml)
                .map_err(|e| format!("{name}: {e}"))?;
            Ok(xml)
        })
        .collect()
}

/// A sink that only counts.
struct Counter(u64);

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
