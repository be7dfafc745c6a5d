output "log_group_name" {
  description = "Name of the log group every batch logs to (awslogs driver)."
  value       = aws_cloudwatch_log_group.this.name
}

output "log_group_arn" {
  description = "ARN of the batch log group."
  value       = aws_cloudwatch_log_group.this.arn
}

output "kms_key_arn" {
  description = "ARN of the KMS key that encrypts the log group and the notification topic (created or given)."
  value       = local.kms_key_arn
}

output "execution_role_arn" {
  description = "ARN of the task execution role (image pull, logs, secrets)."
  value       = aws_iam_role.execution.arn
}

output "task_role_arn" {
  description = "ARN of the task role (the batches' own permissions)."
  value       = aws_iam_role.task.arn
}

output "watcher_task_role_arn" {
  description = "ARN of the missed-runs watcher's task role, or null when watcher_task_role is false."
  value       = one(aws_iam_role.watcher_task[*].arn)
}

output "report_task_role_arn" {
  description = "ARN of the time line report's task role, or null when report_task_role is false."
  value       = one(aws_iam_role.report_task[*].arn)
}

output "launch_task_role_arns" {
  description = "The task role of each launching entry (`launchers`): entry => role ARN."
  value       = { for entry, role in aws_iam_role.launch : entry => role.arn }
}

output "launch_policies" {
  description = "The launch policy of each launching entry's role (`launch-tasks`), as the JSON IAM gets: entry => policy."
  value       = local.launch_policies
}

output "metric_filter_name" {
  description = "Name of the metric filter that counts successful runs (RunSucceeded, dimension Batch)."
  value       = aws_cloudwatch_log_metric_filter.run_succeeded.name
}

output "events_role_arn" {
  description = "ARN of the role EventBridge uses to run the scheduled task definitions."
  value       = aws_iam_role.events.arn
}

output "scheduler_role_arn" {
  description = "ARN of the role EventBridge Scheduler runs the scheduled task definitions with, or null with the rules engine."
  value       = one(aws_iam_role.scheduler[*].arn)
}

output "scheduler_policy" {
  description = "The Scheduler role's policy (`run-scheduled-batches`), as the JSON IAM gets, or null with the rules engine."
  value       = local.scheduler ? local.scheduler_policy : null
}

output "events_policy" {
  description = "The events role's policy (`run-scheduled-batches`), as the JSON IAM gets."
  value       = local.events_policy
}

output "schedule_group_name" {
  description = "The EventBridge Scheduler schedule group every schedule of the environment is in (`<name_prefix>`), or null with the rules engine."
  value       = one(aws_scheduler_schedule_group.this[*].name)
}

output "scheduler_alarm_names" {
  description = "The alarms on the schedule group's AWS/Scheduler metrics (empty with the rules engine)."
  value       = sort([for alarm in aws_cloudwatch_metric_alarm.scheduler : alarm.alarm_name])
}

output "notification_topic_arn" {
  description = "ARN of the SNS topic that receives the failed-task notifications, the alarms and the missed-run reports."
  value       = aws_sns_topic.notifications.arn
}

output "notification_topic_arn_at_plan" {
  description = "The same ARN as notification_topic_arn, built from account, region and name so that it is known at plan (a postcondition on the topic proves they are equal); the missed-runs watcher's task definition names it."
  value       = local.topic_arn
}

output "dead_letter_queue_arn" {
  description = "ARN of the SQS dead-letter queue of every EventBridge target of this environment."
  value       = aws_sqs_queue.events_dlq.arn
}

output "dead_letter_queue_name" {
  description = "Name of the dead-letter queue."
  value       = aws_sqs_queue.events_dlq.name
}

output "dead_letter_alarm_name" {
  description = "Name of the alarm on messages in the dead-letter queue."
  value       = aws_cloudwatch_metric_alarm.events_dlq.alarm_name
}

output "query_definition_names" {
  description = "Names of the saved Logs Insights queries (empty when they are turned off)."
  value = concat(
    aws_cloudwatch_query_definition.failed_runs[*].name,
    aws_cloudwatch_query_definition.durations_per_batch[*].name,
    aws_cloudwatch_query_definition.one_run[*].name,
  )
}

output "region" {
  description = "Region of the environment (the provider's), e.g. for the dashboard's Logs Insights widgets."
  value       = local.region
}

output "alarm_arn_prefix" {
  description = "`arn:<partition>:cloudwatch:<region>:<account>:alarm:`: an alarm's ARN is this prefix and its name, known at plan (the dashboard's alarm widgets list the environment's alarms by ARN)."
  value       = "arn:${local.partition}:cloudwatch:${local.region}:${local.account_id}:alarm:"
}

output "chat_topic_arn" {
  description = "ARN of the chat topic (custom notifications for Amazon Q Developer in chat applications), or null without chat."
  value       = local.chat_enabled ? aws_sns_topic.chat[0].arn : null
}

output "chat_topic_arn_at_plan" {
  description = "The same ARN as chat_topic_arn, known at plan (a postcondition on the topic proves they are equal), or null without chat."
  value       = local.chat_enabled ? local.chat_topic_arn : null
}

output "chat_channel_configuration_arns" {
  description = "The Chatbot channel configurations of the chat topic, by kind (slack, teams); empty without chat or without create_channels."
  value = merge(
    { for k, c in aws_chatbot_slack_channel_configuration.this : k => c.chat_configuration_arn },
    { for k, c in aws_chatbot_teams_channel_configuration.this : k => c.chat_configuration_arn },
  )
}
