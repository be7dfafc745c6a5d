output "batches" {
  description = "The batch catalog from batches.tf: entry name => { batch, description, schedule, timezone (null = default_timezone), args, cpu, memory, task_count, grace_minutes (null = not watched), launch }."
  value       = local.batches
}

output "local_only" {
  description = "Batches of the binary deliberately not deployed (they only run on a developer's machine)."
  value       = local.local_only
}

output "default_timezone" {
  description = "The IANA time zone every entry's cron is read in unless the entry or an environment's override names another (\"UTC\" while any environment runs the rules engine)."
  value       = local.default_timezone
}
