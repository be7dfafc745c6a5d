//! Excel's limits, counted the way Excel counts, and the functions that make any value fit them.
//!
//! Excel measures text in UTF-16 code units, not characters: an emoji or a character such as
//! `𠮷` (outside the Basic Multilingual Plane) takes two. A cell holds 32,767 units and a sheet
//! name 31 (rust_xlsxwriter refuses anything longer, which would fail the whole job), so every
//! cut here counts units and never splits a surrogate pair. Source: Microsoft's "Excel
//! specifications and limits" (characters in a cell, sheet name length, columns, the earliest
//! and latest dates), and rust_xlsxwriter's own checks (`utf16_len`).

use std::borrow::Cow;

use chrono::{NaiveDate, NaiveDateTime};

/// Rows of an Excel sheet, header included.
pub const MAX_ROWS: u32 = 1_048_576;
/// Columns of an Excel sheet.
pub const MAX_COLUMNS: usize = 16_384;
/// UTF-16 code units in one cell.
pub const MAX_CELL_UNITS: usize = 32_767;
/// UTF-16 code units in a sheet name.
pub const MAX_SHEET_NAME_UNITS: usize = 31;
/// Appended to text cut at the cell limit, so a reader sees that it was cut.
pub const TRUNCATION_MARKER: &str = "…[truncated]";
/// The sheet name English Excel keeps for itself (case-insensitive): a workbook that uses it
/// opens with a repair prompt.
const RESERVED_SHEET_NAME: &str = "History";
/// Characters a sheet name may not hold.
const SHEET_NAME_FORBIDDEN: &str = "[]:*?/\\";

/// Text length as Excel counts it.
pub fn utf16_len(text: &str) -> usize {
    text.encode_utf16().count()
}

/// The longest prefix of `text` that fits in `units` UTF-16 code units, cut at a character
/// boundary (so never inside a surrogate pair), without a dangling zero-width joiner that would
/// glue what follows into an emoji sequence.
pub fn prefix_within_units(text: &str, units: usize) -> &str {
    let mut used = 0;
    let mut end = 0;
    for (at, c) in text.char_indices() {
        used += c.len_utf16();
        if used > units {
            break;
        }
        end = at + c.len_utf8();
    }
    text[..end].trim_end_matches('\u{200D}')
}

/// Replaces characters that XML 1.0 forbids (most C0 controls, U+FFFE, U+FFFF) with U+FFFD;
/// returns how many were replaced.
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

/// Cuts text to the cell limit, ending with `TRUNCATION_MARKER`; says whether it cut.
pub fn truncate_for_cell(text: &str) -> (Cow<'_, str>, bool) {
    if text.len() <= MAX_CELL_UNITS || utf16_len(text) <= MAX_CELL_UNITS {
        return (Cow::Borrowed(text), false);
    }
    let keep = MAX_CELL_UNITS - utf16_len(TRUNCATION_MARKER);
    let mut cut = prefix_within_units(text, keep).to_owned();
    cut.push_str(TRUNCATION_MARKER);
    (Cow::Owned(cut), true)
}

/// A valid Excel sheet name from the form name: at most 31 UTF-16 units, none of `[]:*?/\` or
/// control characters, not blank, no apostrophe at either end, not Excel's reserved `History`;
/// continuation sheets get ` (2)`, ` (3)`, ...
pub fn sheet_name(form_name: &str, number: u32) -> String {
    let suffix = if number > 1 {
        format!(" ({number})")
    } else {
        String::new()
    };
    let (cleaned, _) = clean_text(form_name);
    let cleaned: String = cleaned
        .chars()
        .map(|c| {
            if SHEET_NAME_FORBIDDEN.contains(c) || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    let trim = |s: &str| s.trim().trim_matches('\'').trim().to_owned();
    let mut base = trim(&cleaned);
    if base.is_empty() {
        base = "Records".to_owned();
    }
    let room = MAX_SHEET_NAME_UNITS - utf16_len(&suffix);
    let mut base = trim(prefix_within_units(&base, room));
    // Blank (or cut down to spaces and apostrophes), or the reserved word (`History (2)` is not).
    if base.is_empty() {
        base = "Records".to_owned();
    } else if suffix.is_empty() && base.eq_ignore_ascii_case(RESERVED_SHEET_NAME) {
        base.push('_');
    }
    format!("{base}{suffix}")
}

/// The earliest date Excel shows as a date (its 1900 date system starts there).
pub fn earliest_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(1900, 1, 1).expect("a valid date")
}

/// Whether Excel can show this date: 1900-01-01 to 9999-12-31. Outside, Excel shows a date
/// cell as `#####` or a meaningless negative number, so such values are written as text.
pub fn date_fits(day: NaiveDate) -> bool {
    (earliest_date()..=NaiveDate::from_ymd_opt(9999, 12, 31).expect("a valid date")).contains(&day)
}

/// Whether Excel can show this local date and time: 1900-01-01 00:00:00 to 9999-12-31 23:59:59.
pub fn datetime_fits(at: NaiveDateTime) -> bool {
    // A fraction of a second after 23:59:59 on the last day rounds into year 10000.
    date_fits(at.date())
        && !(at.date() == NaiveDate::from_ymd_opt(9999, 12, 31).expect("a valid date")
            && at.time() > chrono::NaiveTime::from_hms_opt(23, 59, 59).expect("a valid time"))
}

/// Whether a number survives as an Excel number: finite, and not a number that turned into 0
/// or into a subnormal on the way (`1e-400`, `4e-320`), which Excel would show as 0. `written`
/// is the number as the record wrote it, to tell a real zero from an underflow.
pub fn number_fits(value: f64, written: &str) -> bool {
    if !value.is_finite() {
        return false;
    }
    if value == 0.0 {
        // A zero is only a zero when every digit of its mantissa is.
        let mantissa = written.split(['e', 'E']).next().unwrap_or(written);
        return !mantissa.bytes().any(|b| matches!(b, b'1'..=b'9'));
    }
    value.is_normal()
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
        assert_eq!(utf16_len(&cut), MAX_CELL_UNITS);
        assert!(cut.ends_with(TRUNCATION_MARKER));
        let exact = "x".repeat(MAX_CELL_UNITS);
        assert!(!truncate_for_cell(&exact).1);
    }

    #[test]
    fn astral_text_is_cut_by_utf16_units_between_surrogate_pairs() {
        // 20,000 emoji are 20,000 characters but 40,000 UTF-16 units: over the limit.
        let emoji = "😀".repeat(20_000);
        let (cut, truncated) = truncate_for_cell(&emoji);
        assert!(truncated);
        assert!(utf16_len(&cut) <= MAX_CELL_UNITS);
        // An odd budget leaves one unit unused rather than half a pair.
        assert_eq!(utf16_len(&cut), MAX_CELL_UNITS - 1);
        assert!(
            cut.trim_end_matches(TRUNCATION_MARKER)
                .chars()
                .all(|c| c == '😀')
        );
        // 16,383 emoji (32,766 units) fit whole.
        assert!(!truncate_for_cell(&"𠮷".repeat(16_383)).1);
        assert!(truncate_for_cell(&"𠮷".repeat(16_384)).1);
    }

    #[test]
    fn sheet_names_are_valid_for_excel() {
        assert_eq!(
            sheet_name("Daily [inspection]: A/B", 1),
            "Daily _inspection__ A_B"
        );
        assert_eq!(sheet_name("'quoted'", 1), "quoted");
        assert_eq!(sheet_name("  ", 1), "Records");
        assert_eq!(sheet_name("history", 1), "history_");
        assert_eq!(sheet_name(" 'HISTORY' ", 1), "HISTORY_");
        assert_eq!(sheet_name("History", 2), "History (2)");
        let long = sheet_name(&"設備点検記録".repeat(10), 2);
        assert_eq!(utf16_len(&long), MAX_SHEET_NAME_UNITS);
        assert!(long.ends_with(" (2)"));
        for name in [
            "𠮷野家 daily inspection records for the branch",
            "🚚 Delivery log for the Kanto region depot",
        ] {
            for number in [1, 2, 12] {
                let sheet = sheet_name(name, number);
                assert!(utf16_len(&sheet) <= MAX_SHEET_NAME_UNITS, "{sheet}");
                assert!(
                    name.starts_with(sheet.split(" (").next().unwrap()),
                    "{sheet}"
                );
            }
        }
        assert_eq!(
            sheet_name("🚚 Delivery log for the Kanto region depot", 1),
            "🚚 Delivery log for the Kanto r"
        );
    }

    #[test]
    fn dates_outside_excel_are_recognised() {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert!(!date_fits(day(1, 1, 1)));
        assert!(!date_fits(day(1899, 12, 31)));
        assert!(date_fits(day(1900, 1, 1)));
        assert!(date_fits(day(9999, 12, 31)));
        assert!(!date_fits(day(10_000, 1, 1)));
        let last = day(9999, 12, 31).and_hms_opt(23, 59, 59).unwrap();
        assert!(datetime_fits(last));
        assert!(!datetime_fits(last + chrono::Duration::milliseconds(500)));
        assert!(datetime_fits(day(1900, 1, 1).and_hms_opt(0, 0, 0).unwrap()));
    }

    #[test]
    fn numbers_that_underflowed_do_not_fit() {
        assert!(number_fits(0.0, "0"));
        assert!(number_fits(0.0, "-0.000e5"));
        assert!(!number_fits(0.0, "1e-400"));
        assert!(!number_fits(4e-320, "4e-320"), "subnormal");
        assert!(number_fits(12.5, "12.50"));
        assert!(!number_fits(f64::INFINITY, "1e400"));
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// Pieces text is made of in the wild, astral planes and joiners included.
        fn piece() -> impl Strategy<Value = &'static str> {
            prop::sample::select(vec![
                "a",
                " ",
                "\t",
                "\n",
                "長",
                "あ",
                "😀",
                "𠮷",
                "🚚",
                "e\u{301}",
                "\u{200D}",
                "👨\u{200D}👩\u{200D}👧",
                "🇯🇵",
                "\u{1}",
                "\u{FFFF}",
                "'",
                "[",
                "/",
                "…",
            ])
        }

        /// Text around Excel's cell limit: from a little under to a little over, in units.
        fn long_text() -> impl Strategy<Value = String> {
            prop::collection::vec(piece(), 8_000..34_000).prop_map(|pieces| pieces.concat())
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(64))]

            #[test]
            fn a_cut_cell_fits_and_keeps_a_prefix_of_the_text(text in long_text()) {
                let (cut, truncated) = truncate_for_cell(&text);
                prop_assert!(utf16_len(&cut) <= MAX_CELL_UNITS);
                prop_assert_eq!(truncated, utf16_len(&text) > MAX_CELL_UNITS);
                if truncated {
                    let kept = cut.strip_suffix(TRUNCATION_MARKER).expect("the marker");
                    prop_assert!(text.starts_with(kept));
                    prop_assert!(!kept.ends_with('\u{200D}'), "a dangling joiner");
                    // All the room is used, short of the joiners dropped and half a pair.
                    let room = MAX_CELL_UNITS - utf16_len(TRUNCATION_MARKER);
                    let joiners = text[kept.len()..].chars().take_while(|c| *c == '\u{200D}').count();
                    prop_assert!(utf16_len(kept) + joiners + 2 > room);
                } else {
                    prop_assert_eq!(cut.as_ref(), text.as_str());
                }
            }

            #[test]
            fn a_prefix_within_units_is_the_longest_that_fits(text in any::<String>(), units in 0usize..40) {
                // The rule restated: whole characters while they fit, then no trailing joiner.
                let mut used = 0;
                let mut end = 0;
                for c in text.chars() {
                    if used + c.len_utf16() > units {
                        break;
                    }
                    used += c.len_utf16();
                    end += c.len_utf8();
                }
                prop_assert_eq!(prefix_within_units(&text, units), text[..end].trim_end_matches('\u{200D}'));
            }

            #[test]
            fn cleaned_text_holds_no_character_xml_forbids(text in any::<String>()) {
                let forbidden = |c: char| (c < ' ' && !"\t\n\r".contains(c)) || c == '\u{FFFE}' || c == '\u{FFFF}';
                let (clean, replaced) = clean_text(&text);
                prop_assert!(!clean.chars().any(forbidden));
                prop_assert_eq!(replaced as usize, text.chars().filter(|c| forbidden(*c)).count());
                prop_assert_eq!(clean.chars().count(), text.chars().count());
            }

            #[test]
            fn every_sheet_name_is_one_excel_accepts(
                name in prop::collection::vec(piece(), 0..40).prop_map(|p| p.concat()),
                any_name in any::<String>(),
                number in 1u32..2_000_000,
            ) {
                for name in [&name, &any_name] {
                    let sheet = sheet_name(name, number);
                    prop_assert!(utf16_len(&sheet) <= MAX_SHEET_NAME_UNITS, "{}", sheet);
                    prop_assert!(!sheet.eq_ignore_ascii_case(RESERVED_SHEET_NAME));
                    prop_assert!(!sheet.chars().any(|c| c.is_control()));
                    // rust_xlsxwriter's own validation is the independent judge of the rest.
                    let mut workbook = rust_xlsxwriter::Workbook::new();
                    prop_assert!(workbook.add_worksheet().set_name(&sheet).is_ok(), "{:?}", sheet);
                }
            }
        }
    }
}
