# The batch catalog: every scheduled or manual run of batchbox, one block per catalog entry.
# Read it top to bottom like a crontab. An entry is a named schedule of one batch; one batch may
# have several entries (a daily and a month-start export with different arguments and sizes).
# Adding a batch = adding one block here (after the batch exists in the `batch` binary).
#
#   key             the entry name: Terraform names the task definition (batchbox-<env>-<entry>),
#                   the rules, alarms and log streams after it; 2-40 lowercase letters, digits and
#                   hyphens, starting with a letter. An environment's batch_overrides use it too.
#   batch           the batch it runs = the subcommand of `batch` (container command[0]); optional,
#                   default: the key (the shorthand of an entry named after its batch)
#   description     one line; becomes the description of the schedule rule
#   schedule        EventBridge schedule: cron(min hour day-of-month month day-of-week year) with
#                   `?` in one of the day fields, read in the entry's time zone, or rate(N unit);
#                   null = manual (no schedule)
#   timezone        optional: the IANA time zone the cron is read in (e.g. "Asia/Tokyo"; AWS
#                   handles daylight saving time), default: default_timezone below. Only an
#                   environment with schedule_engine = "scheduler" (EventBridge Scheduler) runs
#                   an entry in another zone than UTC; the rules engine (the default) refuses it at
#                   plan. docs/adding-a-batch.md says which to choose.
#   args            arguments after the batch name, e.g. ["--older-than-days", "90"]
#   cpu, memory     a Fargate pair (CPU units, MiB): 256/512, 256/1024, 512/1024, 1024/2048, ...
#   task_count      tasks started per schedule event (1-10)
#   grace_minutes   how late a success may come after each scheduled fire time before the
#                   missed-runs watcher reports that fire time as missed (1-10080); null = not
#                   watched: the way to turn missed-run detection off for one entry (and the value
#                   for manual entries)
#   launch          optional, only for a batch that launches tasks (export-enqueue):
#                   { batch = "export-worker", args = [], max_tasks = 20, jobs_per_task = 25 }
#                   the run starts up to max_tasks (1-100) tasks of `batch`, one per jobs_per_task
#                   (1-100000) jobs, with `args` (optional, default []). They run the task
#                   definition of the catalog entry named `batch` (a shorthand entry, scheduled or
#                   manual); the entry gets a task role of its own that may start exactly those.
#
# Keep the values literal (strings, numbers, lists of strings, objects of those, null): a test
# reads this file.
# Batches that only make sense on a developer's machine are listed in `local_only` instead: they
# get no task definition, and the check knows they were left out on purpose.
# Environments change schedule, time zone, enabled state, size and task count through their own
# variables.
#
#   default_timezone  the IANA time zone every entry's cron is read in unless the entry (or an
#                     environment's override) names another; "UTC" (or "Etc/UTC") is the only zone
#                     the rules engine allows (docs/adding-a-batch.md).

locals {
  batches = {
    # 00:30 Asia/Tokyo daily (15:30 UTC): queue yesterday's (Tokyo) exports, one job per tenant and
    # form, then launch export-worker tasks for them: one per 25 jobs, at most 20
    "export-enqueue" = {
      description   = "Queue yesterday's xlsx exports (one job per tenant and form with records) and launch workers for them"
      schedule      = "cron(30 15 * * ? *)"
      args          = []
      cpu           = 256
      memory        = 512
      task_count    = 1
      grace_minutes = 60
      launch        = { batch = "export-worker", max_tasks = 20, jobs_per_task = 25 }
    }

    # 00:50 Asia/Tokyo on the 1st (15:50 UTC on the last day of the month before, `L`): queue
    # last month's (Tokyo) exports and launch workers. 20 minutes after that day's daily run:
    # enqueue is exclusive per batch, and a run that finds the lock held is skipped.
    "export-enqueue-monthly" = {
      batch         = "export-enqueue"
      description   = "Queue last month's xlsx exports (one job per tenant and form with records) and launch workers for them"
      schedule      = "cron(50 15 L * ? *)"
      args          = ["--monthly"]
      cpu           = 256
      memory        = 1024
      task_count    = 1
      grace_minutes = 60
      launch        = { batch = "export-worker", max_tasks = 20, jobs_per_task = 25 }
    }

    # every hour at minute 5: the sweeper. The workers the enqueue runs launch (with this entry's
    # task definition) do the bulk; this one task finishes what they left: retries that were due
    # later, jobs whose worker died (claimed again once their lease expired).
    "export-worker" = {
      description   = "Finish queued xlsx exports the launched workers left (retries due later, jobs whose worker died)"
      schedule      = "cron(5 * * * ? *)"
      args          = []
      cpu           = 1024
      memory        = 2048
      task_count    = 1
      grace_minutes = 90
    }

    # manual: put failed exports back after fixing their cause (run with --job ID to pick one)
    "export-requeue" = {
      description   = "Put failed export jobs back in the queue"
      schedule      = null
      args          = ["--failed"]
      cpu           = 256
      memory        = 512
      task_count    = 1
      grace_minutes = null
    }

    # every hour at minute 0 (UTC and Asia/Tokyo alike)
    "canary" = {
      description   = "No-op run that proves scheduling, ECS, logs and run history work"
      schedule      = "cron(0 * * * ? *)"
      args          = ["--max-runtime", "5m"]
      cpu           = 256
      memory        = 512
      task_count    = 1
      grace_minutes = 30
    }

    # 03:30 Asia/Tokyo daily (18:30 UTC)
    "history-prune" = {
      description   = "Delete batch run history older than 90 days"
      schedule      = "cron(30 18 * * ? *)"
      args          = ["--older-than-days", "90", "--max-runtime", "15m"]
      cpu           = 256
      memory        = 512
      task_count    = 1
      grace_minutes = 60
    }

    # manual: run by hand before a release that needs a new schema
    "migrate" = {
      description   = "Apply database migrations"
      schedule      = null
      args          = []
      cpu           = 256
      memory        = 512
      task_count    = 1
      grace_minutes = null
    }

    # every hour at minute 15: the run time line of the last 48 hours as one HTML page, at
    # reports/timeline.html in the export bucket (REPORT_KEY), for anyone with console access
    "history-report" = {
      description   = "Write the run time line of the last 48 hours (an HTML page) to the bucket"
      schedule      = "cron(15 * * * ? *)"
      args          = []
      cpu           = 256
      memory        = 512
      task_count    = 1
      grace_minutes = 120
    }

    # every 10 minutes: reads the run history and reports each scheduled fire time of the other
    # entries that got no success within its grace (WATCH_SCHEDULES, set by batch_environment).
    # It does not watch itself: an alarm on its own successes does (30 minutes without one).
    "missed-runs" = {
      description   = "Report scheduled runs that did not succeed within their grace (once each, to the notification topic and batch history)"
      schedule      = "rate(10 minutes)"
      args          = []
      cpu           = 256
      memory        = 512
      task_count    = 1
      grace_minutes = 20
    }
  }

  # The zone of every cron above that names none: keep UTC while an environment runs the rules
  # engine.
  default_timezone = "UTC"

  # Batches (not entries) never deployed: sample data and the local demo refuse to run on ECS.
  local_only = ["demo", "demo-seed"]
}
