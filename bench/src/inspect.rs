//! Sheets, rows and non-empty cells of a workbook, counted in its sheet XML, so the benchmark can
//! show that every program wrote the same workbook (same rows, same cells) before comparing times.

use std::path::Path;

use crate::deflate::sheet_xml;

pub fn run(book: &Path) -> Result<String, String> {
    let bytes = std::fs::metadata(book)
        .map_err(|e| format!("{}: {e}", book.display()))?
        .len();
    let xml = sheet_xml(book)?;
    let (mut rows, mut cells) = (0u64, 0u64);
    for part in &xml {
        rows += count_elements(part, b"row");
        cells += count_elements(part, b"c");
    }
    Ok(format!(
        r#"{{"file_bytes":{bytes},"sheets":{},"rows":{rows},"cells":{cells}}}"#,
        xml.len()
    ))
}

/// Start tags `<name>` or `<name ...>` (text is escaped in XML, so `<` only opens markup).
fn count_elements(xml: &[u8], name: &[u8]) -> u64 {
    let mut count = 0;
    let mut rest = xml;
    while let Some(at) = rest.iter().position(|b| *b == b'<') {
        rest = &rest[at + 1..];
        if rest.starts_with(name) && matches!(rest.get(name.len()), Some(b' ' | b'>' | b'/')) {
            count += 1;
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::count_elements;

    #[test]
    fn counts_start_tags_only() {
        let xml = br#"<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lt;row</t></is></c><c r="B1"/></row><row r="2"></row><cols/></sheetData>"#;
        assert_eq!(count_elements(xml, b"row"), 2);
        assert_eq!(count_elements(xml, b"c"), 2);
    }
}
