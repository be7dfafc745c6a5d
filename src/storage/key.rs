//! Object keys, built only from segments that cannot step outside their place.
//!
//! A key is a path on the local storage and a name in S3; a segment such as `..`, an empty one
//! or one holding a `/` would put a workbook outside its prefix (or outside `EXPORT_LOCAL_DIR`),
//! and a key with `/../` in S3 confuses every tool that reads the bucket. So every part of a key
//! (the `EXPORT_PREFIX`, the tenant slug, ...) is a `KeySegment` first, and `ObjectKey` can only be
//! made of segments. Anything else that is valid UTF-8 is kept as it is (S3 keys are UTF-8): a
//! slug with a space or in Japanese names its own folder, and two slugs never share one.

use std::fmt;

/// Longest segment, in bytes: a file name's limit on the local storage (and well within S3's
/// 1,024-byte keys).
pub const MAX_SEGMENT_BYTES: usize = 255;

/// Why a text cannot be a key segment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("is empty")]
    Empty,
    #[error("`{0}` would step outside its place in the key")]
    Dots(String),
    #[error("`{0}` contains a `/` or `\\`")]
    Separator(String),
    #[error("{0:?} contains a control character")]
    Control(String),
    #[error("is longer than {MAX_SEGMENT_BYTES} bytes")]
    TooLong,
    #[error("starts with `/`; a key prefix is relative, such as exports/")]
    Absolute,
    #[error("ends with `/`; a whole key names a file, such as reports/timeline.html")]
    TrailingSlash,
    #[error("is longer than {MAX_KEY_BYTES} bytes, S3's limit for a key")]
    KeyTooLong,
}

/// Longest whole key, in bytes: S3's limit (Amazon S3 User Guide, "Naming Amazon S3 objects").
pub const MAX_KEY_BYTES: usize = 1024;

/// One `/`-free part of an object key: not empty, not `.` or `..`, no `/`, `\` or control
/// character, at most `MAX_SEGMENT_BYTES` bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySegment(String);

impl KeySegment {
    pub fn new(text: &str) -> Result<KeySegment, KeyError> {
        if text.is_empty() {
            return Err(KeyError::Empty);
        }
        if text == "." || text == ".." {
            return Err(KeyError::Dots(text.to_owned()));
        }
        if text.contains(['/', '\\']) {
            return Err(KeyError::Separator(text.to_owned()));
        }
        if text.chars().any(char::is_control) {
            return Err(KeyError::Control(text.to_owned()));
        }
        if text.len() > MAX_SEGMENT_BYTES {
            return Err(KeyError::TooLong);
        }
        Ok(KeySegment(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `EXPORT_PREFIX`: zero or more segments. Written `exports/` or `a/b` (one trailing `/` is
/// optional); an empty prefix puts keys at the top of the bucket.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KeyPrefix(Vec<KeySegment>);

impl KeyPrefix {
    pub fn parse(raw: &str) -> Result<KeyPrefix, KeyError> {
        if raw.starts_with('/') {
            return Err(KeyError::Absolute);
        }
        let body = raw.strip_suffix('/').unwrap_or(raw);
        if body.is_empty() {
            return Ok(KeyPrefix::default());
        }
        body.split('/')
            .map(KeySegment::new)
            .collect::<Result<_, _>>()
            .map(KeyPrefix)
    }
}

impl fmt::Display for KeyPrefix {
    /// `exports/`, or nothing for the empty prefix.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|s| write!(f, "{}/", s.0))
    }
}

/// A whole key: a prefix and at least one more segment, joined with `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectKey {
    segments: Vec<KeySegment>,
    text: String,
}

impl ObjectKey {
    pub fn new(prefix: &KeyPrefix, rest: impl IntoIterator<Item = KeySegment>) -> ObjectKey {
        let segments: Vec<KeySegment> = prefix.0.iter().cloned().chain(rest).collect();
        let text = segments
            .iter()
            .map(KeySegment::as_str)
            .collect::<Vec<_>>()
            .join("/");
        ObjectKey { segments, text }
    }

    /// A whole key written out, such as `reports/timeline.html`: relative, at least one segment,
    /// no trailing `/`, every segment a `KeySegment`, at most `MAX_KEY_BYTES` bytes.
    pub fn parse(raw: &str) -> Result<ObjectKey, KeyError> {
        if raw.is_empty() {
            return Err(KeyError::Empty);
        }
        if raw.ends_with('/') {
            return Err(KeyError::TrailingSlash);
        }
        if raw.len() > MAX_KEY_BYTES {
            return Err(KeyError::KeyTooLong);
        }
        let prefix = KeyPrefix::parse(raw)?;
        Ok(ObjectKey::new(&prefix, []))
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.segments.iter().map(KeySegment::as_str)
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(s: &str) -> KeySegment {
        KeySegment::new(s).unwrap()
    }

    #[test]
    fn segments_that_could_escape_or_vanish_are_refused() {
        for bad in [
            "",
            ".",
            "..",
            "a/b",
            "../x",
            "a\\b",
            "tab\there",
            "nul\0",
            "\u{7f}",
        ] {
            assert!(KeySegment::new(bad).is_err(), "{bad:?} was accepted");
        }
        assert_eq!(KeySegment::new(&"a".repeat(256)), Err(KeyError::TooLong));
    }

    #[test]
    fn spaces_dots_inside_and_japanese_are_kept_as_they_are() {
        for good in ["acme", "a b", "東京支社", "...", ".hidden", "a..b", "-_~"] {
            assert_eq!(seg(good).as_str(), good);
        }
    }

    #[test]
    fn prefixes_are_relative_segments_with_an_optional_trailing_slash() {
        assert_eq!(
            KeyPrefix::parse("exports/").unwrap().to_string(),
            "exports/"
        );
        assert_eq!(KeyPrefix::parse("a/b").unwrap().to_string(), "a/b/");
        assert_eq!(KeyPrefix::parse("").unwrap().to_string(), "");
        assert_eq!(KeyPrefix::parse("/").unwrap_err(), KeyError::Absolute);
        for bad in [
            ".",
            "./",
            "..",
            "a/../b",
            "a//b",
            "exports//",
            "/exports",
            "a/./b",
        ] {
            assert!(KeyPrefix::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn whole_keys_are_parsed_with_the_segment_rules() {
        assert_eq!(
            ObjectKey::parse("reports/timeline.html").unwrap().as_str(),
            "reports/timeline.html"
        );
        assert_eq!(
            ObjectKey::parse("東京/🚚.html").unwrap().as_str(),
            "東京/🚚.html"
        );
        assert_eq!(ObjectKey::parse("reports/"), Err(KeyError::TrailingSlash));
        assert_eq!(ObjectKey::parse(""), Err(KeyError::Empty));
        assert_eq!(
            ObjectKey::parse("a/".repeat(600).trim_end_matches('/')),
            Err(KeyError::KeyTooLong)
        );
        for bad in [
            "/timeline.html",
            "a/../b.html",
            "a//b",
            "..",
            "a\\b",
            "tab\there",
        ] {
            assert!(ObjectKey::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn a_key_is_its_segments_joined() {
        let prefix = KeyPrefix::parse("a/b/").unwrap();
        let key = ObjectKey::new(&prefix, [seg("東京"), seg("x.xlsx")]);
        assert_eq!(key.as_str(), "a/b/東京/x.xlsx");
        assert_eq!(
            key.segments().collect::<Vec<_>>(),
            ["a", "b", "東京", "x.xlsx"]
        );
    }
}
