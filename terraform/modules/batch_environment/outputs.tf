output "name_prefix" {
  description = "Prefix of every resource name of this environment (`batchbox-<environment>`)."
  value       = local.name_prefix
}

output "batches" {
  description = "Every batch as deployed here: name => { description, schedule (null = manual), enabled, task definition family and family ARN, rule name, alarm name, alarm window, notification rules, FailedInvocations alarms }."
  value = {
    for name, batch in module.batch : name => {
      description                = local.batches[name].description
      schedule                   = batch.schedule_expression
      enabled                    = local.batches[name].enabled
      task_definition_family     = batch.task_definition_family
      task_definition_family_arn = batch.task_definition_family_arn
      rule_name                  = batch.rule_name
      alarm_name                 = batch.alarm_name
      alarm_window_minutes       = batch.alarm_window_minutes
      metric_filter_name         = batch.metric_filter_name
      notification_rule_names    = batch.notification_rule_names
      failed_invocations_alarms  = batch.failed_invocations_alarm_names
    }
  }
}

output "log_group_name" {
  description = "Log group of every batch."
  value       = module.platform.log_group_name
}

output "notification_topic_arn" {
  description = "SNS topic of failed-task notifications and missed-success alarms."
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
  description = "Task role."
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
