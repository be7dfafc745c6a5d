//! The time line as one HTML page: inline CSS and script, no external resource, so it opens from
//! S3 or a laptop offline. Every text from the database is escaped (`esc`); the script reads the
//! runs back from `data-` attributes and writes them with `textContent`, never as HTML.

use std::collections::BTreeMap;
use std::fmt::Write;

use chrono::{DateTime, DurationRound, Timelike, Utc};
use chrono_tz::Tz;

use super::{Bar, Row, Tick, Timeline};

/// Statuses in the legend's order; the first ones are drawn on top of the later ones.
const STATUSES: [&str; 7] = [
    "failed",
    "timed_out",
    "stale",
    "interrupted",
    "skipped",
    "running",
    "succeeded",
];
/// Runs that need a look, listed above the chart.
const ATTENTION: [&str; 4] = ["failed", "timed_out", "stale", "interrupted"];
/// At most this many runs in that list (the chart has them all).
const ATTENTION_LISTED: usize = 200;
const LANE_PX: usize = 14;

/// Escapes text for HTML text and quoted attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

struct Scale {
    from: DateTime<Utc>,
    span_ms: f64,
}

impl Scale {
    /// The position of `t` in percent of the track, within 0..=100.
    fn pct(&self, t: DateTime<Utc>) -> f64 {
        let ms = (t - self.from).num_milliseconds() as f64;
        (ms / self.span_ms * 100.0).clamp(0.0, 100.0)
    }
}

pub fn render(timeline: &Timeline) -> String {
    let scale = Scale {
        from: timeline.from,
        span_ms: ((timeline.until - timeline.from).num_milliseconds() as f64).max(1.0),
    };
    let tz = timeline.time_zone;
    let mut html = String::with_capacity(64 * 1024);
    let title = match &timeline.environment {
        Some(env) => format!("batchbox {env}: run time line"),
        None => "batchbox: run time line".to_owned(),
    };
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
<title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<header>\n<h1>{}</h1>\n",
        esc(&title),
        esc(&title)
    );
    let _ = write!(
        html,
        "<p class=\"meta\">From <b>{}</b> to <b>{}</b> ({} UTC to {} UTC). Generated {}. \
Times in {}. Fire times: {}.{}</p>",
        esc(&local(timeline.from, tz)),
        esc(&local(timeline.until, tz)),
        timeline.from.format("%Y-%m-%d %H:%M"),
        timeline.until.format("%Y-%m-%d %H:%M"),
        esc(&local(timeline.now, tz)),
        esc(tz.name()),
        esc(&timeline.source),
        if timeline.filters.is_empty() {
            String::new()
        } else {
            format!(" Filters: <code>{}</code>.", esc(&timeline.filters))
        }
    );
    html.push('\n');
    if let Some(limit) = timeline.truncated {
        let _ = writeln!(
            html,
            "<p class=\"warn\" id=\"truncated\">Only the newest {limit} runs are drawn: narrow the window (<code>--since</code>) or the filters to see older ones.</p>"
        );
    }
    legend(&mut html, timeline);
    html.push_str("</header>\n<main>\n");
    attention(&mut html, timeline, tz);
    chart(&mut html, timeline, &scale, tz);
    html.push_str(
        "</main>\n<aside id=\"details\" aria-live=\"polite\"><p class=\"hint\">Point at a run or a missed fire time for its details; click to keep them here.</p></aside>\n",
    );
    let _ = write!(html, "<script>{SCRIPT}</script>\n</body>\n</html>\n");
    html
}

fn local(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz)
        .format("%Y-%m-%d %H:%M:%S %Z")
        .to_string()
}

fn all_bars(timeline: &Timeline) -> impl Iterator<Item = &Bar> {
    timeline.rows.iter().flat_map(Row::bars)
}

fn legend(html: &mut String, timeline: &Timeline) {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for bar in all_bars(timeline) {
        *counts.entry(bar.run.status).or_default() += 1;
    }
    let missed = timeline
        .rows
        .iter()
        .flat_map(|r| &r.ticks)
        .filter(|t| t.missed.is_some())
        .count();
    html.push_str("<nav class=\"legend\" aria-label=\"statuses\">");
    for status in STATUSES {
        let n = counts.get(status).copied().unwrap_or(0);
        let _ = write!(
            html,
            "<button type=\"button\" class=\"key s-{status}\" data-toggle=\"{status}\" aria-pressed=\"true\" title=\"Show or hide {status} runs\"><i></i>{status} <b>{n}</b></button>"
        );
    }
    let _ = write!(
        html,
        "<span class=\"key tickkey\"><i class=\"tk\"></i>scheduled</span><span class=\"key tickkey\"><i class=\"tk missed\"></i>missed <b>{missed}</b></span></nav>"
    );
    html.push('\n');
}

/// Runs that did not succeed and missed fire times, newest first, each linked to its mark.
fn attention(html: &mut String, timeline: &Timeline, tz: Tz) {
    let mut items: Vec<(DateTime<Utc>, String)> = Vec::new();
    let mut index = 0;
    for row in &timeline.rows {
        for bar in row.bars() {
            index += 1;
            if ATTENTION.contains(&bar.run.status) {
                let error = bar
                    .run
                    .error
                    .as_deref()
                    .and_then(|e| e.lines().next())
                    .map(|e| format!(": {}", esc(&first_chars(e, 160))))
                    .unwrap_or_default();
                items.push((
                    bar.run.started_at,
                    format!(
                        "<li class=\"s-{status}\"><a href=\"#b{index}\" data-target=\"b{index}\"><b>{status}</b> {entry} at {at}</a>{error}</li>",
                        status = bar.run.status,
                        entry = esc(&row.entry),
                        at = esc(&local(bar.run.started_at, tz)),
                    ),
                ));
            }
        }
    }
    let mut missed_index = 0;
    for row in &timeline.rows {
        for tick in &row.ticks {
            if let Some(seen) = &tick.missed {
                missed_index += 1;
                items.push((
                    tick.at,
                    format!(
                        "<li class=\"s-missed\"><a href=\"#m{missed_index}\" data-target=\"m{missed_index}\"><b>missed</b> {} at {}</a>: {}</li>",
                        esc(&row.entry),
                        esc(&local(tick.at, tz)),
                        esc(seen)
                    ),
                ));
            }
        }
    }
    if items.is_empty() {
        html.push_str("<section id=\"attention\" class=\"calm\"><p>Every run in the window succeeded (or is still running), and no fire time was missed.</p></section>\n");
        return;
    }
    items.sort_by_key(|item| std::cmp::Reverse(item.0));
    let _ = write!(
        html,
        "<section id=\"attention\"><h2>Needs a look: {}</h2><ul>",
        items.len()
    );
    for (_, item) in items.iter().take(ATTENTION_LISTED) {
        html.push_str(item);
    }
    if items.len() > ATTENTION_LISTED {
        let _ = write!(
            html,
            "<li>and {} more, in the chart</li>",
            items.len() - ATTENTION_LISTED
        );
    }
    html.push_str("</ul></section>\n");
}

fn first_chars(text: &str, n: usize) -> String {
    let mut cut: String = text.chars().take(n).collect();
    if text.chars().nth(n).is_some() {
        cut.push('…');
    }
    cut
}

fn chart(html: &mut String, timeline: &Timeline, scale: &Scale, tz: Tz) {
    html.push_str("<section id=\"chart\" class=\"chart\">\n<div class=\"row axis\"><div class=\"label\">entry</div><div class=\"track\">");
    for (at, text) in grid(timeline, tz) {
        let _ = write!(
            html,
            "<span class=\"grid\" style=\"left:{:.3}%\">{}</span>",
            scale.pct(at),
            esc(&text)
        );
    }
    if timeline.now >= timeline.from && timeline.now <= timeline.until {
        let _ = write!(
            html,
            "<span class=\"now\" style=\"left:{:.3}%\" title=\"now\"></span>",
            scale.pct(timeline.now)
        );
    }
    html.push_str("</div></div>\n");
    if timeline.rows.is_empty() {
        html.push_str("<p class=\"empty\">No runs match.</p>\n");
    }
    let mut bar_index = 0;
    let mut missed_index = 0;
    for row in &timeline.rows {
        row_html(html, row, scale, tz, &mut bar_index, &mut missed_index);
    }
    html.push_str("</section>\n");
}

fn row_html(
    html: &mut String,
    row: &Row,
    scale: &Scale,
    tz: Tz,
    bar_index: &mut usize,
    missed_index: &mut usize,
) {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for bar in row.bars() {
        *counts.entry(bar.run.status).or_default() += 1;
    }
    let runs: usize = counts.values().sum();
    let troubles: Vec<String> = STATUSES
        .iter()
        .filter(|s| **s != "succeeded")
        .filter_map(|s| counts.get(s).map(|n| format!("{n} {s}")))
        .collect();
    let missed = row.ticks.iter().filter(|t| t.missed.is_some()).count();
    let mut summary = format!("{runs} run{}", if runs == 1 { "" } else { "s" });
    for trouble in troubles
        .iter()
        .chain((missed > 0).then(|| format!("{missed} missed")).iter())
    {
        summary.push_str(", ");
        summary.push_str(trouble);
    }
    let schedule = match (&row.schedule, row.grace_minutes) {
        (Some(s), Some(g)) => format!("{s}, grace {g} min"),
        (Some(s), None) => format!("{s}, not watched"),
        (None, _) => "no schedule known".to_owned(),
    };
    let lanes = row.lanes.len().max(1);
    let _ = write!(
        html,
        "<div class=\"row{}\" data-entry=\"{}\"><div class=\"label\" title=\"{}\"><b>{}</b>{}<small>{}</small></div><div class=\"track\" style=\"height:{}px\">",
        if troubles.is_empty() && missed == 0 {
            ""
        } else {
            " trouble"
        },
        esc(&row.entry),
        esc(&schedule),
        esc(&row.entry),
        if row.batch != row.entry {
            format!(" <small class=\"batch\">batch {}</small>", esc(&row.batch))
        } else {
            String::new()
        },
        esc(&summary),
        lanes * LANE_PX + 6,
    );
    for tick in &row.ticks {
        tick_html(html, row, tick, scale, tz, missed_index);
    }
    for (lane, bars) in row.lanes.iter().enumerate() {
        for bar in bars {
            *bar_index += 1;
            bar_html(html, row, bar, lane, scale, tz, *bar_index);
        }
    }
    html.push_str("</div></div>\n");
}

fn tick_html(
    html: &mut String,
    row: &Row,
    tick: &Tick,
    scale: &Scale,
    tz: Tz,
    missed_index: &mut usize,
) {
    let at = esc(&local(tick.at, tz));
    match &tick.missed {
        None => {
            let _ = write!(
                html,
                "<span class=\"tick\" style=\"left:{:.3}%\" title=\"scheduled {}\"></span>",
                scale.pct(tick.at),
                at
            );
        }
        Some(seen) => {
            *missed_index += 1;
            let _ = write!(
                html,
                "<span class=\"tick missed\" id=\"m{}\" tabindex=\"0\" style=\"left:{:.3}%\" title=\"missed: scheduled {} ({})\" data-status=\"missed\" data-entry=\"{}\" data-batch=\"{}\" data-scheduled=\"{} ({} UTC)\" data-error=\"{}\"></span>",
                missed_index,
                scale.pct(tick.at),
                at,
                esc(seen),
                esc(&row.entry),
                esc(&row.batch),
                at,
                tick.at.format("%Y-%m-%d %H:%M:%S"),
                esc(seen),
            );
        }
    }
}

fn bar_html(
    html: &mut String,
    row: &Row,
    bar: &Bar,
    lane: usize,
    scale: &Scale,
    tz: Tz,
    index: usize,
) {
    let run = &bar.run;
    let left = scale.pct(run.started_at);
    let width = (scale.pct(bar.end) - left).max(0.0);
    let duration = run
        .duration_ms
        .map(human_duration)
        .unwrap_or_else(|| match run.status {
            "running" => format!(
                "{} so far",
                human_duration((bar.end - run.started_at).num_milliseconds())
            ),
            _ => "never recorded its end".to_owned(),
        });
    let end = run
        .finished_at
        .map(|t| local(t, tz))
        .unwrap_or_else(|| "-".to_owned());
    let counts = run
        .counts
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ");
    let exit = run.exit_code.map(|c| c.to_string()).unwrap_or_default();
    let error_line = run
        .error
        .as_deref()
        .and_then(|e| e.lines().next())
        .map(|e| format!("\n{}", first_chars(e, 200)))
        .unwrap_or_default();
    let title = format!(
        "{} {} at {}, {}{}{}",
        row.entry,
        run.status,
        local(run.started_at, tz),
        duration,
        if exit.is_empty() {
            String::new()
        } else {
            format!(", exit {exit}")
        },
        error_line
    );
    let _ = write!(
        html,
        "<span class=\"bar s-{status}\" id=\"b{index}\" tabindex=\"0\" style=\"left:{left:.3}%;width:{width:.3}%;top:{top}px\" title=\"{title}\" data-status=\"{status}\" data-run=\"{run_id}\" data-entry=\"{entry}\" data-batch=\"{batch}\" data-started=\"{started}\" data-finished=\"{end}\" data-duration=\"{duration}\" data-exit=\"{exit}\" data-counts=\"{counts}\" data-error=\"{error}\" data-task=\"{task}\" data-parent=\"{parent}\" data-scheduled=\"{scheduled}\" data-args=\"{args}\"></span>",
        status = run.status,
        top = 3 + lane * LANE_PX,
        title = esc(&title),
        run_id = esc(run.run_id.as_deref().unwrap_or_default()),
        entry = esc(&row.entry),
        batch = esc(&run.batch),
        started = esc(&format!(
            "{} ({} UTC)",
            local(run.started_at, tz),
            run.started_at.format("%Y-%m-%d %H:%M:%S")
        )),
        end = esc(&end),
        duration = esc(&duration),
        counts = esc(&counts),
        error = esc(run.error.as_deref().unwrap_or_default()),
        task = esc(run.ecs_task_arn.as_deref().unwrap_or_default()),
        parent = esc(run.parent_run_id.as_deref().unwrap_or_default()),
        scheduled = esc(&run.scheduled_time.map(|t| local(t, tz)).unwrap_or_default()),
        args = esc(&run.arguments.join(" ")),
    );
}

fn human_duration(ms: i64) -> String {
    let secs = ms.max(0) as f64 / 1000.0;
    if secs < 60.0 {
        format!("{secs:.1}s")
    } else if secs < 3600.0 {
        format!("{}m {:02}s", (secs / 60.0) as i64, (secs as i64) % 60)
    } else {
        format!(
            "{}h {:02}m",
            (secs / 3600.0) as i64,
            ((secs as i64) % 3600) / 60
        )
    }
}

/// Grid lines at round local hours: as many hours apart as keep them at most 16.
fn grid(timeline: &Timeline, tz: Tz) -> Vec<(DateTime<Utc>, String)> {
    let hours = (timeline.until - timeline.from).num_hours().max(1);
    let step = [1, 2, 3, 6, 12, 24, 48, 96, 168, 336, 720]
        .into_iter()
        .find(|step| hours / step <= 16)
        .unwrap_or(720);
    let mut lines = Vec::new();
    // Quarter hours from the hour before the window: every local round hour is one of them,
    // whatever the zone's offset (+05:30, +05:45 alike).
    let mut t = timeline
        .from
        .duration_trunc(chrono::Duration::hours(1))
        .unwrap_or(timeline.from);
    let quarter = chrono::Duration::minutes(15);
    let mut days_seen = 0;
    while t <= timeline.until && lines.len() < 64 {
        if t >= timeline.from {
            let here = t.with_timezone(&tz);
            let on_hour = here.minute() == 0;
            let wanted = if step <= 24 {
                on_hour && i64::from(here.hour()) % step == 0
            } else if on_hour && here.hour() == 0 {
                days_seen += 1;
                (days_seen - 1) % (step / 24) == 0
            } else {
                false
            };
            if wanted {
                let text = if here.hour() == 0 || lines.is_empty() {
                    here.format("%m-%d %H:%M").to_string()
                } else {
                    here.format("%H:%M").to_string()
                };
                lines.push((t, text));
            }
        }
        t += quarter;
    }
    lines
}

const CSS: &str = r#"
:root{--succeeded:#2e7d32;--failed:#d32f2f;--timed_out:#ef6c00;--interrupted:#7b1fa2;--skipped:#9e9e9e;--running:#1976d2;--stale:#4e342e;--missed:#d32f2f}
*{box-sizing:border-box}
body{margin:0;font:13px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans JP",sans-serif;color:#222;background:#fafafa}
header{padding:10px 16px 6px;background:#fff;border-bottom:1px solid #ddd;position:sticky;top:0;z-index:20}
h1{font-size:17px;margin:0 0 2px}
h2{font-size:14px;margin:0 0 4px}
.meta{margin:0 0 6px;color:#555}
.warn{margin:0 0 6px;color:#b71c1c;font-weight:bold}
.legend{display:flex;flex-wrap:wrap;gap:6px;align-items:center}
.key{font:inherit;display:inline-flex;align-items:center;gap:5px;border:1px solid #ccc;border-radius:12px;padding:1px 9px;background:#fff;cursor:pointer}
.key[aria-pressed=false]{opacity:.35;text-decoration:line-through}
.key i{display:inline-block;width:14px;height:9px;border-radius:2px;background:var(--c)}
.tickkey{cursor:default}
.key i.tk{width:2px;height:11px;background:#888;border-radius:0}
.key i.tk.missed{width:0;height:0;background:none;border-left:6px solid transparent;border-right:6px solid transparent;border-top:9px solid var(--missed)}
main{padding:8px 16px 140px}
#attention{background:#fff3f3;border:1px solid #f2c4c4;border-radius:6px;padding:6px 10px;margin-bottom:10px;max-height:170px;overflow:auto}
#attention.calm{background:#f1f8f1;border-color:#c8e6c9}
#attention p{margin:0}
#attention ul{margin:0;padding-left:18px}
#attention a{color:inherit}
#attention li b{color:var(--c)}
.chart{background:#fff;border:1px solid #ddd;border-radius:6px}
.row{display:flex;border-top:1px solid #eee}
.row:first-child{border-top:0}
.row.trouble .label{background:#fff6f6}
.row.axis{position:sticky;top:0;height:22px;background:#fff}
.label{flex:0 0 230px;padding:3px 8px;border-right:1px solid #eee;overflow:hidden;white-space:nowrap;text-overflow:ellipsis}
.label small{display:block;color:#666;font-size:11px}
.label small.batch{display:inline;margin-left:4px}
.track{position:relative;flex:1 1 auto;min-height:20px;background:repeating-linear-gradient(90deg,transparent 0,transparent 100%)}
.grid{position:absolute;top:0;bottom:0;border-left:1px solid #e4e4e4;padding-left:3px;font-size:11px;color:#666;white-space:nowrap}
.now{position:absolute;top:0;height:22px;border-left:2px solid #1976d2}
.bar{position:absolute;height:10px;min-width:3px;border-radius:2px;background:var(--c);cursor:pointer;z-index:2;outline-offset:1px}
.bar:hover,.bar:focus,.bar.sel{outline:2px solid #000;z-index:9}
.s-succeeded{--c:var(--succeeded)}
.s-failed{--c:var(--failed)}
.s-timed_out{--c:var(--timed_out)}
.s-interrupted{--c:var(--interrupted)}
.s-skipped{--c:var(--skipped)}
.s-running{--c:var(--running)}
.s-stale{--c:var(--stale)}
.s-missed{--c:var(--missed)}
.bar.s-succeeded{opacity:.75;z-index:1}
.bar.s-failed,.bar.s-timed_out,.bar.s-stale,.bar.s-interrupted{min-width:6px;height:12px;margin-top:-1px;box-shadow:0 0 0 1px #fff,0 0 0 2px var(--c);z-index:5}
.bar.s-skipped{background:repeating-linear-gradient(45deg,#9e9e9e 0 3px,#e0e0e0 3px 6px)}
.bar.s-stale{background:repeating-linear-gradient(45deg,#4e342e 0 3px,#a1887f 3px 6px)}
.bar.s-running{background:repeating-linear-gradient(90deg,#1976d2 0 6px,#64b5f6 6px 9px)}
.tick{position:absolute;top:0;bottom:0;width:0;border-left:1px dashed #c5c5c5;z-index:0}
.tick.missed{border-left:2px solid var(--missed);z-index:6;cursor:pointer}
.tick.missed::before{content:"";position:absolute;top:-1px;left:-7px;border-left:6px solid transparent;border-right:6px solid transparent;border-top:9px solid var(--missed)}
.tick.missed:hover,.tick.missed:focus,.tick.missed.sel{border-left-width:4px;outline:none}
.hide-succeeded .bar.s-succeeded,.hide-failed .bar.s-failed,.hide-timed_out .bar.s-timed_out,.hide-interrupted .bar.s-interrupted,.hide-skipped .bar.s-skipped,.hide-running .bar.s-running,.hide-stale .bar.s-stale{display:none}
.empty{padding:10px}
#details{position:fixed;left:0;right:0;bottom:0;max-height:130px;overflow:auto;background:#fff;border-top:2px solid #999;padding:6px 16px;z-index:30}
#details dl{display:grid;grid-template-columns:max-content 1fr max-content 1fr max-content 1fr;gap:1px 10px;margin:0}
#details dt{color:#666}
#details dd{margin:0;word-break:break-word}
#details dd.error{grid-column:2 / -1;white-space:pre-wrap;color:#b71c1c}
.hint{margin:0;color:#666}
.flash{animation:flash 1s 2}
@keyframes flash{50%{outline:4px solid #ffeb3b}}
"#;

const SCRIPT: &str = r#"
(function () {
  "use strict";
  var details = document.getElementById("details");
  var chart = document.getElementById("chart");
  var pinned = null;
  var fields = [
    ["status", "Status"], ["entry", "Entry"], ["batch", "Batch"], ["run", "Run id"],
    ["started", "Started"], ["finished", "Finished"], ["duration", "Duration"],
    ["exit", "Exit code"], ["counts", "Counts"], ["scheduled", "Scheduled"],
    ["task", "ECS task"], ["parent", "Launched by"], ["args", "Arguments"], ["error", "Error"]
  ];
  function show(mark) {
    var list = document.createElement("dl");
    fields.forEach(function (field) {
      var value = mark.getAttribute("data-" + field[0]);
      if (!value) { return; }
      var dt = document.createElement("dt");
      dt.textContent = field[1];
      var dd = document.createElement("dd");
      dd.textContent = value;
      if (field[0] === "error") { dd.className = "error"; }
      list.appendChild(dt);
      list.appendChild(dd);
    });
    details.replaceChildren(list);
  }
  function select(mark) {
    if (pinned) { pinned.classList.remove("sel"); }
    pinned = mark;
    mark.classList.add("sel");
    show(mark);
  }
  var marks = document.querySelectorAll(".bar, .tick.missed");
  marks.forEach(function (mark) {
    mark.addEventListener("mouseenter", function () { if (!pinned) { show(mark); } });
    mark.addEventListener("focus", function () { select(mark); });
    mark.addEventListener("click", function () { select(mark); });
  });
  document.querySelectorAll("[data-target]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      var mark = document.getElementById(link.getAttribute("data-target"));
      if (!mark) { return; }
      event.preventDefault();
      select(mark);
      mark.scrollIntoView({ block: "center", inline: "nearest" });
      mark.classList.remove("flash");
      void mark.offsetWidth;
      mark.classList.add("flash");
    });
  });
  document.querySelectorAll("[data-toggle]").forEach(function (button) {
    button.addEventListener("click", function () {
      var status = button.getAttribute("data-toggle");
      var hidden = chart.classList.toggle("hide-" + status);
      button.setAttribute("aria-pressed", hidden ? "false" : "true");
    });
  });
  document.body.setAttribute("data-ready", String(marks.length));
})();
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_special_character_is_escaped() {
        assert_eq!(
            esc("<script>alert(\"x\" & 'y')</script> 🚚𠮷"),
            "&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt; 🚚𠮷"
        );
        assert_eq!(esc(""), "");
    }

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(human_duration(1_500), "1.5s");
        assert_eq!(human_duration(125_000), "2m 05s");
        assert_eq!(human_duration(3_723_000), "1h 02m");
        assert_eq!(human_duration(-5), "0.0s");
    }

    #[test]
    fn cuts_are_between_characters() {
        assert_eq!(first_chars("🚚🚚🚚", 2), "🚚🚚…");
        assert_eq!(first_chars("𠮷", 2), "𠮷");
    }
}
