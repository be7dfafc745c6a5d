//! The business calendar: periods are calendar days and months in the company's time zone
//! (`EXPORT_TIME_ZONE`, `Config::time_zone`). EventBridge fires in UTC, but "yesterday" means
//! yesterday where the customers are. Any batch that thinks in days uses it; the export is one.

use anyhow::{Context, bail};
use chrono::{
    DateTime, Datelike, Days, Months, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc,
};
use chrono_tz::Tz;

/// `[start, end)` in local dates: one day or one whole month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

/// Backfills are bounded so that a typo in `--from` cannot create years of jobs.
pub const MAX_BACKFILL_DAYS: u64 = 400;

/// The dates a period may cover: from the Unix epoch to the last day both databases, Excel and
/// the text form of a date (four-digit years) share. Dates enter through `parse_date`.
pub const FIRST_DATE: NaiveDate = NaiveDate::from_ymd_opt(1970, 1, 1).expect("a valid date");
pub const LAST_DATE: NaiveDate = NaiveDate::from_ymd_opt(9999, 12, 31).expect("a valid date");

/// A date given on the command line (`--date`, `--from`, `--to`, `history --since`):
/// `YYYY-MM-DD` from `FIRST_DATE` to `LAST_DATE`.
pub fn parse_date(raw: &str) -> Result<NaiveDate, String> {
    match NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        Ok(date) if (FIRST_DATE..=LAST_DATE).contains(&date) => Ok(date),
        _ => Err(format!(
            "expected a date YYYY-MM-DD from {FIRST_DATE} to {LAST_DATE}"
        )),
    }
}

/// A month given on the command line (`--month`): `YYYY-MM`, within the same range.
pub fn parse_month(raw: &str) -> Result<(i32, u32), String> {
    let date = parse_date(&format!("{raw}-01")).map_err(|_| {
        format!(
            "expected a month YYYY-MM from {} to {}",
            FIRST_DATE.format("%Y-%m"),
            LAST_DATE.format("%Y-%m")
        )
    })?;
    Ok((date.year(), date.month()))
}

impl Period {
    pub fn day(date: NaiveDate) -> Period {
        Period {
            start: date,
            end: date + Days::new(1),
        }
    }

    pub fn month(year: i32, month: u32) -> anyhow::Result<Period> {
        let start = NaiveDate::from_ymd_opt(year, month, 1)
            .with_context(|| format!("no month {year}-{month:02}"))?;
        Ok(Period {
            start,
            end: start + Months::new(1),
        })
    }

    /// Rebuilds a period from stored bounds (e.g. an export job's), refusing anything but a day or a month.
    pub fn from_bounds(start: NaiveDate, end: NaiveDate) -> anyhow::Result<Period> {
        let period = Period { start, end };
        let next_day = start.checked_add_days(Days::new(1));
        let next_month = start.checked_add_months(Months::new(1));
        if Some(end) == next_day || (start.day() == 1 && Some(end) == next_month) {
            Ok(period)
        } else {
            bail!("{start}..{end} is neither a day nor a calendar month")
        }
    }

    pub fn is_month(&self) -> bool {
        self.end != self.start + Days::new(1)
    }

    /// `2026-11-20` for a day, `2026-11` for a month: used in object keys and logs.
    pub fn label(&self) -> String {
        if self.is_month() {
            self.start.format("%Y-%m").to_string()
        } else {
            self.start.to_string()
        }
    }

    /// The instants the period covers in `tz`: `[local midnight of start, local midnight of end)`.
    pub fn utc_bounds(&self, tz: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
        (local_midnight(self.start, tz), local_midnight(self.end, tz))
    }

    /// The day before `now`'s local date in `tz`.
    pub fn previous_day(now: DateTime<Utc>, tz: Tz) -> Period {
        let today = now.with_timezone(&tz).date_naive();
        Period::day(today - Days::new(1))
    }

    /// The calendar month before `now`'s local month in `tz`.
    pub fn previous_month(now: DateTime<Utc>, tz: Tz) -> Period {
        let this_month = now
            .with_timezone(&tz)
            .date_naive()
            .with_day(1)
            .expect("day 1 exists");
        let start = this_month - Months::new(1);
        Period {
            start,
            end: this_month,
        }
    }

    /// One day period for each day of `from..=to`.
    pub fn each_day(from: NaiveDate, to: NaiveDate) -> anyhow::Result<Vec<Period>> {
        if to < from {
            bail!("--from {from} is after --to {to}");
        }
        let days = (to - from).num_days() as u64 + 1;
        if days > MAX_BACKFILL_DAYS {
            bail!(
                "{from}..={to} is {days} days; backfill at most {MAX_BACKFILL_DAYS} days per run"
            );
        }
        Ok(from
            .iter_days()
            .take(days as usize)
            .map(Period::day)
            .collect())
    }
}

/// The first instant of `date` in `tz`. Where a zone skips midnight (a DST change at 00:00),
/// the day starts at the first local time that exists; where it skips the whole day (Pacific/Apia
/// went from 2011-12-29 to 2011-12-31), the day is empty and starts where the next one does.
fn local_midnight(date: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let midnight = date.and_time(NaiveTime::MIN);
    let first = |local: NaiveDateTime| tz.from_local_datetime(&local).earliest();
    if let Some(start) = first(midnight) {
        return start.with_timezone(&Utc);
    }
    // Midnight is in a gap. Gaps are one stretch, at most a day long: find the first whole hour
    // after it that exists, then the first second that does.
    let hour = chrono::Duration::hours(1);
    let Some(after) = (1..=48)
        .map(|h| midnight + hour * h)
        .find(|t| first(*t).is_some())
    else {
        // No zone has a gap this long; UTC midnight is as good a start as any.
        return midnight.and_utc();
    };
    let base = after - hour;
    let at = |seconds: i64| base + chrono::Duration::seconds(seconds);
    let (mut missing, mut exists) = (0, 3600);
    while exists - missing > 1 {
        let middle = (missing + exists) / 2;
        if first(at(middle)).is_some() {
            exists = middle;
        } else {
            missing = middle;
        }
    }
    first(at(exists)).map_or(midnight.and_utc(), |start| start.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn yesterday_is_the_previous_local_day_not_the_previous_utc_day() {
        // 2026-11-20 16:30 UTC is already 2026-11-21 01:30 in Tokyo.
        let now = "2026-11-20T16:30:00Z".parse().unwrap();
        assert_eq!(
            Period::previous_day(now, chrono_tz::Asia::Tokyo).start,
            date("2026-11-20")
        );
        assert_eq!(
            Period::previous_day(now, chrono_tz::UTC).start,
            date("2026-11-19")
        );
    }

    #[test]
    fn a_tokyo_day_starts_at_15_utc_the_day_before() {
        let (from, to) = Period::day(date("2026-11-20")).utc_bounds(chrono_tz::Asia::Tokyo);
        assert_eq!(from.to_rfc3339(), "2026-11-19T15:00:00+00:00");
        assert_eq!(to.to_rfc3339(), "2026-11-20T15:00:00+00:00");
    }

    #[test]
    fn previous_month_crosses_the_year() {
        let now = "2027-01-01T00:00:00Z".parse().unwrap();
        let period = Period::previous_month(now, chrono_tz::Asia::Tokyo);
        assert_eq!(
            (period.start, period.end),
            (date("2026-12-01"), date("2027-01-01"))
        );
        assert_eq!(period.label(), "2026-12");
    }

    #[test]
    fn backfill_is_one_period_per_day_and_bounded() {
        let days = Period::each_day(date("2026-10-30"), date("2026-11-02")).unwrap();
        let labels: Vec<String> = days.iter().map(Period::label).collect();
        assert_eq!(
            labels,
            ["2026-10-30", "2026-10-31", "2026-11-01", "2026-11-02"]
        );
        assert!(Period::each_day(date("2026-11-02"), date("2026-11-01")).is_err());
        assert!(Period::each_day(date("2020-01-01"), date("2026-01-01")).is_err());
    }

    #[test]
    fn a_day_a_zone_skipped_is_empty_and_the_next_day_is_whole() {
        let apia = chrono_tz::Pacific::Apia;
        let (from, to) = Period::day(date("2011-12-30")).utc_bounds(apia);
        assert_eq!(from, to, "2011-12-30 did not exist in Samoa");
        assert_eq!(from.to_rfc3339(), "2011-12-30T10:00:00+00:00");
        let (from, to) = Period::day(date("2011-12-31")).utc_bounds(apia);
        assert_eq!((to - from).num_hours(), 24);
    }

    #[test]
    fn a_day_whose_midnight_a_zone_skips_starts_at_its_first_local_second() {
        // Liberia moved from -00:44:30 to UTC at midnight of 1972-01-07 (local 00:00 -> 00:44:30).
        let (from, _) = Period::day(date("1972-01-07")).utc_bounds(chrono_tz::Africa::Monrovia);
        assert_eq!(from.to_rfc3339(), "1972-01-07T00:44:30+00:00");
        // Santiago starts daylight time at 00:00 (to 01:00) on the first Sunday of September.
        let (from, _) = Period::day(date("2026-09-06")).utc_bounds(chrono_tz::America::Santiago);
        assert_eq!(from.to_rfc3339(), "2026-09-06T04:00:00+00:00");
    }

    #[test]
    fn command_line_dates_are_bounded() {
        assert_eq!(parse_date("2026-11-20"), Ok(date("2026-11-20")));
        for bad in [
            "+262142-12-31",
            "1969-12-31",
            "10000-01-01",
            "2026-02-30",
            "x",
        ] {
            assert!(parse_date(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_month("9999-12"), Ok((9999, 12)));
        assert!(parse_month("+262142-12").is_err());
        let last = Period::day(LAST_DATE);
        let _ = last.utc_bounds(chrono_tz::Pacific::Kiritimati);
    }

    #[test]
    fn only_days_and_months_come_back_from_the_queue() {
        assert!(
            Period::from_bounds(date("2026-11-01"), date("2026-12-01"))
                .unwrap()
                .is_month()
        );
        assert!(Period::from_bounds(date("2026-11-03"), date("2026-11-05")).is_err());
    }
}
