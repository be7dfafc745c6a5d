output "name_prefix" {
  description = "Prefix of every resource name of this environment (`batchbox-<environment>`)."
  value       = local.name_prefix
}

output "batches" {
  description = "Every batch as deployed here: name => { description, schedule (null = manual), enabled, grace_minutes, watched (in WATCH_SCHEDULES), task definition family and family ARN, rule name, notification rules, FailedInvocations alarms }."
  value = {
    for name, batch in module.batch : name => {
      description                = local.batches[name].description
      schedule                   = batch.schedule_expression
      enabled                    = local.batches[name].enabled
      grace_minutes              = local.batches[name].grace_minutes
      watched                    = contains(keys(local.watched), name)
      task_definition_family     = batch.task_definition_family
      task_definition_family_arn = batch.task_definition_family_arn
      task_role_arn              = batch.task_role_arn
      rule_name                  = batch.rule_name
      notification_rule_names    = batch.notification_rule_names
      failed_invocations_alarms  = batch.failed_invocations_alarm_names
    }
  }
}

output "watch_schedules" {
  description = "What the missed-runs watcher watches here (its WATCH_SCHEDULES): batch name => { schedule, grace_minutes }."
  value       = local.watched
}

output "watcher_alarm_name" {
  description = "Alarm on the watcher's own successful runs (INSUFFICIENT_DATA after 30 minutes without one), or null when the watcher is not scheduled and enabled here."
  value       = one(aws_cloudwatch_metric_alarm.watcher[*].alarm_name)
}

output "watcher_task_role_arn" {
  description = "The missed-runs watcher's own task role (publish to the topic), or null when the catalog has no watcher."
  value       = module.platform.watcher_task_role_arn
}

output "metric_filter_name" {
  description = "The metric filter that counts successful runs of every batch (RunSucceeded, dimension Batch)."
  value       = module.platform.metric_filter_name
}

output "log_group_name" {
  description = "Log group of every batch."
  value       = module.platform.log_group_name
}

output "notification_topic_arn" {
  description = "SNS topic of failed-task notifications, alarms and missed-run reports."
  value       = module.platform.notification_topic_arn
}

output "dead_letter_queue_name" {
  description = "SQS dead-letter queue of every EventBridge target of this environment (schedules and notifications)."
  value       = module.platform.dead_letter_queue_name
}

output "dead_letter_alarm_name" {
  description = "Alarm on messages in the dead-letter queue."
  value       = module.platform.dead_letter_alarm_name
}

output "execution_role_arn" {
  description = "Task execution role."
  value       = module.platform.execution_role_arn
}

output "task_role_arn" {
  description = "Task role of every batch but the missed-runs watcher."
  value       = module.platform.task_role_arn
}

output "events_role_arn" {
  description = "Role EventBridge uses to run the scheduled tasks."
  value       = module.platform.events_role_arn
}

output "kms_key_arn" {
  description = "KMS key of the log group and the topic."
  value       = module.platform.kms_key_arn
}

output "query_definition_names" {
  description = "Saved Logs Insights queries."
  value       = module.platform.query_definition_names
}
