# batch_overrides that give the catalog's entries every kind of schedule AWS accepts and a fixed
# interval could not describe: scripts/check-terraform.sh plans staging with them and applies them
# to the local environment (moto). Nothing here may fail at plan: the missed-runs watcher reads
# each schedule itself, so no alarm window has to fit CloudWatch's look-back.
batch_overrides = {
  # weekly: 12:00 Asia/Tokyo on Mondays
  "export-enqueue" = { schedule = "cron(0 3 ? * MON *)" }
  # monthly: 09:00 Asia/Tokyo on the 1st
  "export-worker" = { schedule = "cron(0 0 1 * ? *)" }
  # weekdays only: 04:00 Asia/Tokyo, Monday to Friday (19:00 UTC, Sunday to Thursday)
  "history-prune" = { schedule = "cron(0 19 ? * SUN-THU *)" }
  # the last day of every month
  "canary" = { schedule = "cron(0 0 L * ? *)" }
  # the first Monday of every month; a manual catalog entry, scheduled and watched here
  "export-requeue" = { schedule = "cron(0 9 ? * 2#1 *)", grace_minutes = 60 }
}
