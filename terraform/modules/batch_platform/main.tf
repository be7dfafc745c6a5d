# What every batch of one environment shares: the log group with the one metric filter that counts
# successful runs, the IAM roles (and the task roles of their own of the missed-runs watcher and of
# each entry that launches tasks), the KMS key, and the notification topic.

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

  cluster_name = element(split("/", var.cluster_arn), 1)
  # Every EventBridge rule of this environment (schedules and task-state notifications) is named
  # <name_prefix>-...: the dead-letter queue accepts messages from these rules only.
  rule_arn_pattern       = "arn:${local.partition}:events:${local.region}:${local.account_id}:rule/${var.name_prefix}-*"
  dead_letter_queue_name = "${var.name_prefix}-events-dlq"
  alarm_arn_pattern      = "arn:${local.partition}:cloudwatch:${local.region}:${local.account_id}:alarm:${var.name_prefix}-*"
  # Known at plan (a postcondition on the topic proves it is the topic's ARN), so that the watcher's
  # task definition, which names it, plans with every value shown.
  topic_name          = "${var.name_prefix}-notifications"
  topic_arn           = "arn:${local.partition}:sns:${local.region}:${local.account_id}:${local.topic_name}"
  kms_key_arn         = var.kms_key_arn != null ? var.kms_key_arn : aws_kms_key.this[0].arn
  ssm_secret_arns     = [for a in var.secret_arns : a if can(regex("^arn:[^:]+:ssm:", a))]
  secretsmanager_arns = [for a in var.secret_arns : a if can(regex("^arn:[^:]+:secretsmanager:", a))]
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
      # Publishing to the encrypted topic. Amazon SNS Developer Guide, "Managing Amazon SNS
      # encryption keys and costs" (sns-key-management), section "Enable compatibility between event
      # sources from AWS services and encrypted topics": the service principal needs
      # kms:GenerateDataKey* and kms:Decrypt, and "Adding the aws:SourceAccount, aws:SourceArn, and
      # aws:SourceOrgID to a AWS KMS policy is not supported for EventBridge-to-encrypted topics".
      # So EventBridge gets the documented statement with no condition (with one, every
      # notification is dropped and only the rule's FailedInvocations shows it) ...
      {
        Sid       = "EventBridgePublishesToTheEncryptedTopic"
        Effect    = "Allow"
        Principal = { Service = "events.amazonaws.com" }
        Action    = ["kms:GenerateDataKey*", "kms:Decrypt"]
        Resource  = "*"
      },
      # ... while CloudWatch alarms get the same actions under the confused-deputy conditions the
      # same section documents for other services (aws:SourceAccount, aws:SourceArn of the alarms).
      {
        Sid       = "AlarmsPublishToTheEncryptedTopic"
        Effect    = "Allow"
        Principal = { Service = "cloudwatch.amazonaws.com" }
        Action    = ["kms:GenerateDataKey*", "kms:Decrypt"]
        Resource  = "*"
        Condition = {
          StringEquals = { "aws:SourceAccount" = local.account_id }
          ArnLike      = { "aws:SourceArn" = local.alarm_arn_pattern }
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

# Counts successful runs, per batch, from the `run finished` line that ends every run (e.g.
# {"message":"run finished","batch":"history-prune","status":"succeeded",...}). One filter for the
# whole environment, the batch a dimension taken from the line: CloudWatch Logs allows 100 metric
# filters per log group (PutMetricFilter), which one filter per batch would have made the size
# limit of the catalog. No default_value: a metric filter with dimensions cannot have one. The
# missed-runs watcher's alarm reads RunSucceeded{Batch=missed-runs}.
resource "aws_cloudwatch_log_metric_filter" "run_succeeded" {
  name           = "${var.name_prefix}-run-succeeded"
  log_group_name = aws_cloudwatch_log_group.this.name
  pattern        = "{ $.message = \"run finished\" && $.status = \"succeeded\" }"

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
# The missed-runs watcher's task role: publish its reports to the notification topic
# ---------------------------------------------------------------------------------------------------
# A role of its own, so that no other batch may publish to the topic and the watcher gets none of
# the export and parameter permissions of the shared task role (it only reads the database, whose
# URL the execution role injects).

resource "aws_iam_role" "watcher_task" {
  count = var.watcher_task_role ? 1 : 0

  name               = "${var.name_prefix}-missed-runs-task"
  description        = "The missed-runs watcher runs with this role: publish to the notification topic only."
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

data "aws_iam_policy_document" "watcher_task" {
  count = var.watcher_task_role ? 1 : 0

  statement {
    sid     = "PublishMissedRuns"
    actions = ["sns:Publish"]
    # With chat, its custom notification goes to the chat topic too (same key).
    resources = concat([aws_sns_topic.notifications.arn], aws_sns_topic.chat[*].arn)
  }

  # The topic is encrypted with this key: a publisher to an encrypted topic needs
  # kms:GenerateDataKey* and kms:Decrypt on it (Amazon SNS Developer Guide, "Managing Amazon SNS
  # encryption keys and costs" (sns-key-management): publishers to an encrypted topic need these on
  # its key), on this key only. A key given in kms_key_arn must let IAM policies of the account
  # grant it (as the created key's AccountAdministers statement does).
  statement {
    sid       = "EncryptForTheTopic"
    actions   = ["kms:GenerateDataKey*", "kms:Decrypt"]
    resources = [local.kms_key_arn]
  }
}

resource "aws_iam_role_policy" "watcher_task" {
  count = var.watcher_task_role ? 1 : 0

  name   = "publish-missed-runs"
  role   = aws_iam_role.watcher_task[0].id
  policy = data.aws_iam_policy_document.watcher_task[0].json
}

# ---------------------------------------------------------------------------------------------------
# The time line report's task role: write its one page to the bucket
# ---------------------------------------------------------------------------------------------------
# A role of its own, so that the report may write exactly its page (report_key) and nothing under
# the export prefix, and no other batch may overwrite the page on-call reads. It reads the run
# history from the database only (whose URL the execution role injects).

locals {
  report_writes = var.report_task_role && var.export_bucket_name != null
}

resource "aws_iam_role" "report_task" {
  count = var.report_task_role ? 1 : 0

  name               = "${var.name_prefix}-history-report-task"
  description        = "The history-report batch runs with this role: write the time line page only."
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

data "aws_iam_policy_document" "report_task" {
  count = local.report_writes ? 1 : 0

  statement {
    # The one key. A page over 8 MiB (many thousands of runs) goes up as a multipart upload,
    # which s3:PutObject covers; one that fails is aborted.
    sid       = "WriteTheTimeLinePage"
    actions   = ["s3:PutObject", "s3:AbortMultipartUpload"]
    resources = ["arn:${local.partition}:s3:::${var.export_bucket_name}/${var.report_key}"]
  }

  dynamic "statement" {
    for_each = var.export_kms_key_arn == null ? [] : [var.export_kms_key_arn]
    content {
      # The bucket's default encryption with this key, as for the exports: an upload needs
      # kms:GenerateDataKey, a multipart upload kms:Decrypt too (Amazon S3 User Guide,
      # "Specifying server-side encryption with AWS KMS (SSE-KMS)").
      sid       = "EncryptThePage"
      actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
      resources = [statement.value]

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["s3.${local.region}.amazonaws.com"]
      }
    }
  }
}

resource "aws_iam_role_policy" "report_task" {
  count = local.report_writes ? 1 : 0

  name   = "write-time-line"
  role   = aws_iam_role.report_task[0].id
  policy = data.aws_iam_policy_document.report_task[0].json
}

# ---------------------------------------------------------------------------------------------------
# The task role of each entry that launches tasks (the catalog's `launch`)
# ---------------------------------------------------------------------------------------------------
# An entry whose run starts tasks of another entry (export-enqueue launching export-worker tasks)
# runs with a role of its own: what the shared task role may do (the same policy document), plus
# starting exactly the launched family, in this cluster, with exactly the two roles that family's
# tasks run with (the execution role and the shared task role). No tags are put on those tasks, so
# no ecs:TagResource. The name <name_prefix>-<entry>-launch is shorter than the entry's longest
# rule name (<name_prefix>-<entry>-stopped), which batch_environment keeps within 64 characters,
# IAM's limit for a role name too.

resource "aws_iam_role" "launch" {
  for_each = var.launchers

  name               = "${var.name_prefix}-${each.key}-launch"
  description        = "The ${each.key} entry runs with this role: the batches' permissions, and starting tasks of ${element(split("/", each.value), 1)} only."
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

resource "aws_iam_role_policy" "launch_batch_permissions" {
  for_each = local.task_role_has_permissions ? var.launchers : {}

  name   = "batch-permissions"
  role   = aws_iam_role.launch[each.key].id
  policy = data.aws_iam_policy_document.task[0].json
}

locals {
  # Written as JSON here (not an aws_iam_policy_document) so that the module's tests read the very
  # document IAM gets.
  launch_policies = {
    for entry, family_arn in var.launchers : entry => jsonencode({
      Version = "2012-10-17"
      Statement = [
        {
          # The launched tasks name the family without revision: RunTask resolves it to the latest
          # ACTIVE revision, and IAM authorises that revision's ARN (family:N).
          Sid       = "RunTheLaunchedTasks"
          Effect    = "Allow"
          Action    = "ecs:RunTask"
          Resource  = "${family_arn}:*"
          Condition = { ArnEquals = { "ecs:cluster" = var.cluster_arn } }
        },
        {
          Sid       = "PassTheLaunchedTasksRoles"
          Effect    = "Allow"
          Action    = "iam:PassRole"
          Resource  = [aws_iam_role.execution.arn, aws_iam_role.task.arn]
          Condition = { StringEquals = { "iam:PassedToService" = "ecs-tasks.amazonaws.com" } }
        },
      ]
    })
  }
}

resource "aws_iam_role_policy" "launch" {
  for_each = var.launchers

  name   = "launch-tasks"
  role   = aws_iam_role.launch[each.key].id
  policy = local.launch_policies[each.key]
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

locals {
  # What a schedule needs to start a scheduled entry's task, whichever engine fires it: RunTask on
  # the scheduled families in this cluster only, tagging the tasks it starts (ECS authorises
  # tag-on-create, the managed and propagated tags of the targets, as ecs:TagResource with
  # ecs:CreateAction = RunTask: Amazon ECS Developer Guide, "Amazon ECS EventBridge IAM Role"), and
  # passing the roles those tasks run with, to ECS tasks only. One construction for the events
  # role and the Scheduler role; written as JSON (not an aws_iam_policy_document) so that the
  # module's tests read the very documents IAM gets. The RunTask resources differ by engine only:
  # the events role keeps the family ARN itself next to its revisions (`family:*`, what IAM
  # authorises), the Scheduler role has the revisions alone.
  passed_role_arns = concat([aws_iam_role.execution.arn, aws_iam_role.task.arn], aws_iam_role.watcher_task[*].arn, aws_iam_role.report_task[*].arn, [for entry in sort(keys(var.launchers)) : aws_iam_role.launch[entry].arn])
  run_task_resources = {
    events    = flatten([for arn in var.scheduled_task_definition_family_arns : [arn, "${arn}:*"]])
    scheduler = [for arn in var.scheduled_task_definition_family_arns : "${arn}:*"]
  }
  scheduled_run_statements = {
    for engine, resources in local.run_task_resources : engine => concat(
      length(resources) == 0 ? [] : [{
        Sid       = "RunScheduledBatches"
        Effect    = "Allow"
        Action    = "ecs:RunTask"
        Resource  = resources
        Condition = { ArnEquals = { "ecs:cluster" = var.cluster_arn } }
      }],
      [
        {
          Sid       = "TagTheTasksItStarts"
          Effect    = "Allow"
          Action    = "ecs:TagResource"
          Resource  = "arn:${local.partition}:ecs:${local.region}:${local.account_id}:task/${local.cluster_name}/*"
          Condition = { StringEquals = { "ecs:CreateAction" = "RunTask" } }
        },
        {
          Sid       = "PassTheBatchRoles"
          Effect    = "Allow"
          Action    = "iam:PassRole"
          Resource  = local.passed_role_arns
          Condition = { StringEquals = { "iam:PassedToService" = "ecs-tasks.amazonaws.com" } }
        },
      ],
    )
  }
  events_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = local.scheduled_run_statements.events
  })
}

resource "aws_iam_role_policy" "events" {
  name   = "run-scheduled-batches"
  role   = aws_iam_role.events.id
  policy = local.events_policy
}

# ---------------------------------------------------------------------------------------------------
# EventBridge Scheduler (schedule_engine = "scheduler"): the schedule group, its role, its alarms
# ---------------------------------------------------------------------------------------------------
# Every schedule of the environment is in the group <name_prefix>, so that its alarms read the
# group's metrics. The Scheduler runs each schedule's target with a role of its own, not the events
# role: the same RunTask, tagging and PassRole statements, and sending a schedule's failed
# invocation to the dead-letter queue (the Scheduler sends it with this role: EventBridge Scheduler
# User Guide, "Configuring a schedule's dead-letter queue", execution role permissions). The queue
# is the environment's one dead-letter queue, already alarmed when not empty; it is encrypted with
# SSE-SQS, so no KMS permission is needed to send to it.

locals {
  scheduler           = var.schedule_engine == "scheduler"
  schedule_group_name = var.name_prefix
  scheduler_role_name = "${var.name_prefix}-scheduler"
  scheduler_role_trust = jsonencode({
    Version = "2012-10-17"
    Statement = [
      # EventBridge Scheduler User Guide, "Setting up Amazon EventBridge Scheduler", "Set up the
      # execution role": the service principal, with aws:SourceAccount against the confused deputy.
      {
        Sid       = "EventBridgeSchedulerOfThisAccount"
        Effect    = "Allow"
        Principal = { Service = "scheduler.amazonaws.com" }
        Action    = "sts:AssumeRole"
        Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
      },
    ]
  })
  scheduler_policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(local.scheduled_run_statements.scheduler, [
      {
        Sid      = "SendFailedInvocationsToTheDeadLetterQueue"
        Effect   = "Allow"
        Action   = "sqs:SendMessage"
        Resource = aws_sqs_queue.events_dlq.arn
      },
    ])
  })
}

resource "aws_scheduler_schedule_group" "this" {
  count = local.scheduler ? 1 : 0

  name = local.schedule_group_name
}

resource "aws_iam_role" "scheduler" {
  count = local.scheduler ? 1 : 0

  name               = local.scheduler_role_name
  description        = "EventBridge Scheduler schedules run the batch task definitions with this role."
  assume_role_policy = local.scheduler_role_trust
}

resource "aws_iam_role_policy" "scheduler" {
  count = local.scheduler ? 1 : 0

  name   = "run-scheduled-batches"
  role   = aws_iam_role.scheduler[0].id
  policy = local.scheduler_policy
}

# Alarms on the Scheduler's own metrics for the group (EventBridge Scheduler User Guide,
# "Monitoring Amazon EventBridge Scheduler with Amazon CloudWatch": namespace AWS/Scheduler,
# dimension ScheduleGroup). Each notifies on the first count in 5 minutes and returns to OK by
# itself; no invocation, no data: the normal state between runs. A failed invocation that the
# Scheduler gives up on is also in the dead-letter queue (its own alarm) with ERROR_CODE and
# ERROR_MESSAGE: docs/operations.md, "An EventBridge target failed".
locals {
  scheduler_alarms = local.scheduler ? {
    target-errors = {
      metric      = "TargetErrorCount"
      description = "ECS refused a RunTask of a schedule (permissions, a deleted subnet or security group, no ACTIVE revision, capacity): the Scheduler retries for up to an hour, then the invocation goes to the dead-letter queue"
    }
    target-throttled = {
      metric      = "TargetErrorThrottledCount"
      description = "ECS throttled a RunTask of a schedule: the Scheduler retries for up to an hour, then the invocation goes to the dead-letter queue"
    }
    throttled = {
      metric      = "InvocationThrottleCount"
      description = "the Scheduler throttled a schedule's invocation (the account's EventBridge Scheduler quota): its run starts late, or not at all"
    }
    invocations-dropped = {
      metric      = "InvocationDroppedCount"
      description = "the Scheduler gave up on a schedule's invocation after its retries: a scheduled run did not start (it is in the dead-letter queue unless the dead-letter alarm also fired)"
    }
    dead-letter-failed = {
      metric      = "InvocationsFailedToBeSentToDeadLetterCount"
      description = "the Scheduler could not put a failed invocation in the dead-letter queue (the role's sqs:SendMessage, the queue deleted): a scheduled run did not start and left no message"
    }
  } : {}
}

resource "aws_cloudwatch_metric_alarm" "scheduler" {
  for_each = local.scheduler_alarms

  alarm_name        = "${var.name_prefix}-scheduler-${each.key}"
  alarm_description = "EventBridge Scheduler group ${local.schedule_group_name}: ${each.value.description}. Messages in SQS queue ${local.dead_letter_queue_name} (attributes SCHEDULE_ARN, SCHEDULED_TIME, ERROR_CODE, ERROR_MESSAGE) say which schedule and why; docs/operations.md, section 'An EventBridge target failed'."

  namespace   = "AWS/Scheduler"
  metric_name = each.value.metric
  dimensions = {
    ScheduleGroup = aws_scheduler_schedule_group.this[0].name
  }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"

  alarm_actions = [aws_sns_topic.notifications.arn]
  ok_actions    = [aws_sns_topic.notifications.arn]
}

# ---------------------------------------------------------------------------------------------------
# Notifications: failed tasks (EventBridge), alarms and the watcher's missed-run reports go to one topic
# ---------------------------------------------------------------------------------------------------

resource "aws_sns_topic" "notifications" {
  name              = local.topic_name
  display_name      = "${var.name_prefix} batches"
  kms_master_key_id = local.kms_key_arn

  lifecycle {
    postcondition {
      condition     = self.arn == local.topic_arn
      error_message = "The notification topic's ARN ${self.arn} differs from ${local.topic_arn}, built from the account, region and name: the missed-runs watcher would publish elsewhere."
    }
  }
}

resource "aws_sns_topic_policy" "notifications" {
  arn = aws_sns_topic.notifications.arn

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      # Amazon EventBridge User Guide, "Using resource-based policies for Amazon EventBridge"
      # (eb-use-resource-based), section "Amazon SNS permissions": "You can't use Condition blocks
      # in Amazon SNS topic policies for EventBridge." The statement is the documented one.
      {
        Sid       = "EventBridgeRulesPublish"
        Effect    = "Allow"
        Principal = { Service = "events.amazonaws.com" }
        Action    = "sns:Publish"
        Resource  = aws_sns_topic.notifications.arn
      },
      # Amazon CloudWatch User Guide, "Setting up Amazon SNS notifications" (US_SetupSNS),
      # "Preventing confused deputy issues": aws:SourceArn (the alarms) and aws:SourceAccount.
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

# ---------------------------------------------------------------------------------------------------
# Dead-letter queue of every EventBridge target of this environment (and of every EventBridge
# Scheduler schedule, with the scheduler engine)
# ---------------------------------------------------------------------------------------------------
# A Scheduler schedule puts here what it could not deliver, with its execution role (the
# scheduler role's sqs:SendMessage; same account, so the queue policy need not name it). Its
# messages carry the attributes ERROR_CODE, ERROR_MESSAGE, EXECUTION_ID, EXHAUSTED_RETRY_CONDITION,
# IS_PAYLOAD_TRUNCATED, RETRY_ATTEMPTS, SCHEDULED_TIME, SCHEDULE_ARN and TARGET_ARN (EventBridge
# Scheduler User Guide, "Configuring a schedule's dead-letter queue", "Retrieve the dead-letter
# event").
# When EventBridge cannot deliver to a target (the schedule cannot run its task: events role,
# PassRole, a deleted subnet or security group, no ACTIVE revision, RunTask errors; or a
# notification cannot be published), it retries per the target's retry policy and then puts the
# event here; permission and missing-resource errors come here at once. Amazon EventBridge User
# Guide, "Event retry policy and using dead-letter queues" (eb-rule-dlq): only standard queues, in
# the rule's account and region; each message carries RULE_ARN, TARGET_ARN, ERROR_CODE,
# ERROR_MESSAGE, EXHAUSTED_RETRY_CONDITION and RETRY_ATTEMPTS.
#
# Encrypted with SQS-managed keys (SSE-SQS): the same page documents only the queue policy below as
# what EventBridge needs, and SSE-SQS needs no key policy (the AWS managed key aws/sqs would not
# do: its policy cannot grant EventBridge, and a customer managed key would need a grant the page
# does not document).
resource "aws_sqs_queue" "events_dlq" {
  name                      = local.dead_letter_queue_name
  sqs_managed_sse_enabled   = true
  message_retention_seconds = 1209600 # 14 days, the SQS maximum: time to read why before it is gone
}

# eb-rule-dlq, "Granting permissions to the dead-letter queue": events.amazonaws.com may
# sqs:SendMessage, conditioned on aws:SourceArn of the rules. ArnLike on this environment's rule
# name prefix instead of one ArnEquals per rule keeps the policy small for any catalog size.
resource "aws_sqs_queue_policy" "events_dlq" {
  queue_url = aws_sqs_queue.events_dlq.id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "EventBridgeRulesOfThisEnvironment"
        Effect    = "Allow"
        Principal = { Service = "events.amazonaws.com" }
        Action    = "sqs:SendMessage"
        Resource  = aws_sqs_queue.events_dlq.arn
        Condition = {
          ArnLike = { "aws:SourceArn" = local.rule_arn_pattern }
        }
      },
    ]
  })
}

# A message in the queue is an event EventBridge gave up on: a scheduled run that never started, or
# a notification that was never sent. It stays in ALARM until the queue is read and purged
# (docs/operations.md, "An EventBridge target failed").
resource "aws_cloudwatch_metric_alarm" "events_dlq" {
  alarm_name = "${local.dead_letter_queue_name}-not-empty"
  alarm_description = (
    local.scheduler
    ? "EventBridge Scheduler could not start a scheduled task of ${var.name_prefix} (message attribute SCHEDULE_ARN), or an EventBridge rule could not publish a notification (RULE_ARN): read the messages in SQS queue ${local.dead_letter_queue_name} (attributes ERROR_CODE, ERROR_MESSAGE; SCHEDULED_TIME for a schedule), fix the cause, then purge the queue."
    : "EventBridge could not deliver to a target of ${var.name_prefix} (a schedule could not start its task, or a notification could not be published): read the messages in SQS queue ${local.dead_letter_queue_name} (attributes RULE_ARN, ERROR_CODE, ERROR_MESSAGE), fix the cause, then purge the queue."
  )

  namespace   = "AWS/SQS"
  metric_name = "ApproximateNumberOfMessagesVisible"
  dimensions = {
    QueueName = aws_sqs_queue.events_dlq.name
  }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  # An empty, idle queue may report no data: that is the healthy state.
  treat_missing_data = "notBreaching"

  alarm_actions = [aws_sns_topic.notifications.arn]
  ok_actions    = [aws_sns_topic.notifications.arn]
}
