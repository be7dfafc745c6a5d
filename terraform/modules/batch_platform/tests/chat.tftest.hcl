# The chat topic, the channel configurations and their role (offline: a mock provider, plan only).

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
