//! Which scheduled runs were missed: pure functions over fire times and recorded runs, so that
//! every rule is unit-tested without a clock or a database.
//!
//! A cron fire time `t` expects a success of its batch that finished by `t + grace`. The runs
//! that serve `t` are those whose schedule event time (`BATCH_SCHEDULED_TIME`, set by the
//! EventBridge target) is `t`, or, for runs started another way (run-batch, by hand), that
//! started from a minute before `t` (task clocks differ) until the next fire time or the
//! deadline, whichever is first. A `rate(...)` schedule's fire times depend on when its rule
//! was created, which nothing here knows: it expects a success in every interval instead, each
//! counted from when the watch began.

use chrono::{DateTime, Duration, Utc};

use crate::catalog::schedule::Schedule;

/// How early a run may start before its fire time and still serve it (clock skew).
const EARLY: Duration = Duration::minutes(1);

/// One recorded run, as the judge needs it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SeenRun {
    pub status: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub scheduled_time: Option<DateTime<Utc>>,
}

/// One expected run: the fire time, which runs may serve it, and by when one must succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expected {
    pub fire: DateTime<Utc>,
    /// Runs started (or scheduled) in `[from, until)` serve this fire time.
    pub from: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub deadline: DateTime<Utc>,
}

/// The expected runs after `after` whose deadline has passed at `now`, oldest first, at most
/// `limit` of them (the rest wait for the next watcher run).
pub fn expected_runs(
    schedule: &Schedule,
    grace: Duration,
    after: DateTime<Utc>,
    now: DateTime<Utc>,
    limit: usize,
) -> Vec<Expected> {
    let mut expected = Vec::new();
    let mut cursor = after;
    while expected.len() < limit {
        // One more than needed: each fire time's window ends at the next one.
        let fires = schedule.next_fires(cursor, 2);
        let Some(&fire) = fires.first() else { break };
        let deadline = fire + grace;
        if deadline > now {
            break;
        }
        let (from, until) = match schedule {
            Schedule::Cron { .. } => {
                let next = fires.get(1).copied().unwrap_or(deadline);
                (fire - EARLY, (next - EARLY).min(deadline))
            }
            // The interval before the nominal fire time, plus the grace.
            Schedule::Rate { every, .. } => (fire - *every, deadline),
        };
        expected.push(Expected {
            fire,
            from,
            until: until.max(fire),
            deadline,
        });
        cursor = fire;
    }
    expected
}

/// What happened to one expected run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Met,
    /// No success served it; says in words what did run ("no run started", "1 failed, 1 running").
    Missed {
        seen: String,
    },
}

pub fn judge(expected: &Expected, runs: &[SeenRun], is_rate: bool) -> Verdict {
    let serving: Vec<&SeenRun> = runs
        .iter()
        .filter(|run| serves(expected, run, is_rate))
        .collect();
    let succeeded_in_time = serving.iter().any(|run| {
        run.status == "succeeded" && run.finished_at.is_some_and(|end| end <= expected.deadline)
    });
    if succeeded_in_time {
        return Verdict::Met;
    }
    Verdict::Missed {
        seen: describe(&serving),
    }
}

fn serves(expected: &Expected, run: &SeenRun, is_rate: bool) -> bool {
    match run.scheduled_time {
        // A scheduled run names its fire time exactly (a rate's nominal fire times are ours, not
        // EventBridge's, so a rate run is placed by when it started).
        Some(time) if !is_rate => time == expected.fire,
        _ => run.started_at >= expected.from && run.started_at < expected.until,
    }
}

/// "no run started", or the serving runs counted by status, e.g. "1 failed, 1 succeeded late".
fn describe(runs: &[&SeenRun]) -> String {
    if runs.is_empty() {
        return "no run started".into();
    }
    let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
    for run in runs {
        let label = match run.status.as_str() {
            "succeeded" => "succeeded after the grace".to_owned(),
            "running" if run.finished_at.is_none() => "still running at the deadline".to_owned(),
            other => other.to_owned(),
        };
        *counts.entry(label).or_default() += 1;
    }
    counts
        .into_iter()
        .map(|(label, n)| format!("{n} {label}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn run(status: &str, started: &str, minutes: i64, scheduled: Option<&str>) -> SeenRun {
        let started_at = at(started);
        SeenRun {
            status: status.into(),
            started_at,
            finished_at: (status != "running").then(|| started_at + Duration::minutes(minutes)),
            scheduled_time: scheduled.map(at),
        }
    }

    fn schedule(text: &str) -> Schedule {
        Schedule::parse(text).unwrap()
    }

    #[test]
    fn a_weekday_only_schedule_expects_nothing_on_its_days_off() {
        // Sunday to Thursday at 19:00 UTC, watched over two whole weeks.
        let fires: Vec<_> = expected_runs(
            &schedule("cron(0 19 ? * SUN-THU *)"),
            Duration::minutes(60),
            at("2026-11-01T00:00:00Z"),
            at("2026-11-15T00:00:00Z"),
            100,
        )
        .into_iter()
        .map(|e| e.fire.format("%a %d").to_string())
        .collect();
        assert_eq!(
            fires,
            [
                "Sun 01", "Mon 02", "Tue 03", "Wed 04", "Thu 05", "Sun 08", "Mon 09", "Tue 10",
                "Wed 11", "Thu 12"
            ]
        );
    }

    #[test]
    fn a_zoned_schedule_expects_its_local_times_through_the_changes_of_the_clocks() {
        // 02:30 daily in New York, watched from 2027-03-12 to 2027-03-16: the 14th has no 02:30,
        // so nothing is expected that day, and the run after it is an hour earlier in UTC.
        let new_york =
            Schedule::parse_in("cron(30 2 * * ? *)", chrono_tz::America::New_York).unwrap();
        let fires: Vec<String> = expected_runs(
            &new_york,
            Duration::minutes(60),
            at("2027-03-12T00:00:00Z"),
            at("2027-03-16T12:00:00Z"),
            100,
        )
        .into_iter()
        .map(|e| e.fire.to_rfc3339())
        .collect();
        assert_eq!(
            fires,
            [
                "2027-03-12T07:30:00+00:00",
                "2027-03-13T07:30:00+00:00",
                "2027-03-15T06:30:00+00:00",
                "2027-03-16T06:30:00+00:00"
            ]
        );
        // 01:30 daily across the autumn change: one expected run on 2026-11-01, at the first
        // 01:30 (05:30 UTC). A run that Scheduler started then (no scheduled time: its ECS
        // target passes none) meets it by its start time.
        let once = Schedule::parse_in("cron(30 1 * * ? *)", chrono_tz::America::New_York).unwrap();
        let expected = expected_runs(
            &once,
            Duration::minutes(30),
            at("2026-11-01T00:00:00Z"),
            at("2026-11-02T00:00:00Z"),
            100,
        );
        assert_eq!(expected.len(), 1, "{expected:?}");
        assert_eq!(expected[0].fire, at("2026-11-01T05:30:00Z"));
        let started = [run("succeeded", "2026-11-01T05:30:20Z", 3, None)];
        assert_eq!(judge(&expected[0], &started, false), Verdict::Met);
    }

    #[test]
    fn weekly_monthly_last_day_and_nth_weekday_schedules_expect_their_own_days() {
        let first = |text: &str| {
            expected_runs(
                &schedule(text),
                Duration::minutes(30),
                at("2026-11-20T00:00:00Z"),
                at("2027-03-01T00:00:00Z"),
                100,
            )
            .into_iter()
            .map(|e| e.fire.to_rfc3339())
            .take(3)
            .collect::<Vec<_>>()
        };
        assert_eq!(
            first("cron(0 3 ? * MON *)"),
            [
                "2026-11-23T03:00:00+00:00",
                "2026-11-30T03:00:00+00:00",
                "2026-12-07T03:00:00+00:00"
            ]
        );
        assert_eq!(
            first("cron(0 0 1 * ? *)"),
            [
                "2026-12-01T00:00:00+00:00",
                "2027-01-01T00:00:00+00:00",
                "2027-02-01T00:00:00+00:00"
            ]
        );
        assert_eq!(
            first("cron(0 0 L * ? *)"),
            [
                "2026-11-30T00:00:00+00:00",
                "2026-12-31T00:00:00+00:00",
                "2027-01-31T00:00:00+00:00"
            ]
        );
        // The first Monday of the month.
        assert_eq!(
            first("cron(0 9 ? * 2#1 *)"),
            [
                "2026-12-07T09:00:00+00:00",
                "2027-01-04T09:00:00+00:00",
                "2027-02-01T09:00:00+00:00"
            ]
        );
    }

    #[test]
    fn nothing_is_expected_before_the_grace_has_passed() {
        let s = schedule("cron(30 15 * * ? *)");
        let grace = Duration::minutes(60);
        let after = at("2026-12-03T00:00:00Z");
        assert!(expected_runs(&s, grace, after, at("2026-12-03T16:29:59Z"), 10).is_empty());
        assert_eq!(
            expected_runs(&s, grace, after, at("2026-12-03T16:30:00Z"), 10).len(),
            1
        );
    }

    #[test]
    fn a_scheduled_success_within_grace_meets_its_fire_time_and_only_its_own() {
        let s = schedule("cron(0 * * * ? *)");
        let expected = expected_runs(
            &s,
            Duration::minutes(90),
            at("2026-12-03T09:30:00Z"),
            at("2026-12-03T13:00:00Z"),
            10,
        );
        assert_eq!(expected.len(), 2, "{expected:?}"); // 10:00 and 11:00 are past their grace
        let runs = [run(
            "succeeded",
            "2026-12-03T11:00:05Z",
            1,
            Some("2026-12-03T11:00:00Z"),
        )];
        // The 11:00 run does not serve 10:00, although it finished within 10:00's grace.
        assert_eq!(
            judge(&expected[0], &runs, false),
            Verdict::Missed {
                seen: "no run started".into()
            }
        );
        assert_eq!(judge(&expected[1], &runs, false), Verdict::Met);
    }

    #[test]
    fn a_manual_rerun_within_grace_meets_the_fire_time_a_late_success_does_not() {
        let expected = expected_runs(
            &schedule("cron(30 15 * * ? *)"),
            Duration::minutes(60),
            at("2026-12-03T00:00:00Z"),
            at("2026-12-04T00:00:00Z"),
            10,
        )[0];
        let failed = run(
            "failed",
            "2026-12-03T15:30:10Z",
            2,
            Some("2026-12-03T15:30:00Z"),
        );
        let rerun = run("succeeded", "2026-12-03T15:50:00Z", 5, None);
        assert_eq!(
            judge(&expected, &[failed.clone(), rerun], false),
            Verdict::Met
        );
        let late = run("succeeded", "2026-12-03T16:20:00Z", 15, None);
        assert_eq!(
            judge(&expected, &[failed, late], false),
            Verdict::Missed {
                seen: "1 failed, 1 succeeded after the grace".into()
            }
        );
        let hung = run(
            "running",
            "2026-12-03T15:30:05Z",
            0,
            Some("2026-12-03T15:30:00Z"),
        );
        assert_eq!(
            judge(&expected, &[hung], false),
            Verdict::Missed {
                seen: "1 still running at the deadline".into()
            }
        );
        let skipped = run(
            "skipped",
            "2026-12-03T15:30:05Z",
            0,
            Some("2026-12-03T15:30:00Z"),
        );
        assert_eq!(
            judge(&expected, &[skipped], false),
            Verdict::Missed {
                seen: "1 skipped".into()
            }
        );
    }

    #[test]
    fn a_rate_expects_a_success_in_every_interval_counted_from_the_watch() {
        let s = schedule("rate(10 minutes)");
        let since = Utc.with_ymd_and_hms(2026, 12, 3, 12, 0, 0).unwrap();
        let expected = expected_runs(
            &s,
            Duration::minutes(5),
            since,
            since + Duration::minutes(36),
            10,
        );
        assert_eq!(expected.len(), 3);
        // EventBridge fired at :07, :17, :27 (its own phase); each serves the interval it fell in.
        let runs: Vec<_> = [7, 17]
            .iter()
            .map(|m| {
                let t = since + Duration::minutes(*m);
                SeenRun {
                    status: "succeeded".into(),
                    started_at: t,
                    finished_at: Some(t + Duration::seconds(3)),
                    scheduled_time: Some(t),
                }
            })
            .collect();
        let verdicts: Vec<_> = expected
            .iter()
            .map(|e| judge(e, &runs, true) == Verdict::Met)
            .collect();
        assert_eq!(verdicts, [true, true, false]);
    }
}
