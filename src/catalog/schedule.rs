//! EventBridge schedule expressions: `cron(...)` (six fields, always UTC) and `rate(...)`.
//!
//! EventBridge's cron is not Unix cron: it has a year field, days of week are 1-7 from Sunday
//! (or SUN-SAT), `?` means "any" and exactly one of day-of-month and day-of-week must be `?`.
//! The rules of AWS's reference are in [`super::cron`], which also computes the fire times.

use std::fmt;

use chrono::{DateTime, Utc};

use super::cron::{Cron, CronError};

#[derive(Debug, Clone)]
pub enum Schedule {
    Cron {
        expression: String,
        cron: Box<Cron>,
    },
    Rate {
        expression: String,
        every: chrono::Duration,
    },
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Schedule::Cron { expression, .. } | Schedule::Rate { expression, .. } => {
                f.write_str(expression)
            }
        }
    }
}

impl Schedule {
    pub fn parse(expression: &str) -> Result<Schedule, String> {
        if let Some(inner) = expression
            .strip_prefix("cron(")
            .and_then(|e| e.strip_suffix(')'))
        {
            return parse_cron(inner).map(|cron| Schedule::Cron {
                expression: expression.to_owned(),
                cron: Box::new(cron),
            });
        }
        if let Some(inner) = expression
            .strip_prefix("rate(")
            .and_then(|e| e.strip_suffix(')'))
        {
            return parse_rate(inner).map(|every| Schedule::Rate {
                expression: expression.to_owned(),
                every,
            });
        }
        Err(format!("`{expression}` is neither cron(...) nor rate(...)"))
    }

    /// The next `count` fire times after `after`, in UTC. A rate's first fire depends on when
    /// the rule was created; it is shown counted from `after`.
    pub fn next_fires(&self, after: DateTime<Utc>, count: usize) -> Vec<DateTime<Utc>> {
        match self {
            Schedule::Cron { cron, .. } => cron.next_fires(after, count),
            Schedule::Rate { every, .. } => {
                (1..=count as i32).map(|n| after + *every * n).collect()
            }
        }
    }
}

fn parse_cron(inner: &str) -> Result<Cron, String> {
    Cron::parse(inner).map_err(|e| match e {
        // "cron(...) has 5 fields" reads on; every other reason follows a colon.
        CronError::FieldCount(_) | CronError::Spaces | CronError::NeverFires => {
            format!("cron({inner}) {e}")
        }
        _ => format!("cron({inner}): {e}"),
    })
}

fn parse_rate(inner: &str) -> Result<chrono::Duration, String> {
    let invalid = || {
        format!(
            "rate({inner}) is not valid: expected rate(1 minute), rate(5 minutes), rate(1 hour), rate(2 days), ..."
        )
    };
    let (value, unit) = inner.split_once(' ').ok_or_else(invalid)?;
    // A positive number written plainly, as the Terraform validation also requires.
    let value: i64 = Some(value)
        .filter(|v| !v.starts_with('0') && v.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|v| v.parse().ok())
        .ok_or_else(invalid)?;
    let (singular, minutes) = match unit {
        "minute" => (true, 1),
        "minutes" => (false, 1),
        "hour" => (true, 60),
        "hours" => (false, 60),
        "day" => (true, 1440),
        "days" => (false, 1440),
        _ => return Err(invalid()),
    };
    if singular != (value == 1) {
        return Err(format!(
            "rate({inner}): EventBridge wants the singular unit for 1 and the plural otherwise"
        ));
    }
    value
        .checked_mul(minutes)
        .and_then(chrono::Duration::try_minutes)
        .ok_or_else(|| format!("rate({inner}) is too long an interval"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fires(expression: &str, after: &str, count: usize) -> Vec<String> {
        let after: DateTime<Utc> = after.parse().unwrap();
        Schedule::parse(expression)
            .unwrap()
            .next_fires(after, count)
            .iter()
            .map(|t| t.to_rfc3339())
            .collect()
    }

    #[test]
    fn a_tokyo_morning_job_is_the_previous_evening_in_utc() {
        // 09:10 in Tokyo is 00:10 UTC.
        assert_eq!(
            fires("cron(10 0 * * ? *)", "2026-11-21T00:00:00Z", 2),
            ["2026-11-21T00:10:00+00:00", "2026-11-22T00:10:00+00:00"]
        );
    }

    #[test]
    fn days_of_week_count_from_sunday_as_eventbridge_does() {
        // 2026-11-21 is a Saturday; 2 = MON.
        assert_eq!(
            fires("cron(0 12 ? * 2 *)", "2026-11-21T00:00:00Z", 1),
            ["2026-11-23T12:00:00+00:00"]
        );
        assert_eq!(
            fires("cron(0 12 ? * MON-FRI *)", "2026-11-21T00:00:00Z", 1),
            ["2026-11-23T12:00:00+00:00"]
        );
        assert_eq!(
            fires("cron(0 12 ? * 1 *)", "2026-11-21T00:00:00Z", 1),
            ["2026-11-22T12:00:00+00:00"],
            "1 = Sunday"
        );
    }

    #[test]
    fn last_day_weekday_and_nth_forms_are_accepted() {
        assert_eq!(
            fires("cron(0 0 L * ? *)", "2026-11-21T00:00:00Z", 1),
            ["2026-11-30T00:00:00+00:00"]
        );
        assert_eq!(
            fires("cron(0 0 ? * 6#3 *)", "2026-11-01T00:00:00Z", 1),
            ["2026-11-20T00:00:00+00:00"],
            "third Friday"
        );
        Schedule::parse("cron(0 0 15W * ? 2026-2030)").unwrap();
    }

    #[test]
    fn wrong_expressions_are_refused_with_the_reason() {
        for (expression, reason) in [
            ("cron(10 0 * * *)", "has 5 fields"),
            ("cron(10 0 * * * *)", "cannot take both"),
            ("cron(10 0 ? * ? *)", "cannot both be `?`"),
            ("cron(10 0 ? * 0 *)", "1-7"),
            (
                "cron(61 0 * * ? *)",
                "cron(61 0 * * ? *): minutes `61`: 61 is out of range",
            ),
            ("rate(1 hours)", "singular"),
            ("rate(0 minutes)", "not valid"),
            ("rate(5 weeks)", "not valid"),
            ("rate(05 minutes)", "not valid"),
            ("rate(+5 minutes)", "not valid"),
            ("rate(5  minutes)", "not valid"),
            ("rate(99999999999999999 days)", "too long"),
            ("0 10 * * ?", "neither"),
        ] {
            let error = Schedule::parse(expression).unwrap_err();
            assert!(error.contains(reason), "{expression}: {error}");
        }
    }
}
