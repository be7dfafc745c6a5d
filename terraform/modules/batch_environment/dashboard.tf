# The environment's CloudWatch dashboard, `batchbox-<environment>`: the page on-call opens first
# (docs/operations.md starts from it). Every widget is generated from the catalog and from the alarms
# the modules create, so a new entry or batch gets its rows, its log stream link and its alarms
# without an edit here.
#
# The body follows the Amazon CloudWatch API Reference, "Dashboard Body Structure and Syntax":
# a `widgets` array (0-500 widgets), each with `type`, `x` (0-23) and `y` (>= 0) given together,
# `width` (1-24), `height` (1-1000) and `properties`; a `log` widget's properties are `region`
# (required), `title`, `view` (`table`, `timeSeries`, `bar`, `pie`) and `query`, which starts with
# `SOURCE '<log group>' |` and separates the query's lines with `\n|`; an `alarm` widget lists 1-100
# alarm ARNs (`alarms`), with `sortBy` and `title`; a `text` widget has `markdown`.
# scripts/check-terraform/dashboard_body.py holds the same rules and checks the planned and the
# applied body, and parses every query (scripts/check-terraform/insights_query.py).
#
# The queries read only the `run finished` line every run ends with (docs/operations.md, "Logs"):
# `batch`, `entry`, `run_id`, `parent_run_id`, `status`, `exit_code`, `duration_ms`, `error` and the
# batch's `counts`. A time-series view needs a `stats` grouped by `bin()` alone (Amazon CloudWatch Logs
# User Guide, "Visualizing time series data"), so each batch gets its own widgets and each status its
# own column: strcontains(status, "<status>") is 1 or 0 (a number, which sum() takes), and no
# status is part of another's name.

locals {
  dashboard_name   = local.name_prefix
  dashboard_region = module.platform.region
  log_group_name   = module.platform.log_group_name
  # How far back the widgets look when the dashboard opens: two weeks shows a duration creeping up.
  dashboard_start = "-P14D"

  # The batches the catalog runs (one row each; several entries may run one batch), sorted.
  dashboard_batches = sort(distinct([for b in values(local.batches) : b.batch]))
  run_statuses      = ["succeeded", "failed", "timed_out", "interrupted", "skipped"]
  # The export queue's section: its worker's runs, and the runs of the entries that launch workers.
  export_worker      = "export-worker"
  exports_shown      = contains(local.dashboard_batches, local.export_worker)
  launching_entries  = sort(keys(local.launches))
  run_finished       = "message = \"run finished\""
  query_source       = "SOURCE '${local.log_group_name}' | "
  console_log_groups = "https://${local.dashboard_region}.console.aws.amazon.com/cloudwatch/home?region=${local.dashboard_region}#logsV2:log-groups/log-group/${replace(local.log_group_name, "/", "$252F")}"

  # Every alarm this environment creates, by ARN (known at plan, built from the names): the
  # FailedInvocations alarm of every rule of every entry, the dead-letter queue's, the Scheduler
  # group's (with the scheduler engine), the watcher's.
  dashboard_alarm_names = sort(concat(
    flatten([for name, b in module.batch : values(b.failed_invocations_alarm_names)]),
    [module.platform.dead_letter_alarm_name],
    module.platform.scheduler_alarm_names,
    aws_cloudwatch_metric_alarm.watcher[*].alarm_name,
  ))
  # An alarm widget lists at most 100 ARNs: one widget per 100 alarms.
  dashboard_alarm_chunks = chunklist([for n in local.dashboard_alarm_names : "${module.platform.alarm_arn_prefix}${n}"], 100)

  header_markdown = join("\n", concat(
    [
      "# batchbox ${var.environment}",
      "Every widget below reads the `run finished` line each run ends with, in log group [${local.log_group_name}](${local.console_log_groups}). Runbook: ${var.runbook_url == null ? "docs/operations.md" : "[docs/operations.md](${var.runbook_url})"}; saved queries (Logs Insights, Queries): `${local.name_prefix}/failed-runs`, `${local.name_prefix}/durations-per-batch`, `${local.name_prefix}/one-run-by-run-id`.",
      "",
      "**Log streams by catalog entry** (newest first; a stream is `<entry>/batch/<task id>`, the `@logStream` of a row below):",
    ],
    [join(" · ", [for name in sort(keys(module.batch)) : "[${name}](${module.batch[name].log_streams_console_url})"])],
  ))

  # Rows of widgets, top to bottom; each widget has its width and height, and the layout below
  # places them (x from the widths before it in its row, y from the heights of the rows above).
  dashboard_rows = concat(
    [[{
      type       = "text"
      width      = 24
      height     = 5
      properties = { markdown = local.header_markdown }
    }]],
    [for i, chunk in local.dashboard_alarm_chunks : [{
      type   = "alarm"
      width  = 24
      height = 6
      properties = {
        title  = length(local.dashboard_alarm_chunks) == 1 ? "Every alarm of ${local.name_prefix}, not OK first" : "Alarms of ${local.name_prefix} (${i + 1} of ${length(local.dashboard_alarm_chunks)}), not OK first"
        alarms = chunk
        sortBy = "stateUpdatedTimestamp"
      }
    }]],
    [[{
      type   = "log"
      width  = 24
      height = 8
      properties = {
        region = local.dashboard_region
        title  = "Latest runs that did not succeed (open the row's @logStream for the whole run)"
        view   = "table"
        query = "${local.query_source}${join("\n| ", [
          "fields @timestamp, batch, entry, run_id, status, exit_code, error, duration_ms, @logStream",
          "filter ${local.run_finished} and status not in [\"succeeded\", \"skipped\"]",
          "sort @timestamp desc",
          "limit 100",
        ])}"
      }
    }]],
    [for batch in local.dashboard_batches : [
      {
        type   = "log"
        width  = 12
        height = 6
        properties = {
          region = local.dashboard_region
          title  = "${batch}: runs per hour, by status"
          view   = "timeSeries"
          query = "${local.query_source}${join("\n| ", [
            "filter ${local.run_finished} and batch = \"${batch}\"",
            "stats ${join(", ", [for s in local.run_statuses : "sum(strcontains(status, \"${s}\")) as ${s}"])} by bin(1h)",
          ])}"
        }
      },
      {
        type   = "log"
        width  = 12
        height = 6
        properties = {
          region = local.dashboard_region
          title  = "${batch}: run duration per day (ms)"
          view   = "timeSeries"
          query = "${local.query_source}${join("\n| ", [
            "filter ${local.run_finished} and batch = \"${batch}\"",
            "stats max(duration_ms) as max_ms, avg(duration_ms) as avg_ms, min(duration_ms) as min_ms by bin(1d)",
          ])}"
        }
      },
    ]],
    [for batch in [local.export_worker] : concat(
      [{
        type   = "log"
        width  = length(local.launching_entries) > 0 ? 12 : 24
        height = 6
        properties = {
          region = local.dashboard_region
          title  = "Export queue: jobs per hour (${batch} runs)"
          view   = "timeSeries"
          query = "${local.query_source}${join("\n| ", [
            "filter ${local.run_finished} and batch = \"${batch}\"",
            "stats sum(counts.succeeded) as succeeded, sum(counts.failed) as failed, sum(counts.retried) as retried, sum(counts.released) as released by bin(1h)",
          ])}"
        }
      }],
      [for entries in [local.launching_entries] : {
        type   = "log"
        width  = 12
        height = 6
        properties = {
          region = local.dashboard_region
          title  = "Export queue: what each enqueue found and launched"
          view   = "table"
          query = "${local.query_source}${join("\n| ", [
            "fields @timestamp, entry, run_id, status, counts.inserted, counts.requeued, counts.waiting, counts.launched_tasks, error",
            "filter ${local.run_finished} and entry in [${join(", ", [for e in entries : "\"${e}\""])}]",
            "sort @timestamp desc",
            "limit 50",
          ])}"
        }
      } if length(entries) > 0],
    ) if local.exports_shown],
    [for batch in [local.export_worker] : [{
      type   = "log"
      width  = 24
      height = 8
      properties = {
        region = local.dashboard_region
        title  = "Export queue: every ${batch} run (its parent_run_id is the enqueue that launched it)"
        view   = "table"
        query = "${local.query_source}${join("\n| ", [
          "fields @timestamp, entry, run_id, parent_run_id, status, counts.claimed, counts.succeeded, counts.failed, counts.retried, counts.released, counts.deferred, counts.rows, counts.bytes, duration_ms, @logStream",
          "filter ${local.run_finished} and batch = \"${batch}\"",
          "sort @timestamp desc",
          "limit 100",
        ])}"
      }
    }] if local.exports_shown],
  )

  dashboard_row_heights = [for row in local.dashboard_rows : max([for w in row : w.height]...)]
  dashboard_widgets = flatten([
    for i, row in local.dashboard_rows : [
      for j, w in row : merge(w, {
        x = sum(concat([0], [for k in range(j) : row[k].width]))
        y = sum(concat([0], slice(local.dashboard_row_heights, 0, i)))
      })
    ]
  ])
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = local.dashboard_name
  dashboard_body = jsonencode({
    start   = local.dashboard_start
    widgets = local.dashboard_widgets
  })

  lifecycle {
    precondition {
      condition     = length(local.dashboard_widgets) <= 500 && alltrue([for w in local.dashboard_widgets : w.x + w.width <= 24])
      error_message = "The dashboard ${local.dashboard_name} would have ${length(local.dashboard_widgets)} widgets (at most 500) or a widget past the 24-column grid."
    }
  }
}
