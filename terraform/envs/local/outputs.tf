output "batches" {
  description = "Every catalog entry as deployed: its batch, schedule, enabled state, launch, task definition family, rule and alarm."
  value       = module.batchbox.batches
}

output "notification_topic_arn" {
  description = "SNS topic of failed-task notifications, alarms and missed-run reports."
  value       = module.batchbox.notification_topic_arn
}

output "dead_letter_queue_name" {
  description = "SQS dead-letter queue of every EventBridge target."
  value       = module.batchbox.dead_letter_queue_name
}

output "dead_letter_alarm_name" {
  description = "Alarm on messages in the dead-letter queue."
  value       = module.batchbox.dead_letter_alarm_name
}

output "watch_schedules" {
  description = "What the missed-runs watcher watches here (its WATCH_SCHEDULES): entry name => { batch, schedule, grace_minutes }."
  value       = module.batchbox.watch_schedules
}

output "watcher_alarm_name" {
  description = "Alarm on the missed-runs watcher's own successful runs, or null when it is not scheduled here."
  value       = module.batchbox.watcher_alarm_name
}

output "log_group_name" {
  description = "Log group of every batch."
  value       = module.batchbox.log_group_name
}

output "cluster_arn" {
  description = "ARN of the emulated ECS cluster."
  value       = aws_ecs_cluster.this.arn
}

output "catalog" {
  description = "The batch catalog as read from terraform/catalog (what the check script compares the emulator's state with)."
  value       = module.catalog.batches
}

output "metric_filter_name" {
  description = "The metric filter that counts successful runs of every batch."
  value       = module.batchbox.metric_filter_name
}

output "watcher_task_role_arn" {
  description = "The missed-runs watcher's own task role."
  value       = module.batchbox.watcher_task_role_arn
}

output "launchers" {
  description = "Each entry that launches tasks: its own task role, its launch policy and its LAUNCH_* variables."
  value       = module.batchbox.launchers
}

output "dashboard_name" {
  description = "The environment's CloudWatch dashboard: what on-call opens first (docs/operations.md)."
  value       = module.batchbox.dashboard_name
}

output "dashboard_url" {
  description = "The dashboard in the CloudWatch console."
  value       = module.batchbox.dashboard_url
}

output "alarm_names" {
  description = "Every alarm of the environment (all on the dashboard)."
  value       = module.batchbox.alarm_names
}

output "report_location" {
  description = "Where history-report puts the run time line page."
  value       = module.batchbox.report_location
}

output "schedule_engine" {
  description = "What runs the schedules: rules or scheduler."
  value       = module.batchbox.schedule_engine
}

output "schedule_group_name" {
  description = "The EventBridge Scheduler schedule group, or null with the rules engine."
  value       = module.batchbox.schedule_group_name
}

output "scheduler_role_arn" {
  description = "The role EventBridge Scheduler runs the tasks with, or null with the rules engine."
  value       = module.batchbox.scheduler_role_arn
}

output "chat_topic_arn" {
  description = "ARN of the chat topic (custom notifications; no channel configuration here)."
  value       = module.batchbox.chat_topic_arn
}

output "alarms_to_chat_rule_name" {
  description = "The rule that sends the alarms' state changes to the chat topic."
  value       = module.batchbox.alarms_to_chat_rule_name
}
