//! Missed-run detection: `batch missed-runs` compares each watched entry's real schedule with
//! the run history and reports every fire time that got no success within its grace, once,
//! to the notification topic and as a `missed` row of `batch history`.
//!
//! Terraform hands the watcher the environment's effective schedules (`WATCH_SCHEDULES`), so it
//! knows what CloudWatch metric alarms cannot: weekly, monthly and weekday-only schedules, and
//! that nothing was due before the first fire time. The watcher itself runs on a fixed
//! interval, which a plain metric alarm can watch exactly.
//!
//! Its log lines name the catalog entry they are about `watched_entry` (and its batch
//! `watched_batch`): `batch` and `entry` on every line are the watcher's own, as for any run.

pub mod config;
pub mod judge;
pub mod notify;
pub mod store;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use self::config::Watched;
use self::judge::{Verdict, expected_runs, judge};
use self::notify::{Publisher, chat_notification, message};
use self::store::{Delivery, MissedRun};
use crate::catalog::schedule::Schedule;
use crate::db::Db;
use crate::runtime::counts::Counts;

/// Fire times judged per entry and run; a watcher that was down for long catches up over
/// several runs instead of one long one.
const EXPECTED_PER_RUN: usize = 2_000;
/// Notifications per run, oldest first; the rest go out on the next run.
const NOTIFIED_PER_RUN: u32 = 100;

/// Where missed runs are reported besides the log and the history.
pub struct Reporting<'a> {
    pub publisher: Option<&'a Publisher>,
    /// The team's chat topic: each missed run as a custom notification.
    pub chat: Option<&'a Publisher>,
    pub environment: Option<&'a str>,
    pub time_zone: Tz,
}

/// One watcher pass at `now`: judge, record, notify. Counts `watched`, `judged`, `missed` and
/// `notified`. Publishing failures fail the pass after every missed run has been recorded, so
/// nothing is lost: unnotified runs are published by the next pass.
pub async fn watch(
    db: &Db,
    schedules: &[Watched],
    now: DateTime<Utc>,
    reporting: &Reporting<'_>,
    counts: &Counts,
) -> anyhow::Result<()> {
    let watches: BTreeMap<String, store::Watch> = store::watches(db)
        .await?
        .into_iter()
        .map(|w| (w.entry.clone(), w))
        .collect();
    for entry in watches.keys() {
        if !schedules.iter().any(|w| &w.entry == entry) {
            store::stop_watching(db, entry).await?;
            tracing::info!(
                watched_entry = entry,
                "no longer watched (unscheduled, disabled or grace removed)"
            );
        }
    }
    for watched in schedules {
        counts.add("watched", 1);
        let expression = watched.schedule.to_string();
        match watches.get(&watched.entry) {
            Some(watch) if watch.schedule == expression => {
                judge_entry(db, watched, watch.checked_until, now, counts).await?;
            }
            previous => {
                store::start_watching(db, &watched.entry, &expression, now).await?;
                tracing::info!(
                    watched_entry = %watched.entry,
                    schedule = %expression,
                    previous = previous.map(|w| w.schedule.as_str()),
                    "watching a new schedule from now on"
                );
            }
        }
    }
    notify(db, schedules, now, reporting, counts).await
}

async fn judge_entry(
    db: &Db,
    watched: &Watched,
    checked_until: DateTime<Utc>,
    now: DateTime<Utc>,
    counts: &Counts,
) -> anyhow::Result<()> {
    let expected = expected_runs(
        &watched.schedule,
        watched.grace,
        checked_until,
        now,
        EXPECTED_PER_RUN,
    );
    let (Some(first), Some(last)) = (expected.first(), expected.last()) else {
        return Ok(());
    };
    let runs = store::runs_between(
        db,
        &watched.entry,
        &watched.batch,
        first.from,
        last.until.max(last.deadline),
    )
    .await?;
    let is_rate = matches!(watched.schedule, Schedule::Rate { .. });
    for expectation in &expected {
        counts.add("judged", 1);
        let Verdict::Missed { seen } = judge(expectation, &runs, is_rate) else {
            continue;
        };
        let missed = MissedRun {
            entry: watched.entry.clone(),
            batch: watched.batch.clone(),
            scheduled_time: expectation.fire,
            grace_minutes: i32::try_from(watched.grace.num_minutes()).unwrap_or(i32::MAX),
            detected_at: now,
            seen,
            notified_at: None,
        };
        if store::record_missed(db, &missed).await? {
            counts.add("missed", 1);
            tracing::error!(
                watched_entry = %missed.entry,
                watched_batch = %missed.batch,
                scheduled_time = %missed.scheduled_time.to_rfc3339(),
                grace_minutes = missed.grace_minutes,
                seen = %missed.seen,
                "missed run: no success within the grace"
            );
        }
    }
    if expected.len() == EXPECTED_PER_RUN {
        tracing::warn!(watched_entry = %watched.entry, judged = EXPECTED_PER_RUN, "more fire times to judge; the next run goes on");
    }
    store::advance(db, &watched.entry, last.fire).await
}

async fn notify(
    db: &Db,
    schedules: &[Watched],
    now: DateTime<Utc>,
    reporting: &Reporting<'_>,
    counts: &Counts,
) -> anyhow::Result<()> {
    // Each delivery on its own: a chat that refuses does not hold back the e-mail, nor the
    // reverse, and neither is repeated once it went out. E-mail takes every run not yet
    // notified (detected since the epoch); the chat only the last CHAT_LOOK_BACK.
    let e_mail = deliver(db, Delivery::EMail, schedules, now, reporting, counts).await;
    let chat = deliver(db, Delivery::Chat, schedules, now, reporting, counts).await;
    e_mail.and(chat)
}

/// How far back a missed run is still worth a chat message: a chat switched on later does not
/// get the past, which the history and the e-mails have.
const CHAT_LOOK_BACK: chrono::Duration = chrono::Duration::hours(24);

/// Publishes the missed runs `delivery` has not delivered yet (at most NOTIFIED_PER_RUN), each
/// recorded as delivered once published.
async fn deliver(
    db: &Db,
    delivery: Delivery,
    schedules: &[Watched],
    now: DateTime<Utc>,
    reporting: &Reporting<'_>,
    counts: &Counts,
) -> anyhow::Result<()> {
    let (publisher, since, done) = match delivery {
        Delivery::EMail => (reporting.publisher, DateTime::<Utc>::UNIX_EPOCH, "notified"),
        Delivery::Chat => (reporting.chat, now - CHAT_LOOK_BACK, "posted to the chat"),
    };
    let Some(publisher) = publisher else {
        return Ok(());
    };
    for missed in store::undelivered(db, delivery, since, NOTIFIED_PER_RUN).await? {
        let schedule = schedules
            .iter()
            .find(|w| w.entry == missed.entry)
            .map(|w| w.schedule.to_string());
        let (schedule, environment, zone) = (
            schedule.as_deref(),
            reporting.environment,
            reporting.time_zone,
        );
        let sent = match delivery {
            Delivery::EMail => {
                publisher
                    .publish(&message(&missed, schedule, environment, zone))
                    .await
            }
            Delivery::Chat => {
                publisher
                    .publish_chat(&chat_notification(&missed, schedule, environment, zone))
                    .await
            }
        };
        let message_id = sent.map_err(|e| {
            e.context(format!(
                "missed run of {} at {} recorded but not {done}; the next run retries",
                missed.entry,
                missed.scheduled_time.to_rfc3339()
            ))
        })?;
        store::mark_delivered(db, delivery, &missed, now).await?;
        // Literal names: the documented log fields are checked against them.
        match delivery {
            Delivery::EMail => counts.add("notified", 1),
            Delivery::Chat => counts.add("posted_to_chat", 1),
        }
        tracing::info!(watched_entry = %missed.entry, scheduled_time = %missed.scheduled_time.to_rfc3339(), message_id, "missed run {done}");
    }
    Ok(())
}
