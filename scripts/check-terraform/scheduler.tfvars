# The scheduler engine (EventBridge Scheduler) with entries in local time: scripts/check-terraform.sh
# plans staging with it and switches the local environment (moto) to it. It replaces the
# environment's batch_overrides, so it repeats staging's own (canary every 15 minutes).
schedule_engine = "scheduler"

batch_overrides = {
  # 02:30 New York time daily: the spring change to daylight saving time skips 02:30 once a year
  "history-prune" = { schedule = "cron(30 2 * * ? *)", timezone = "America/New_York" }
  # 00:30 Berlin time daily
  "export-enqueue" = { schedule = "cron(30 0 * * ? *)", timezone = "Europe/Berlin" }
  # 09:00 Tokyo time on the 1st (Tokyo has no daylight saving time)
  "export-enqueue-monthly" = { schedule = "cron(0 9 1 * ? *)", timezone = "Asia/Tokyo" }
  # UTC by its other name: no timezone in WATCH_SCHEDULES
  "history-report" = { timezone = "Etc/UTC" }
  # left UTC, as staging has it
  "canary" = { schedule = "rate(15 minutes)" }
  # left UTC: a manual entry scheduled here, as every-cron.tfvars schedules it (so that switching
  # the local environment's engine keeps the same scheduled entries)
  "export-requeue" = { schedule = "cron(0 9 ? * 2#1 *)", grace_minutes = 60 }
}
