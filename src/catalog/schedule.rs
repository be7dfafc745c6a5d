//! EventBridge schedule expressions: `cron(...)` (six fields) and `rate(...)`, and when they fire.
//!
//! EventBridge's cron is not Unix cron: it has a year field, days of week are 1-7 from Sunday
//! (or SUN-SAT), `?` means "any" and exactly one of day-of-month and day-of-week must be `?`.
//! The rules of AWS's reference are in [`super::cron`], which also computes the wall-clock times.
//!
//! A scheduled rule reads its cron in UTC. EventBridge Scheduler reads it in the schedule's time
//! zone, and the EventBridge Scheduler User Guide ("Schedule types", section "Daylight saving
//! time") says what happens when the clocks change: "When the time shifts forward in the Spring,
//! if a cron expression falls on a non-existent date and time, your schedule invocation is
//! skipped. When the time shifts backwards in the Fall, your schedule runs only once and does not
//! repeat its invocation." This module reads "runs only once" as: at the first of the two
//! instants (it "does not repeat"); only real AWS can confirm which of the two it is. A rate
//! counts fixed durations ("days represents a 24-hour duration"), so no zone changes it.

use std::fmt;

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use super::cron::{Cron, CronError};

#[derive(Debug, Clone)]
pub enum Schedule {
    Cron {
        expression: String,
        cron: Box<Cron>,
        /// The zone its wall-clock times are read in (UTC for a scheduled rule).
        zone: Tz,
    },
    Rate {
        expression: String,
        every: chrono::Duration,
    },
}

/// One wall-clock time a zoned cron names, and what happens to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Occurrence {
    /// It runs at `at`. `repeated`: its wall-clock time happens twice that day (the clocks went
    /// back) and it runs once, at the first of the two.
    Runs { at: DateTime<Utc>, repeated: bool },
    /// Its wall-clock time does not exist that day (the clocks went forward): no run.
    Skipped { wall: NaiveDateTime },
}

/// The expression, and the zone of a cron read in another zone than UTC:
/// `cron(30 2 * * ? *) in America/New_York`. The watcher stores this text and watches afresh when
/// it changes, so a new zone is a new schedule and a UTC cron reads as it always did.
impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Schedule::Cron {
                expression, zone, ..
            } if *zone != Tz::UTC => {
                write!(f, "{expression} in {zone}")
            }
            Schedule::Cron { expression, .. } | Schedule::Rate { expression, .. } => {
                f.write_str(expression)
            }
        }
    }
}

impl Schedule {
    /// A schedule read in UTC, as a scheduled rule reads it.
    pub fn parse(expression: &str) -> Result<Schedule, String> {
        Schedule::parse_in(expression, Tz::UTC)
    }

    /// A schedule whose cron is read in `zone`, as EventBridge Scheduler reads it.
    pub fn parse_in(expression: &str, zone: Tz) -> Result<Schedule, String> {
        if let Some(inner) = expression
            .strip_prefix("cron(")
            .and_then(|e| e.strip_suffix(')'))
        {
            return parse_cron(inner).map(|cron| Schedule::Cron {
                expression: expression.to_owned(),
                cron: Box::new(cron),
                zone,
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

    /// The zone a cron is read in; UTC for a rate (no zone changes a fixed duration).
    pub fn zone(&self) -> Tz {
        match self {
            Schedule::Cron { zone, .. } => *zone,
            Schedule::Rate { .. } => Tz::UTC,
        }
    }

    /// The next `count` fire times after `after`, in UTC. A rate's first fire depends on when
    /// the rule was created; it is shown counted from `after`.
    pub fn next_fires(&self, after: DateTime<Utc>, count: usize) -> Vec<DateTime<Utc>> {
        self.occurrences(after, count)
            .into_iter()
            .filter_map(|occurrence| match occurrence {
                Occurrence::Runs { at, .. } => Some(at),
                Occurrence::Skipped { .. } => None,
            })
            .collect()
    }

    /// What happens after `after`, in order, until `count` runs: the runs, and the wall-clock
    /// times a change of the clocks skips (between them).
    pub fn occurrences(&self, after: DateTime<Utc>, count: usize) -> Vec<Occurrence> {
        match self {
            Schedule::Rate { every, .. } => (1..=count as i32)
                .map(|n| Occurrence::Runs {
                    at: after + *every * n,
                    repeated: false,
                })
                .collect(),
            Schedule::Cron { cron, zone, .. } => zoned_occurrences(cron, *zone, after, count),
        }
    }
}

/// The cron's wall-clock times in `zone`, mapped to instants by the rules quoted at the top.
fn zoned_occurrences(cron: &Cron, zone: Tz, after: DateTime<Utc>, count: usize) -> Vec<Occurrence> {
    let after_wall = after.with_timezone(&zone).naive_local();
    // A wall-clock time up to a day before `after`'s can still be an instant after it (an
    // instant's wall-clock time moves back when the clocks do; no zone moved back by more). UTC's
    // never moves, and a dense cron (every minute) need not look back a day of minutes for it.
    let look_back = if zone == Tz::UTC {
        chrono::Duration::zero()
    } else {
        chrono::Duration::days(1)
    };
    let mut cursor = after_wall - look_back;
    let mut occurrences = Vec::new();
    let mut runs = 0;
    while runs < count {
        let walls = cron.next_wall_times(cursor, 64);
        let Some(&last) = walls.last() else { break };
        for wall in walls {
            let occurrence = match zone.from_local_datetime(&wall) {
                chrono::LocalResult::Single(at) => Occurrence::Runs {
                    at: at.with_timezone(&Utc),
                    repeated: false,
                },
                chrono::LocalResult::Ambiguous(first, _) => Occurrence::Runs {
                    at: first.with_timezone(&Utc),
                    repeated: true,
                },
                chrono::LocalResult::None => Occurrence::Skipped { wall },
            };
            let later = match occurrence {
                Occurrence::Runs { at, .. } => at > after,
                Occurrence::Skipped { wall } => wall > after_wall,
            };
            if !later {
                continue;
            }
            if matches!(occurrence, Occurrence::Runs { .. }) {
                runs += 1;
            }
            occurrences.push(occurrence);
            if runs == count {
                break;
            }
        }
        cursor = last;
    }
    occurrences
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

    fn zoned(expression: &str, zone: Tz, after: &str, count: usize) -> Vec<String> {
        let after: DateTime<Utc> = after.parse().unwrap();
        Schedule::parse_in(expression, zone)
            .unwrap()
            .occurrences(after, count)
            .iter()
            .map(|o| match o {
                Occurrence::Runs {
                    at,
                    repeated: false,
                } => at.to_rfc3339(),
                Occurrence::Runs { at, repeated: true } => format!("{} once", at.to_rfc3339()),
                Occurrence::Skipped { wall } => format!("skipped {wall}"),
            })
            .collect()
    }

    #[test]
    fn a_local_time_the_clocks_skip_is_skipped() {
        // New York, 2027-03-14: 02:00 EST becomes 03:00 EDT; 02:30 does not exist that day.
        assert_eq!(
            zoned(
                "cron(30 2 * * ? *)",
                chrono_tz::America::New_York,
                "2027-03-13T00:00:00Z",
                2
            ),
            [
                "2027-03-13T07:30:00+00:00",
                "skipped 2027-03-14 02:30:00",
                "2027-03-15T06:30:00+00:00"
            ]
        );
        // Berlin, 2027-03-28: 02:00 CET becomes 03:00 CEST.
        assert_eq!(
            zoned(
                "cron(15 2 * * ? *)",
                chrono_tz::Europe::Berlin,
                "2027-03-27T12:00:00Z",
                1
            ),
            ["skipped 2027-03-28 02:15:00", "2027-03-29T00:15:00+00:00"]
        );
    }

    #[test]
    fn a_local_time_that_happens_twice_runs_once_at_the_first() {
        // New York, 2026-11-01: 02:00 EDT becomes 01:00 EST; 01:30 happens at 05:30 and 06:30 UTC.
        assert_eq!(
            zoned(
                "cron(30 1 * * ? *)",
                chrono_tz::America::New_York,
                "2026-10-31T12:00:00Z",
                2
            ),
            [
                "2026-11-01T05:30:00+00:00 once",
                "2026-11-02T06:30:00+00:00"
            ]
        );
        // Asked between the two instants: the one run is past, the next is the next day's.
        assert_eq!(
            zoned(
                "cron(30 1 * * ? *)",
                chrono_tz::America::New_York,
                "2026-11-01T06:00:00Z",
                1
            ),
            ["2026-11-02T06:30:00+00:00"]
        );
        // Every 20 minutes through the repeated hour: each wall-clock time once.
        let fires = zoned(
            "cron(0/20 1 * * ? *)",
            chrono_tz::America::New_York,
            "2026-11-01T04:59:00Z",
            3,
        );
        assert_eq!(
            fires,
            [
                "2026-11-01T05:00:00+00:00 once",
                "2026-11-01T05:20:00+00:00 once",
                "2026-11-01T05:40:00+00:00 once"
            ]
        );
    }

    #[test]
    fn a_zoned_cron_keeps_its_local_time_across_a_change_of_the_clocks() {
        // 09:00 in New York is 14:00 UTC in winter and 13:00 UTC in summer.
        let fires: Vec<String> =
            Schedule::parse_in("cron(0 9 ? * FRI *)", chrono_tz::America::New_York)
                .unwrap()
                .next_fires("2027-03-01T00:00:00Z".parse().unwrap(), 3)
                .iter()
                .map(|t| t.to_rfc3339())
                .collect();
        assert_eq!(
            fires,
            [
                "2027-03-05T14:00:00+00:00",
                "2027-03-12T14:00:00+00:00",
                "2027-03-19T13:00:00+00:00"
            ]
        );
    }

    #[test]
    fn a_rate_ignores_the_zone_and_utc_is_the_default() {
        let rate = Schedule::parse_in("rate(1 day)", chrono_tz::America::New_York).unwrap();
        assert_eq!(rate.zone(), Tz::UTC);
        let after: DateTime<Utc> = "2027-03-13T12:00:00Z".parse().unwrap();
        assert_eq!(
            rate.next_fires(after, 2),
            [
                after + chrono::Duration::hours(24),
                after + chrono::Duration::hours(48)
            ],
            "days are 24-hour durations, also across a change of the clocks"
        );
        assert_eq!(
            Schedule::parse("cron(0 0 * * ? *)").unwrap().zone(),
            Tz::UTC
        );
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
