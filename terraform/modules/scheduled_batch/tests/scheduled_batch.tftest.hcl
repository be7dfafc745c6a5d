# terraform test (offline: a mock provider, plan only). Run from this module's folder:
#   terraform init -backend=false && terraform test

mock_provider "aws" {
  source = "../testing/aws"
}

variables {
  name                = "history-prune"
  name_prefix         = "batchbox-test"
  description         = "Delete batch run history older than 90 days"
  schedule_expression = "cron(30 18 * * ? *)"
  args                = ["--older-than-days", "90"]
  cpu                 = 256
  memory              = 512
  image               = "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/batchbox:1.0.0"
  secrets = {
    DATABASE_URL = "arn:aws:ssm:ap-northeast-1:123456789012:parameter/batchbox/test/database-url"
  }
  environment        = { RUST_LOG = "info" }
  alarm_topic_arn    = "arn:aws:sns:ap-northeast-1:123456789012:batchbox-test-notifications"
  execution_role_arn = "arn:aws:iam::123456789012:role/batchbox-test-execution"
  task_role_arn      = "arn:aws:iam::123456789012:role/batchbox-test-task"
  events_role_arn    = "arn:aws:iam::123456789012:role/batchbox-test-events"
  log_group_name     = "/ecs/batchbox-test"
  cluster_arn        = "arn:aws:ecs:ap-northeast-1:123456789012:cluster/test"
  subnet_ids         = ["subnet-0a1b2c3d4e5f60001"]
  security_group_ids = ["sg-0a1b2c3d4e5f60001"]

  dead_letter_queue_arn = "arn:aws:sqs:ap-northeast-1:123456789012:batchbox-test-events-dlq"
  environment_name      = "test"
}

run "daily_batch_runs_its_subcommand_from_the_family_on_a_schedule" {
  command = plan

  assert {
    condition     = jsondecode(aws_ecs_task_definition.this.container_definitions)[0].name == "batch"
    error_message = "the container must be named batch"
  }
  assert {
    condition     = jsondecode(aws_ecs_task_definition.this.container_definitions)[0].command == ["history-prune", "--older-than-days", "90"]
    error_message = "command must be the batch name followed by its args"
  }
  assert {
    condition     = [for s in jsondecode(aws_ecs_task_definition.this.container_definitions)[0].secrets : s.name] == ["DATABASE_URL"]
    error_message = "DATABASE_URL must come from secrets"
  }
  assert {
    condition     = jsondecode(aws_ecs_task_definition.this.container_definitions)[0].logConfiguration.options["awslogs-stream-prefix"] == "history-prune"
    error_message = "the awslogs stream prefix must be the batch name"
  }
  assert {
    condition     = aws_cloudwatch_event_target.this[0].ecs_target[0].task_definition_arn == "arn:aws:ecs:ap-northeast-1:123456789012:task-definition/batchbox-test-history-prune"
    error_message = "the target must name the task definition family without revision"
  }
  assert {
    condition     = aws_cloudwatch_event_rule.this[0].description == var.description && aws_cloudwatch_event_rule.this[0].state == "ENABLED"
    error_message = "the rule carries the description and is enabled"
  }
  assert {
    condition     = strcontains(aws_cloudwatch_event_target.this[0].input_transformer[0].input_template, "BATCH_SCHEDULED_TIME") && aws_cloudwatch_event_target.this[0].input_transformer[0].input_paths.time == "$.time"
    error_message = "the target must pass the event time as BATCH_SCHEDULED_TIME"
  }
}

run "an_entry_named_apart_from_its_batch_runs_the_batch_and_is_named_after_the_entry" {
  command = plan

  variables {
    name                = "export-enqueue-monthly"
    batch               = "export-enqueue"
    description         = "Queue last month's exports"
    schedule_expression = "cron(50 15 L * ? *)"
    args                = ["--monthly"]
  }

  assert {
    condition     = jsondecode(aws_ecs_task_definition.this.container_definitions)[0].command == ["export-enqueue", "--monthly"] && output.batch == "export-enqueue" && output.name == "export-enqueue-monthly"
    error_message = "the container runs the entry's batch with the entry's arguments"
  }
  assert {
    condition     = aws_ecs_task_definition.this.family == "batchbox-test-export-enqueue-monthly" && aws_cloudwatch_event_rule.this[0].name == "batchbox-test-export-enqueue-monthly" && aws_cloudwatch_event_rule.notify["failed"].name == "batchbox-test-export-enqueue-monthly-failed"
    error_message = "the family and the rules are named after the entry"
  }
  assert {
    condition     = jsondecode(aws_ecs_task_definition.this.container_definitions)[0].logConfiguration.options["awslogs-stream-prefix"] == "export-enqueue-monthly" && output.container_environment.BATCH_ENTRY == "export-enqueue-monthly" && output.container_environment.RUST_LOG == "info"
    error_message = "the log streams are the entry's, and the run is told its entry (BATCH_ENTRY) besides the given environment"
  }
  assert {
    condition     = startswith(aws_cloudwatch_event_target.notify["failed"].input_transformer[0].input_template, "\"batchbox test: entry export-enqueue-monthly (batch export-enqueue) FAILED.") && strcontains(aws_cloudwatch_event_target.notify["stopped"].input_transformer[0].input_template, "entry export-enqueue-monthly (batch export-enqueue) was STOPPED ON PURPOSE")
    error_message = "the messages name the entry and its batch"
  }
  assert {
    condition     = strcontains(aws_cloudwatch_event_target.notify["failed"].input_transformer[0].input_template, "Catalog entry: export-enqueue-monthly, batch export-enqueue (task definition family batchbox-test-export-enqueue-monthly,") && strcontains(aws_cloudwatch_event_rule.notify["failed"].description, "A export-enqueue-monthly (batch export-enqueue) task")
    error_message = "the message body and the rule's description name the entry and its batch"
  }
}

run "a_shorthand_entry_is_named_once_in_its_messages" {
  command = plan

  assert {
    condition     = startswith(aws_cloudwatch_event_target.notify["failed"].input_transformer[0].input_template, "\"batchbox test: batch history-prune FAILED.") && output.container_environment.BATCH_ENTRY == "history-prune"
    error_message = "an entry named after its batch keeps the batch's name in its messages"
  }
}

run "rejects_batch_entry_in_the_environment" {
  command = plan

  variables {
    environment = { BATCH_ENTRY = "something-else" }
  }

  expect_failures = [var.environment]
}

run "disabled_schedule_keeps_its_rule" {
  command = plan

  variables {
    enabled = false
  }

  assert {
    condition     = aws_cloudwatch_event_rule.this[0].state == "DISABLED"
    error_message = "a disabled batch has a DISABLED rule"
  }
}

# Nothing here depends on the interval between runs any more (the missed-runs watcher reads the
# schedule itself), so every cron AWS accepts plans: weekly, monthly, weekdays only, L and #.
run "a_weekday_only_cron_plans" {
  command = plan

  variables {
    schedule_expression = "cron(0 19 ? * SUN-THU *)"
  }

  assert {
    condition     = aws_cloudwatch_event_rule.this[0].schedule_expression == "cron(0 19 ? * SUN-THU *)"
    error_message = "a weekday-only cron plans as it is"
  }
}

run "a_weekly_cron_plans" {
  command = plan

  variables {
    schedule_expression = "cron(0 3 ? * MON *)"
  }

  assert {
    condition     = aws_cloudwatch_event_rule.this[0].schedule_expression == "cron(0 3 ? * MON *)"
    error_message = "a weekly cron plans as it is"
  }
}

run "a_monthly_cron_plans" {
  command = plan

  variables {
    schedule_expression = "cron(0 0 1 * ? *)"
  }

  assert {
    condition     = aws_cloudwatch_event_rule.this[0].schedule_expression == "cron(0 0 1 * ? *)"
    error_message = "a monthly cron plans as it is"
  }
}

run "a_last_day_of_month_cron_plans" {
  command = plan

  variables {
    schedule_expression = "cron(0 0 L * ? *)"
  }

  assert {
    condition     = aws_cloudwatch_event_rule.this[0].schedule_expression == "cron(0 0 L * ? *)"
    error_message = "an L cron plans as it is"
  }
}

run "an_nth_weekday_cron_plans" {
  command = plan

  variables {
    schedule_expression = "cron(0 9 ? * 2#1 *)"
  }

  assert {
    condition     = aws_cloudwatch_event_rule.this[0].schedule_expression == "cron(0 9 ? * 2#1 *)"
    error_message = "a # cron plans as it is"
  }
}

run "manual_batch_has_a_task_definition_only" {
  command = plan

  variables {
    name                = "migrate"
    schedule_expression = null
  }

  assert {
    condition     = length(aws_cloudwatch_event_rule.this) == 0 && length(aws_cloudwatch_event_target.this) == 0
    error_message = "a manual batch has no rule or target"
  }
  assert {
    condition     = aws_ecs_task_definition.this.family == "batchbox-test-migrate"
    error_message = "a manual batch still has its task definition"
  }
}

run "rejects_a_cpu_memory_pair_fargate_does_not_accept" {
  command = plan

  variables {
    cpu    = 256
    memory = 4096
  }

  expect_failures = [var.memory]
}

run "rejects_a_cron_with_five_fields" {
  command = plan

  variables {
    schedule_expression = "cron(30 18 * * *)"
  }

  expect_failures = [var.schedule_expression]
}

run "rejects_a_cron_with_both_day_fields_set" {
  command = plan

  variables {
    schedule_expression = "cron(30 18 * * MON *)"
  }

  expect_failures = [var.schedule_expression]
}

run "rejects_a_plural_unit_for_one" {
  command = plan

  variables {
    schedule_expression = "rate(1 hours)"
  }

  expect_failures = [var.schedule_expression]
}

run "rejects_database_url_in_plain_environment" {
  command = plan

  variables {
    environment = { DATABASE_URL = "postgres://user:password@db/batchbox" }
  }

  expect_failures = [var.environment]
}

run "rejects_an_empty_description" {
  command = plan

  variables {
    description = "  "
  }

  expect_failures = [var.description]
}

run "rejects_the_latest_tag" {
  command = plan

  variables {
    image = "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/batchbox:latest"
  }

  expect_failures = [var.image]
}

run "every_target_has_the_dead_letter_queue_and_every_rule_an_alarm" {
  command = plan

  assert {
    condition     = aws_cloudwatch_event_target.this[0].dead_letter_config[0].arn == var.dead_letter_queue_arn
    error_message = "the schedule's ECS target must put undeliverable events in the dead-letter queue"
  }
  assert {
    condition     = aws_cloudwatch_event_target.this[0].retry_policy[0].maximum_retry_attempts == 3 && aws_cloudwatch_event_target.this[0].retry_policy[0].maximum_event_age_in_seconds == 3600
    error_message = "the schedule's ECS target retries for at most an hour"
  }
  assert {
    condition     = alltrue([for t in aws_cloudwatch_event_target.notify : t.dead_letter_config[0].arn == var.dead_letter_queue_arn && t.arn == var.alarm_topic_arn && t.role_arn == null])
    error_message = "the notification targets publish to the topic without a role and have the dead-letter queue"
  }
  assert {
    condition     = toset(keys(aws_cloudwatch_metric_alarm.failed_invocations)) == toset(["failed", "schedule", "stopped"])
    error_message = "a scheduled batch has a FailedInvocations alarm for its schedule and both notification rules"
  }
  assert {
    condition = alltrue([for k, a in aws_cloudwatch_metric_alarm.failed_invocations :
      a.namespace == "AWS/Events" && a.metric_name == "FailedInvocations" && a.threshold == 0 && a.comparison_operator == "GreaterThanThreshold"
      && a.alarm_actions == toset([var.alarm_topic_arn])
    ])
    error_message = "the FailedInvocations alarms fire on the first failure and notify the topic"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.failed_invocations["schedule"].dimensions.RuleName == "batchbox-test-history-prune" && aws_cloudwatch_metric_alarm.failed_invocations["failed"].dimensions.RuleName == "batchbox-test-history-prune-failed"
    error_message = "each alarm watches its own rule"
  }
}

run "notification_rules_watch_this_family_only_and_label_deliberate_stops" {
  command = plan

  assert {
    condition     = jsondecode(aws_cloudwatch_event_rule.notify["failed"].event_pattern).detail.taskDefinitionArn == [{ prefix = "arn:aws:ecs:ap-northeast-1:123456789012:task-definition/batchbox-test-history-prune:" }]
    error_message = "the failure rule must match revisions of this family only (the prefix ends with ':')"
  }
  assert {
    condition     = jsondecode(aws_cloudwatch_event_rule.notify["stopped"].event_pattern).detail.stopCode == ["UserInitiated"]
    error_message = "the stop rule matches deliberate stops"
  }
  assert {
    condition     = strcontains(aws_cloudwatch_event_target.notify["stopped"].input_transformer[0].input_template, "STOPPED ON PURPOSE") && strcontains(aws_cloudwatch_event_target.notify["failed"].input_transformer[0].input_template, "FAILED")
    error_message = "a deliberate stop is labelled as such, a failure as a failure"
  }
  assert {
    condition     = strcontains(aws_cloudwatch_event_target.notify["failed"].input_transformer[0].input_template, "logStreamNameFilter$3Dhistory-prune$252Fbatch$252F")
    error_message = "the failure message links to this batch's log streams"
  }
  assert {
    condition     = jsondecode(aws_ecs_task_definition.this.container_definitions)[0].logConfiguration.options.mode == "blocking"
    error_message = "the awslogs mode is set explicitly to blocking"
  }
}

run "manual_batch_gets_the_notification_rules_but_no_schedule_alarm" {
  command = plan

  variables {
    name                = "migrate"
    schedule_expression = null
  }

  assert {
    condition     = toset(keys(aws_cloudwatch_metric_alarm.failed_invocations)) == toset(["failed", "stopped"]) && length(aws_cloudwatch_event_rule.notify) == 2
    error_message = "a manual batch is watched for failures too, and has no schedule rule to alarm on"
  }
}

run "runbook_link_when_the_repository_url_is_given" {
  command = plan

  variables {
    runbook_url = "https://git.example.com/org/batchbox/blob/main/docs/operations.md"
  }

  assert {
    condition     = strcontains(aws_cloudwatch_event_target.notify["failed"].input_transformer[0].input_template, "https://git.example.com/org/batchbox/blob/main/docs/operations.md#a-batch-task-failed")
    error_message = "the failure message links to the runbook section"
  }
}

# AWS's cron reference allows an increment from a value in any field but day-of-week, and year
# increments; tests/cron_judge.rs checks the whole corpus against this validation.
run "accepts_the_references_increments" {
  command = plan

  variables {
    schedule_expression = "cron(0/5 8-17 ? * MON-FRI 2026/2)"
  }
}

run "rejects_a_year_aws_does_not_run" {
  command = plan

  variables {
    schedule_expression = "cron(0 0 1 1 ? 2200)"
  }

  expect_failures = [var.schedule_expression]
}

run "rejects_more_than_one_hash_in_day_of_week" {
  command = plan

  variables {
    schedule_expression = "cron(0 0 ? * 3#1,6#3 *)"
  }

  expect_failures = [var.schedule_expression]
}

# ---------------------------------------------------------------------------------------------------
# The scheduler engine: an EventBridge Scheduler schedule instead of the rule and its target
# ---------------------------------------------------------------------------------------------------

run "the_scheduler_engine_runs_the_family_from_a_schedule_in_the_entrys_time_zone" {
  command = plan

  variables {
    schedule_engine     = "scheduler"
    schedule_timezone   = "America/New_York"
    schedule_expression = "cron(30 2 * * ? *)"
    schedule_group_name = "batchbox-test"
    scheduler_role_arn  = "arn:aws:iam::123456789012:role/batchbox-test-scheduler"
    task_count          = 2
  }

  assert {
    condition     = length(aws_cloudwatch_event_rule.this) == 0 && length(aws_cloudwatch_event_target.this) == 0 && output.rule_name == null
    error_message = "no schedule rule and no rule target with the scheduler engine"
  }
  assert {
    condition     = keys(aws_cloudwatch_metric_alarm.failed_invocations) == ["failed", "stopped"]
    error_message = "the notification rules keep their FailedInvocations alarms; the schedule has no rule, so no FailedInvocations alarm of its own"
  }
  assert {
    condition = (
      aws_scheduler_schedule.this[0].name == "batchbox-test-history-prune"
      && aws_scheduler_schedule.this[0].group_name == "batchbox-test"
      && aws_scheduler_schedule.this[0].description == "Delete batch run history older than 90 days"
      && aws_scheduler_schedule.this[0].schedule_expression == "cron(30 2 * * ? *)"
      && aws_scheduler_schedule.this[0].schedule_expression_timezone == "America/New_York"
      && aws_scheduler_schedule.this[0].state == "ENABLED"
      && aws_scheduler_schedule.this[0].flexible_time_window[0].mode == "OFF"
      && output.schedule_name == "batchbox-test-history-prune"
      && output.schedule_timezone == "America/New_York"
    )
    error_message = "the schedule is named after the family, in the group, with the entry's description, cron and zone, enabled, with no flexible window"
  }
  assert {
    condition = (
      aws_scheduler_schedule.this[0].target[0].arn == "arn:aws:ecs:ap-northeast-1:123456789012:cluster/test"
      && aws_scheduler_schedule.this[0].target[0].role_arn == "arn:aws:iam::123456789012:role/batchbox-test-scheduler"
      && aws_scheduler_schedule.this[0].target[0].input == null
    )
    error_message = "the target is the cluster, run with the Scheduler role, and has no input (EcsParameters has no overrides)"
  }
  assert {
    condition = (
      aws_scheduler_schedule.this[0].target[0].ecs_parameters[0].task_definition_arn == "arn:aws:ecs:ap-northeast-1:123456789012:task-definition/batchbox-test-history-prune"
      && aws_scheduler_schedule.this[0].target[0].ecs_parameters[0].task_count == 2
      && aws_scheduler_schedule.this[0].target[0].ecs_parameters[0].launch_type == "FARGATE"
      && aws_scheduler_schedule.this[0].target[0].ecs_parameters[0].platform_version == "LATEST"
      && aws_scheduler_schedule.this[0].target[0].ecs_parameters[0].propagate_tags == "TASK_DEFINITION"
      && aws_scheduler_schedule.this[0].target[0].ecs_parameters[0].enable_ecs_managed_tags == true
      && aws_scheduler_schedule.this[0].target[0].ecs_parameters[0].network_configuration[0].subnets == toset(["subnet-0a1b2c3d4e5f60001"])
      && aws_scheduler_schedule.this[0].target[0].ecs_parameters[0].network_configuration[0].security_groups == toset(["sg-0a1b2c3d4e5f60001"])
      && aws_scheduler_schedule.this[0].target[0].ecs_parameters[0].network_configuration[0].assign_public_ip == false
    )
    error_message = "the schedule runs the family without revision on Fargate LATEST, with the task count, the network and the tags the rule's target has"
  }
  assert {
    condition = (
      aws_scheduler_schedule.this[0].target[0].retry_policy[0].maximum_event_age_in_seconds == 3600
      && aws_scheduler_schedule.this[0].target[0].retry_policy[0].maximum_retry_attempts == 3
      && aws_scheduler_schedule.this[0].target[0].dead_letter_config[0].arn == "arn:aws:sqs:ap-northeast-1:123456789012:batchbox-test-events-dlq"
    )
    error_message = "retries for an hour at most, 3 attempts, then the dead-letter queue, as the rule's target"
  }
}

run "the_scheduler_engine_defaults_to_utc_and_keeps_a_disabled_schedule" {
  command = plan

  variables {
    schedule_engine     = "scheduler"
    schedule_group_name = "batchbox-test"
    scheduler_role_arn  = "arn:aws:iam::123456789012:role/batchbox-test-scheduler"
    enabled             = false
  }

  assert {
    condition     = aws_scheduler_schedule.this[0].schedule_expression_timezone == "UTC" && aws_scheduler_schedule.this[0].state == "DISABLED"
    error_message = "no zone given: UTC; enabled = false: DISABLED"
  }
}

run "a_manual_entry_has_no_schedule_with_the_scheduler_engine" {
  command = plan

  variables {
    schedule_engine     = "scheduler"
    schedule_expression = null
    schedule_group_name = "batchbox-test"
    scheduler_role_arn  = "arn:aws:iam::123456789012:role/batchbox-test-scheduler"
  }

  assert {
    condition     = length(aws_scheduler_schedule.this) == 0 && length(aws_cloudwatch_event_rule.this) == 0 && output.schedule_name == null && output.schedule_timezone == null
    error_message = "a manual entry has neither a schedule nor a rule"
  }
}

run "the_rules_engine_has_no_scheduler_schedule" {
  command = plan

  assert {
    condition     = length(aws_scheduler_schedule.this) == 0 && output.schedule_name == null && output.rule_name == "batchbox-test-history-prune" && output.schedule_timezone == "UTC"
    error_message = "the default engine is the rule, read in UTC"
  }
}

run "rejects_a_time_zone_under_the_rules_engine" {
  command = plan

  variables {
    schedule_timezone = "Asia/Tokyo"
  }

  expect_failures = [var.schedule_timezone]
}

run "rejects_the_scheduler_engine_without_its_group_and_role" {
  command = plan

  variables {
    schedule_engine = "scheduler"
  }

  expect_failures = [aws_scheduler_schedule.this[0]]
}

# ---------------------------------------------------------------------------------------------------
# The team's chat: a second target on each notification rule
# ---------------------------------------------------------------------------------------------------

run "without_a_chat_topic_the_rules_notify_by_e_mail_only" {
  command = plan

  assert {
    condition     = length(aws_cloudwatch_event_target.chat) == 0 && length(aws_cloudwatch_event_target.notify) == 2
    error_message = "no chat target without chat_topic_arn; the e-mail targets as always"
  }
}

run "with_a_chat_topic_each_rule_gets_a_chat_target_with_a_custom_notification" {
  command = plan

  variables {
    name           = "export-enqueue-monthly"
    batch          = "export-enqueue"
    chat_topic_arn = "arn:aws:sns:ap-northeast-1:123456789012:batchbox-test-chat"
  }

  assert {
    condition = alltrue([for kind in ["failed", "stopped"] : (
      aws_cloudwatch_event_target.chat[kind].target_id == "chat"
      && aws_cloudwatch_event_target.chat[kind].arn == "arn:aws:sns:ap-northeast-1:123456789012:batchbox-test-chat"
      && aws_cloudwatch_event_target.chat[kind].rule == aws_cloudwatch_event_rule.notify[kind].name
      && aws_cloudwatch_event_target.chat[kind].role_arn == null
    )])
    error_message = "a second target `chat` on each notification rule, to the chat topic, no role"
  }
  assert {
    condition = alltrue([for kind in ["failed", "stopped"] : (
      aws_cloudwatch_event_target.chat[kind].retry_policy[0].maximum_event_age_in_seconds == 86400
      && aws_cloudwatch_event_target.chat[kind].retry_policy[0].maximum_retry_attempts == 185
      && aws_cloudwatch_event_target.chat[kind].dead_letter_config[0].arn == "arn:aws:sqs:ap-northeast-1:123456789012:batchbox-test-events-dlq"
    )])
    error_message = "the chat targets have the e-mail targets' retry policy and dead-letter queue"
  }
  assert {
    condition = (
      jsondecode(aws_cloudwatch_event_target.chat["failed"].input_transformer[0].input_template).content.title == ":red_circle: batchbox test: export-enqueue-monthly (batch export-enqueue) FAILED"
      && jsondecode(aws_cloudwatch_event_target.chat["stopped"].input_transformer[0].input_template).content.title == ":large_yellow_circle: batchbox test: export-enqueue-monthly (batch export-enqueue) STOPPED ON PURPOSE"
    )
    error_message = "the titles name the environment, the entry and its batch, and what happened"
  }
  assert {
    condition = (
      jsondecode(aws_cloudwatch_event_target.chat["failed"].input_transformer[0].input_template).metadata == {
        threadId         = "batchbox-test-export-enqueue-monthly"
        summary          = "batchbox test: export-enqueue-monthly (batch export-enqueue) FAILED"
        eventType        = "batch-task-failed"
        relatedResources = ["<task>"]
        additionalContext = {
          environment = "test", entry = "export-enqueue-monthly", batch = "export-enqueue",
          exitCode    = "<exitCode>", stopCode = "<stopCode>",
        }
      }
      && jsondecode(aws_cloudwatch_event_target.chat["stopped"].input_transformer[0].input_template).metadata.eventType == "batch-task-stopped"
    )
    error_message = "the metadata: a thread per environment and entry, the event type, the task, the context as strings: ${aws_cloudwatch_event_target.chat["failed"].input_transformer[0].input_template}"
  }
  assert {
    condition = (
      jsondecode(aws_cloudwatch_event_target.chat["failed"].input_transformer[0].input_template).version == "1.0"
      && jsondecode(aws_cloudwatch_event_target.chat["failed"].input_transformer[0].input_template).source == "custom"
      && jsondecode(aws_cloudwatch_event_target.chat["failed"].input_transformer[0].input_template).content.textType == "client-markdown"
      && jsondecode(aws_cloudwatch_event_target.chat["failed"].input_transformer[0].input_template).content.keywords == ["test", "export-enqueue-monthly", "export-enqueue"]
      && strcontains(jsondecode(aws_cloudwatch_event_target.chat["failed"].input_transformer[0].input_template).content.description, "logStreamNameFilter$3Dexport-enqueue-monthly$252Fbatch$252F")
    )
    error_message = "a custom notification: version 1.0, source custom, client-markdown, keywords, the link to the entry's log streams"
  }
  assert {
    # Only values whose form AWS fixes are inserted: none of the free-text reasons.
    condition     = aws_cloudwatch_event_target.chat["failed"].input_transformer[0].input_paths == tomap({ task = "$.detail.taskArn", exitCode = "$.detail.containers[0].exitCode", stopCode = "$.detail.stopCode", stoppedAt = "$.detail.stoppedAt" })
    error_message = "the chat message inserts the task, exit code, stop code and stop time only"
  }
}

run "the_runbook_link_goes_into_the_chat_message" {
  command = plan

  variables {
    name           = "export-enqueue-monthly"
    batch          = "export-enqueue"
    chat_topic_arn = "arn:aws:sns:ap-northeast-1:123456789012:batchbox-test-chat"
    runbook_url    = "https://git.example.com/org/batchbox/blob/main/docs/operations.md"
  }

  assert {
    condition     = strcontains(jsondecode(aws_cloudwatch_event_target.chat["failed"].input_transformer[0].input_template).content.description, "*Runbook:* [docs/operations.md: A batch task failed](https://git.example.com/org/batchbox/blob/main/docs/operations.md#a-batch-task-failed)")
    error_message = "the failure message links to its runbook section"
  }
}

run "rejects_a_chat_topic_that_is_not_an_sns_topic_arn" {
  command = plan

  variables {
    name           = "export-enqueue-monthly"
    batch          = "export-enqueue"
    chat_topic_arn = "arn:aws:sqs:ap-northeast-1:123456789012:batchbox-test-chat"
  }

  expect_failures = [var.chat_topic_arn]
}
