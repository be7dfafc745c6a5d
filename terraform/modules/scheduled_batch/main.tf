# One catalog entry of batchbox (a named schedule of one batch): a Fargate task definition whose
# container `batch` runs `batch <batch> <args>`; two rules that notify when one of its tasks fails
# or is stopped on purpose; and, when the entry has a schedule, an EventBridge rule and its ECS
# target. Everything is named after the entry, so several entries may run the same batch. Every rule's target has the environment's
# dead-letter queue and an alarm on the rule's FailedInvocations. Whether a scheduled run happened
# and succeeded is not judged here: the environment's missed-runs watcher does that for every entry
# against its real schedule (modules/batch_environment).

data "aws_region" "current" {}

locals {
  family    = "${var.name_prefix}-${var.name}"
  scheduled = var.schedule_expression != null
  # Which engine fires the schedule: an EventBridge rule (cron in UTC) or an EventBridge Scheduler
  # schedule (cron in the entry's zone). Nothing else differs between the two.
  rule_scheduled      = local.scheduled && var.schedule_engine == "rules"
  scheduler_scheduled = local.scheduled && var.schedule_engine == "scheduler"
  # The batch the entry runs; an entry named after its batch (the catalog's shorthand) by default.
  batch = coalesce(var.batch, var.name)
  # How the notifications name the entry: with its batch when that is another name.
  batch_note = local.batch == var.name ? "" : " (batch ${local.batch})"
  label      = local.batch == var.name ? "batch ${var.name}" : "entry ${var.name}${local.batch_note}"

  # The family ARN without revision, built from the cluster's ARN (same partition, region and
  # account) so that it is known at plan time: a new revision then changes nothing but the task
  # definition, and the target and the events role policy stay as they are. A postcondition on the
  # task definition proves it equals the ARN that ECS reports.
  family_arn = "${regex("^(arn:[^:]+:ecs:[^:]+:[0-9]{12}):cluster/", var.cluster_arn)[0]}:task-definition/${local.family}"

  # Names and their AWS limits (API references: EventBridge PutRule Name 1-64 characters of
  # [.-_A-Za-z0-9]; EventBridge Scheduler CreateSchedule Name 1-64 characters of [0-9a-zA-Z-_.];
  # ECS RegisterTaskDefinition family up to 255 letters, digits, hyphens and
  # underscores; CloudWatch PutMetricAlarm AlarmName 1-255; CloudWatch Logs CreateLogStream
  # logStreamName 1-512 without ':' or '*'). The patterns of name and
  # name_prefix already keep to the character sets; a precondition on the task definition checks
  # the lengths.
  failed_rule_name  = "${local.family}-failed"
  stopped_rule_name = "${local.family}-stopped"
  generated_names = [
    { what = "task definition family", name = local.family, limit = 255 },
    { what = "EventBridge rule", name = local.family, limit = 64 },
    { what = "EventBridge Scheduler schedule", name = local.family, limit = 64 },
    { what = "EventBridge rule", name = local.failed_rule_name, limit = 64 },
    { what = "EventBridge rule", name = local.stopped_rule_name, limit = 64 },
    { what = "CloudWatch alarm", name = "${local.stopped_rule_name}-failed-invocations", limit = 255 },
    { what = "log stream (prefix/container/task id)", name = "${var.name}/batch/0123456789abcdef0123456789abcdef", limit = 512 },
  ]

  # BATCH_ENTRY tells the run which catalog entry it serves (recorded in its run history).
  environment           = merge(var.environment, { BATCH_ENTRY = var.name })
  container_environment = [for k in sort(keys(local.environment)) : { name = k, value = local.environment[k] }]
  container_secrets     = [for k in sort(keys(var.secrets)) : { name = k, valueFrom = var.secrets[k] }]
}

resource "aws_ecs_task_definition" "this" {
  family                   = local.family
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = tostring(var.cpu)
  memory                   = tostring(var.memory)
  execution_role_arn       = var.execution_role_arn
  task_role_arn            = var.task_role_arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.cpu_architecture
  }

  # The root file system is read-only; the batch writes its temporary files (e.g. workbooks being
  # built) to /tmp, a volume on the task's ephemeral storage.
  volume {
    name = "tmp"
  }

  container_definitions = jsonencode([
    {
      name                   = "batch"
      image                  = var.image
      essential              = true
      command                = concat([local.batch], var.args)
      environment            = local.container_environment
      secrets                = local.container_secrets
      readonlyRootFilesystem = true
      stopTimeout            = var.stop_timeout_seconds
      mountPoints = [
        { sourceVolume = "tmp", containerPath = "/tmp", readOnly = false }
      ]
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = var.log_group_name
          awslogs-region        = data.aws_region.current.name
          awslogs-stream-prefix = var.name
          # Explicit, because ECS changed the default to non-blocking in June 2025 (Amazon ECS
          # Developer Guide, "Amazon ECS account settings", default log driver mode). Blocking
          # keeps every line, above all the `run finished` line that the RunSucceeded metric
          # (and so the watcher's alarm) and the run's record rely on; a batch has no traffic to keep serving while CloudWatch Logs
          # is slow, and a start-up failure to reach it stops the task loudly (failure rule)
          # instead of losing lines. docs/operations.md, "Log delivery", has the trade-off.
          mode = "blocking"
        }
      }
    }
  ])

  lifecycle {
    # Register the new revision before the old one is deregistered, so the family always has an
    # ACTIVE revision for the schedule target to run.
    create_before_destroy = true

    # Every name this batch generates against its AWS limit, at plan time: the API would refuse it
    # only at apply, after merge.
    precondition {
      condition     = alltrue([for n in local.generated_names : length(n.name) <= n.limit])
      error_message = "Catalog entry \"${var.name}\" in ${var.name_prefix}: a generated name is longer than AWS allows: ${join("; ", [for n in local.generated_names : "${n.what} ${n.name} has ${length(n.name)} characters, at most ${n.limit}" if length(n.name) > n.limit])}. Shorten the entry name (or the environment name)."
    }

    postcondition {
      condition     = self.arn_without_revision == local.family_arn
      error_message = "The task definition family ARN ${self.arn_without_revision} differs from ${local.family_arn}, derived from cluster_arn: the cluster must be in the same account and region as the batches."
    }
  }
}

resource "aws_cloudwatch_event_rule" "this" {
  count = local.rule_scheduled ? 1 : 0

  name                = local.family
  description         = var.description
  schedule_expression = var.schedule_expression
  state               = var.enabled ? "ENABLED" : "DISABLED"
}

resource "aws_cloudwatch_event_target" "this" {
  count = local.rule_scheduled ? 1 : 0

  # The family ARN is a plain string; still create the target only once the family exists.
  depends_on = [aws_ecs_task_definition.this]

  rule      = aws_cloudwatch_event_rule.this[0].name
  target_id = "run-task"
  arn       = var.cluster_arn
  role_arn  = var.events_role_arn

  ecs_target {
    # The family ARN without a revision: every run uses the latest ACTIVE revision, so a new image
    # (a new revision) never leaves the schedule on an old one.
    task_definition_arn     = local.family_arn
    task_count              = var.task_count
    launch_type             = "FARGATE"
    platform_version        = "LATEST"
    propagate_tags          = "TASK_DEFINITION"
    enable_ecs_managed_tags = true

    network_configuration {
      subnets          = var.subnet_ids
      security_groups  = var.security_group_ids
      assign_public_ip = var.assign_public_ip
    }
  }

  # Tell the run which scheduled time it serves: the event's `time` becomes BATCH_SCHEDULED_TIME.
  input_transformer {
    input_paths = {
      time = "$.time"
    }
    input_template = "{\"containerOverrides\":[{\"name\":\"batch\",\"environment\":[{\"name\":\"BATCH_SCHEDULED_TIME\",\"value\":\"<time>\"}]}]}"
  }

  # RunTask errors EventBridge may retry (throttling, capacity) are retried for up to an hour, so
  # a run starts late rather than never; then, or at once for errors retrying cannot fix (events
  # role, PassRole, a deleted subnet or security group, no ACTIVE revision), the event goes to the
  # dead-letter queue, which alarms. Amazon EventBridge User Guide, "Event retry policy and using
  # dead-letter queues" (eb-rule-dlq).
  retry_policy {
    maximum_event_age_in_seconds = 3600
    maximum_retry_attempts       = 3
  }

  dead_letter_config {
    arn = var.dead_letter_queue_arn
  }
}

# ---------------------------------------------------------------------------------------------------
# The schedule as an EventBridge Scheduler schedule (schedule_engine = "scheduler")
# ---------------------------------------------------------------------------------------------------
# The same run as the rule's target (the family without revision, Fargate, the network, the tags,
# the retry policy and the dead-letter queue), with the cron read in the entry's time zone: the
# Scheduler follows its daylight saving time (a fire time the spring change skips does not run that
# day; one the autumn change repeats runs once: EventBridge Scheduler User Guide, "Schedule types").
#
# No `input`: the Scheduler API's EcsParameters has no container overrides, and what a templated
# ECS target does with Input is not documented. So a run the Scheduler starts carries no
# BATCH_SCHEDULED_TIME; the missed-runs watcher matches it to its fire time by its start time.
resource "aws_scheduler_schedule" "this" {
  #checkov:skip=CKV_AWS_297:The schedule holds no secret: no input, only the family ARN, the network ids and the role; EventBridge Scheduler encrypts it with an AWS owned key, and a customer managed key would add key-policy grants for the Scheduler role and every deployer without protecting anything.
  count = local.scheduler_scheduled ? 1 : 0

  # The family ARN is a plain string; still create the schedule only once the family exists.
  depends_on = [aws_ecs_task_definition.this]

  name                         = local.family
  group_name                   = var.schedule_group_name
  description                  = var.description
  schedule_expression          = var.schedule_expression
  schedule_expression_timezone = coalesce(var.schedule_timezone, "UTC")
  state                        = var.enabled ? "ENABLED" : "DISABLED"

  # On the minute, as a rule fires: no window in which the Scheduler may choose the time.
  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = var.cluster_arn
    role_arn = var.scheduler_role_arn

    ecs_parameters {
      # The family ARN without a revision: every run uses the latest ACTIVE revision.
      task_definition_arn     = local.family_arn
      task_count              = var.task_count
      launch_type             = "FARGATE"
      platform_version        = "LATEST"
      propagate_tags          = "TASK_DEFINITION"
      enable_ecs_managed_tags = true

      network_configuration {
        subnets          = var.subnet_ids
        security_groups  = var.security_group_ids
        assign_public_ip = var.assign_public_ip
      }
    }

    # As the rule's target: RunTask errors the Scheduler may retry (throttling, capacity) are
    # retried for up to an hour, so a run starts late rather than never; then the invocation goes
    # to the dead-letter queue, which alarms (EventBridge Scheduler User Guide, "Configuring a
    # schedule's retry policy" and "Configuring a schedule's dead-letter queue").
    retry_policy {
      maximum_event_age_in_seconds = 3600
      maximum_retry_attempts       = 3
    }

    dead_letter_config {
      arn = var.dead_letter_queue_arn
    }
  }

  lifecycle {
    precondition {
      condition     = var.schedule_group_name != null && var.scheduler_role_arn != null
      error_message = "Catalog entry \"${var.name}\": schedule_engine = \"scheduler\" needs schedule_group_name and scheduler_role_arn (batch_platform creates both with the scheduler engine)."
    }
  }
}

# ---------------------------------------------------------------------------------------------------
# Notifications: a task of this batch failed, or was stopped on purpose
# ---------------------------------------------------------------------------------------------------
# One pair of rules per entry (rather than one rule for the environment) so that each message can
# name the entry and its batch and link to its own log streams: an input transformer copies event
# values but cannot cut the entry out of the family name or the task id out of the task ARN.

locals {
  region            = data.aws_region.current.name
  environment_label = coalesce(var.environment_name, var.name_prefix)
  family_arn_prefix = "${local.family_arn}:" # revisions of this family only, not <family>-other:N

  # The CloudWatch console's log group page, filtered to this entry's streams (<entry>/batch/<task
  # id>); the console encodes '/' in the fragment as $252F, '?' as $3F and '=' as $3D.
  console_log_streams_url = join("", [
    "https://${local.region}.console.aws.amazon.com/cloudwatch/home?region=${local.region}#logsV2:log-groups/log-group/",
    replace(var.log_group_name, "/", "$252F"),
    "$3FlogStreamNameFilter$3D",
    replace("${var.name}/batch/", "/", "$252F"),
  ])

  runbook = {
    failed  = { section = "A batch task failed", anchor = "a-batch-task-failed" }
    stopped = { section = "A batch task was stopped on purpose", anchor = "a-batch-task-was-stopped-on-purpose" }
  }
  runbook_line = {
    for kind, r in local.runbook : kind => (
      var.runbook_url == null
      ? "Runbook: docs/operations.md, section '${r.section}'."
      : "Runbook: docs/operations.md, section '${r.section}': ${var.runbook_url}#${r.anchor}"
    )
  }

  # ECS Task State Change events (Amazon ECS Developer Guide, "Amazon ECS task state change events")
  # of this family's tasks in this cluster that reached STOPPED.
  stopped_task_of_this_batch = {
    clusterArn        = [var.cluster_arn]
    lastStatus        = ["STOPPED"]
    taskDefinitionArn = [{ prefix = local.family_arn_prefix }]
  }

  notification_rules = {
    failed = {
      name        = local.failed_rule_name
      description = "A ${var.name}${local.batch_note} task (${local.environment_label}) stopped with a non-zero exit code of its batch container, or never started"
      # Not stopped on purpose (UserInitiated has its own rule), and the `batch` container exited
      # non-zero (1 failed, 2 usage or configuration, 124 timed out, 137 killed, 143 interrupted)
      # or has no exit code (it never ran), or ECS could not start the task at all.
      pattern = merge(local.stopped_task_of_this_batch, {
        "$or" = [
          { stopCode = [{ "anything-but" = ["UserInitiated"] }], containers = { name = ["batch"], exitCode = [{ "anything-but" = [0] }] } },
          { stopCode = [{ "anything-but" = ["UserInitiated"] }], containers = { name = ["batch"], exitCode = [{ exists = false }] } },
          { stopCode = ["TaskFailedToStart"] },
        ]
      })
      headline = "batchbox ${local.environment_label}: ${local.label} FAILED."
      note     = "Exit code: 1 failed, 2 usage or configuration error, 124 timed out, 137 killed (out of memory, or no exit within the stop timeout), 143 interrupted; empty: the container never ran (see the stop and container reasons)."
    }
    stopped = {
      name        = local.stopped_rule_name
      description = "A ${var.name}${local.batch_note} task (${local.environment_label}) was stopped on purpose (StopTask, stop code UserInitiated)"
      pattern     = merge(local.stopped_task_of_this_batch, { stopCode = ["UserInitiated"] })
      headline    = "batchbox ${local.environment_label}: ${local.label} was STOPPED ON PURPOSE (stop code UserInitiated: someone or something called StopTask, e.g. a cancelled run-batch). Not a failure of the batch itself."
      note        = "Exit code: 143 the batch stopped cleanly on SIGTERM, 137 it was killed after the stop timeout, 0 it had already finished."
    }
  }
}

resource "aws_cloudwatch_event_rule" "notify" {
  for_each = local.notification_rules

  name        = each.value.name
  description = each.value.description
  state       = "ENABLED"

  event_pattern = jsonencode({
    source        = ["aws.ecs"]
    "detail-type" = ["ECS Task State Change"]
    detail        = each.value.pattern
  })
}

resource "aws_cloudwatch_event_target" "notify" {
  for_each = local.notification_rules

  rule      = aws_cloudwatch_event_rule.notify[each.key].name
  target_id = "notify"
  arn       = var.alarm_topic_arn
  # No role_arn: SNS targets are authorised by the topic policy (Amazon EventBridge User Guide,
  # "Using resource-based policies for Amazon EventBridge": a RoleArn on SNS or SQS targets can
  # make delivery fail, particularly with KMS encryption).

  # Fields of the ECS Task State Change event (Amazon ECS Developer Guide, task state change
  # events; `detail` is the Task object of DescribeTasks). The task definition has one container,
  # `batch`, so containers[0] is it. A path missing from the event renders as nothing.
  input_transformer {
    input_paths = {
      task            = "$.detail.taskArn"
      group           = "$.detail.group"
      taskDefinition  = "$.detail.taskDefinitionArn"
      exitCode        = "$.detail.containers[0].exitCode"
      containerReason = "$.detail.containers[0].reason"
      stopCode        = "$.detail.stopCode"
      stoppedReason   = "$.detail.stoppedReason"
      stoppedAt       = "$.detail.stoppedAt"
      startedBy       = "$.detail.startedBy"
    }
    # A string template (quoted, with \n escapes) becomes the SNS message. The literal text has no
    # double quotes or angle brackets: the first would end the JSON string, the second would be
    # taken for a variable.
    input_template = join("", ["\"", join("\\n", [
      each.value.headline,
      "",
      "Catalog entry: ${var.name}, batch ${local.batch} (task definition family ${local.family}, task group <group>)",
      "Environment: ${local.environment_label}",
      "Exit code of the batch container: <exitCode>",
      "Stop code: <stopCode>",
      "Stopped reason: <stoppedReason>",
      "Container reason: <containerReason>",
      "Stopped at (UTC): <stoppedAt>",
      "Task: <task>",
      "Task definition: <taskDefinition>",
      "Started by: <startedBy>",
      "",
      each.value.note,
      "",
      "Logs: log group ${var.log_group_name}, stream ${var.name}/batch/TASK_ID, where TASK_ID is the last part of the task ARN above. This entry's streams, newest first:",
      local.console_log_streams_url,
      local.runbook_line[each.key],
    ]), "\""])
  }

  # A notification is worth delivering late: keep EventBridge's documented maximum (24 hours, 185
  # attempts), then the dead-letter queue.
  retry_policy {
    maximum_event_age_in_seconds = 86400
    maximum_retry_attempts       = 185
  }

  dead_letter_config {
    arn = var.dead_letter_queue_arn
  }
}

# ---------------------------------------------------------------------------------------------------
# FailedInvocations of every rule of this entry
# ---------------------------------------------------------------------------------------------------
# EventBridge counts each failed delivery to a target in AWS/Events FailedInvocations (dimension
# RuleName): the schedule could not run the task, or a notification could not be published (then
# this alarm's own message is the only one that arrives, through CloudWatch's topic permissions).

locals {
  rule_names = merge(
    local.rule_scheduled ? { schedule = local.family } : {},
    { for kind, r in local.notification_rules : kind => r.name },
  )
}

resource "aws_cloudwatch_metric_alarm" "failed_invocations" {
  for_each = local.rule_names

  alarm_name        = "${each.value}-failed-invocations"
  alarm_description = "EventBridge rule ${each.value} (${each.key == "schedule" ? "the schedule of ${var.name}: its task was not started" : "notification of ${var.name}: a message was not published"}) failed to invoke its target. The event is in the dead-letter queue with ERROR_CODE and ERROR_MESSAGE; docs/operations.md, section 'An EventBridge target failed'."

  namespace   = "AWS/Events"
  metric_name = "FailedInvocations"
  dimensions = {
    RuleName = each.value
  }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  # No invocation, no data: the normal state between runs.
  treat_missing_data = "notBreaching"

  alarm_actions = [var.alarm_topic_arn]
  ok_actions    = [var.alarm_topic_arn]

  depends_on = [aws_cloudwatch_event_rule.this, aws_cloudwatch_event_rule.notify]
}
