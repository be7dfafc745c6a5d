//! The run time line as a picture: one self-contained HTML page (inline CSS and script, nothing
//! fetched) with a row per catalog entry, a bar per run coloured by status, the entry's scheduled
//! fire times as ticks (missed ones marked), and each run's details on hover or click.
//! `batch history --html FILE` writes it; `history-report` puts it in the bucket every hour.
//!
//! A row is a catalog entry (`entry` of the run, or its batch for a run that names none, as for a
//! shorthand entry); runs launched by another run (`parent_run_id`) are in their own entry's row,
//! stacked in lanes when they overlap. Rows come in catalog order, then the rest by name.

pub mod config;
mod page;
pub mod schedules;

use std::collections::BTreeMap;

use anyhow::Context;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use self::schedules::Scheduled;
use crate::catalog::schedule::Schedule;
use crate::db::Db;
use crate::missed_runs::store::{self as missed_store, MissedRun};
use crate::runtime::history::{self, HistoryQuery, RunRecord, RunView, ShownStatus};
use crate::runtime::stop::Stop;
use crate::storage::{ObjectKey, Storage};

pub use self::page::render;

/// The window a page shows when none is asked for: the last 48 hours.
pub const DEFAULT_WINDOW: chrono::Duration = chrono::Duration::hours(48);
/// The most runs one page draws; more are left out, and the page says so.
pub const MAX_RUNS: u32 = 10_000;
/// The most fire times drawn per entry (a rate of one minute over 90 days would be 130,000).
const MAX_TICKS_PER_ENTRY: usize = 2_000;
/// The content type of the page in the bucket.
pub const CONTENT_TYPE: &str = "text/html; charset=utf-8";

/// What one page shows.
#[derive(Debug, Clone)]
pub struct Request {
    /// The runs (`since` is the window's start; `limit` at most `MAX_RUNS`).
    pub query: HistoryQuery,
    pub schedules: Vec<Scheduled>,
    pub source: schedules::Source,
    /// The window's end (its start is `query.since`).
    pub until: DateTime<Utc>,
    pub time_zone: Tz,
    /// The environment's name, for the title (`WATCH_ENVIRONMENT`).
    pub environment: Option<String>,
}

/// The page's content, ready to draw.
#[derive(Debug, Clone)]
pub struct Timeline {
    pub from: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub now: DateTime<Utc>,
    pub time_zone: Tz,
    pub environment: Option<String>,
    /// The filters, as a person would type them (`--batch canary --status failed`).
    pub filters: String,
    pub source: String,
    pub rows: Vec<Row>,
    /// The query's limit was reached: older runs are not drawn.
    pub truncated: Option<u32>,
}

/// One catalog entry.
#[derive(Debug, Clone)]
pub struct Row {
    pub entry: String,
    pub batch: String,
    /// Its schedule, when known.
    pub schedule: Option<String>,
    pub grace_minutes: Option<i64>,
    /// Runs, packed into lanes so that no two overlap (drawn top to bottom).
    pub lanes: Vec<Vec<Bar>>,
    pub ticks: Vec<Tick>,
}

/// One run.
#[derive(Debug, Clone)]
pub struct Bar {
    pub run: RunView,
    /// Where the bar ends: the run's end, now for a running run, the deadline for a stale one.
    pub end: DateTime<Utc>,
}

/// One scheduled fire time.
#[derive(Debug, Clone)]
pub struct Tick {
    pub at: DateTime<Utc>,
    /// `Some(what ran)` when `missed-runs` reported it missed.
    pub missed: Option<String>,
}

impl Row {
    pub fn bars(&self) -> impl Iterator<Item = &Bar> {
        self.lanes.iter().flatten()
    }
}

/// Reads the runs and missed fire times of the request's window and builds the page's content.
pub async fn gather(db: &Db, request: &Request, now: DateTime<Utc>) -> anyhow::Result<Timeline> {
    let query = &request.query;
    let bars_wanted = query.status != Some(ShownStatus::Missed);
    let runs: Vec<RunRecord> = if bars_wanted {
        history::list(db, query, now)
            .await?
            .into_iter()
            .filter(|run| run.shown_status(now) != ShownStatus::Missed)
            .collect()
    } else {
        Vec::new()
    };
    // Missed fire times are ticks, whatever the status filter says about bars.
    let missed = if query.parent.is_some() {
        Vec::new()
    } else {
        missed_store::list(db, query.batch.as_deref(), query.since, MAX_RUNS).await?
    };
    let truncated = (runs.len() >= query.limit as usize).then_some(query.limit);
    Ok(build(request, &runs, &missed, truncated, now))
}

/// The page's content from runs and missed fire times (pure, for tests).
pub fn build(
    request: &Request,
    runs: &[RunRecord],
    missed: &[MissedRun],
    truncated: Option<u32>,
    now: DateTime<Utc>,
) -> Timeline {
    let query = &request.query;
    let from = query.since.unwrap_or(request.until - DEFAULT_WINDOW);
    let until = request.until.max(from + chrono::Duration::minutes(1));
    let schedules: Vec<&Scheduled> = request
        .schedules
        .iter()
        .filter(|s| query.batch.as_ref().is_none_or(|b| *b == s.batch))
        .collect();

    let mut rows: BTreeMap<String, Row> = BTreeMap::new();
    let new_row = |entry: &str, batch: &str| Row {
        entry: entry.to_owned(),
        batch: batch.to_owned(),
        schedule: None,
        grace_minutes: None,
        lanes: Vec::new(),
        ticks: Vec::new(),
    };
    // Every scheduled entry has its row, with or without runs, unless a status filter is on
    // (then only rows with something to show are kept, below).
    for scheduled in &schedules {
        let row = rows
            .entry(scheduled.entry.clone())
            .or_insert_with(|| new_row(&scheduled.entry, &scheduled.batch));
        row.schedule = Some(scheduled.schedule.to_string());
        row.grace_minutes = scheduled.grace.map(|g| g.num_minutes());
        row.ticks = fire_times(&scheduled.schedule, from, until.min(now))
            .into_iter()
            .map(|at| Tick { at, missed: None })
            .collect();
    }
    for m in missed
        .iter()
        .filter(|m| m.scheduled_time >= from && m.scheduled_time <= until)
    {
        let row = rows
            .entry(m.entry.clone())
            .or_insert_with(|| new_row(&m.entry, &m.batch));
        match row.ticks.iter_mut().find(|t| t.at == m.scheduled_time) {
            Some(tick) => tick.missed = Some(m.seen.clone()),
            None => row.ticks.push(Tick {
                at: m.scheduled_time,
                missed: Some(m.seen.clone()),
            }),
        }
    }
    // A bar narrower than this is drawn this wide, so runs closer than it go to separate lanes.
    let min_visible = (until - from) / 400;
    let mut bars: BTreeMap<String, Vec<Bar>> = BTreeMap::new();
    for run in runs {
        let entry = run
            .entry
            .clone()
            .filter(|e| !e.is_empty())
            .unwrap_or_else(|| run.batch.clone());
        rows.entry(entry.clone())
            .or_insert_with(|| new_row(&entry, &run.batch));
        let end = match run.shown_status(now) {
            ShownStatus::Stale => run.deadline_at,
            _ => run.finished_at.unwrap_or(now),
        };
        bars.entry(entry).or_default().push(Bar {
            run: run.to_view(now),
            end: end.max(run.started_at),
        });
    }
    for (entry, mut bars) in bars {
        bars.sort_by_key(|bar| (bar.run.started_at, bar.end));
        let row = rows.get_mut(&entry).expect("every run's row was made");
        let mut lane_ends: Vec<DateTime<Utc>> = Vec::new();
        for bar in bars {
            let shown_end = bar.end.max(bar.run.started_at + min_visible);
            match lane_ends.iter().position(|end| *end <= bar.run.started_at) {
                Some(lane) => {
                    lane_ends[lane] = shown_end;
                    row.lanes[lane].push(bar);
                }
                None => {
                    lane_ends.push(shown_end);
                    row.lanes.push(vec![bar]);
                }
            }
        }
    }
    for row in rows.values_mut() {
        row.ticks.sort_by_key(|t| t.at);
    }
    let order: Vec<&str> = schedules.iter().map(|s| s.entry.as_str()).collect();
    let mut rows: Vec<Row> = rows.into_values().collect();
    rows.sort_by_key(|row| {
        let place = order.iter().position(|e| *e == row.entry);
        (place.is_none(), place, row.entry.clone())
    });
    if query.status.is_some() {
        rows.retain(|row| {
            row.bars().next().is_some() || row.ticks.iter().any(|t| t.missed.is_some())
        });
    }
    Timeline {
        from,
        until,
        now,
        time_zone: request.time_zone,
        environment: request.environment.clone(),
        filters: filters_text(query),
        source: request.source.to_string(),
        rows,
        truncated,
    }
}

/// The fire times of a cron schedule in `[from, until]`. A rate's fire times depend on when AWS
/// created its rule, which nothing here knows: none are drawn (a missed one still is).
fn fire_times(
    schedule: &Schedule,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Vec<DateTime<Utc>> {
    if matches!(schedule, Schedule::Rate { .. }) || until < from {
        return Vec::new();
    }
    let mut fires = Vec::new();
    let mut after = from - chrono::Duration::seconds(1);
    while fires.len() < MAX_TICKS_PER_ENTRY {
        let batch = schedule.next_fires(after, 200);
        let Some(last) = batch.last().copied() else {
            break;
        };
        fires.extend(batch.into_iter().take_while(|t| *t <= until));
        if last > until {
            break;
        }
        after = last;
    }
    fires.truncate(MAX_TICKS_PER_ENTRY);
    fires
}

fn filters_text(query: &HistoryQuery) -> String {
    let mut parts = Vec::new();
    if let Some(batch) = &query.batch {
        parts.push(format!("--batch {batch}"));
    }
    if let Some(parent) = &query.parent {
        parts.push(format!("--parent {parent}"));
    }
    if let Some(status) = query.status {
        parts.push(format!("--status {}", status.as_str()));
    }
    parts.join(" ")
}

/// What a written page holds, for counts and the log.
#[derive(Debug, Clone, Copy, Default)]
pub struct Written {
    pub runs: usize,
    pub missed: usize,
    pub rows: usize,
    pub bytes: u64,
}

impl Timeline {
    pub fn written(&self, bytes: u64) -> Written {
        Written {
            runs: self.rows.iter().map(|r| r.bars().count()).sum(),
            missed: self
                .rows
                .iter()
                .flat_map(|r| &r.ticks)
                .filter(|t| t.missed.is_some())
                .count(),
            rows: self.rows.len(),
            bytes,
        }
    }
}

/// Builds the page and writes it to `path`.
pub async fn write_file(
    db: &Db,
    request: &Request,
    path: &std::path::Path,
    now: DateTime<Utc>,
) -> anyhow::Result<Written> {
    let timeline = gather(db, request, now).await?;
    let html = render(&timeline);
    tokio::fs::write(path, &html)
        .await
        .with_context(|| format!("could not write {}", path.display()))?;
    Ok(timeline.written(html.len() as u64))
}

/// Builds the page and puts it at `key` in `storage` (`text/html`); returns where it is.
pub async fn publish(
    db: &Db,
    request: &Request,
    storage: &Storage,
    key: &ObjectKey,
    stop: &Stop,
    now: DateTime<Utc>,
) -> anyhow::Result<(String, Written)> {
    let timeline = gather(db, request, now).await?;
    let html = render(&timeline);
    let file = tempfile::NamedTempFile::new().context("could not create a temporary file")?;
    tokio::fs::write(file.path(), &html)
        .await
        .context("could not write the page to a temporary file")?;
    let bytes = storage
        .put_file(key, file.path(), CONTENT_TYPE, stop)
        .await
        .with_context(|| {
            format!(
                "could not put the time line at {}",
                storage.locate(key.as_str())
            )
        })?;
    Ok((storage.locate(key.as_str()), timeline.written(bytes)))
}
