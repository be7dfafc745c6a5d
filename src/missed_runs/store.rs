//! The watcher's tables: `schedule_watches` (what is watched since when, judged up to where) and
//! `missed_runs` (each missed fire time once, and whether it was notified).

use chrono::{DateTime, Utc};

use super::judge::SeenRun;
use crate::db::Db;
use crate::on_pool;

/// A row of `schedule_watches`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Watch {
    /// The catalog entry watched.
    pub entry: String,
    pub schedule: String,
    pub watched_since: DateTime<Utc>,
    pub checked_until: DateTime<Utc>,
}

/// A row of `missed_runs`.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct MissedRun {
    /// The catalog entry whose fire time was missed, and its batch.
    pub entry: String,
    pub batch: String,
    pub scheduled_time: DateTime<Utc>,
    pub grace_minutes: i32,
    pub detected_at: DateTime<Utc>,
    pub seen: String,
    pub notified_at: Option<DateTime<Utc>>,
}

impl MissedRun {
    /// "1 minute", "60 minutes": the grace in words.
    pub fn grace_text(&self) -> String {
        match self.grace_minutes {
            1 => "1 minute".into(),
            n => format!("{n} minutes"),
        }
    }
}

pub async fn watches(db: &Db) -> anyhow::Result<Vec<Watch>> {
    Ok(on_pool!(db, |pool| sqlx::query_as::<_, Watch>(
        "SELECT entry, schedule, watched_since, checked_until FROM schedule_watches ORDER BY entry"
    )
    .fetch_all(pool)
    .await)?)
}

/// Starts (or restarts, for a changed schedule) watching `entry` at `since`: fire times up to
/// then are never judged.
pub async fn start_watching(
    db: &Db,
    entry: &str,
    schedule: &str,
    since: DateTime<Utc>,
) -> anyhow::Result<()> {
    on_pool!(db, |pool| {
        sqlx::query(
        "INSERT INTO schedule_watches (entry, schedule, watched_since, checked_until) VALUES ($1, $2, $3, $3)
         ON CONFLICT (entry) DO UPDATE SET schedule = excluded.schedule,
             watched_since = excluded.watched_since, checked_until = excluded.checked_until"
    )
    .bind(entry)
    .bind(schedule)
    .bind(since)
    .execute(pool)
    .await
    .map(|done| done.rows_affected())
    })?;
    Ok(())
}

/// Fire times up to `until` have been judged.
pub async fn advance(db: &Db, entry: &str, until: DateTime<Utc>) -> anyhow::Result<()> {
    on_pool!(db, |pool| sqlx::query(
        "UPDATE schedule_watches SET checked_until = $2 WHERE entry = $1"
    )
    .bind(entry)
    .bind(until)
    .execute(pool)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(())
}

/// Stops watching `entry` (no longer scheduled, disabled or unwatched): if it comes back, it is
/// watched afresh instead of being judged for the time it was off.
pub async fn stop_watching(db: &Db, entry: &str) -> anyhow::Result<()> {
    on_pool!(db, |pool| sqlx::query(
        "DELETE FROM schedule_watches WHERE entry = $1"
    )
    .bind(entry)
    .execute(pool)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(())
}

/// Runs of `entry` (a run of its batch that names it in `BATCH_ENTRY`, or, for a shorthand
/// entry, names no entry: a run by hand) started, or scheduled, in `[from, until)`.
pub async fn runs_between(
    db: &Db,
    entry: &str,
    batch: &str,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> anyhow::Result<Vec<SeenRun>> {
    Ok(on_pool!(db, |pool| sqlx::query_as::<_, SeenRun>(
        "SELECT status, started_at, finished_at, scheduled_time FROM batch_runs
         WHERE batch = $1
           AND (entry = $4 OR (entry IS NULL AND batch = $4))
           AND ((started_at >= $2 AND started_at < $3)
                OR (scheduled_time >= $2 AND scheduled_time < $3))"
    )
    .bind(batch)
    .bind(from)
    .bind(until)
    .bind(entry)
    .fetch_all(pool)
    .await)?)
}

/// Records a missed fire time; `false` if it was already recorded (it is reported once).
pub async fn record_missed(db: &Db, missed: &MissedRun) -> anyhow::Result<bool> {
    let inserted = on_pool!(db, |pool| {
        sqlx::query(
        "INSERT INTO missed_runs (entry, scheduled_time, grace_minutes, detected_at, seen, notified_at, batch)
         VALUES ($1, $2, $3, $4, $5, NULL, $6)
         ON CONFLICT (entry, scheduled_time) DO NOTHING"
    )
    .bind(&missed.entry)
    .bind(missed.scheduled_time)
    .bind(missed.grace_minutes)
    .bind(missed.detected_at)
    .bind(&missed.seen)
    .bind(&missed.batch)
    .execute(pool)
    .await
    .map(|done| done.rows_affected())
    })?;
    Ok(inserted == 1)
}

/// Where a missed run is delivered; each delivery is recorded in a column of its own, so each is
/// retried apart and neither is repeated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// The notification topic (`notified_at`).
    EMail,
    /// The team's chat topic (`chat_notified_at`).
    Chat,
}

impl Delivery {
    /// Its two statements: the undelivered runs, and marking one delivered (each names the
    /// delivery's own column; written out, as sqlx takes only fixed SQL).
    fn sql(self) -> (&'static str, &'static str) {
        match self {
            Delivery::EMail => (
                "SELECT entry, batch, scheduled_time, grace_minutes, detected_at, seen, notified_at
                 FROM missed_runs WHERE notified_at IS NULL AND detected_at >= $1
                 ORDER BY scheduled_time, entry LIMIT $2",
                "UPDATE missed_runs SET notified_at = $3 WHERE entry = $1 AND scheduled_time = $2",
            ),
            Delivery::Chat => (
                "SELECT entry, batch, scheduled_time, grace_minutes, detected_at, seen, notified_at
                 FROM missed_runs WHERE chat_notified_at IS NULL AND detected_at >= $1
                 ORDER BY scheduled_time, entry LIMIT $2",
                "UPDATE missed_runs SET chat_notified_at = $3 WHERE entry = $1 AND scheduled_time = $2",
            ),
        }
    }
}

/// Missed runs detected since `since` and not yet delivered by `delivery`, oldest first.
pub async fn undelivered(
    db: &Db,
    delivery: Delivery,
    since: DateTime<Utc>,
    limit: u32,
) -> anyhow::Result<Vec<MissedRun>> {
    let (sql, _) = delivery.sql();
    Ok(on_pool!(db, |pool| sqlx::query_as::<_, MissedRun>(sql)
        .bind(since)
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await)?)
}

pub async fn mark_delivered(
    db: &Db,
    delivery: Delivery,
    missed: &MissedRun,
    at: DateTime<Utc>,
) -> anyhow::Result<()> {
    let (_, sql) = delivery.sql();
    on_pool!(db, |pool| sqlx::query(sql)
        .bind(&missed.entry)
        .bind(missed.scheduled_time)
        .bind(at)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
    Ok(())
}

/// Missed runs for `batch history`, newest first.
pub async fn list(
    db: &Db,
    batch: Option<&str>,
    since: Option<DateTime<Utc>>,
    limit: u32,
) -> anyhow::Result<Vec<MissedRun>> {
    Ok(on_pool!(db, |pool| sqlx::query_as::<_, MissedRun>(
        "SELECT entry, batch, scheduled_time, grace_minutes, detected_at, seen, notified_at
         FROM missed_runs
         WHERE ($1 IS NULL OR batch = $1) AND ($2 IS NULL OR scheduled_time >= $2)
         ORDER BY scheduled_time DESC, entry DESC LIMIT $3"
    )
    .bind(batch)
    .bind(since)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await)?)
}

/// Deletes missed runs scheduled before `cutoff` (with the run history, by `history-prune`).
pub async fn prune(db: &Db, cutoff: DateTime<Utc>) -> anyhow::Result<u64> {
    Ok(on_pool!(db, |pool| sqlx::query(
        "DELETE FROM missed_runs WHERE scheduled_time < $1"
    )
    .bind(cutoff)
    .execute(pool)
    .await
    .map(|done| done.rows_affected()))?)
}
