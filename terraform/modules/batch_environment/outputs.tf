output "name_prefix" {
  description = "Prefix of every resource name of this environment (`batchbox-<environment>`)."
  value       = local.name_prefix
}

output "batches" {
  description = "Every catalog entry as deployed here: entry name => { batch, description, schedule (null = manual), timezone (the IANA zone the cron is read in), enabled, grace_minutes, watched (in WATCH_SCHEDULES), launch (null or the catalog's launch), task definition family and family ARN, task role, rule name (rules engine), schedule name (scheduler engine), notification rules, FailedInvocations alarms }."
  value = {
    for name, batch in module.batch : name => {
      batch                      = local.batches[name].batch
      description                = local.batches[name].description
      schedule                   = batch.schedule_expression
      timezone                   = local.batches[name].timezone
      enabled                    = local.batches[name].enabled
      grace_minutes              = local.batches[name].grace_minutes
      watched                    = contains(keys(local.watched), name)
      launch                     = local.batches[name].launch
      task_definition_family     = batch.task_definition_family
      task_definition_family_arn = batch.task_definition_family_arn
      task_role_arn              = batch.task_role_arn
      rule_name                  = batch.rule_name
      schedule_name              = batch.schedule_name
      notification_rule_names    = batch.notification_rule_names
      failed_invocations_alarms  = batch.failed_invocations_alarm_names
    }
  }
}

output "schedule_engine" {
  description = "What runs the schedules here: \"rules\" (EventBridge rules) or \"scheduler\" (EventBridge Scheduler)."
  value       = var.schedule_engine
}

output "schedule_group_name" {
  description = "The EventBridge Scheduler schedule group of the environment's schedules, or null with the rules engine."
  value       = module.platform.schedule_group_name
}

output "scheduler_role_arn" {
  description = "Role EventBridge Scheduler runs the scheduled tasks with, or null with the rules engine."
  value       = module.platform.scheduler_role_arn
}

output "watch_schedules" {
  description = "What the missed-runs watcher watches here (its WATCH_SCHEDULES): entry name => { batch, schedule, grace_minutes, timezone (only when not UTC) }."
  value       = local.watched
}

output "launchers" {
  description = "Each entry that launches tasks (the catalog's `launch`) => { task_role_arn (its own), policy (the role's launch-tasks policy, JSON), environment (the LAUNCH_* variables of its task definition) }."
  value = {
    for name, l in local.launches : name => {
      task_role_arn = module.platform.launch_task_role_arns[name]
      policy        = module.platform.launch_policies[name]
      environment   = l.environment
    }
  }
}

output "watcher_alarm_name" {
  description = "Alarm on the watcher's own successful runs (INSUFFICIENT_DATA after 30 minutes without one), or null when the watcher is not scheduled and enabled here."
  value       = one(aws_cloudwatch_metric_alarm.watcher[*].alarm_name)
}

output "watcher_task_role_arn" {
  description = "The missed-runs watcher's own task role (publish to the topic), or null when the catalog has no watcher."
  value       = module.platform.watcher_task_role_arn
}

output "report_task_role_arn" {
  description = "The time line report's own task role (write report_key), or null when the catalog has no history-report entry."
  value       = module.platform.report_task_role_arn
}

output "report_location" {
  description = "Where history-report puts the run time line page (s3://bucket/key), or null without an export bucket."
  value       = var.export_bucket_name == null ? null : "s3://${var.export_bucket_name}/${var.report_key}"
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
  description = "Task role of every entry but the missed-runs watcher and the launching entries."
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

output "dashboard_name" {
  description = "The environment's CloudWatch dashboard (`batchbox-<environment>`): runs, failures, durations and the export queue from the logs, and every alarm."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}

output "dashboard_url" {
  description = "The dashboard in the CloudWatch console."
  value       = "https://${local.dashboard_region}.console.aws.amazon.com/cloudwatch/home?region=${local.dashboard_region}#dashboards/dashboard/${local.dashboard_name}"
}

output "alarm_names" {
  description = "Every alarm this environment creates (the dashboard's alarm widgets list them all): the FailedInvocations alarm of every rule, the dead-letter queue's, the Scheduler group's and the watcher's."
  value       = local.dashboard_alarm_names
}

output "chat_topic_arn" {
  description = "ARN of the chat topic (custom notifications for Amazon Q Developer in chat applications), or null without chat."
  value       = module.platform.chat_topic_arn
}

output "chat_channel_configuration_arns" {
  description = "The Chatbot channel configurations that deliver the chat topic, by kind (slack, teams)."
  value       = module.platform.chat_channel_configuration_arns
}

output "alarms_to_chat_rule_name" {
  description = "The EventBridge rule that sends this environment's alarm state changes to the chat topic, or null without chat."
  value       = local.chat_enabled ? aws_cloudwatch_event_rule.alarms_to_chat[0].name : null
}
