//! EventBridge cron expressions, parsed and evaluated by the rules of AWS's reference, field by field.
//!
//! The rules, from the EventBridge user guide's "Cron expressions reference"
//! (<https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cron-expressions.html>, also on
//! the page "Setting a schedule pattern for scheduled rules", eb-scheduled-rule-pattern.html):
//!
//! - Six required fields, separated by white space: minutes, hours, day-of-month, month,
//!   day-of-week, year. Always UTC for a scheduled rule.
//! - Minutes 0-59 with `, - * /`; hours 0-23 with `, - * /`; day-of-month 1-31 with
//!   `, - * ? / L W`; month 1-12 or JAN-DEC with `, - * /`; day-of-week 1-7 or SUN-SAT
//!   (1 = Sunday) with `, - * ? L #` (no `/`); year 1970-2199 with `, - * /`.
//! - `,` adds values (JAN,FEB,MAR); `-` is a range (1-15); `*` is every value; `/` is an
//!   increment: `1/10` in minutes is every tenth minute starting from the first (1, 11, 21, ...).
//! - `?` is "any", only in day-of-month or day-of-week. "You can't specify the Day-of-month and
//!   Day-of-week fields in the same cron expression. If you specify a value or a * in one of the
//!   fields, you must use a ? in the other."
//! - `L` in day-of-month is the last day of the month; in day-of-week it is the last day of the
//!   week (Saturday); `5L` in day-of-week is the month's last Thursday.
//! - `W` in day-of-month is the weekday nearest the given day (`3W`); `LW` the month's last
//!   weekday.
//! - `#` in day-of-week is the n-th such day of the month: `3#2` is the second Tuesday. "If you use
//!   a '#' character, you can define only one expression in the day-of-week field. For example,
//!   "3#1,6#3" is not valid because it is interpreted as two expressions."
//! - "Cron expressions that lead to rates faster than 1 minute are not supported": a field of
//!   minutes cannot express that, so there is nothing to check.
//!
//! Where the reference says nothing, this module decides, as the Quartz scheduler the syntax
//! comes from does, and the Terraform validation (terraform/modules/scheduled_batch) decides
//! the same: `L`, `LW`, `nW`, `nL` and `n#k` each stand alone in their field; `*` and `*/n`
//! stand alone; names are upper case; a range runs upwards (`MON-FRI`, not `FRI-MON`); an
//! increment is 1 to the field's largest value (59 minutes, 23 hours, 31 days, 12 months, 229
//! years); a value has at most two digits (four in the year). An expression that never fires
//! (`cron(0 0 30 2 ? *)`) is refused: it would be a rule that silently never runs.
//!
//! Fire times are computed day by day, as wall-clock times (read in UTC for a scheduled rule, in
//! the schedule's zone for EventBridge Scheduler: see `super::schedule`), up to the end of 2199
//! (the last year a cron can name), so every question has an answer.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc, Weekday};

/// The last year a cron expression can name.
const LAST_YEAR: i32 = 2199;

/// A cron expression EventBridge accepts, as the sets of values each field allows.
#[derive(Debug, Clone, PartialEq)]
pub struct Cron {
    minutes: Values,
    hours: Values,
    days: Days,
    months: Values,
    years: Values,
}

/// Why a cron expression is refused: the field and its text, and the rule it breaks.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CronError {
    #[error(
        "has {0} fields; EventBridge needs 6: minutes hours day-of-month month day-of-week year"
    )]
    FieldCount(usize),
    #[error("{field} `{text}`: {reason}")]
    Field {
        field: &'static str,
        text: String,
        reason: String,
    },
    #[error("day-of-month and day-of-week cannot both be `?`: give a value or `*` in one of them")]
    BothDaysAny,
    #[error("EventBridge cannot take both day-of-month and day-of-week; put `?` in one of them")]
    BothDays,
    #[error("has a space after `cron(` or before `)`")]
    Spaces,
    #[error("never fires in any year EventBridge can run it (1970-2199)")]
    NeverFires,
}

/// The days a cron fires on: by day of month or by day of week (the other field is `?`).
#[derive(Debug, Clone, PartialEq)]
enum Days {
    OfMonth(Values),
    /// `L`: the last day of the month.
    LastOfMonth,
    /// `LW`: the last weekday (Monday-Friday) of the month.
    LastWeekdayOfMonth,
    /// `nW`: the weekday nearest day n, within the same month.
    NearestWeekday(u32),
    OfWeek(Values),
    /// `nL` in day-of-week: the last such day of the month.
    LastOfWeekInMonth(u32),
    /// `n#k`: the k-th such day of the month.
    NthOfWeekInMonth(u32, u32),
}

/// The values a field allows, from its minimum.
#[derive(Debug, Clone, PartialEq)]
struct Values {
    min: u32,
    allowed: Vec<bool>,
}

impl Values {
    fn contains(&self, value: u32) -> bool {
        value
            .checked_sub(self.min)
            .and_then(|i| self.allowed.get(i as usize))
            .copied()
            .unwrap_or(false)
    }

    fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.allowed
            .iter()
            .enumerate()
            .filter(|(_, allowed)| **allowed)
            .map(|(i, _)| self.min + i as u32)
    }
}

/// What a field allows: its range, its names, its digits, whether `/` is allowed.
struct Field {
    name: &'static str,
    min: u32,
    max: u32,
    names: &'static [&'static str],
    digits: usize,
    steps: bool,
    max_step: u32,
}

const MINUTES: Field = Field {
    name: "minutes",
    min: 0,
    max: 59,
    names: &[],
    digits: 2,
    steps: true,
    max_step: 59,
};
const HOURS: Field = Field {
    name: "hours",
    min: 0,
    max: 23,
    names: &[],
    digits: 2,
    steps: true,
    max_step: 23,
};
const DAY_OF_MONTH: Field = Field {
    name: "day-of-month",
    min: 1,
    max: 31,
    names: &[],
    digits: 2,
    steps: true,
    max_step: 31,
};
const MONTH: Field = Field {
    name: "month",
    min: 1,
    max: 12,
    names: &[
        "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
    ],
    digits: 2,
    steps: true,
    max_step: 12,
};
const DAY_OF_WEEK: Field = Field {
    name: "day-of-week",
    min: 1,
    max: 7,
    names: &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"],
    digits: 2,
    steps: false,
    max_step: 0,
};
const YEAR: Field = Field {
    name: "year",
    min: 1970,
    max: LAST_YEAR as u32,
    names: &[],
    digits: 4,
    steps: true,
    max_step: 229,
};

impl Field {
    fn error(&self, text: &str, reason: impl Into<String>) -> CronError {
        CronError::Field {
            field: self.name,
            text: text.to_owned(),
            reason: reason.into(),
        }
    }

    fn allowed(&self) -> String {
        match self.names {
            [] => format!("{}-{}", self.min, self.max),
            names => format!(
                "{}-{} or {}-{}",
                self.min,
                self.max,
                names[0],
                names[names.len() - 1]
            ),
        }
    }

    /// One value: a number in range (at most `digits` digits) or an upper-case name.
    fn value(&self, field_text: &str, text: &str) -> Result<u32, CronError> {
        if let Some(i) = self.names.iter().position(|name| *name == text) {
            return Ok(self.min + i as u32);
        }
        if !self.names.is_empty()
            && let Some(name) = self
                .names
                .iter()
                .find(|name| name.eq_ignore_ascii_case(text))
        {
            return Err(self.error(field_text, format!("write the name in upper case: {name}")));
        }
        let number = Some(text)
            .filter(|t| !t.is_empty() && t.len() <= self.digits)
            .filter(|t| t.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|t| t.parse::<u32>().ok())
            .ok_or_else(|| {
                self.error(
                    field_text,
                    format!(
                        "`{text}` is not a value; {} allows {}",
                        self.name,
                        self.allowed()
                    ),
                )
            })?;
        if !(self.min..=self.max).contains(&number) {
            return Err(self.error(
                field_text,
                format!(
                    "{number} is out of range; {} allows {}",
                    self.name,
                    self.allowed()
                ),
            ));
        }
        Ok(number)
    }

    /// A list of `*`, `*/s`, `a`, `a-b`, `a/s`, `a-b/s` (the special forms are handled by the
    /// day fields before this).
    fn values(&self, text: &str) -> Result<Values, CronError> {
        let mut allowed = vec![false; (self.max - self.min + 1) as usize];
        if text.is_empty() {
            return Err(self.error(text, "empty field"));
        }
        for part in text.split(',') {
            if part.is_empty() {
                return Err(self.error(text, "empty element in the list"));
            }
            let (range, step) = match part.split_once('/') {
                Some(_) if !self.steps => {
                    return Err(self.error(
                        text,
                        format!(
                            "{} takes no `/` (the reference allows , - * ? L # there)",
                            self.name
                        ),
                    ));
                }
                Some((range, step)) => (range, Some(self.step(text, step)?)),
                None => (part, None),
            };
            let (first, last) = if range == "*" {
                if part != text {
                    return Err(self.error(text, "`*` stands alone in its field, not in a list"));
                }
                (self.min, self.max)
            } else if let Some((a, b)) = range.split_once('-') {
                let (a, b) = (self.value(text, a)?, self.value(text, b)?);
                if a > b {
                    return Err(self.error(
                        text,
                        format!(
                            "the range {range} runs backwards; write it from the smaller value"
                        ),
                    ));
                }
                (a, b)
            } else {
                let a = self.value(text, range)?;
                // `a/s` runs from a to the field's end; a lone `a` is just a.
                (a, if step.is_some() { self.max } else { a })
            };
            let step = step.unwrap_or(1);
            let mut value = first;
            while value <= last {
                allowed[(value - self.min) as usize] = true;
                value += step;
            }
        }
        Ok(Values {
            min: self.min,
            allowed,
        })
    }

    fn step(&self, field_text: &str, text: &str) -> Result<u32, CronError> {
        let digits = if self.max_step >= 100 { 3 } else { 2 };
        Some(text)
            .filter(|t| !t.is_empty() && t.len() <= digits)
            .filter(|t| t.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|t| t.parse::<u32>().ok())
            .filter(|step| (1..=self.max_step).contains(step))
            .ok_or_else(|| {
                self.error(
                    field_text,
                    format!(
                        "the increment after `/` must be a number from 1 to {}",
                        self.max_step
                    ),
                )
            })
    }
}

impl Cron {
    /// Parses the six fields inside `cron(...)`.
    pub fn parse(fields: &str) -> Result<Cron, CronError> {
        let parts: Vec<&str> = fields.split(' ').filter(|p| !p.is_empty()).collect();
        if parts.len() != 6 {
            return Err(CronError::FieldCount(parts.len()));
        }
        if fields.starts_with(' ') || fields.ends_with(' ') {
            return Err(CronError::Spaces);
        }
        let [minutes, hours, day_of_month, month, day_of_week, year] = parts[..] else {
            unreachable!("six fields were counted");
        };
        for (field, text) in [
            (&MINUTES, minutes),
            (&HOURS, hours),
            (&MONTH, month),
            (&YEAR, year),
        ] {
            if text.contains('?') {
                return Err(field.error(text, "`?` is only for day-of-month or day-of-week"));
            }
        }
        let days = match (day_of_month == "?", day_of_week == "?") {
            (true, true) => return Err(CronError::BothDaysAny),
            (false, false) => return Err(CronError::BothDays),
            (false, true) => day_of_month_days(day_of_month)?,
            (true, false) => day_of_week_days(day_of_week)?,
        };
        let cron = Cron {
            minutes: MINUTES.values(minutes)?,
            hours: HOURS.values(hours)?,
            days,
            months: MONTH.values(month)?,
            years: YEAR.values(year)?,
        };
        let epoch = Utc.with_ymd_and_hms(1970, 1, 1, 0, 0, 0).unwrap() - Duration::minutes(1);
        if cron.next_fires(epoch, 1).is_empty() {
            return Err(CronError::NeverFires);
        }
        Ok(cron)
    }

    /// The next `count` fire times strictly after `after`, fewer if the expression has no more
    /// before the end of 2199.
    pub fn next_fires(&self, after: DateTime<Utc>, count: usize) -> Vec<DateTime<Utc>> {
        self.next_wall_times(after.naive_utc(), count)
            .into_iter()
            .map(|time| time.and_utc())
            .collect()
    }

    /// The next `count` wall-clock times strictly after `after` that the expression names, read
    /// on a clock with no time zone: UTC for a scheduled rule, the schedule's own zone for
    /// EventBridge Scheduler (`super::schedule` maps them to instants).
    pub fn next_wall_times(&self, after: NaiveDateTime, count: usize) -> Vec<NaiveDateTime> {
        let mut fires = Vec::with_capacity(count);
        let mut day = after.date();
        while fires.len() < count && day.year() <= LAST_YEAR {
            if !self.years.contains(day.year() as u32) {
                day = NaiveDate::from_ymd_opt(day.year() + 1, 1, 1).unwrap();
                continue;
            }
            if !self.months.contains(day.month()) {
                day = first_of_next_month(day);
                continue;
            }
            if self.fires_on(day) {
                for hour in self.hours.iter() {
                    for minute in self.minutes.iter() {
                        let time = day.and_hms_opt(hour, minute, 0).unwrap();
                        if time > after && fires.len() < count {
                            fires.push(time);
                        }
                    }
                }
            }
            day = day.succ_opt().unwrap();
        }
        fires
    }

    fn fires_on(&self, day: NaiveDate) -> bool {
        let last = last_day_of_month(day);
        // 1 = Sunday ... 7 = Saturday, as EventBridge numbers them.
        let weekday = day.weekday().number_from_sunday();
        match &self.days {
            Days::OfMonth(values) => values.contains(day.day()),
            Days::LastOfMonth => day == last,
            Days::LastWeekdayOfMonth => day == weekday_on_or_before(last),
            Days::NearestWeekday(n) => NaiveDate::from_ymd_opt(day.year(), day.month(), *n)
                .is_some_and(|target| day == nearest_weekday(target)),
            Days::OfWeek(values) => values.contains(weekday),
            Days::LastOfWeekInMonth(n) => weekday == *n && day + Duration::days(7) > last,
            Days::NthOfWeekInMonth(n, k) => weekday == *n && (day.day() - 1) / 7 + 1 == *k,
        }
    }
}

/// Day-of-month: `L`, `LW`, `nW`, or a list.
fn day_of_month_days(text: &str) -> Result<Days, CronError> {
    if text == "L" {
        return Ok(Days::LastOfMonth);
    }
    if text == "LW" {
        return Ok(Days::LastWeekdayOfMonth);
    }
    if let Some(day) = text.strip_suffix('W')
        && !day.contains([',', '-', '/', '*', 'L', 'W'])
    {
        return DAY_OF_MONTH.value(text, day).map(Days::NearestWeekday);
    }
    if text.contains(['L', 'W']) {
        return Err(DAY_OF_MONTH.error(
            text,
            "`L` and `W` stand alone in day-of-month: `L` (last day), `LW` (last weekday) or `nW` (weekday nearest day n, e.g. 15W)",
        ));
    }
    if text.contains('#') {
        return Err(DAY_OF_MONTH.error(text, "`#` belongs in day-of-week"));
    }
    DAY_OF_MONTH.values(text).map(Days::OfMonth)
}

/// Day-of-week: `L` (Saturday), `nL`, `n#k`, or a list.
fn day_of_week_days(text: &str) -> Result<Days, CronError> {
    if text.contains('#') {
        let (day, nth) = text.split_once('#').unwrap();
        if text.matches('#').count() > 1 || text.contains([',', '-', '/', '*', 'L']) {
            return Err(DAY_OF_WEEK.error(
                text,
                "with `#` the field holds a single n#k (the reference: \"3#1,6#3\" is not valid)",
            ));
        }
        let day = DAY_OF_WEEK.value(text, day)?;
        let nth = Some(nth)
            .filter(|n| n.len() == 1)
            .and_then(|n| n.parse::<u32>().ok())
            .filter(|n| (1..=5).contains(n))
            .ok_or_else(|| {
                DAY_OF_WEEK.error(text, "after `#` comes which week of the month, 1 to 5")
            })?;
        return Ok(Days::NthOfWeekInMonth(day, nth));
    }
    if text == "L" {
        // The last day of the week: every Saturday.
        return Ok(Days::OfWeek(DAY_OF_WEEK.values("7")?));
    }
    if let Some(day) = text.strip_suffix('L')
        && !day.contains([',', '-', '/', '*', 'L'])
    {
        return DAY_OF_WEEK.value(text, day).map(Days::LastOfWeekInMonth);
    }
    if text.contains('L') {
        return Err(DAY_OF_WEEK.error(
            text,
            "`L` stands alone in day-of-week: `L` (Saturday) or `nL` (the month's last such day, e.g. 6L)",
        ));
    }
    DAY_OF_WEEK.values(text).map(Days::OfWeek)
}

fn first_of_next_month(day: NaiveDate) -> NaiveDate {
    if day.month() == 12 {
        NaiveDate::from_ymd_opt(day.year() + 1, 1, 1).unwrap()
    } else {
        NaiveDate::from_ymd_opt(day.year(), day.month() + 1, 1).unwrap()
    }
}

fn last_day_of_month(day: NaiveDate) -> NaiveDate {
    first_of_next_month(day).pred_opt().unwrap()
}

fn is_weekend(day: NaiveDate) -> bool {
    matches!(day.weekday(), Weekday::Sat | Weekday::Sun)
}

fn weekday_on_or_before(mut day: NaiveDate) -> NaiveDate {
    while is_weekend(day) {
        day = day.pred_opt().unwrap();
    }
    day
}

/// The weekday nearest `target` without leaving its month: a Saturday moves to Friday (or to
/// Monday the 3rd when it is the 1st), a Sunday to Monday (or to Friday when it is the last day).
fn nearest_weekday(target: NaiveDate) -> NaiveDate {
    let last = last_day_of_month(target);
    match target.weekday() {
        Weekday::Sat if target.day() == 1 => target + Duration::days(2),
        Weekday::Sat => target - Duration::days(1),
        Weekday::Sun if target == last => target - Duration::days(2),
        Weekday::Sun => target + Duration::days(1),
        _ => target,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The next fire times of `cron(fields)` after `after`, as `YYYY-MM-DD HH:MM`.
    fn fires(fields: &str, after: &str, count: usize) -> Vec<String> {
        let after: DateTime<Utc> = format!("{after}Z").parse().unwrap();
        Cron::parse(fields)
            .unwrap_or_else(|e| panic!("cron({fields}) {e}"))
            .next_fires(after, count)
            .iter()
            .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
            .collect()
    }

    fn refused(fields: &str) -> String {
        match Cron::parse(fields) {
            Ok(_) => panic!("cron({fields}) was accepted"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn the_references_examples_are_accepted_and_fire_as_described() {
        // Every example of the reference's table (2026-11-20 is a Friday).
        let after = "2026-11-20T07:58:00";
        assert_eq!(
            fires("0 10 * * ? *", after, 2),
            ["2026-11-20 10:00", "2026-11-21 10:00"]
        );
        assert_eq!(fires("15 12 * * ? *", after, 1), ["2026-11-20 12:15"]);
        assert_eq!(
            fires("0 18 ? * MON-FRI *", after, 2),
            ["2026-11-20 18:00", "2026-11-23 18:00"]
        );
        assert_eq!(
            fires("0 8 1 * ? *", after, 2),
            ["2026-12-01 08:00", "2027-01-01 08:00"]
        );
        assert_eq!(
            fires("0/15 * * * ? *", after, 3),
            ["2026-11-20 08:00", "2026-11-20 08:15", "2026-11-20 08:30"]
        );
        assert_eq!(
            fires("0/10 * ? * MON-FRI *", "2026-11-20T23:45:00", 3),
            ["2026-11-20 23:50", "2026-11-23 00:00", "2026-11-23 00:10"]
        );
        let every_five = fires("0/5 8-17 ? * MON-FRI *", after, 200);
        assert_eq!(every_five[0], "2026-11-20 08:00");
        assert_eq!(every_five[119], "2026-11-20 17:55", "8:00 to 5:55 pm");
        assert_eq!(every_five[120], "2026-11-23 08:00", "then Monday");
        assert_eq!(
            fires("0 9 ? * 2#1 *", after, 2),
            ["2026-12-07 09:00", "2027-01-04 09:00"]
        );
    }

    #[test]
    fn an_increment_starts_at_its_first_value_and_runs_to_the_fields_end() {
        // The reference's own: 1/10 in minutes is 1, 11, 21, ...
        assert_eq!(
            fires("1/10 * * * ? *", "2026-01-01T00:00:00", 7),
            [
                "2026-01-01 00:01",
                "2026-01-01 00:11",
                "2026-01-01 00:21",
                "2026-01-01 00:31",
                "2026-01-01 00:41",
                "2026-01-01 00:51",
                "2026-01-01 01:01"
            ]
        );
        assert_eq!(
            fires("*/20 * * * ? *", "2026-01-01T00:00:00", 2),
            ["2026-01-01 00:20", "2026-01-01 00:40"]
        );
        assert_eq!(
            fires("0 0/6 * * ? *", "2026-01-01T00:00:00", 2),
            ["2026-01-01 06:00", "2026-01-01 12:00"]
        );
        assert_eq!(
            fires("0 8-20/4 * * ? *", "2026-01-01T00:00:00", 5)[3],
            "2026-01-01 20:00"
        );
        assert_eq!(
            fires("0 0 1/10 * ? *", "2026-01-01T00:00:00", 4),
            [
                "2026-01-11 00:00",
                "2026-01-21 00:00",
                "2026-01-31 00:00",
                "2026-02-01 00:00"
            ]
        );
        assert_eq!(
            fires("0 8 1 1/3 ? *", "2026-01-01T00:00:00", 4),
            [
                "2026-01-01 08:00",
                "2026-04-01 08:00",
                "2026-07-01 08:00",
                "2026-10-01 08:00"
            ]
        );
        assert_eq!(
            fires("0 0 1 JAN/6 ? *", "2026-01-01T00:00:00", 1),
            ["2026-07-01 00:00"]
        );
        assert_eq!(
            fires("0 0 1 1 ? 2026/2", "2025-06-01T00:00:00", 3),
            ["2026-01-01 00:00", "2028-01-01 00:00", "2030-01-01 00:00"]
        );
        assert_eq!(
            fires("0 0 1 1 ? 2030-2040/5", "2025-06-01T00:00:00", 4).len(),
            3
        );
    }

    #[test]
    fn lists_ranges_and_names_combine() {
        assert_eq!(
            fires("0,30 9,17 * * ? *", "2026-01-01T00:00:00", 4),
            [
                "2026-01-01 09:00",
                "2026-01-01 09:30",
                "2026-01-01 17:00",
                "2026-01-01 17:30"
            ]
        );
        assert_eq!(
            fires("0 0 1 JAN,MAR,NOV-DEC ? *", "2026-01-01T00:00:00", 4),
            [
                "2026-03-01 00:00",
                "2026-11-01 00:00",
                "2026-12-01 00:00",
                "2027-01-01 00:00"
            ]
        );
        // 2026-01-01 is a Thursday; 1 = SUN ... 7 = SAT.
        assert_eq!(
            fires("0 0 ? * SUN *", "2026-01-01T00:00:00", 1),
            ["2026-01-04 00:00"]
        );
        assert_eq!(
            fires("0 0 ? * 1,7 *", "2026-01-01T00:00:00", 2),
            ["2026-01-03 00:00", "2026-01-04 00:00"]
        );
        assert_eq!(
            fires("0 0 ? * MON-WED,6 *", "2026-01-01T00:00:00", 2),
            ["2026-01-02 00:00", "2026-01-05 00:00"]
        );
        assert_eq!(
            fires("05 07 09 * ? *", "2026-01-01T00:00:00", 1),
            ["2026-01-09 07:05"],
            "leading zeros"
        );
    }

    #[test]
    fn days_a_month_lacks_are_skipped() {
        assert_eq!(
            fires("0 0 31 * ? *", "2026-01-01T00:00:00", 3),
            ["2026-01-31 00:00", "2026-03-31 00:00", "2026-05-31 00:00"]
        );
        assert_eq!(
            fires("0 0 29 2 ? *", "2026-01-01T00:00:00", 2),
            ["2028-02-29 00:00", "2032-02-29 00:00"]
        );
        // 2100 is not a leap year.
        assert_eq!(
            fires("0 0 29 2 ? 2097-2199", "2096-03-01T00:00:00", 2),
            ["2104-02-29 00:00", "2108-02-29 00:00"]
        );
        assert_eq!(
            fires("0 0 30 * ? *", "2026-02-01T00:00:00", 1),
            ["2026-03-30 00:00"]
        );
    }

    #[test]
    fn l_in_day_of_month_is_the_months_last_day() {
        assert_eq!(
            fires("0 0 L * ? *", "2026-01-31T00:00:00", 4),
            [
                "2026-02-28 00:00",
                "2026-03-31 00:00",
                "2026-04-30 00:00",
                "2026-05-31 00:00"
            ]
        );
        assert_eq!(
            fires("0 0 L 2 ? 2028", "2026-01-01T00:00:00", 1),
            ["2028-02-29 00:00"]
        );
    }

    #[test]
    fn l_alone_in_day_of_week_is_every_saturday() {
        assert_eq!(
            fires("0 0 ? * L *", "2026-11-16T00:00:00", 3),
            ["2026-11-21 00:00", "2026-11-28 00:00", "2026-12-05 00:00"]
        );
    }

    #[test]
    fn nl_in_day_of_week_is_the_months_last_such_day() {
        // Last Friday: 2026-01-30, 2026-02-27; last Sunday of May 2026 is the 31st.
        assert_eq!(
            fires("0 0 ? * 6L *", "2026-01-01T00:00:00", 2),
            ["2026-01-30 00:00", "2026-02-27 00:00"]
        );
        assert_eq!(
            fires("0 0 ? 5 SUNL *", "2026-01-01T00:00:00", 1),
            ["2026-05-31 00:00"]
        );
    }

    #[test]
    fn w_is_the_nearest_weekday_within_the_month() {
        // 2026-02-15 is a Sunday -> Monday 16; 2026-08-15 a Saturday -> Friday 14.
        assert_eq!(
            fires("0 0 15W * ? *", "2026-02-01T00:00:00", 1),
            ["2026-02-16 00:00"]
        );
        assert_eq!(
            fires("0 0 15W 8 ? *", "2026-01-01T00:00:00", 1),
            ["2026-08-14 00:00"]
        );
        // 2026-08-01 is a Saturday: not back into July, forward to Monday the 3rd.
        assert_eq!(
            fires("0 0 1W 8 ? *", "2026-01-01T00:00:00", 1),
            ["2026-08-03 00:00"]
        );
        // 2026-05-31 is a Sunday: not into June, back to Friday the 29th.
        assert_eq!(
            fires("0 0 31W 5 ? *", "2026-01-01T00:00:00", 1),
            ["2026-05-29 00:00"]
        );
        // A month without day 31 has no 31W.
        assert_eq!(
            fires("0 0 31W * ? *", "2026-04-01T00:00:00", 1),
            ["2026-05-29 00:00"]
        );
        // LW: the last weekday; 2026-05-31 is a Sunday, 2026-06-30 a Tuesday.
        assert_eq!(
            fires("0 0 LW * ? *", "2026-05-01T00:00:00", 2),
            ["2026-05-29 00:00", "2026-06-30 00:00"]
        );
    }

    #[test]
    fn hash_is_the_nth_such_day_of_the_month() {
        assert_eq!(
            fires("0 0 ? * 6#3 *", "2026-11-01T00:00:00", 1),
            ["2026-11-20 00:00"],
            "third Friday"
        );
        assert_eq!(
            fires("0 0 ? * FRI#3 *", "2026-11-01T00:00:00", 1),
            ["2026-11-20 00:00"]
        );
        // A fifth Thursday exists in some months only: 2026-04-30, 2026-07-30.
        assert_eq!(
            fires("0 0 ? * 5#5 *", "2026-01-01T00:00:00", 3),
            ["2026-01-29 00:00", "2026-04-30 00:00", "2026-07-30 00:00"]
        );
    }

    #[test]
    fn years_bound_the_schedule() {
        assert_eq!(
            fires("0 0 1 1 ? 1970", "1969-12-31T00:00:00", 1),
            ["1970-01-01 00:00"]
        );
        assert_eq!(
            fires("0 0 31 12 ? 2199", "2026-01-01T00:00:00", 2),
            ["2199-12-31 00:00"]
        );
        assert!(
            fires("0 0 1 1 ? 2020-2025", "2026-01-01T00:00:00", 1).is_empty(),
            "past years: no more fires"
        );
        assert!(
            fires("0 12 * * ? *", "2199-12-31T12:00:00", 1).is_empty(),
            "nothing after 2199"
        );
    }

    #[test]
    fn fire_times_are_strictly_after_the_start() {
        assert_eq!(
            fires("0 12 * * ? *", "2026-01-01T12:00:00", 1),
            ["2026-01-02 12:00"]
        );
        assert_eq!(
            fires("0 12 * * ? *", "2026-01-01T11:59:59", 1),
            ["2026-01-01 12:00"]
        );
    }

    #[test]
    fn each_refusal_names_its_field_and_rule() {
        for (fields, reason) in [
            ("0 0 * * ?", "has 5 fields"),
            ("0 0 * * ? * *", "has 7 fields"),
            (
                "0 0 * * * *",
                "cannot take both day-of-month and day-of-week",
            ),
            ("0 0 1 * MON *", "cannot take both"),
            ("0 0 ? * ? *", "cannot both be `?`"),
            (
                "? 0 * * ? *",
                "minutes `?`: `?` is only for day-of-month or day-of-week",
            ),
            ("0 ? * * ? *", "hours `?`"),
            ("0 0 * ? ? *", "month `?`"),
            ("0 0 * * ? ?", "year `?`"),
            (
                "60 0 * * ? *",
                "minutes `60`: 60 is out of range; minutes allows 0-59",
            ),
            (
                "0 24 * * ? *",
                "hours `24`: 24 is out of range; hours allows 0-23",
            ),
            (
                "0 0 0 * ? *",
                "day-of-month `0`: 0 is out of range; day-of-month allows 1-31",
            ),
            ("0 0 32 * ? *", "day-of-month `32`"),
            (
                "0 0 1 13 ? *",
                "month `13`: 13 is out of range; month allows 1-12 or JAN-DEC",
            ),
            (
                "0 0 ? * 0 *",
                "day-of-week `0`: 0 is out of range; day-of-week allows 1-7 or SUN-SAT",
            ),
            ("0 0 ? * 8 *", "day-of-week `8`"),
            (
                "0 0 1 1 ? 1969",
                "year `1969`: 1969 is out of range; year allows 1970-2199",
            ),
            ("0 0 1 1 ? 2200", "year `2200`"),
            ("0 0 1 1 ? 2020-2200", "year `2020-2200`"),
            (
                "0 0 ? * 3#1,6#3 *",
                "day-of-week `3#1,6#3`: with `#` the field holds a single n#k",
            ),
            (
                "0 0 ? * 3#6 *",
                "after `#` comes which week of the month, 1 to 5",
            ),
            ("0 0 ? * 3#0 *", "1 to 5"),
            ("0 0 ? * 8#1 *", "day-of-week `8#1`: 8 is out of range"),
            ("0 0 ? * MON-FRI/2 *", "day-of-week takes no `/`"),
            ("0 0 ? * */2 *", "day-of-week takes no `/`"),
            ("0 0 ? * 2L,3 *", "`L` stands alone in day-of-week"),
            ("0 0 ? * LW *", "`L` stands alone"),
            ("0 0 L,15 * ? *", "`L` and `W` stand alone in day-of-month"),
            ("0 0 1-15W * ? *", "stand alone"),
            ("0 0 L-2 * ? *", "stand alone"),
            ("0 0 32W * ? *", "day-of-month `32W`: 32 is out of range"),
            ("0 0 ? * 3W *", "day-of-week `3W`: `3W` is not a value"),
            ("0 0 1#2 * ? *", "`#` belongs in day-of-week"),
            ("0 L * * ? *", "hours `L`: `L` is not a value"),
            (
                "0/0 * * * ? *",
                "minutes `0/0`: the increment after `/` must be a number from 1 to 59",
            ),
            ("0/60 * * * ? *", "1 to 59"),
            ("0 0/24 * * ? *", "1 to 23"),
            ("0 0 1 1/13 ? *", "1 to 12"),
            ("0 0 1 1 ? 2026/230", "1 to 229"),
            ("0/ * * * ? *", "increment"),
            ("/5 * * * ? *", "`` is not a value"),
            ("*/5,7 * * * ? *", "`*` stands alone in its field"),
            (
                "0 17-9 * * ? *",
                "hours `17-9`: the range 17-9 runs backwards",
            ),
            ("0 0 ? * FRI-MON *", "runs backwards"),
            (
                "0 0 1 jan ? *",
                "month `jan`: write the name in upper case: JAN",
            ),
            ("0 0 ? * mon *", "write the name in upper case: MON"),
            ("0 0 1 JANUARY ? *", "`JANUARY` is not a value"),
            ("0,,5 0 * * ? *", "empty element"),
            ("0 0 * * ? 26", "year `26`: 26 is out of range"),
            ("005 0 * * ? *", "`005` is not a value"),
            ("0 0 30 2 ? *", "never fires"),
            (" 0 0 * * ? *", "has a space after `cron(`"),
            ("0 0 * * ? * ", "before `)`"),
            ("0\t0 * * ? *", "has 5 fields"),
            ("0 0 31 4,6,9,11 ? *", "never fires"),
        ] {
            let error = refused(fields);
            assert!(
                error.contains(reason),
                "cron({fields}): {error}\n  expected: {reason}"
            );
        }
    }

    #[test]
    fn fields_may_be_separated_by_several_spaces() {
        assert_eq!(
            fires("0  10 * * ?   *", "2026-01-01T00:00:00", 1),
            ["2026-01-01 10:00"]
        );
    }
}
