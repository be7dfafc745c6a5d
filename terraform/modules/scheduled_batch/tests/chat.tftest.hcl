# The chat targets of the failure and stop rules (offline: a mock provider, plan only).

mock_provider "aws" {
  source = "../testing/aws"
}

variables {
  name                = "export-enqueue-monthly"
  batch               = "export-enqueue"
  name_prefix         = "batchbox-test"
  description         = "Queue last month's exports"
  schedule_expression = "cron(50 15 L * ? *)"
  args                = ["--monthly"]
  cpu                 = 256
  memory              = 512
  image               = "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/batchbox:1.0.0"
  secrets = {
    DATABASE_URL = "arn:aws:ssm:ap-northeast-1:123456789012:parameter/batchbox/test/database-url"
  }
  environment           = { RUST_LOG = "info" }
  alarm_topic_arn       = "arn:aws:sns:ap-northeast-1:123456789012:batchbox-test-notifications"
  execution_role_arn    = "arn:aws:iam::123456789012:role/batchbox-test-execution"
  task_role_arn         = "arn:aws:iam::123456789012:role/batchbox-test-task"
  events_role_arn       = "arn:aws:iam::123456789012:role/batchbox-test-events"
  log_group_name        = "/ecs/batchbox-test"
  cluster_arn           = "arn:aws:ecs:ap-northeast-1:123456789012:cluster/test"
  subnet_ids            = ["subnet-0a1b2c3d4e5f60001"]
  security_group_ids    = ["sg-0a1b2c3d4e5f60001"]
  dead_letter_queue_arn = "arn:aws:sqs:ap-northeast-1:123456789012:batchbox-test-events-dlq"
  environment_name      = "test"
}

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
    chat_topic_arn = "arn:aws:sqs:ap-northeast-1:123456789012:batchbox-test-chat"
  }

  expect_failures = [var.chat_topic_arn]
}
