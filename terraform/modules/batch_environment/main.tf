# One environment of batchbox: the shared platform and one scheduled_batch per catalog entry, with
# the environment's overrides applied. Environments (envs/*) call this module and set variables only.

locals {
  name_prefix = "batchbox-${var.environment}"

  # The catalog with this environment's overrides: an override field that is set wins.
  batches = {
    for name, b in var.batches : name => {
      description      = b.description
      schedule         = try(coalesce(try(var.batch_overrides[name].schedule, null), b.schedule), null)
      enabled          = var.schedules_enabled && try(coalesce(var.batch_overrides[name].enabled, true), true)
      args             = b.args
      cpu              = try(coalesce(var.batch_overrides[name].cpu, b.cpu), b.cpu)
      memory           = try(coalesce(var.batch_overrides[name].memory, b.memory), b.memory)
      task_count       = try(coalesce(var.batch_overrides[name].task_count, b.task_count), b.task_count)
      grace_minutes    = try(coalesce(try(var.batch_overrides[name].grace_minutes, null), b.grace_minutes), null)
      interval_minutes = try(coalesce(try(var.batch_overrides[name].interval_minutes, null), b.interval_minutes), null)
    }
  }

  container_environment = merge(
    {
      DATABASE_MAX_CONNECTIONS = "4"
      LOG_FORMAT               = "json"
      RUST_LOG                 = "info"
    },
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
}

module "platform" {
  source = "../batch_platform"

  name_prefix = local.name_prefix
  cluster_arn = var.cluster_arn
  scheduled_task_definition_family_arns = [
    for name, batch in module.batch : batch.task_definition_family_arn if local.batches[name].schedule != null
  ]

  log_retention_days       = var.log_retention_days
  kms_key_arn              = var.kms_key_arn
  create_query_definitions = var.create_query_definitions

  ecr_repository_arn  = var.ecr_repository_arn
  secret_arns         = values(var.secrets)
  secret_kms_key_arns = var.secret_kms_key_arns
  export_bucket_name  = var.export_bucket_name
  export_prefix       = var.export_prefix
  export_kms_key_arn  = var.export_kms_key_arn
  task_parameter_arns = var.task_parameter_arns

  notification_emails          = var.notification_emails
  notification_https_endpoints = var.notification_https_endpoints
}

module "batch" {
  source   = "../scheduled_batch"
  for_each = local.batches

  name        = each.key
  name_prefix = local.name_prefix
  description = each.value.description
  args        = each.value.args

  schedule_expression = each.value.schedule
  enabled             = each.value.enabled
  interval_minutes    = each.value.interval_minutes
  grace_minutes       = each.value.grace_minutes
  alarm_topic_arn     = module.platform.notification_topic_arn
  metric_namespace    = "Batchbox/${var.environment}"

  environment_name      = var.environment
  dead_letter_queue_arn = module.platform.dead_letter_queue_arn
  runbook_url           = var.runbook_url

  image              = "${var.image_repository}:${var.image_tag}"
  cpu                = each.value.cpu
  memory             = each.value.memory
  cpu_architecture   = var.cpu_architecture
  environment        = local.container_environment
  secrets            = var.secrets
  execution_role_arn = module.platform.execution_role_arn
  task_role_arn      = module.platform.task_role_arn
  log_group_name     = module.platform.log_group_name

  cluster_arn        = var.cluster_arn
  subnet_ids         = var.subnet_ids
  security_group_ids = var.security_group_ids
  assign_public_ip   = var.assign_public_ip
  task_count         = each.value.task_count
  events_role_arn    = module.platform.events_role_arn
}
