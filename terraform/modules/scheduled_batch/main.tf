# One batch of batchbox: a Fargate task definition whose container `batch` runs `batch <name> <args>`,
# and, when the batch has a schedule, an EventBridge rule, its ECS target and a missed-success alarm.

data "aws_region" "current" {}

locals {
  family    = "${var.name_prefix}-${var.name}"
  scheduled = var.schedule_expression != null

  # The family ARN without revision, built from the cluster's ARN (same partition, region and
  # account) so that it is known at plan time: a new revision then changes nothing but the task
  # definition, and the target and the events role policy stay as they are. A postcondition on the
  # task definition proves it equals the ARN that ECS reports.
  family_arn = "${regex("^(arn:[^:]+:ecs:[^:]+:[0-9]{12}):cluster/", var.cluster_arn)[0]}:task-definition/${local.family}"

  # Expected minutes between two runs, for the missed-success alarm: given, or derived from
  # rate(N unit), an hourly cron(M * * * ? *) or a daily cron(M H * * ? *).
  schedule   = coalesce(var.schedule_expression, "manual")
  rate_parts = try(regex("^rate\\(([0-9]+) ([a-z]+)\\)$", local.schedule), null)
  rate_minutes = try(
    tonumber(local.rate_parts[0]) * lookup({ minute = 1, minutes = 1, hour = 60, hours = 60, day = 1440, days = 1440 }, local.rate_parts[1]),
    null
  )
  derived_interval_minutes = (
    local.rate_minutes != null ? local.rate_minutes :
    can(regex("^cron\\([0-9]{1,2} \\* \\* \\* \\? \\*\\)$", local.schedule)) ? 60 :
    can(regex("^cron\\([0-9]{1,2} [0-9]{1,2} \\* \\* \\? \\*\\)$", local.schedule)) ? 1440 :
    null
  )
  interval_minutes = var.interval_minutes != null ? var.interval_minutes : local.derived_interval_minutes

  # The alarm fires when no success was counted for interval + grace. CloudWatch allows an evaluation
  # range (period x evaluation periods) of at most one day for periods under an hour and at most
  # seven days for hour-long periods, so whole hours use hour periods, the rest 5- or 1-minute ones.
  window_minutes = try(local.interval_minutes + var.grace_minutes, null)
  alarm_period_seconds = try(
    local.window_minutes % 60 == 0 ? 3600 : local.window_minutes % 5 == 0 ? 300 : 60,
    null
  )
  alarm_evaluation_periods = try(local.window_minutes * 60 / local.alarm_period_seconds, null)
  window_text              = local.window_minutes == null ? "?" : tostring(local.window_minutes)
  interval_text            = local.interval_minutes == null ? "?" : tostring(local.interval_minutes)

  container_environment = [for k in sort(keys(var.environment)) : { name = k, value = var.environment[k] }]
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
      command                = concat([var.name], var.args)
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
        }
      }
    }
  ])

  lifecycle {
    # Register the new revision before the old one is deregistered, so the family always has an
    # ACTIVE revision for the schedule target to run.
    create_before_destroy = true

    postcondition {
      condition     = self.arn_without_revision == local.family_arn
      error_message = "The task definition family ARN ${self.arn_without_revision} differs from ${local.family_arn}, derived from cluster_arn: the cluster must be in the same account and region as the batches."
    }
  }
}

resource "aws_cloudwatch_event_rule" "this" {
  count = local.scheduled ? 1 : 0

  name                = local.family
  description         = var.description
  schedule_expression = var.schedule_expression
  state               = var.enabled ? "ENABLED" : "DISABLED"
}

resource "aws_cloudwatch_event_target" "this" {
  count = local.scheduled ? 1 : 0

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

  retry_policy {
    maximum_event_age_in_seconds = 3600
    maximum_retry_attempts       = 3
  }
}

# Counts successful runs from the `run finished` line that ends every run.
resource "aws_cloudwatch_log_metric_filter" "succeeded" {
  name           = "${local.family}-run-succeeded"
  log_group_name = var.log_group_name
  pattern        = "{ $.message = \"run finished\" && $.status = \"succeeded\" && $.batch = \"${var.name}\" }"

  metric_transformation {
    name      = "RunSucceeded"
    namespace = var.metric_namespace
    value     = "1"
    unit      = "Count"
    dimensions = {
      Batch = "$.batch"
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "missed_success" {
  count = local.scheduled ? 1 : 0

  alarm_name        = "${local.family}-missed-success"
  alarm_description = "No successful run of ${var.name} (${var.description}) within ${local.window_text} minutes: schedule ${local.schedule} runs every ${local.interval_text} minutes, plus ${coalesce(var.grace_minutes, 0)} minutes of grace. Check the failure notifications and the batch's logs (stream prefix ${var.name}/) in ${var.log_group_name}."

  namespace   = var.metric_namespace
  metric_name = "RunSucceeded"
  dimensions = {
    Batch = var.name
  }
  statistic           = "Sum"
  period              = local.alarm_period_seconds
  evaluation_periods  = local.alarm_evaluation_periods
  datapoints_to_alarm = local.alarm_evaluation_periods
  comparison_operator = "LessThanThreshold"
  threshold           = 1
  # No success logged at all is exactly what this alarm is for.
  treat_missing_data = "breaching"

  # A disabled schedule is expected to have no successes: keep the alarm, silence its actions.
  actions_enabled = var.enabled
  alarm_actions   = [var.alarm_topic_arn]
  ok_actions      = [var.alarm_topic_arn]

  lifecycle {
    precondition {
      condition     = local.interval_minutes != null
      error_message = "Batch ${var.name}: cannot derive the interval between runs from ${local.schedule}; set interval_minutes in the catalog (only rate(...), hourly cron(M * * * ? *) and daily cron(M H * * ? *) are derived)."
    }
    precondition {
      condition     = var.grace_minutes != null
      error_message = "Batch ${var.name} is scheduled: set grace_minutes in the catalog (how late a success may be before the alarm fires)."
    }
    precondition {
      condition     = try(local.alarm_period_seconds == 3600 ? local.window_minutes <= 10080 : local.window_minutes <= 1440, false)
      error_message = "Batch ${var.name}: interval + grace = ${local.window_text} minutes. CloudWatch alarms look back at most one day, or seven days when the window is a whole number of hours; shorten the window or make it whole hours."
    }
  }
}
