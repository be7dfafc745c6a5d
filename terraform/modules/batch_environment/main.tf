# One environment of batchbox: the shared platform and one scheduled_batch per catalog entry, with
# the environment's overrides applied, the missed-runs watcher's configuration and alarm, and what
# the launching entries (the catalog's `launch`) are told and allowed. Environments (envs/*) call
# this module and set variables only.

locals {
  name_prefix = "batchbox-${var.environment}"

  # Time zones. An entry's cron is read in its zone: the override's, else the entry's, else the
  # catalog's default_timezone. UTC is exactly these names (the one list of them): the only zone
  # the rules engine runs, and the zone WATCH_SCHEDULES and REPORT_SCHEDULES leave unsaid. A zone
  # name is checked for its form here (IANA: Area/Location, at most 50 characters, as the
  # Scheduler API's ScheduleExpressionTimezone allows); whether the zone exists is for AWS to say.
  utc_zones        = ["UTC", "Etc/UTC"]
  timezone_pattern = "^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+){0,2}$"
  scheduler        = var.schedule_engine == "scheduler"

  # The catalog with this environment's overrides (by entry name): an override field that is set
  # wins. `batch` is the batch the entry runs (the entry's name in the shorthand).
  batches = {
    for name, b in var.batches : name => {
      batch         = coalesce(b.batch, name)
      description   = b.description
      schedule      = try(coalesce(try(var.batch_overrides[name].schedule, null), b.schedule), null)
      timezone      = coalesce(try(var.batch_overrides[name].timezone, null), b.timezone, var.default_timezone)
      enabled       = var.schedules_enabled && try(coalesce(var.batch_overrides[name].enabled, true), true)
      args          = b.args
      cpu           = try(coalesce(var.batch_overrides[name].cpu, b.cpu), b.cpu)
      memory        = try(coalesce(var.batch_overrides[name].memory, b.memory), b.memory)
      task_count    = try(coalesce(var.batch_overrides[name].task_count, b.task_count), b.task_count)
      grace_minutes = try(coalesce(try(var.batch_overrides[name].grace_minutes, null), b.grace_minutes), null)
      launch        = b.launch
    }
  }

  # The missed-runs watcher (`batch missed-runs`, every 10 minutes) reports each fire time of a
  # watched entry that got no success within its grace. It reads the schedules of this environment
  # from WATCH_SCHEDULES, by entry name: every entry that is scheduled here, enabled here and
  # watched (grace_minutes not null), with its batch and its schedule after the overrides; never
  # the watcher itself (its own alarm below watches it). The watcher is the entry (or entries) of
  # the batch missed-runs, whatever its name. It publishes to the topic itself, with a task role
  # of its own.
  watcher_name    = "missed-runs"
  watcher_entries = sort([for name, b in local.batches : name if b.batch == local.watcher_name])
  # An entry's `timezone` is there only when it is not UTC, so that a UTC environment's task
  # definitions stay as they were.
  watched = {
    for name, b in local.batches : name => merge(
      { batch = b.batch, schedule = b.schedule, grace_minutes = b.grace_minutes },
      contains(local.utc_zones, b.timezone) ? {} : { timezone = b.timezone },
    )
    if b.batch != local.watcher_name && b.schedule != null && b.enabled && b.grace_minutes != null
  }
  # WATCH_CHAT_TOPIC_ARN only with chat: the watcher publishes its custom notification there too.
  watcher_environment = merge({
    WATCH_SCHEDULES   = jsonencode(local.watched)
    WATCH_TOPIC_ARN   = module.platform.notification_topic_arn_at_plan
    WATCH_ENVIRONMENT = var.environment
    }, local.chat_enabled ? {
    WATCH_CHAT_TOPIC_ARN = module.platform.chat_topic_arn_at_plan
  } : {})
  # The time line report (`batch history-report`, hourly) draws the same schedules as ticks, from
  # REPORT_SCHEDULES (the very value of WATCH_SCHEDULES), and writes its page to report_key in the
  # export bucket with a task role of its own that may write that key only.
  report_name    = "history-report"
  report_entries = sort([for name, b in local.batches : name if b.batch == local.report_name])
  report_environment = {
    REPORT_SCHEDULES   = jsonencode(local.watched)
    REPORT_KEY         = var.report_key
    REPORT_ENVIRONMENT = var.environment
  }
  # The scheduled entries the rules engine cannot run as written (var.schedule_engine refuses them).
  zoned_under_rules = sort([for name, b in local.batches : name if b.schedule != null && !contains(local.utc_zones, b.timezone)])

  # The watcher's alarm exists while the watcher runs here on a schedule.
  watcher_alarmed  = anytrue([for name in local.watcher_entries : local.batches[name].schedule != null && local.batches[name].enabled])
  metric_namespace = "Batchbox/${var.environment}"

  container_environment = merge(
    local.container_environment_defaults,
    # Where the export batches write: the bucket and prefix the task role may write to. Without
    # EXPORT_BUCKET on ECS, export-worker refuses to start rather than write to the task's disk.
    var.export_bucket_name == null ? {} : {
      EXPORT_BUCKET = var.export_bucket_name
      EXPORT_PREFIX = var.export_prefix
    },
    var.export_kms_key_arn == null ? {} : {
      EXPORT_KMS_KEY_ID = var.export_kms_key_arn
    },
    var.container_environment,
  )

  # What a launching entry's run is told (the catalog's `launch`): which batch to start, with which
  # arguments, how many tasks at most and how many jobs per task, and where: the task definition
  # family of the catalog entry named after the launched batch (RunTask takes its latest ACTIVE
  # revision), its container, and the network the schedules use. Its own task role (the platform's
  # launchers) may start exactly that family. The family is named as scheduled_batch names it.
  task_definition_arn_prefix = "${regex("^(arn:[^:]+:ecs:[^:]+:[0-9]{12}):cluster/", var.cluster_arn)[0]}:task-definition/"
  launches = {
    for name, b in local.batches : name => {
      family_arn = "${local.task_definition_arn_prefix}${local.name_prefix}-${b.launch.batch}"
      # LAUNCH_SECURITY_GROUPS only when there are any: the runtime refuses a variable set empty.
      environment = merge({
        LAUNCH_BATCH            = b.launch.batch
        LAUNCH_ARGS             = jsonencode(b.launch.args)
        LAUNCH_MAX_TASKS        = tostring(b.launch.max_tasks)
        LAUNCH_JOBS_PER_TASK    = tostring(b.launch.jobs_per_task)
        LAUNCH_CLUSTER          = var.cluster_arn
        LAUNCH_TASK_DEFINITION  = "${local.name_prefix}-${b.launch.batch}"
        LAUNCH_CONTAINER        = "batch"
        LAUNCH_SUBNETS          = join(",", var.subnet_ids)
        LAUNCH_ASSIGN_PUBLIC_IP = tostring(var.assign_public_ip)
        }, length(var.security_group_ids) == 0 ? {} : {
        LAUNCH_SECURITY_GROUPS = join(",", var.security_group_ids)
      })
    } if b.launch != null
  }
}

module "platform" {
  source = "../batch_platform"

  name_prefix      = local.name_prefix
  metric_namespace = local.metric_namespace
  cluster_arn      = var.cluster_arn
  scheduled_task_definition_family_arns = [
    for name, batch in module.batch : batch.task_definition_family_arn if local.batches[name].schedule != null
  ]
  launchers = { for name, l in local.launches : name => l.family_arn }

  schedule_engine = var.schedule_engine

  log_retention_days       = var.log_retention_days
  kms_key_arn              = var.kms_key_arn
  create_query_definitions = var.create_query_definitions
  watcher_task_role        = length(local.watcher_entries) > 0
  report_task_role         = length(local.report_entries) > 0
  report_key               = var.report_key

  ecr_repository_arn  = var.ecr_repository_arn
  secret_arns         = values(var.secrets)
  secret_kms_key_arns = var.secret_kms_key_arns
  export_bucket_name  = var.export_bucket_name
  export_prefix       = var.export_prefix
  export_kms_key_arn  = var.export_kms_key_arn
  task_parameter_arns = var.task_parameter_arns

  notification_emails          = var.notification_emails
  notification_https_endpoints = var.notification_https_endpoints
  chat                         = local.chat
}

module "batch" {
  source   = "../scheduled_batch"
  for_each = local.batches

  name        = each.key
  batch       = each.value.batch
  name_prefix = local.name_prefix
  description = each.value.description
  args        = each.value.args

  schedule_engine     = var.schedule_engine
  schedule_expression = each.value.schedule
  # Only Scheduler schedules name a zone; a rule reads its cron in UTC (the refusal above).
  schedule_timezone   = local.scheduler ? each.value.timezone : null
  schedule_group_name = module.platform.schedule_group_name
  enabled             = each.value.enabled
  alarm_topic_arn     = module.platform.notification_topic_arn
  chat_topic_arn      = module.platform.chat_topic_arn_at_plan

  environment_name      = var.environment
  dead_letter_queue_arn = module.platform.dead_letter_queue_arn
  runbook_url           = var.runbook_url

  image            = "${var.image_repository}:${var.image_tag}"
  cpu              = each.value.cpu
  memory           = each.value.memory
  cpu_architecture = var.cpu_architecture
  # The watcher's configuration goes to its own task definition only, the report's to the
  # report's, a launch's to the launching entry's only; the others are unchanged. Each runs with the task role that goes with it.
  environment = merge(
    local.container_environment,
    contains(local.watcher_entries, each.key) ? local.watcher_environment : {},
    contains(local.report_entries, each.key) ? local.report_environment : {},
    try(local.launches[each.key].environment, {}),
  )
  secrets            = var.secrets
  execution_role_arn = module.platform.execution_role_arn
  task_role_arn = (
    contains(local.watcher_entries, each.key) ? module.platform.watcher_task_role_arn :
    contains(local.report_entries, each.key) ? module.platform.report_task_role_arn :
    contains(keys(local.launches), each.key) ? module.platform.launch_task_role_arns[each.key] :
    module.platform.task_role_arn
  )
  log_group_name = module.platform.log_group_name

  cluster_arn        = var.cluster_arn
  subnet_ids         = var.subnet_ids
  security_group_ids = var.security_group_ids
  assign_public_ip   = var.assign_public_ip
  task_count         = each.value.task_count
  events_role_arn    = module.platform.events_role_arn
  scheduler_role_arn = module.platform.scheduler_role_arn
}

# ---------------------------------------------------------------------------------------------------
# Who watches the watcher: an alarm on its own successful runs
# ---------------------------------------------------------------------------------------------------
# RunSucceeded{Batch=missed-runs} (the platform's metric filter) summed over 10-minute periods. Missing
# data stays missing: while the watcher succeeds every 10 minutes the alarm is OK; when no success
# is logged for 3 periods (30 minutes) it goes to INSUFFICIENT_DATA, and that transition notifies.
# (The metric only ever holds 1s, so ALARM would need a period with data and a sum below 1; it is
# wired to the topic all the same.) A new alarm starts in INSUFFICIENT_DATA and stays there until the
# first success: no notification right after apply, unlike a missing-data-breaching alarm.
locals {
  watcher_runbook = {
    section = "The missed-run watcher stopped"
    anchor  = "the-missed-run-watcher-stopped"
  }
  watcher_runbook_line = (
    var.runbook_url == null
    ? "Runbook: docs/operations.md, section '${local.watcher_runbook.section}'."
    : "Runbook: docs/operations.md, section '${local.watcher_runbook.section}': ${var.runbook_url}#${local.watcher_runbook.anchor}"
  )
}

resource "aws_cloudwatch_metric_alarm" "watcher" {
  count = local.watcher_alarmed ? 1 : 0

  alarm_name        = "${local.name_prefix}-missed-run-watcher-stopped"
  alarm_description = "batchbox ${var.environment}: INSUFFICIENT_DATA means the missed-run watcher has not succeeded for 30 minutes: missed runs are not being reported. OK means it runs again. Its runs: batch history --batch ${local.watcher_name}; its logs: stream prefix ${join(", ", [for name in local.watcher_entries : "${name}/"])} in ${module.platform.log_group_name}. ${local.watcher_runbook_line}"

  namespace   = local.metric_namespace
  metric_name = "RunSucceeded"
  dimensions = {
    Batch = local.watcher_name
  }
  statistic           = "Sum"
  period              = 600
  evaluation_periods  = 3
  comparison_operator = "LessThanThreshold"
  threshold           = 1
  treat_missing_data  = "missing"

  alarm_actions             = [module.platform.notification_topic_arn]
  ok_actions                = [module.platform.notification_topic_arn]
  insufficient_data_actions = [module.platform.notification_topic_arn]
}
