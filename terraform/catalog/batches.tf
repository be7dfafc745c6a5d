# The batch catalog: every batch of batchbox, scheduled or run by hand, one block each.
# Read it top to bottom like a crontab. Adding a batch = adding one block here (after the batch
# exists in the `batch` binary).
#
#   key             the batch name = the subcommand of `batch` (container command[0])
#   description     one line; becomes the description of the schedule rule
#   schedule        EventBridge schedule in UTC: cron(min hour day-of-month month day-of-week year)
#                   with `?` in one of the day fields, or rate(N unit); null = manual (no schedule)
#   args            arguments after the batch name, e.g. ["--older-than-days", "90"]
#   cpu, memory     a Fargate pair (CPU units, MiB): 256/512, 256/1024, 512/1024, 1024/2048, ...
#   task_count      tasks started per schedule event (1-10)
#   grace_minutes   how late a success may come after each scheduled fire time before the
#                   missed-runs watcher reports that fire time as missed (1-10080); null = not
#                   watched: the way to turn missed-run detection off for one entry (and the value
#                   for manual batches)
#
# Keep the values literal (strings, numbers, lists of strings, null): a test reads this file.
# Batches that only make sense on a developer's machine are listed in `local_only` instead: they
# get no task definition, and the check knows they were left out on purpose.
# Environments change schedule, enabled state, size and task count through their own variables.

locals {
  batches = {
    # 00:30 Asia/Tokyo daily (15:30 UTC): queue yesterday's (Tokyo) exports, one job per tenant and form
    "export-enqueue" = {
      description   = "Queue yesterday's xlsx exports: one job per tenant and form with records"
      schedule      = "cron(30 15 * * ? *)"
      args          = []
      cpu           = 256
      memory        = 512
      task_count    = 1
      grace_minutes = 60
    }

    # 00:40 Asia/Tokyo daily (15:40 UTC): four workers export the queue in parallel; each task
    # holds up to EXPORT_CONCURRENCY jobs and DATABASE_MAX_CONNECTIONS connections
    "export-worker" = {
      description   = "Export queued jobs to xlsx in S3 (parallel workers, retries, leases)"
      schedule      = "cron(40 15 * * ? *)"
      args          = []
      cpu           = 1024
      memory        = 2048
      task_count    = 4
      grace_minutes = 120
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

  # Never deployed: sample data and the local demo refuse to run on ECS.
  local_only = ["demo", "demo-seed"]
}
