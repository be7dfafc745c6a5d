"""Checks a CloudWatch dashboard body against the Amazon CloudWatch API Reference, "Dashboard Body
Structure and Syntax", for the widget types batchbox uses (text, log, alarm), and what it refers to:

  - the top level: a `widgets` array of 0-500 widgets (required); `start`, `end` (only with start),
    `periodOverride` (auto | inherit), `variables`; nothing else;
  - each widget: `type`, `properties` (both required); `x` (0-23) and `y` (0 or more) together or
    not at all; `width` (1-24) and `height` (1-1000); integers; here also: inside the 24-column grid
    and overlapping no other widget;
  - text: `markdown` (required), `background` (solid | transparent);
  - log: `region` (required), `query` (required, `SOURCE '<log group>' | ...`), `title`, `view`
    (table | timeSeries | bar | pie), `accountId`; the query parsed by insights_query.py, every log
    group one that exists, a timeSeries view grouped by bin() alone, a bar or pie view with stats;
  - alarm: `alarms` (1-100 alarm ARNs, required), `sortBy` (default | stateUpdatedTimestamp |
    timestamp), `states` (ALARM, INSUFFICIENT_DATA, OK), `title`; every ARN one that exists.

    check_body(body_text, fields, log_groups, alarm_arns) -> Report   (Report.problems lists what is wrong)
    judge(check, what, body_text, fields, log_groups, alarm_arns, batches)   the same, and that the
        widgets cover the environment, into a checks.Checks tally
"""

import json
import re
from dataclasses import dataclass, field

import insights_query

TOP_LEVEL = {"widgets", "variables", "start", "end", "periodOverride"}
WIDGET_KEYS = {"type", "x", "y", "width", "height", "properties"}
PROPERTIES = {
    "text": ({"markdown"}, {"markdown", "background"}),
    "log": ({"region", "query"}, {"region", "query", "title", "view", "accountId"}),
    "alarm": ({"alarms"}, {"alarms", "sortBy", "states", "title"}),
}
LOG_VIEWS = {"table", "timeSeries", "bar", "pie"}
ALARM_ARN = re.compile(r"^arn:aws[a-z-]*:cloudwatch:[a-z0-9-]+:[0-9]{12}:alarm:.+$")
# start: -PT<n>M/H (minutes, hours) or -P<n>D/W/M (days, weeks, months), or an ISO 8601 time.
RELATIVE_START = re.compile(r"^-P(T[0-9]+[MH]|[0-9]+[DWM])$")
ISO_TIME = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z$")


@dataclass
class Report:
    problems: list = field(default_factory=list)
    widgets: list = field(default_factory=list)
    queries: dict = field(default_factory=dict)  # widget title -> insights_query.Query
    alarm_arns: list = field(default_factory=list)


def is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def check_body(body_text, fields, log_groups, alarm_arns):
    report = Report()
    problem = report.problems.append
    try:
        body = json.loads(body_text)
    except (TypeError, ValueError) as error:
        problem(f"the body is not JSON: {error}")
        return report
    if not isinstance(body, dict):
        problem("the body is not a JSON object")
        return report
    for key in sorted(set(body) - TOP_LEVEL):
        problem(f"unknown top-level property {key!r} (allowed: {', '.join(sorted(TOP_LEVEL))})")
    widgets = body.get("widgets")
    if not isinstance(widgets, list):
        problem("the body has no widgets array")
        return report
    if len(widgets) > 500:
        problem(f"{len(widgets)} widgets: at most 500")
    start, end = body.get("start"), body.get("end")
    if start is not None and not (isinstance(start, str) and (RELATIVE_START.match(start) or ISO_TIME.match(start))):
        problem(f"start {start!r} is neither -PT<n>M/-PT<n>H/-P<n>D/-P<n>W/-P<n>M nor an ISO 8601 time")
    if end is not None and (start is None or not (isinstance(end, str) and ISO_TIME.match(end))):
        problem(f"end {end!r} needs a start and an ISO 8601 time")
    if "periodOverride" in body and body["periodOverride"] not in ("auto", "inherit"):
        problem(f"periodOverride {body['periodOverride']!r} is not auto or inherit")

    boxes = []
    for index, widget in enumerate(widgets):
        label = f"widget {index}"
        if not isinstance(widget, dict):
            problem(f"{label} is not an object")
            continue
        properties = widget.get("properties")
        if isinstance(properties, dict) and isinstance(properties.get("title"), str):
            label = f"widget {index} ({properties['title']!r})"
        report.widgets.append(widget)
        for key in sorted(set(widget) - WIDGET_KEYS):
            problem(f"{label}: unknown property {key!r}")
        kind = widget.get("type")
        if not isinstance(kind, str) or kind not in PROPERTIES:
            problem(f"{label}: type {kind!r} is not one this check knows (text, log, alarm)")
            continue
        if ("x" in widget) != ("y" in widget):
            problem(f"{label}: x and y must be given together")
        x, y = widget.get("x", 0), widget.get("y", 0)
        width, height = widget.get("width", 6), widget.get("height", 6)
        if not (is_int(x) and 0 <= x <= 23):
            problem(f"{label}: x {x!r} is not an integer from 0 to 23")
        if not (is_int(y) and y >= 0):
            problem(f"{label}: y {y!r} is not an integer, 0 or more")
        if not (is_int(width) and 1 <= width <= 24):
            problem(f"{label}: width {width!r} is not an integer from 1 to 24")
        if not (is_int(height) and 1 <= height <= 1000):
            problem(f"{label}: height {height!r} is not an integer from 1 to 1000")
        if all(is_int(v) for v in (x, y, width, height)) and "x" in widget:
            if x + width > 24:
                problem(f"{label}: x {x} + width {width} goes past the 24-column grid")
            for other_label, (ox, oy, ow, oh) in boxes:
                if x < ox + ow and ox < x + width and y < oy + oh and oy < y + height:
                    problem(f"{label} overlaps {other_label}")
            boxes.append((label, (x, y, width, height)))
        if not isinstance(properties, dict):
            problem(f"{label}: properties missing or not an object")
            continue
        required, allowed = PROPERTIES[kind]
        for key in sorted(required - set(properties)):
            problem(f"{label}: {kind} widget without {key!r}")
        for key in sorted(set(properties) - allowed):
            problem(f"{label}: {kind} widget with unknown property {key!r}")
        if "title" in properties and not isinstance(properties["title"], str):
            problem(f"{label}: title is not a string")
        {"text": check_text, "log": check_log, "alarm": check_alarm}[kind](report, label, properties, fields, log_groups, alarm_arns)
    return report


def check_text(report, label, properties, fields, log_groups, alarm_arns):
    markdown = properties.get("markdown")
    if not (isinstance(markdown, str) and markdown.strip()):
        report.problems.append(f"{label}: markdown is empty or not a string")
    if not isinstance(properties.get("background", "solid"), str) or properties.get("background", "solid") not in ("solid", "transparent"):
        report.problems.append(f"{label}: background {properties['background']!r} is not solid or transparent")


def check_log(report, label, properties, fields, log_groups, alarm_arns):
    problem = report.problems.append
    if not (isinstance(properties.get("region"), str) and properties["region"]):
        problem(f"{label}: region is empty or not a string")
    view = properties.get("view", "table")
    if not isinstance(view, str) or view not in LOG_VIEWS:
        problem(f"{label}: view {view!r} is not one of {', '.join(sorted(LOG_VIEWS))}")
    try:
        query = insights_query.parse(properties.get("query"), fields, sources=True)
    except insights_query.QueryError as error:
        problem(f"{label}: the query does not parse: {error}")
        return
    report.queries[label] = query
    for source in query.sources:
        if source not in log_groups:
            problem(f"{label}: log group {source!r} does not exist (known: {', '.join(sorted(log_groups)) or 'none'})")
    if view == "timeSeries":
        why = query.time_series_problem()
        if why:
            problem(f"{label}: a timeSeries view needs stats grouped by bin() alone, but {why}")
    if view in ("bar", "pie") and not query.stats:
        problem(f"{label}: a {view} view needs a stats command")


def check_alarm(report, label, properties, fields, log_groups, alarm_arns):
    problem = report.problems.append
    alarms = properties.get("alarms")
    if not (isinstance(alarms, list) and 1 <= len(alarms) <= 100):
        problem(f"{label}: alarms is not a list of 1 to 100 ARNs")
        return
    for arn in alarms:
        if not (isinstance(arn, str) and ALARM_ARN.match(arn)):
            problem(f"{label}: {arn!r} is not an alarm ARN")
        elif arn not in alarm_arns:
            problem(f"{label}: alarm {arn} does not exist")
        report.alarm_arns.append(arn)
    if not isinstance(properties.get("sortBy", "default"), str) or properties.get("sortBy", "default") not in ("default", "stateUpdatedTimestamp", "timestamp"):
        problem(f"{label}: sortBy {properties['sortBy']!r} is not default, stateUpdatedTimestamp or timestamp")
    states = properties.get("states", [])
    if not (isinstance(states, list) and all(s in ("ALARM", "INSUFFICIENT_DATA", "OK") for s in states)):
        problem(f"{label}: states {states!r} are not ALARM, INSUFFICIENT_DATA, OK")


def judge(check, what, body_text, fields, log_groups, alarm_arns, batches):
    """check_body, and that the dashboard covers the environment: its alarm widgets list exactly
    `alarm_arns` (every alarm the environment has); every batch of `batches` (the environment's
    output: entry => {batch, launch, ...}) has its two time series; the export queue has its
    widgets when a batch is export-worker, naming every launching entry."""
    report = check_body(body_text, fields, log_groups, alarm_arns)
    for problem in report.problems:
        check(False, f"{what}: {problem}")
    check(not report.problems, f"{what}: keeps to 'Dashboard Body Structure and Syntax', every query parses and reads logged fields only")
    listed = report.alarm_arns
    check(sorted(listed) == sorted(alarm_arns) and len(set(listed)) == len(listed),
          f"{what}: the alarm widgets list every alarm of the environment once ({len(listed)} listed, {len(alarm_arns)} alarms; "
          f"missing {sorted(set(alarm_arns) - set(listed))}, unknown {sorted(set(listed) - set(alarm_arns))})")
    time_series = [log_query(w) for w in report.widgets if log_query(w) and w["properties"].get("view") == "timeSeries"]
    for batch in sorted({b["batch"] for b in batches.values()}):
        mine = [q for q in time_series if f'batch = "{batch}"' in q]
        check(len(mine) >= 2, f"{what}: batch {batch} has its runs and duration time series ({len(mine)} found)")
    read = set().union(*(q.fields_read for q in report.queries.values())) if report.queries else set()
    if any(b["batch"] == "export-worker" for b in batches.values()):
        wanted = {"counts.succeeded", "counts.failed", "counts.retried", "counts.rows", "counts.bytes"}
        check(wanted <= read, f"{what}: the export queue's widgets read {sorted(wanted)} (missing {sorted(wanted - read)})")
        queries = [log_query(w) for w in report.widgets if log_query(w)]
        for entry in sorted(name for name, b in batches.items() if b.get("launch")):
            check(any("entry in [" in q and f'"{entry}"' in q for q in queries), f"{what}: the launches widget shows entry {entry}")
    return report


def log_query(widget):
    """The query of a log widget, or None."""
    properties = widget.get("properties")
    if widget.get("type") == "log" and isinstance(properties, dict) and isinstance(properties.get("query"), str):
        return properties["query"]
    return None
