//! The machinery every configuration group is read with, whoever owns the group.
//!
//! envy stops at the first bad field, but an operator fixing a task definition wants every
//! problem at once. So each group is first read into `Var<T>` fields that never fail (they keep
//! the parse error), and `Problems` then turns the group into its typed form while collecting
//! every missing or malformed variable by name. Values of secret variables are never echoed.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Deserializer};

/// Every problem found in the environment, by variable name.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Problems(BTreeMap<String, String>);

impl Problems {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
    pub fn variables(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }
    pub fn extend(&mut self, other: Problems) {
        self.0.extend(other.0);
    }
    pub(crate) fn add(&mut self, variable: &str, problem: String) {
        self.0.insert(variable.to_owned(), problem);
    }
    pub(crate) fn optional<T>(&mut self, variable: &str, var: Var<T>) -> Option<T> {
        match var {
            Var::Unset => None,
            Var::Set(value) => Some(value),
            Var::Invalid(problem) => {
                self.add(variable, problem);
                None
            }
        }
    }
    pub(crate) fn or_default<T>(&mut self, variable: &str, var: Var<T>, default: T) -> T {
        self.optional(variable, var).unwrap_or(default)
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (variable, problem)) in self.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{variable}: {problem}")?;
        }
        Ok(())
    }
}

/// One environment variable as envy saw it. Deserializing never fails, so envy reads the whole
/// group and the problems are collected afterwards.
#[derive(Debug, Default)]
pub(crate) enum Var<T> {
    #[default]
    Unset,
    Set(T),
    Invalid(String),
}

/// A value type read from one variable; `SECRET` values never appear in messages.
pub(crate) trait Setting: Sized {
    const SECRET: bool = false;
    fn parse(raw: &str) -> Result<Self, String>;
}

impl<'de, T: Setting> Deserialize<'de> for Var<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        if raw.trim().is_empty() {
            return Ok(Var::Invalid("is set but empty".into()));
        }
        Ok(match T::parse(raw.trim()) {
            Ok(value) => Var::Set(value),
            Err(why) if T::SECRET => Var::Invalid(format!("{why} (value hidden)")),
            Err(why) => Var::Invalid(format!("{why}, got `{raw}`")),
        })
    }
}

/// A whole number from `MIN` to `MAX`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bounded<const MIN: u32, const MAX: u32>(pub u32);

impl<const MIN: u32, const MAX: u32> Setting for Bounded<MIN, MAX> {
    fn parse(raw: &str) -> Result<Self, String> {
        match raw.parse::<u32>() {
            Ok(n) if (MIN..=MAX).contains(&n) => Ok(Bounded(n)),
            _ => Err(format!("expected a whole number from {MIN} to {MAX}")),
        }
    }
}

impl Setting for bool {
    fn parse(raw: &str) -> Result<Self, String> {
        match raw.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Ok(true),
            "false" | "0" | "no" => Ok(false),
            _ => Err("expected true or false".into()),
        }
    }
}

impl Setting for Tz {
    fn parse(raw: &str) -> Result<Self, String> {
        raw.parse()
            .map_err(|_| "expected an IANA time zone such as Asia/Tokyo or UTC".into())
    }
}

impl Setting for String {
    fn parse(raw: &str) -> Result<Self, String> {
        Ok(raw.to_owned())
    }
}

impl Setting for PathBuf {
    fn parse(raw: &str) -> Result<Self, String> {
        Ok(PathBuf::from(raw))
    }
}

impl Setting for DateTime<Utc> {
    fn parse(raw: &str) -> Result<Self, String> {
        DateTime::parse_from_rfc3339(raw)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| "expected an RFC 3339 time such as 2026-11-21T00:10:00Z".into())
    }
}

/// A duration from `MIN_MS` to `MAX_MS` milliseconds: every duration is bounded where it enters,
/// so that no deadline computed from it can overflow, and none is so short it defeats its purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Within<const MIN_MS: u64, const MAX_MS: u64>(pub Duration);

impl<const MIN_MS: u64, const MAX_MS: u64> Within<MIN_MS, MAX_MS> {
    pub const MIN: Duration = Duration::from_millis(MIN_MS);
    pub const MAX: Duration = Duration::from_millis(MAX_MS);

    /// Parses `90s`, `15m`, `2h 30m` and checks the bounds; the message says both.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let range = format!(
            "from {} to {}",
            humantime::format_duration(Self::MIN),
            humantime::format_duration(Self::MAX)
        );
        match humantime::parse_duration(raw) {
            Ok(d) if (Self::MIN..=Self::MAX).contains(&d) => Ok(Within(d)),
            Ok(_) => Err(format!("expected a duration {range}")),
            Err(_) => Err(format!(
                "expected a duration such as 90s, 15m or 2h, {range}"
            )),
        }
    }
}

impl<const MIN_MS: u64, const MAX_MS: u64> Setting for Within<MIN_MS, MAX_MS> {
    fn parse(raw: &str) -> Result<Self, String> {
        Within::parse(raw)
    }
}

pub(crate) const SECOND: u64 = 1000;
pub(crate) const MINUTE: u64 = 60 * SECOND;
pub(crate) const HOUR: u64 = 60 * MINUTE;
pub(crate) const DAY: u64 = 24 * HOUR;

/// Every variable under the project's prefixes (`known`: each prefix with every name its groups
/// read) that no group reads, with the closest known name.
pub(crate) fn unknown_variables(
    known: &[(&str, Vec<String>)],
    vars: &[(String, String)],
    problems: &mut Problems,
) {
    for (name, _) in vars {
        let Some((_, names)) = known.iter().find(|(prefix, _)| name.starts_with(prefix)) else {
            continue;
        };
        if names.contains(name) {
            continue;
        }
        let all = known.iter().flat_map(|(_, names)| names);
        let closest = all
            .min_by_key(|known| strsim::levenshtein(name, known))
            .expect("every group has variables");
        problems.add(
            name,
            format!("is not a variable batchbox reads; did you mean {closest}? (see docs/configuration.md)"),
        );
    }
}

/// The field names of a group struct, as serde sees them (what envy matches variables against).
pub(crate) fn field_names<T: for<'de> Deserialize<'de>>() -> &'static [&'static str] {
    use serde::de::{self, Visitor};

    struct Probe(Option<&'static [&'static str]>);
    #[derive(Debug)]
    struct Done;
    impl fmt::Display for Done {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("field names probed")
        }
    }
    impl std::error::Error for Done {}
    impl de::Error for Done {
        fn custom<M: fmt::Display>(_: M) -> Self {
            Done
        }
    }
    impl<'de> Deserializer<'de> for &mut Probe {
        type Error = Done;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Done> {
            Err(Done)
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Done> {
            self.0 = Some(fields);
            Err(Done)
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
            option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
            ignored_any
        }
    }
    let mut probe = Probe(None);
    let _ = T::deserialize(&mut probe);
    probe.0.unwrap_or(&[])
}

/// Reads one group; envy itself can only fail on a non-UTF-8 environment, which is reported too.
pub(crate) fn read<T: for<'de> Deserialize<'de>>(
    prefix: &str,
    vars: &[(String, String)],
    problems: &mut Problems,
) -> Option<T> {
    let result = if prefix.is_empty() {
        envy::from_iter(vars.iter().cloned())
    } else {
        envy::prefixed(prefix).from_iter(vars.iter().cloned())
    };
    result
        .map_err(|e| problems.add(&format!("{prefix}*"), e.to_string()))
        .ok()
}

/// The process environment as UTF-8 pairs; a variable that is not UTF-8 is skipped here and
/// cannot be one of ours (all our names and values are ASCII or UTF-8).
pub fn process_env() -> Vec<(String, String)> {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect()
}
