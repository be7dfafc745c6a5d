# The team's chat: a topic of its own, read by Amazon Q Developer in chat applications (formerly AWS
# Chatbot), which renders only its custom notification JSON ({"version":"1.0","source":"custom",...};
# Administrator Guide, "Custom notifications using Amazon Q Developer in chat applications").
# The e-mail topic's messages are plain text, and an EventBridge SNS target cannot set
# MessageStructure, so the chat gets a second topic that carries custom notifications only: the
# second targets of the failure and stop rules, the alarms rule (batch_environment) and the
# missed-runs watcher publish there. Everything here exists only when a chat channel is given.

locals {
  chat_enabled = var.chat != null
  # The channel configurations, unless the environment has no Chatbot API (the local emulator).
  chat_channels = local.chat_enabled ? var.chat.create_channels : false
  chat_slack    = local.chat_channels && try(var.chat.slack != null, false) ? { slack = var.chat.slack } : {}
  chat_teams    = local.chat_channels && try(var.chat.teams != null, false) ? { teams = var.chat.teams } : {}

  # Known at plan, as the notification topic's (a postcondition on the topic proves it).
  chat_topic_name = "${var.name_prefix}-chat"
  chat_topic_arn  = "arn:${local.partition}:sns:${local.region}:${local.account_id}:${local.chat_topic_name}"

  # Guardrail of every channel. Without one, AdministratorAccess applies (Amazon Q Developer in chat
  # applications API Reference, CreateSlackChannelConfiguration / CreateMicrosoftTeamsChannelConfiguration,
  # GuardrailPolicyArns: "The AWS managed AdministratorAccess policy is applied by default if this is
  # not set"). A guardrail caps what the channel role and the users' roles may do from the channel;
  # these channels only receive custom notifications, which need no permission at all (delivery does
  # not use the channel role), and run no commands. So the narrowest AWS managed policy, AWSDenyAll
  # (AWS Managed Policy Reference Guide: it denies every action), is the guardrail: nothing anyone
  # adds to the channel role later can be used from the chat.
  chat_guardrail_policy_arns = ["arn:${local.partition}:iam::aws:policy/AWSDenyAll"]
}

resource "aws_sns_topic" "chat" {
  count = local.chat_enabled ? 1 : 0

  name              = local.chat_topic_name
  display_name      = "${var.name_prefix} chat"
  kms_master_key_id = local.kms_key_arn

  lifecycle {
    postcondition {
      condition     = self.arn == local.chat_topic_arn
      error_message = "The chat topic's ARN ${self.arn} differs from ${local.chat_topic_arn}, built from the account, region and name: the rules and the watcher would publish elsewhere."
    }
  }
}

resource "aws_sns_topic_policy" "chat" {
  count = local.chat_enabled ? 1 : 0

  arn = aws_sns_topic.chat[0].arn

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      # As the notification topic's: the documented statement, no condition (Amazon EventBridge
      # User Guide, "Using resource-based policies for Amazon EventBridge", "Amazon SNS permissions").
      {
        Sid       = "EventBridgeRulesPublish"
        Effect    = "Allow"
        Principal = { Service = "events.amazonaws.com" }
        Action    = "sns:Publish"
        Resource  = aws_sns_topic.chat[0].arn
      },
      # The account's own principals (the watcher's task role, Terraform, the Chatbot subscription
      # made by the deployer), as far as their IAM policies allow; nobody outside the account.
      {
        Sid       = "TheAccountUsesTheTopic"
        Effect    = "Allow"
        Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
        Action = [
          "sns:GetTopicAttributes", "sns:SetTopicAttributes", "sns:AddPermission", "sns:RemovePermission",
          "sns:DeleteTopic", "sns:Subscribe", "sns:ListSubscriptionsByTopic", "sns:Publish",
        ]
        Resource = aws_sns_topic.chat[0].arn
      },
    ]
  })
}

# ---------------------------------------------------------------------------------------------------
# The channel configurations and their role
# ---------------------------------------------------------------------------------------------------
# The channel role: trusted by chatbot.amazonaws.com, with no policy. Custom notifications need no
# permission: the Administrator Guide's notification permissions ("Notifications only" policy
# template, CloudWatch Describe/Get/List) serve the charts Chatbot adds to CloudWatch alarm
# notifications it renders itself, which this chat does not receive; commands are off (guardrail).
data "aws_iam_policy_document" "chatbot_assume" {
  count = local.chat_channels ? 1 : 0

  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["chatbot.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "chat" {
  count = local.chat_channels ? 1 : 0

  name               = "${var.name_prefix}-chat"
  description        = "Channel role of the chat channels of ${var.name_prefix}: receives custom notifications only, no permissions."
  assume_role_policy = data.aws_iam_policy_document.chatbot_assume[0].json
}

resource "aws_chatbot_slack_channel_configuration" "this" {
  for_each = local.chat_slack

  configuration_name = "${var.name_prefix}-slack"
  slack_team_id      = each.value.team_id
  slack_channel_id   = each.value.channel_id
  iam_role_arn       = aws_iam_role.chat[0].arn
  # The ARN known at plan (the topic's postcondition proves it), once the topic and its policy exist.
  sns_topic_arns              = [local.chat_topic_arn]
  logging_level               = "ERROR"
  user_authorization_required = false
  guardrail_policy_arns       = local.chat_guardrail_policy_arns

  depends_on = [aws_sns_topic_policy.chat]
}

resource "aws_chatbot_teams_channel_configuration" "this" {
  for_each = local.chat_teams

  configuration_name = "${var.name_prefix}-teams"
  tenant_id          = each.value.tenant_id
  team_id            = each.value.team_id
  channel_id         = each.value.channel_id
  iam_role_arn       = aws_iam_role.chat[0].arn
  # The ARN known at plan (the topic's postcondition proves it), once the topic and its policy exist.
  sns_topic_arns              = [local.chat_topic_arn]
  logging_level               = "ERROR"
  user_authorization_required = false
  guardrail_policy_arns       = local.chat_guardrail_policy_arns

  depends_on = [aws_sns_topic_policy.chat]
}
