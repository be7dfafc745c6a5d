# terraform test (offline: a mock provider, plan only). Run from this module's folder:
#   terraform init -backend=false && terraform test

mock_provider "aws" {
  source = "../testing/aws"
}

variables {
  name_prefix        = "batchbox-test"
  metric_namespace   = "Batchbox/test"
  cluster_arn        = "arn:aws:ecs:ap-northeast-1:123456789012:cluster/test"
  log_retention_days = 30
  watcher_task_role  = true
}

run "one_metric_filter_counts_the_successful_runs_of_every_batch" {
  command = plan

  assert {
    condition     = aws_cloudwatch_log_metric_filter.run_succeeded.pattern == "{ $.message = \"run finished\" && $.status = \"succeeded\" }"
    error_message = "the filter matches every batch's successful run finished line"
  }
  assert {
    condition = (
      aws_cloudwatch_log_metric_filter.run_succeeded.metric_transformation[0].name == "RunSucceeded"
      && aws_cloudwatch_log_metric_filter.run_succeeded.metric_transformation[0].namespace == "Batchbox/test"
      && aws_cloudwatch_log_metric_filter.run_succeeded.metric_transformation[0].dimensions == tomap({ Batch = "$.batch" })
      && aws_cloudwatch_log_metric_filter.run_succeeded.metric_transformation[0].default_value == null
    )
    error_message = "RunSucceeded in the environment's namespace, the batch a dimension from the line, no default value"
  }
}

run "the_watcher_gets_a_task_role_of_its_own_that_may_publish_to_the_topic" {
  command = plan

  assert {
    condition     = aws_iam_role.watcher_task[0].name == "batchbox-test-missed-runs-task"
    error_message = "the watcher's task role is its own"
  }
  assert {
    condition = toset([for st in data.aws_iam_policy_document.watcher_task[0].statement : join(",", sort(st.actions))]) == toset([
      "sns:Publish", "kms:Decrypt,kms:GenerateDataKey*",
    ])
    error_message = "the watcher may publish to the topic and use the topic's key for it, nothing else"
  }
  assert {
    condition     = strcontains(aws_iam_role_policy.watcher_task[0].name, "publish") && length(aws_iam_role_policy.task) == 0
    error_message = "the shared task role gets no policy here (no export bucket, no parameters), the watcher's role its own"
  }
}

run "no_watcher_role_without_a_watcher" {
  command = plan

  variables {
    watcher_task_role = false
  }

  assert {
    condition     = length(aws_iam_role.watcher_task) == 0
    error_message = "an environment without the missed-runs entry has no watcher role"
  }
}

# ---------------------------------------------------------------------------------------------------
# Entries that launch tasks (the catalog's `launch`)
# ---------------------------------------------------------------------------------------------------

run "a_launching_entry_gets_a_role_that_may_start_exactly_the_launched_family" {
  command = plan

  variables {
    launchers = {
      "export-enqueue"         = "arn:aws:ecs:ap-northeast-1:123456789012:task-definition/batchbox-test-export-worker"
      "export-enqueue-monthly" = "arn:aws:ecs:ap-northeast-1:123456789012:task-definition/batchbox-test-export-worker"
    }
    export_bucket_name = "batchbox-test-exports"
  }

  # The roles' ARNs as IAM would report them, so that the policies are known at plan.
  override_resource {
    target          = aws_iam_role.execution
    override_during = plan
    values          = { arn = "arn:aws:iam::123456789012:role/batchbox-test-execution" }
  }
  override_resource {
    target          = aws_iam_role.task
    override_during = plan
    values          = { arn = "arn:aws:iam::123456789012:role/batchbox-test-task" }
  }
  override_resource {
    target          = aws_iam_role.launch
    override_during = plan
    values          = { arn = "arn:aws:iam::123456789012:role/batchbox-test-launch" }
  }
  override_resource {
    target          = aws_iam_role.watcher_task
    override_during = plan
    values          = { arn = "arn:aws:iam::123456789012:role/batchbox-test-missed-runs-task" }
  }

  assert {
    condition     = aws_iam_role.launch["export-enqueue"].name == "batchbox-test-export-enqueue-launch" && aws_iam_role.launch["export-enqueue-monthly"].name == "batchbox-test-export-enqueue-monthly-launch"
    error_message = "each launching entry has a task role of its own, named after it"
  }
  assert {
    condition = jsondecode(aws_iam_role_policy.launch["export-enqueue"].policy) == {
      Version = "2012-10-17"
      Statement = [
        {
          Sid       = "RunTheLaunchedTasks"
          Effect    = "Allow"
          Action    = "ecs:RunTask"
          Resource  = "arn:aws:ecs:ap-northeast-1:123456789012:task-definition/batchbox-test-export-worker:*"
          Condition = { ArnEquals = { "ecs:cluster" = "arn:aws:ecs:ap-northeast-1:123456789012:cluster/test" } }
        },
        {
          Sid       = "PassTheLaunchedTasksRoles"
          Effect    = "Allow"
          Action    = "iam:PassRole"
          Resource  = ["arn:aws:iam::123456789012:role/batchbox-test-execution", "arn:aws:iam::123456789012:role/batchbox-test-task"]
          Condition = { StringEquals = { "iam:PassedToService" = "ecs-tasks.amazonaws.com" } }
        },
      ]
    }
    error_message = "the launch policy is exactly: RunTask on the launched family's revisions in this cluster, PassRole to ECS tasks of the execution and shared task roles: ${aws_iam_role_policy.launch["export-enqueue"].policy}"
  }
  assert {
    condition     = output.launch_policies == { for entry, policy in aws_iam_role_policy.launch : entry => policy.policy } && aws_iam_role_policy.launch["export-enqueue"].role == aws_iam_role.launch["export-enqueue"].id
    error_message = "the output shows the policies the launch roles get"
  }
  assert {
    condition     = length(aws_iam_role_policy.launch_batch_permissions) == 2 && alltrue([for entry, p in aws_iam_role_policy.launch_batch_permissions : p.policy == aws_iam_role_policy.task[0].policy && p.name == aws_iam_role_policy.task[0].name])
    error_message = "a launching entry may do what every batch may (the shared task role's policy, the same document)"
  }
  assert {
    condition     = toset(one([for st in jsondecode(aws_iam_role_policy.events.policy).Statement : st.Resource if st.Sid == "PassTheBatchRoles"])) == toset(["arn:aws:iam::123456789012:role/batchbox-test-execution", "arn:aws:iam::123456789012:role/batchbox-test-task", "arn:aws:iam::123456789012:role/batchbox-test-missed-runs-task", "arn:aws:iam::123456789012:role/batchbox-test-launch"])
    error_message = "EventBridge may pass the launch roles to the launching entries' scheduled tasks"
  }
  assert {
    condition     = length([for st in jsondecode(aws_iam_role_policy.events.policy).Statement : st if st.Action == "ecs:RunTask"]) == 0
    error_message = "a launched family that no schedule runs is not in the events role's RunTask statement"
  }
}

run "no_launch_role_without_a_launching_entry" {
  command = plan

  assert {
    condition     = length(aws_iam_role.launch) == 0 && length(aws_iam_role_policy.launch) == 0 && output.launch_task_role_arns == {}
    error_message = "an environment without a launch has no launch role"
  }
}

run "a_launching_entry_without_shared_permissions_gets_the_launch_policy_only" {
  command = plan

  variables {
    launchers = {
      "export-enqueue" = "arn:aws:ecs:ap-northeast-1:123456789012:task-definition/batchbox-test-export-worker"
    }
  }

  assert {
    condition     = length(aws_iam_role_policy.launch_batch_permissions) == 0 && length(aws_iam_role_policy.launch) == 1
    error_message = "no export bucket, no parameters: the launch role has the launch policy only"
  }
}

run "rejects_a_launched_family_with_a_revision" {
  command = plan

  variables {
    launchers = {
      "export-enqueue" = "arn:aws:ecs:ap-northeast-1:123456789012:task-definition/batchbox-test-export-worker:3"
    }
  }

  expect_failures = [var.launchers]
}

# ---------------------------------------------------------------------------------------------------
# The time line report
# ---------------------------------------------------------------------------------------------------

run "the_report_may_write_its_page_and_nothing_else" {
  command = plan

  variables {
    report_task_role   = true
    export_bucket_name = "batchbox-test-exports"
    export_kms_key_arn = "arn:aws:kms:ap-northeast-1:123456789012:key/0a1b2c3d-0000-4000-8000-000000000001"
  }

  assert {
    condition     = aws_iam_role.report_task[0].name == "batchbox-test-history-report-task" && aws_iam_role_policy.report_task[0].name == "write-time-line"
    error_message = "the report has a task role of its own"
  }
  assert {
    condition = jsonencode([for st in data.aws_iam_policy_document.report_task[0].statement : { sid = st.sid, actions = sort(st.actions), resources = sort(st.resources) }]) == jsonencode([
      { sid = "WriteTheTimeLinePage", actions = ["s3:AbortMultipartUpload", "s3:PutObject"], resources = ["arn:aws:s3:::batchbox-test-exports/reports/timeline.html"] },
      { sid = "EncryptThePage", actions = ["kms:Decrypt", "kms:GenerateDataKey"], resources = ["arn:aws:kms:ap-northeast-1:123456789012:key/0a1b2c3d-0000-4000-8000-000000000001"] },
    ])
    error_message = "the report may put its one key (and encrypt it), nothing under the export prefix, no read, no delete: ${jsonencode([for st in data.aws_iam_policy_document.report_task[0].statement : { sid = st.sid, actions = sort(st.actions), resources = sort(st.resources) }])}"
  }
}

run "no_report_role_without_the_report" {
  command = plan

  assert {
    condition     = length(aws_iam_role.report_task) == 0 && length(aws_iam_role_policy.report_task) == 0
    error_message = "an environment without the history-report entry has no report role"
  }
}

run "a_report_key_that_climbs_is_refused" {
  command = plan

  variables {
    report_key = "reports/../exports/x.html"
  }

  expect_failures = [var.report_key]
}

# ---------------------------------------------------------------------------------------------------
# The schedule engines: EventBridge rules (events role) or EventBridge Scheduler (its own role)
# ---------------------------------------------------------------------------------------------------

run "the_rules_engine_has_the_events_role_and_no_scheduler" {
  command = plan

  variables {
    scheduled_task_definition_family_arns = ["arn:aws:ecs:ap-northeast-1:123456789012:task-definition/batchbox-test-canary"]
  }

  override_resource {
    target          = aws_iam_role.execution
    override_during = plan
    values          = { arn = "arn:aws:iam::123456789012:role/batchbox-test-execution" }
  }
  override_resource {
    target          = aws_iam_role.task
    override_during = plan
    values          = { arn = "arn:aws:iam::123456789012:role/batchbox-test-task" }
  }
  override_resource {
    target          = aws_iam_role.watcher_task
    override_during = plan
    values          = { arn = "arn:aws:iam::123456789012:role/batchbox-test-missed-runs-task" }
  }

  assert {
    condition = jsondecode(aws_iam_role_policy.events.policy) == {
      Version = "2012-10-17"
      Statement = [
        {
          Sid       = "RunScheduledBatches"
          Effect    = "Allow"
          Action    = "ecs:RunTask"
          Resource  = ["arn:aws:ecs:ap-northeast-1:123456789012:task-definition/batchbox-test-canary", "arn:aws:ecs:ap-northeast-1:123456789012:task-definition/batchbox-test-canary:*"]
          Condition = { ArnEquals = { "ecs:cluster" = "arn:aws:ecs:ap-northeast-1:123456789012:cluster/test" } }
        },
        {
          Sid       = "TagTheTasksItStarts"
          Effect    = "Allow"
          Action    = "ecs:TagResource"
          Resource  = "arn:aws:ecs:ap-northeast-1:123456789012:task/test/*"
          Condition = { StringEquals = { "ecs:CreateAction" = "RunTask" } }
        },
        {
          Sid       = "PassTheBatchRoles"
          Effect    = "Allow"
          Action    = "iam:PassRole"
          Resource  = ["arn:aws:iam::123456789012:role/batchbox-test-execution", "arn:aws:iam::123456789012:role/batchbox-test-task", "arn:aws:iam::123456789012:role/batchbox-test-missed-runs-task"]
          Condition = { StringEquals = { "iam:PassedToService" = "ecs-tasks.amazonaws.com" } }
        },
      ]
    }
    error_message = "the events role's policy is what it was: RunTask on the scheduled families in the cluster, tagging the tasks it starts, passing the batch roles to ECS tasks: ${aws_iam_role_policy.events.policy}"
  }
  assert {
    condition     = length(aws_scheduler_schedule_group.this) == 0 && length(aws_iam_role.scheduler) == 0 && length(aws_iam_role_policy.scheduler) == 0 && length(aws_cloudwatch_metric_alarm.scheduler) == 0
    error_message = "the rules engine creates no schedule group, Scheduler role or Scheduler alarm"
  }
  assert {
    condition     = output.schedule_group_name == null && output.scheduler_role_arn == null && length(output.scheduler_alarm_names) == 0 && output.scheduler_policy == null
    error_message = "the Scheduler outputs are null or empty with the rules engine"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.events_dlq.alarm_description == "EventBridge could not deliver to a target of batchbox-test (a schedule could not start its task, or a notification could not be published): read the messages in SQS queue batchbox-test-events-dlq (attributes RULE_ARN, ERROR_CODE, ERROR_MESSAGE), fix the cause, then purge the queue."
    error_message = "with the rules engine the dead-letter alarm says what it said before"
  }
}

run "the_scheduler_engine_has_a_group_a_role_of_its_own_and_alarms_on_the_group" {
  command = plan

  variables {
    schedule_engine = "scheduler"
    scheduled_task_definition_family_arns = [
      "arn:aws:ecs:ap-northeast-1:123456789012:task-definition/batchbox-test-canary",
      "arn:aws:ecs:ap-northeast-1:123456789012:task-definition/batchbox-test-history-prune",
    ]
  }

  override_resource {
    target          = aws_iam_role.execution
    override_during = plan
    values          = { arn = "arn:aws:iam::123456789012:role/batchbox-test-execution" }
  }
  override_resource {
    target          = aws_iam_role.task
    override_during = plan
    values          = { arn = "arn:aws:iam::123456789012:role/batchbox-test-task" }
  }
  override_resource {
    target          = aws_iam_role.watcher_task
    override_during = plan
    values          = { arn = "arn:aws:iam::123456789012:role/batchbox-test-missed-runs-task" }
  }
  override_resource {
    target          = aws_sqs_queue.events_dlq
    override_during = plan
    values          = { arn = "arn:aws:sqs:ap-northeast-1:123456789012:batchbox-test-events-dlq" }
  }
  override_resource {
    target          = aws_sns_topic.notifications
    override_during = plan
    values          = { arn = "arn:aws:sns:ap-northeast-1:123456789012:batchbox-test-notifications" }
  }

  assert {
    condition     = aws_scheduler_schedule_group.this[0].name == "batchbox-test" && output.schedule_group_name == "batchbox-test"
    error_message = "one schedule group, named after the environment"
  }
  assert {
    condition = aws_iam_role.scheduler[0].name == "batchbox-test-scheduler" && jsondecode(aws_iam_role.scheduler[0].assume_role_policy) == {
      Version = "2012-10-17"
      Statement = [
        {
          Sid       = "EventBridgeSchedulerOfThisAccount"
          Effect    = "Allow"
          Principal = { Service = "scheduler.amazonaws.com" }
          Action    = "sts:AssumeRole"
          Condition = { StringEquals = { "aws:SourceAccount" = "123456789012" } }
        },
      ]
    }
    error_message = "the Scheduler role is its own, and only EventBridge Scheduler of this account may assume it: ${aws_iam_role.scheduler[0].assume_role_policy}"
  }
  assert {
    condition = jsondecode(aws_iam_role_policy.scheduler[0].policy) == {
      Version = "2012-10-17"
      Statement = [
        {
          Sid       = "RunScheduledBatches"
          Effect    = "Allow"
          Action    = "ecs:RunTask"
          Resource  = ["arn:aws:ecs:ap-northeast-1:123456789012:task-definition/batchbox-test-canary:*", "arn:aws:ecs:ap-northeast-1:123456789012:task-definition/batchbox-test-history-prune:*"]
          Condition = { ArnEquals = { "ecs:cluster" = "arn:aws:ecs:ap-northeast-1:123456789012:cluster/test" } }
        },
        {
          Sid       = "TagTheTasksItStarts"
          Effect    = "Allow"
          Action    = "ecs:TagResource"
          Resource  = "arn:aws:ecs:ap-northeast-1:123456789012:task/test/*"
          Condition = { StringEquals = { "ecs:CreateAction" = "RunTask" } }
        },
        {
          Sid       = "PassTheBatchRoles"
          Effect    = "Allow"
          Action    = "iam:PassRole"
          Resource  = ["arn:aws:iam::123456789012:role/batchbox-test-execution", "arn:aws:iam::123456789012:role/batchbox-test-task", "arn:aws:iam::123456789012:role/batchbox-test-missed-runs-task"]
          Condition = { StringEquals = { "iam:PassedToService" = "ecs-tasks.amazonaws.com" } }
        },
        {
          Sid      = "SendFailedInvocationsToTheDeadLetterQueue"
          Effect   = "Allow"
          Action   = "sqs:SendMessage"
          Resource = "arn:aws:sqs:ap-northeast-1:123456789012:batchbox-test-events-dlq"
        },
      ]
    }
    error_message = "the Scheduler role may run the scheduled families' revisions in the cluster, tag them, pass their roles to ECS tasks and send to the dead-letter queue, nothing else: ${aws_iam_role_policy.scheduler[0].policy}"
  }
  assert {
    condition     = aws_iam_role_policy.scheduler[0].name == "run-scheduled-batches" && output.scheduler_policy == aws_iam_role_policy.scheduler[0].policy
    error_message = "the Scheduler role's policy, and the output shows it"
  }
  assert {
    condition = {
      for name, a in aws_cloudwatch_metric_alarm.scheduler : a.alarm_name => a.metric_name
      } == {
      "batchbox-test-scheduler-target-errors"       = "TargetErrorCount"
      "batchbox-test-scheduler-target-throttled"    = "TargetErrorThrottledCount"
      "batchbox-test-scheduler-throttled"           = "InvocationThrottleCount"
      "batchbox-test-scheduler-invocations-dropped" = "InvocationDroppedCount"
      "batchbox-test-scheduler-dead-letter-failed"  = "InvocationsFailedToBeSentToDeadLetterCount"
    }
    error_message = "alarms on target errors, target throttling, the Scheduler's throttling, dropped invocations and invocations that failed to reach the dead-letter queue"
  }
  assert {
    condition = alltrue([for a in aws_cloudwatch_metric_alarm.scheduler : (
      a.namespace == "AWS/Scheduler" && a.dimensions == tomap({ ScheduleGroup = "batchbox-test" })
      && a.statistic == "Sum" && a.period == 300 && a.evaluation_periods == 1
      && a.comparison_operator == "GreaterThanThreshold" && a.threshold == 0 && a.treat_missing_data == "notBreaching"
      && a.alarm_actions == toset(["arn:aws:sns:ap-northeast-1:123456789012:batchbox-test-notifications"])
      && a.ok_actions == toset(["arn:aws:sns:ap-northeast-1:123456789012:batchbox-test-notifications"])
    )])
    error_message = "each alarm reads the group's metric in AWS/Scheduler, fires on the first count in 5 minutes, treats no data as OK and notifies the topic on ALARM and OK"
  }
  assert {
    condition     = output.scheduler_alarm_names == sort([for a in aws_cloudwatch_metric_alarm.scheduler : a.alarm_name])
    error_message = "the output lists the Scheduler alarms (the dashboard shows them)"
  }
  assert {
    condition     = strcontains(aws_cloudwatch_metric_alarm.events_dlq.alarm_description, "EventBridge Scheduler") && strcontains(aws_cloudwatch_metric_alarm.events_dlq.alarm_description, "SCHEDULE_ARN")
    error_message = "with the Scheduler engine the dead-letter alarm names the Scheduler and its message attributes"
  }
  assert {
    condition     = aws_iam_role.events.name == "batchbox-test-events"
    error_message = "the events role stays (the notification rules do not need it, but a switch back to rules does)"
  }
}

run "rejects_an_unknown_schedule_engine" {
  command = plan

  variables {
    schedule_engine = "cron"
  }

  expect_failures = [var.schedule_engine]
}

# ---------------------------------------------------------------------------------------------------
# The team's chat: the chat topic, the channel configurations and their role
# ---------------------------------------------------------------------------------------------------

run "without_chat_there_is_no_chat_topic_role_or_channel" {
  command = plan

  assert {
    condition = (
      length(aws_sns_topic.chat) == 0 && length(aws_sns_topic_policy.chat) == 0 && length(aws_iam_role.chat) == 0
      && length(aws_chatbot_slack_channel_configuration.this) == 0 && length(aws_chatbot_teams_channel_configuration.this) == 0
      && output.chat_topic_arn == null && output.chat_topic_arn_at_plan == null
    )
    error_message = "nothing of the chat exists without a chat channel"
  }
}

run "a_slack_channel_gets_the_chat_topic_and_a_channel_configuration_on_it_only" {
  command = plan

  variables {
    chat = { slack = { team_id = "T0123456789", channel_id = "C0123456789" } }
  }

  override_resource {
    target          = aws_sns_topic.chat
    override_during = plan
    values          = { arn = "arn:aws:sns:ap-northeast-1:123456789012:batchbox-test-chat" }
  }
  override_resource {
    target          = aws_sns_topic.notifications
    override_during = plan
    values          = { arn = "arn:aws:sns:ap-northeast-1:123456789012:batchbox-test-notifications" }
  }
  override_resource {
    target          = aws_iam_role.chat
    override_during = plan
    values          = { arn = "arn:aws:iam::123456789012:role/batchbox-test-chat" }
  }
  override_resource {
    target          = aws_kms_key.this
    override_during = plan
    values          = { arn = "arn:aws:kms:ap-northeast-1:123456789012:key/11111111-2222-3333-4444-555555555555" }
  }

  assert {
    condition = (
      aws_sns_topic.chat[0].name == "batchbox-test-chat"
      && aws_sns_topic.chat[0].kms_master_key_id == "arn:aws:kms:ap-northeast-1:123456789012:key/11111111-2222-3333-4444-555555555555"
      && output.chat_topic_arn_at_plan == "arn:aws:sns:ap-northeast-1:123456789012:batchbox-test-chat"
    )
    error_message = "the chat topic batchbox-test-chat, encrypted with the environment's key, its ARN known at plan"
  }
  assert {
    condition = jsondecode(aws_sns_topic_policy.chat[0].policy) == {
      Version = "2012-10-17"
      Statement = [
        {
          Sid       = "EventBridgeRulesPublish"
          Effect    = "Allow"
          Principal = { Service = "events.amazonaws.com" }
          Action    = "sns:Publish"
          Resource  = "arn:aws:sns:ap-northeast-1:123456789012:batchbox-test-chat"
        },
        {
          Sid       = "TheAccountUsesTheTopic"
          Effect    = "Allow"
          Principal = { AWS = "arn:aws:iam::123456789012:root" }
          Action = [
            "sns:GetTopicAttributes", "sns:SetTopicAttributes", "sns:AddPermission", "sns:RemovePermission",
            "sns:DeleteTopic", "sns:Subscribe", "sns:ListSubscriptionsByTopic", "sns:Publish",
          ]
          Resource = "arn:aws:sns:ap-northeast-1:123456789012:batchbox-test-chat"
        },
      ]
    }
    error_message = "EventBridge may publish to the chat topic, and nobody outside the account: ${aws_sns_topic_policy.chat[0].policy}"
  }
  assert {
    condition = (
      aws_chatbot_slack_channel_configuration.this["slack"].configuration_name == "batchbox-test-slack"
      && aws_chatbot_slack_channel_configuration.this["slack"].slack_team_id == "T0123456789"
      && aws_chatbot_slack_channel_configuration.this["slack"].slack_channel_id == "C0123456789"
      && aws_chatbot_slack_channel_configuration.this["slack"].sns_topic_arns == toset(["arn:aws:sns:ap-northeast-1:123456789012:batchbox-test-chat"])
      && aws_chatbot_slack_channel_configuration.this["slack"].logging_level == "ERROR"
      && aws_chatbot_slack_channel_configuration.this["slack"].user_authorization_required == false
      && aws_chatbot_slack_channel_configuration.this["slack"].guardrail_policy_arns == tolist(["arn:aws:iam::aws:policy/AWSDenyAll"])
      && aws_chatbot_slack_channel_configuration.this["slack"].iam_role_arn == "arn:aws:iam::123456789012:role/batchbox-test-chat"
      && length(aws_chatbot_teams_channel_configuration.this) == 0
    )
    error_message = "the Slack channel configuration: named, on the chat topic only, ERROR logging, no user authorisation, the deny-all guardrail, the channel role"
  }
  assert {
    condition = (
      aws_iam_role.chat[0].name == "batchbox-test-chat"
      && jsondecode(aws_iam_role.chat[0].assume_role_policy) == jsondecode(data.aws_iam_policy_document.chatbot_assume[0].json)
      && one(data.aws_iam_policy_document.chatbot_assume[0].statement[0].principals).identifiers == toset(["chatbot.amazonaws.com"])
      && data.aws_iam_policy_document.chatbot_assume[0].statement[0].actions == toset(["sts:AssumeRole"])
    )
    error_message = "the channel role batchbox-test-chat is trusted by chatbot.amazonaws.com only"
  }
  assert {
    condition     = data.aws_iam_policy_document.watcher_task[0].statement[0].resources == toset(["arn:aws:sns:ap-northeast-1:123456789012:batchbox-test-notifications", "arn:aws:sns:ap-northeast-1:123456789012:batchbox-test-chat"])
    error_message = "the watcher may publish to both topics (the KMS statement covers the one key)"
  }
}

run "the_watcher_publishes_to_the_notification_topic_only_without_chat" {
  command = plan

  override_resource {
    target          = aws_sns_topic.notifications
    override_during = plan
    values          = { arn = "arn:aws:sns:ap-northeast-1:123456789012:batchbox-test-notifications" }
  }

  assert {
    condition     = data.aws_iam_policy_document.watcher_task[0].statement[0].resources == toset(["arn:aws:sns:ap-northeast-1:123456789012:batchbox-test-notifications"])
    error_message = "without chat the watcher's permissions are as before"
  }
}

run "a_teams_channel_gets_its_configuration" {
  command = plan

  variables {
    chat = { teams = { tenant_id = "00000000-0000-0000-0000-000000000001", team_id = "00000000-0000-0000-0000-000000000002", channel_id = "19%3aabc123%40thread.tacv2" } }
  }

  assert {
    condition = (
      aws_chatbot_teams_channel_configuration.this["teams"].configuration_name == "batchbox-test-teams"
      && aws_chatbot_teams_channel_configuration.this["teams"].tenant_id == "00000000-0000-0000-0000-000000000001"
      && aws_chatbot_teams_channel_configuration.this["teams"].team_id == "00000000-0000-0000-0000-000000000002"
      && aws_chatbot_teams_channel_configuration.this["teams"].channel_id == "19%3aabc123%40thread.tacv2"
      && aws_chatbot_teams_channel_configuration.this["teams"].logging_level == "ERROR"
      && aws_chatbot_teams_channel_configuration.this["teams"].user_authorization_required == false
      && aws_chatbot_teams_channel_configuration.this["teams"].guardrail_policy_arns == tolist(["arn:aws:iam::aws:policy/AWSDenyAll"])
      && length(aws_chatbot_slack_channel_configuration.this) == 0
    )
    error_message = "the Teams channel configuration, as the Slack one"
  }
}

run "create_channels_false_keeps_the_topic_and_creates_no_channel" {
  command = plan

  variables {
    chat = {
      slack           = { team_id = "T0123456789", channel_id = "C0123456789" }
      teams           = { tenant_id = "00000000-0000-0000-0000-000000000001", team_id = "00000000-0000-0000-0000-000000000002", channel_id = "19%3aabc123%40thread.tacv2" }
      create_channels = false
    }
  }

  assert {
    condition = (
      length(aws_sns_topic.chat) == 1 && length(aws_sns_topic_policy.chat) == 1
      && length(aws_chatbot_slack_channel_configuration.this) == 0 && length(aws_chatbot_teams_channel_configuration.this) == 0
      && length(aws_iam_role.chat) == 0
    )
    error_message = "the topic, but no channel configuration and no channel role"
  }
}

run "rejects_chat_without_a_channel" {
  command = plan

  variables {
    chat = {}
  }

  expect_failures = [var.chat]
}
