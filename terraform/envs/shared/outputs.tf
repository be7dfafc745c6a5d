output "batches" {
  description = "Every catalog entry as deployed: its batch, schedule, enabled state, launch, task definition family, rule and alarm."
  value       = module.batchbox.batches
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

output "notification_topic_arn" {
  description = "SNS topic of failed-task notifications, alarms and missed-run reports."
  value       = module.batchbox.notification_topic_arn
}

output "query_definition_names" {
  description = "Saved Logs Insights queries."
  value       = module.batchbox.query_definition_names
}

output "dead_letter_queue_name" {
  description = "SQS dead-letter queue of every EventBridge target (schedules and notifications); its alarm notifies the topic."
  value       = module.batchbox.dead_letter_queue_name
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
  description = "Where history-report puts the run time line page (s3://bucket/key): open it in the S3 console."
  value       = module.batchbox.report_location
}

output "chat_topic_arn" {
  description = "ARN of the chat topic (null without chat): its messages are custom notifications of Amazon Q Developer in chat applications."
  value       = module.batchbox.chat_topic_arn
}
