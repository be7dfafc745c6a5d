# What every batch of one environment shares: the log group, the three IAM roles, the KMS key, and
# the notification topic with the rule that reports failed tasks to it.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name

  log_group_name = "/ecs/${var.name_prefix}"
  # The ARN is known before the log group exists, so the key policy can name it.
  log_group_arn = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${local.log_group_name}"

  cluster_name            = element(split("/", var.cluster_arn), 1)
  task_definition_prefix  = "arn:${local.partition}:ecs:${local.region}:${local.account_id}:task-definition/${var.name_prefix}-"
  failure_rule_name       = "${var.name_prefix}-task-failed"
  failure_rule_arn        = "arn:${local.partition}:events:${local.region}:${local.account_id}:rule/${local.failure_rule_name}"
  alarm_arn_pattern       = "arn:${local.partition}:cloudwatch:${local.region}:${local.account_id}:alarm:${var.name_prefix}-*"
  kms_key_arn             = var.kms_key_arn != null ? var.kms_key_arn : aws_kms_key.this[0].arn
  ssm_secret_arns         = [for a in var.secret_arns : a if can(regex("^arn:[^:]+:ssm:", a))]
  secretsmanager_arns     = [for a in var.secret_arns : a if can(regex("^arn:[^:]+:secretsmanager:", a))]
  console_log_group_label = replace(local.log_group_name, "/", "$252F")
}

# ---------------------------------------------------------------------------------------------------
# KMS key for the log group and the topic (unless one is given)
# ---------------------------------------------------------------------------------------------------

resource "aws_kms_key" "this" {
  count = var.kms_key_arn == null ? 1 : 0

  description             = "${var.name_prefix}: batch logs and notifications"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_key_deletion_window_days

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministers"
        Effect    = "Allow"
        Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "CloudWatchLogsEncryptsTheBatchLogGroup"
        Effect    = "Allow"
        Principal = { Service = "logs.${local.region}.amazonaws.com" }
        Action    = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
        Resource  = "*"
        Condition = {
          ArnEquals = { "kms:EncryptionContext:aws:logs:arn" = local.log_group_arn }
        }
      },
      {
        Sid       = "EventBridgeAndAlarmsPublishToTheEncryptedTopic"
        Effect    = "Allow"
        Principal = { Service = ["events.amazonaws.com", "cloudwatch.amazonaws.com"] }
        Action    = ["kms:Decrypt", "kms:GenerateDataKey*"]
        Resource  = "*"
        Condition = {
          StringEquals = { "aws:SourceAccount" = local.account_id }
        }
      },
    ]
  })
}

resource "aws_kms_alias" "this" {
  count = var.kms_key_arn == null ? 1 : 0

  name          = "alias/${var.name_prefix}"
  target_key_id = aws_kms_key.this[0].key_id
}

# ---------------------------------------------------------------------------------------------------
# Logs
# ---------------------------------------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_338:Retention is a per-environment variable (production keeps 365 days); the durable record of every run is the batch_runs table, so staging and local need not keep a year of logs.
  name              = local.log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = local.kms_key_arn
}

resource "aws_cloudwatch_query_definition" "failed_runs" {
  count = var.create_query_definitions ? 1 : 0

  name            = "${var.name_prefix}/failed-runs"
  log_group_names = [aws_cloudwatch_log_group.this.name]
  query_string    = <<-EOT
    fields @timestamp, batch, run_id, status, exit_code, duration_ms, @logStream
    | filter message = "run finished" and status not in ["succeeded", "skipped"]
    | sort @timestamp desc
    | limit 200
  EOT
}

resource "aws_cloudwatch_query_definition" "durations_per_batch" {
  count = var.create_query_definitions ? 1 : 0

  name            = "${var.name_prefix}/durations-per-batch"
  log_group_names = [aws_cloudwatch_log_group.this.name]
  query_string    = <<-EOT
    filter message = "run finished"
    | stats count(*) as runs, sum(status = "succeeded") as succeeded, avg(duration_ms) as avg_ms, pct(duration_ms, 95) as p95_ms, max(duration_ms) as max_ms by batch
    | sort batch
  EOT
}

resource "aws_cloudwatch_query_definition" "one_run" {
  count = var.create_query_definitions ? 1 : 0

  name            = "${var.name_prefix}/one-run-by-run-id"
  log_group_names = [aws_cloudwatch_log_group.this.name]
  query_string    = <<-EOT
    fields @timestamp, level, message, target, @message
    | filter run_id = "REPLACE-WITH-RUN-ID"
    | sort @timestamp asc
    | limit 10000
  EOT
}

# ---------------------------------------------------------------------------------------------------
# Task execution role: pull the image, write logs, read the secrets the task definitions inject
# ---------------------------------------------------------------------------------------------------

data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "execution" {
  name               = "${var.name_prefix}-execution"
  description        = "ECS starts the batch tasks with this role: image pull, logs, secrets."
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

data "aws_iam_policy_document" "execution" {
  statement {
    sid       = "WriteBatchLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this.arn}:*"]
  }

  dynamic "statement" {
    for_each = var.ecr_repository_arn == null ? [] : [var.ecr_repository_arn]
    content {
      # ecr:GetAuthorizationToken has no resource to scope it to; it only returns a login token.
      sid       = "LogInToEcr"
      actions   = ["ecr:GetAuthorizationToken"]
      resources = ["*"]
    }
  }

  dynamic "statement" {
    for_each = var.ecr_repository_arn == null ? [] : [var.ecr_repository_arn]
    content {
      sid       = "PullTheBatchImage"
      actions   = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = length(local.ssm_secret_arns) == 0 ? [] : [local.ssm_secret_arns]
    content {
      sid       = "ReadSecretParameters"
      actions   = ["ssm:GetParameters"]
      resources = statement.value
    }
  }

  dynamic "statement" {
    for_each = length(local.secretsmanager_arns) == 0 ? [] : [local.secretsmanager_arns]
    content {
      sid       = "ReadSecrets"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = statement.value
    }
  }

  dynamic "statement" {
    for_each = length(var.secret_kms_key_arns) == 0 ? [] : [var.secret_kms_key_arns]
    content {
      sid       = "DecryptSecrets"
      actions   = ["kms:Decrypt"]
      resources = statement.value
    }
  }
}

resource "aws_iam_role_policy" "execution" {
  name   = "start-batch-tasks"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution.json
}

# ---------------------------------------------------------------------------------------------------
# Task role: what the batches themselves may do (least privilege)
# ---------------------------------------------------------------------------------------------------

resource "aws_iam_role" "task" {
  name               = "${var.name_prefix}-task"
  description        = "The batches run with this role: the export prefix and the listed parameters only."
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

locals {
  task_role_has_permissions = var.export_bucket_name != null || length(var.task_parameter_arns) > 0
}

data "aws_iam_policy_document" "task" {
  count = local.task_role_has_permissions ? 1 : 0

  dynamic "statement" {
    for_each = var.export_bucket_name == null ? [] : [var.export_bucket_name]
    content {
      # Only under the export prefix; re-runs overwrite the same deterministic keys.
      sid       = "WriteExports"
      actions   = ["s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]
      resources = ["arn:${local.partition}:s3:::${statement.value}/${var.export_prefix}*"]
    }
  }

  dynamic "statement" {
    for_each = var.export_bucket_name == null ? [] : [var.export_bucket_name]
    content {
      # A worker proves it may write before it claims a job: it puts a small object under this
      # key prefix and deletes it. Workbooks themselves can never be deleted by the task role.
      sid       = "DeleteWriteProbes"
      actions   = ["s3:DeleteObject"]
      resources = ["arn:${local.partition}:s3:::${statement.value}/${var.export_prefix}.batchbox-probe/*"]
    }
  }

  dynamic "statement" {
    for_each = var.export_bucket_name == null || var.export_kms_key_arn == null ? [] : [var.export_kms_key_arn]
    content {
      sid       = "EncryptExports"
      actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
      resources = [statement.value]

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["s3.${local.region}.amazonaws.com"]
      }
    }
  }

  dynamic "statement" {
    for_each = length(var.task_parameter_arns) == 0 ? [] : [var.task_parameter_arns]
    content {
      sid       = "ReadParameters"
      actions   = ["ssm:GetParameter", "ssm:GetParameters"]
      resources = statement.value
    }
  }
}

resource "aws_iam_role_policy" "task" {
  count = local.task_role_has_permissions ? 1 : 0

  name   = "batch-permissions"
  role   = aws_iam_role.task.id
  policy = data.aws_iam_policy_document.task[0].json
}

# ---------------------------------------------------------------------------------------------------
# Events role: EventBridge runs the scheduled task definitions, in this cluster only
# ---------------------------------------------------------------------------------------------------

data "aws_iam_policy_document" "events_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "events" {
  name               = "${var.name_prefix}-events"
  description        = "EventBridge schedule rules run the batch task definitions with this role."
  assume_role_policy = data.aws_iam_policy_document.events_assume.json
}

data "aws_iam_policy_document" "events" {
  dynamic "statement" {
    for_each = length(var.scheduled_task_definition_family_arns) == 0 ? [] : [var.scheduled_task_definition_family_arns]
    content {
      sid     = "RunScheduledBatches"
      actions = ["ecs:RunTask"]
      # The targets name the family without revision; `family:*` covers any revision of it.
      resources = flatten([for arn in statement.value : [arn, "${arn}:*"]])

      condition {
        test     = "ArnEquals"
        variable = "ecs:cluster"
        values   = [var.cluster_arn]
      }
    }
  }

  statement {
    sid       = "TagTheTasksItStarts"
    actions   = ["ecs:TagResource"]
    resources = ["arn:${local.partition}:ecs:${local.region}:${local.account_id}:task/${local.cluster_name}/*"]

    condition {
      test     = "StringEquals"
      variable = "ecs:CreateAction"
      values   = ["RunTask"]
    }
  }

  statement {
    sid       = "PassTheBatchRoles"
    actions   = ["iam:PassRole"]
    resources = [aws_iam_role.execution.arn, aws_iam_role.task.arn]

    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ecs-tasks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "events" {
  name   = "run-scheduled-batches"
  role   = aws_iam_role.events.id
  policy = data.aws_iam_policy_document.events.json
}

# ---------------------------------------------------------------------------------------------------
# Notifications: failed tasks (EventBridge) and missed successes (alarms) go to one topic
# ---------------------------------------------------------------------------------------------------

resource "aws_sns_topic" "notifications" {
  name              = "${var.name_prefix}-notifications"
  display_name      = "${var.name_prefix} batches"
  kms_master_key_id = local.kms_key_arn
}

resource "aws_sns_topic_policy" "notifications" {
  arn = aws_sns_topic.notifications.arn

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "FailureRulePublishes"
        Effect    = "Allow"
        Principal = { Service = "events.amazonaws.com" }
        Action    = "sns:Publish"
        Resource  = aws_sns_topic.notifications.arn
        Condition = {
          ArnEquals = { "aws:SourceArn" = local.failure_rule_arn }
        }
      },
      {
        Sid       = "BatchAlarmsPublish"
        Effect    = "Allow"
        Principal = { Service = "cloudwatch.amazonaws.com" }
        Action    = "sns:Publish"
        Resource  = aws_sns_topic.notifications.arn
        Condition = {
          ArnLike      = { "aws:SourceArn" = local.alarm_arn_pattern }
          StringEquals = { "aws:SourceAccount" = local.account_id }
        }
      },
    ]
  })
}

resource "aws_sns_topic_subscription" "email" {
  for_each = toset(var.notification_emails)

  topic_arn = aws_sns_topic.notifications.arn
  protocol  = "email"
  endpoint  = each.value
}

resource "aws_sns_topic_subscription" "https" {
  for_each = toset(var.notification_https_endpoints)

  topic_arn              = aws_sns_topic.notifications.arn
  protocol               = "https"
  endpoint               = each.value
  endpoint_auto_confirms = true
}

# A batch task of this environment stopped in this cluster, and its `batch` container exited
# non-zero (1 failure, 2 usage/config error, 124 timed out, 143 interrupted) or never ran.
resource "aws_cloudwatch_event_rule" "task_failed" {
  name        = local.failure_rule_name
  description = "A ${var.name_prefix} batch task stopped with a non-zero exit code or failed to start"
  state       = "ENABLED"

  event_pattern = jsonencode({
    source        = ["aws.ecs"]
    "detail-type" = ["ECS Task State Change"]
    detail = {
      clusterArn        = [var.cluster_arn]
      lastStatus        = ["STOPPED"]
      taskDefinitionArn = [{ prefix = local.task_definition_prefix }]
      "$or" = [
        { containers = { name = ["batch"], exitCode = [{ "anything-but" = [0] }] } },
        { containers = { name = ["batch"], exitCode = [{ exists = false }] } },
        { stopCode = ["TaskFailedToStart"] },
      ]
    }
  })
}

resource "aws_cloudwatch_event_target" "task_failed" {
  rule      = aws_cloudwatch_event_rule.task_failed.name
  target_id = "notify"
  arn       = aws_sns_topic.notifications.arn

  input_transformer {
    input_paths = {
      group           = "$.detail.group"
      taskDefinition  = "$.detail.taskDefinitionArn"
      task            = "$.detail.taskArn"
      exitCode        = "$.detail.containers[0].exitCode"
      containerReason = "$.detail.containers[0].reason"
      stopCode        = "$.detail.stopCode"
      stoppedReason   = "$.detail.stoppedReason"
      stoppedAt       = "$.detail.stoppedAt"
    }
    input_template = join("\\n", [
      "\"${var.name_prefix}: a batch task failed.",
      "",
      "Batch (task group): <group>",
      "Exit code of the batch container: <exitCode>   (1 failure, 2 usage or configuration error, 124 timed out, 143 interrupted; empty: the container never ran)",
      "Stop code: <stopCode>",
      "Stopped reason: <stoppedReason>",
      "Container reason: <containerReason>",
      "Stopped at: <stoppedAt>",
      "Task definition: <taskDefinition>",
      "Task: <task>",
      "",
      "Logs: log group ${local.log_group_name}, stream BATCH/batch/TASK_ID (BATCH is the family without the ${var.name_prefix}- prefix, TASK_ID the last part of the task ARN).",
      "Console: https://${local.region}.console.aws.amazon.com/cloudwatch/home?region=${local.region}#logsV2:log-groups/log-group/${local.console_log_group_label}",
      "Logs Insights: run the saved query ${var.name_prefix}/failed-runs, then ${var.name_prefix}/one-run-by-run-id with the run_id.\"",
    ])
  }
}
