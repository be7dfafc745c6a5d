output "batches" {
  description = "Every batch as deployed: schedule, enabled state, task definition family, rule and alarm."
  value       = module.batchbox.batches
}

output "notification_topic_arn" {
  description = "SNS topic of failed-task notifications and missed-success alarms."
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
