# The same failure and stop notifications, for the team's chat: a second target on each rule that
# publishes a custom notification of Amazon Q Developer in chat applications (Administrator Guide,
# "Custom notifications using Amazon Q Developer in chat applications": version 1.0, source custom,
# content, metadata) to the chat topic. The e-mail target above stays as it is.
#
# EventBridge does not escape a value it inserts inside a quoted string of the template (User Guide,
# "Amazon EventBridge input transformation", "Common issues": "EventBridge doesn't escape values
# extracted by Input Path"), so a double quote, a backslash or a line break in a value would make
# the message invalid JSON, which the chat drops. So only values whose form AWS fixes appear inside
# the message's strings: the exit code (a number), the stop code (an ECS enumeration), the stop time
# (a timestamp) and the task ARN. The free-text stopped and container reasons are left to the
# e-mail; the chat message says so. (A value inserted unquoted becomes a JSON value of its own, but
# a path missing from the event then leaves nothing, and the message is invalid again; ECS does not
# document these reasons as always present.)

locals {
  chat_enabled = var.chat_topic_arn != null

  chat_kinds = {
    failed = {
      emoji      = ":red_circle:"
      headline   = "batchbox ${local.environment_label}: ${var.name}${local.batch_note} FAILED"
      event_type = "batch-task-failed"
      exit_note  = "1 failed; 2 usage or configuration error; 124 timed out; 137 killed (out of memory or no exit within the stop timeout); 143 interrupted; empty: the container never ran"
      next_steps = [
        "Read the end of the task's log stream (the link above) for the error",
        "Empty exit code: the task never ran; the stopped reason in the e-mail notification says why (image, secrets, network)",
        "Rerun the batch once the cause is fixed, as the runbook section says",
      ]
    }
    stopped = {
      emoji      = ":large_yellow_circle:"
      headline   = "batchbox ${local.environment_label}: ${var.name}${local.batch_note} STOPPED ON PURPOSE"
      event_type = "batch-task-stopped"
      exit_note  = "143 stopped cleanly on SIGTERM; 137 killed after the stop timeout; 0 had already finished"
      next_steps = [
        "Check that the stop was meant (a cancelled run-batch, someone's StopTask): it is not a failure of the batch",
        "If it was not meant, rerun the batch as the runbook section says",
      ]
    }
  }

  chat_runbook = {
    for kind, r in local.runbook : kind => (
      var.runbook_url == null
      ? "docs/operations.md section '${r.section}'"
      : "[docs/operations.md: ${r.section}](${var.runbook_url}#${r.anchor})"
    )
  }

  # The messages as objects; <name> marks where EventBridge inserts a value. After a placeholder,
  # the rest of its string has no comma and no closing brace: LocalStack's renderer (the judge in
  # scripts/check-terraform) takes a placeholder followed by one of them before the closing quote
  # for an unquoted one.
  chat_messages = {
    for kind, k in local.chat_kinds : kind => {
      version = "1.0"
      source  = "custom"
      content = {
        textType = "client-markdown"
        title    = "${k.emoji} ${k.headline}"
        description = join("\n", [
          "*Entry:* ${var.name}, batch ${local.batch} (task definition family ${local.family})",
          "*Environment:* ${local.environment_label}",
          "*Exit code:* <exitCode> (${k.exit_note})",
          "*Stop code:* <stopCode>",
          "*Stopped at (UTC):* <stoppedAt>",
          "*Task:* <task>",
          "*Logs:* [this entry's log streams](${local.console_log_streams_url}) (newest first; stream ${var.name}/batch/TASK_ID with TASK_ID the last part of the task ARN)",
          "*Runbook:* ${local.chat_runbook[kind]}",
          "The stopped and container reasons are in the e-mail notification of the same task.",
        ])
        nextSteps = k.next_steps
        keywords  = [local.environment_label, var.name, local.batch]
      }
      metadata = {
        threadId         = "${var.name_prefix}-${var.name}"
        summary          = k.headline
        eventType        = k.event_type
        relatedResources = ["<task>"]
        additionalContext = {
          environment = local.environment_label
          entry       = var.name
          batch       = local.batch
          exitCode    = "<exitCode>"
          stopCode    = "<stopCode>"
        }
      }
    }
  }

  # jsonencode writes < and > as \u003c and \u003e; EventBridge needs the placeholders as they are.
  # No literal text holds an angle bracket (names, the runbook URL and the texts above exclude them).
  chat_templates = {
    for kind, m in local.chat_messages : kind => replace(replace(jsonencode(m), "\\u003c", "<"), "\\u003e", ">")
  }
}

resource "aws_cloudwatch_event_target" "chat" {
  for_each = local.chat_enabled ? local.chat_templates : {}

  rule      = aws_cloudwatch_event_rule.notify[each.key].name
  target_id = "chat"
  arn       = var.chat_topic_arn
  # No role_arn, as the e-mail target: the chat topic's policy lets EventBridge publish.

  input_transformer {
    input_paths = {
      task      = "$.detail.taskArn"
      exitCode  = "$.detail.containers[0].exitCode"
      stopCode  = "$.detail.stopCode"
      stoppedAt = "$.detail.stoppedAt"
    }
    input_template = each.value
  }

  # As the e-mail target: EventBridge's documented maximum, then the dead-letter queue.
  retry_policy {
    maximum_event_age_in_seconds = 86400
    maximum_retry_attempts       = 185
  }

  dead_letter_config {
    arn = var.dead_letter_queue_arn
  }
}
