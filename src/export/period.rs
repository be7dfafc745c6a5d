//! Export periods: a calendar day or a calendar month in the export time zone.
//! EventBridge fires in UTC, but "yesterday" means yesterday where the customers are.

use anyhow::{Context, bail};
use chrono::{DateTime, Datelike, Days, Months, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

/// `[start, end)` in local dates: one day or one whole month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportPeriod {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

/// Backfills are bounded so that a typo in `--from` cannot create years of jobs.
pub const MAX_BACKFILL_DAYS: u64 = 400;

impl ExportPeriod {
    pub fn day(date: NaiveDate) -> ExportPeriod {
        ExportPeriod {
            start: date,
            end: date + Days::new(1),
        }
    }

    pub fn month(year: i32, month: u32) -> anyhow::Result<ExportPeriod> {
        let start = NaiveDate::from_ymd_opt(year, month, 1)
            .with_context(|| format!("no month {year}-{month:02}"))?;
        Ok(ExportPeriod {
            start,
            end: start + Months::new(1),
        })
    }

    /// Rebuilds a period read back from the queue, refusing anything but a day or a month.
    pub fn from_bounds(start: NaiveDate, end: NaiveDate) -> anyhow::Result<ExportPeriod> {
        let period = ExportPeriod { start, end };
        if period == ExportPeriod::day(start) || (start.day() == 1 && end == start + Months::new(1))
        {
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
    pub fn previous_day(now: DateTime<Utc>, tz: Tz) -> ExportPeriod {
        let today = now.with_timezone(&tz).date_naive();
        ExportPeriod::day(today - Days::new(1))
    }

    /// The calendar month before `now`'s local month in `tz`.
    pub fn previous_month(now: DateTime<Utc>, tz: Tz) -> ExportPeriod {
        let this_month = now
            .with_timezone(&tz)
            .date_naive()
            .with_day(1)
            .expect("day 1 exists");
        let start = this_month - Months::new(1);
        ExportPeriod {
            start,
            end: this_month,
        }
    }

    /// One day period for each day of `from..=to`.
    pub fn each_day(from: NaiveDate, to: NaiveDate) -> anyhow::Result<Vec<ExportPeriod>> {
        if to < from {
            bail!("--to {to} is before --from {from}");
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
            .map(ExportPeriod::day)
            .collect())
    }
}

/// The first instant of `date` in `tz`. Where a zone skips midnight (a DST change at 00:00),
/// the day starts at the first local time that exists.
fn local_midnight(date: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let midnight = date.and_hms_opt(0, 0, 0).expect("midnight exists");
    (0..=3)
        .find_map(|hour| {
            tz.from_local_datetime(&(midnight + chrono::Duration::hours(hour)))
                .earliest()
        })
        .expect("a day has a start within three hours of midnight")
        .with_timezone(&Utc)
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
            ExportPeriod::previous_day(now, chrono_tz::Asia::Tokyo).start,
            date("2026-11-20")
        );
        assert_eq!(
            ExportPeriod::previous_day(now, chrono_tz::UTC).start,
            date("2026-11-19")
        );
    }

    #[test]
    fn a_tokyo_day_starts_at_15_utc_the_day_before() {
        let (from, to) = ExportPeriod::day(date("2026-11-20")).utc_bounds(chrono_tz::Asia::Tokyo);
        assert_eq!(from.to_rfc3339(), "2026-11-19T15:00:00+00:00");
        assert_eq!(to.to_rfc3339(), "2026-11-20T15:00:00+00:00");
    }

    #[test]
    fn previous_month_crosses_the_year() {
        let now = "2027-01-01T00:00:00Z".parse().unwrap();
        let period = ExportPeriod::previous_month(now, chrono_tz::Asia::Tokyo);
        assert_eq!(
            (period.start, period.end),
            (date("2026-12-01"), date("2027-01-01"))
        );
        assert_eq!(period.label(), "2026-12");
    }

    #[test]
    fn backfill_is_one_period_per_day_and_bounded() {
        let days = ExportPeriod::each_day(date("2026-10-30"), date("2026-11-02")).unwrap();
        let labels: Vec<String> = days.iter().map(ExportPeriod::label).collect();
        assert_eq!(
            labels,
            ["2026-10-30", "2026-10-31", "2026-11-01", "2026-11-02"]
        );
        assert!(ExportPeriod::each_day(date("2026-11-02"), date("2026-11-01")).is_err());
        assert!(ExportPeriod::each_day(date("2020-01-01"), date("2026-01-01")).is_err());
    }

    #[test]
    fn only_days_and_months_come_back_from_the_queue() {
        assert!(
            ExportPeriod::from_bounds(date("2026-11-01"), date("2026-12-01"))
                .unwrap()
                .is_month()
        );
        assert!(ExportPeriod::from_bounds(date("2026-11-03"), date("2026-11-05")).is_err());
    }
}
