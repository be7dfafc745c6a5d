# The team's chat: the chat topic, the channel configurations and their role (batch_platform), the
# second targets of every entry's failure and stop rules (scheduled_batch), the watcher's
# WATCH_CHAT_TOPIC_ARN (main.tf) and, here, this environment's alarms as custom notifications of
# Amazon Q Developer in chat applications. All of it exists only when a Slack or a Teams channel is
# given (variables.tf).

locals {
  chat_slack = var.chat_slack_team_id == null ? null : {
    team_id    = var.chat_slack_team_id
    channel_id = var.chat_slack_channel_id
  }
  chat_teams = var.chat_teams_tenant_id == null ? null : {
    tenant_id  = var.chat_teams_tenant_id
    team_id    = var.chat_teams_team_id
    channel_id = var.chat_teams_channel_id
  }
  chat_enabled = local.chat_slack != null || local.chat_teams != null
  chat = local.chat_enabled ? {
    slack           = local.chat_slack
    teams           = local.chat_teams
    create_channels = var.create_chat_channels
  } : null

  alarms_to_chat_rule_name = "${local.name_prefix}-alarms-to-chat"
  region                   = data.aws_region.current.name
  alarms_runbook = (
    var.runbook_url == null
    ? "docs/operations.md (the section the alarm's description names)"
    : "[docs/operations.md](${var.runbook_url}) (the section the alarm's description names)"
  )

  # CloudWatch Alarm State Change (Amazon CloudWatch User Guide, "Alarm events and EventBridge"):
  # detail.alarmName, detail.state {value, reason, timestamp}, detail.previousState {...}. Inside
  # the message's strings only values whose form is fixed: the alarm name (this environment's
  # alarms are named by this configuration: letters, digits, hyphens), the states (OK, ALARM,
  # INSUFFICIENT_DATA) and the timestamp. The reason is free text and EventBridge does not escape a
  # value inside a string, so it is inserted unquoted, as a JSON string of its own (the documented
  # "Simple JSON" form), in additionalContext: the event always has it.
  alarm_chat_message = {
    version = "1.0"
    source  = "custom"
    content = {
      textType = "client-markdown"
      title    = ":rotating_light: batchbox ${var.environment}: alarm <alarmName> is <state>"
      description = join("\n", [
        "*Alarm:* [<alarmName>](https://${local.region}.console.aws.amazon.com/cloudwatch/home?region=${local.region}#alarmsV2:alarm/<alarmName>)",
        "*Environment:* ${var.environment}",
        "*State:* <state> (was <previousState>)",
        "*Since (UTC):* <stateTime>",
        "*Runbook:* ${local.alarms_runbook}",
        "The alarm's reason is in the e-mail notification of the same change and on the alarm's page.",
      ])
      nextSteps = [
        "Open the alarm (the link above): its description says what the state means and which runbook section applies",
        "OK after ALARM or INSUFFICIENT_DATA: the condition has cleared",
      ]
      keywords = [var.environment, "alarm"]
    }
    metadata = {
      threadId         = "${local.name_prefix}-alarm-<alarmName>"
      summary          = "batchbox ${var.environment}: alarm <alarmName> is <state>"
      eventType        = "batch-alarm-state-change"
      relatedResources = ["<alarmArn>"]
      additionalContext = {
        environment   = var.environment
        alarmName     = "<alarmName>"
        state         = "<state>"
        previousState = "<previousState>"
        reason        = "<<reason>>"
      }
    }
  }
  alarm_chat_template = replace(replace(replace(jsonencode(local.alarm_chat_message),
    "\"\\u003c\\u003creason\\u003e\\u003e\"", "<reason>"),
  "\\u003c", "<"), "\\u003e", ">")
}

data "aws_region" "current" {}

resource "aws_cloudwatch_event_rule" "alarms_to_chat" {
  count = local.chat_enabled ? 1 : 0

  name        = local.alarms_to_chat_rule_name
  description = "State changes of the alarms of ${local.name_prefix} (names ${local.name_prefix}-...), to the team's chat"
  state       = "ENABLED"

  event_pattern = jsonencode({
    source        = ["aws.cloudwatch"]
    "detail-type" = ["CloudWatch Alarm State Change"]
    detail = {
      alarmName = [{ prefix = "${local.name_prefix}-" }]
    }
  })
}

resource "aws_cloudwatch_event_target" "alarms_to_chat" {
  count = local.chat_enabled ? 1 : 0

  rule      = aws_cloudwatch_event_rule.alarms_to_chat[0].name
  target_id = "chat"
  # Known at plan (the topic's postcondition proves it); EventBridge publishes once the policy lets it.
  arn        = module.platform.chat_topic_arn_at_plan
  depends_on = [module.platform]

  input_transformer {
    input_paths = {
      alarmName     = "$.detail.alarmName"
      alarmArn      = "$.resources[0]"
      state         = "$.detail.state.value"
      previousState = "$.detail.previousState.value"
      stateTime     = "$.detail.state.timestamp"
      reason        = "$.detail.state.reason"
    }
    input_template = local.alarm_chat_template
  }

  # As the notification targets: EventBridge's documented maximum, then the dead-letter queue.
  retry_policy {
    maximum_event_age_in_seconds = 86400
    maximum_retry_attempts       = 185
  }

  dead_letter_config {
    arn = module.platform.dead_letter_queue_arn
  }
}
