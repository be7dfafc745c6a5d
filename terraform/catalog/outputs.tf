output "batches" {
  description = "The batch catalog from batches.tf: batch name => { description, schedule, args, cpu, memory, task_count, grace_minutes (null = not watched) }."
  value       = local.batches
}

output "local_only" {
  description = "Batches of the binary deliberately not deployed (they only run on a developer's machine)."
  value       = local.local_only
}
