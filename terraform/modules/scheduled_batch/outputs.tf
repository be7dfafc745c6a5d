output "name" {
  description = "Catalog entry name (the family, rules, alarms and log stream prefix are named after it)."
  value       = var.name
}

output "batch" {
  description = "The batch the entry runs (command[0] of the container)."
  value       = local.batch
}

output "task_definition_family" {
  description = "Task definition family, `<name_prefix>-<name>`."
  value       = aws_ecs_task_definition.this.family
}

output "task_definition_family_arn" {
  description = "Task definition ARN without revision: runs the latest ACTIVE revision. What the schedule target uses, and what to pass to `aws ecs run-task` for a manual run."
  value       = local.family_arn
}

output "task_definition_arn" {
  description = "Task definition ARN of the revision this apply registered."
  value       = aws_ecs_task_definition.this.arn
}

output "task_role_arn" {
  description = "ARN of the task role the entry's tasks run with."
  value       = aws_ecs_task_definition.this.task_role_arn
}

output "execution_role_arn" {
  description = "ARN of the execution role ECS starts the entry's tasks with."
  value       = aws_ecs_task_definition.this.execution_role_arn
}

output "container_environment" {
  description = "The plain environment variables of the container `batch`, as the task definition holds them (BATCH_ENTRY included)."
  value       = { for e in jsondecode(aws_ecs_task_definition.this.container_definitions)[0].environment : e.name => e.value }
}

output "scheduled" {
  description = "Whether the batch has a schedule (false = manual)."
  value       = local.scheduled
}

output "schedule_expression" {
  description = "Schedule expression (UTC), or null for a manual batch."
  value       = var.schedule_expression
}

output "rule_name" {
  description = "Name of the EventBridge schedule rule, or null for a manual batch or with the scheduler engine."
  value       = one(aws_cloudwatch_event_rule.this[*].name)
}

output "rule_arn" {
  description = "ARN of the EventBridge schedule rule, or null for a manual batch or with the scheduler engine."
  value       = one(aws_cloudwatch_event_rule.this[*].arn)
}

output "schedule_name" {
  description = "Name of the EventBridge Scheduler schedule (in schedule_group_name), or null for a manual batch or with the rules engine."
  value       = one(aws_scheduler_schedule.this[*].name)
}

output "schedule_timezone" {
  description = "The IANA time zone the schedule's cron is read in: the Scheduler schedule's zone, UTC for a rule, null for a manual batch."
  value       = local.rule_scheduled ? "UTC" : one(aws_scheduler_schedule.this[*].schedule_expression_timezone)
}

output "notification_rule_names" {
  description = "EventBridge rules that notify the topic when a task of this batch fails (`failed`) or is stopped on purpose (`stopped`)."
  value       = { for kind, rule in aws_cloudwatch_event_rule.notify : kind => rule.name }
}

output "failed_invocations_alarm_names" {
  description = "FailedInvocations alarms, by rule kind (`schedule` only for a batch scheduled by a rule, `failed`, `stopped`)."
  value       = { for kind, alarm in aws_cloudwatch_metric_alarm.failed_invocations : kind => alarm.alarm_name }
}

output "log_streams_console_url" {
  description = "The CloudWatch console's page of the environment's log group, filtered to this entry's streams (`<entry>/batch/<task id>`), newest first: what the notifications and the dashboard link to."
  value       = local.console_log_streams_url
}
