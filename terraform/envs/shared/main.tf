# The root of every environment (staging, production): the catalog plus the environment's
# variables. envs/<env>/ links these files and adds only backend.tf and terraform.tfvars.

provider "aws" {
  region              = var.region
  allowed_account_ids = [var.aws_account_id]

  default_tags {
    tags = {
      Project     = "batchbox"
      Environment = var.environment
      ManagedBy   = "terraform"
    }
  }
}

module "catalog" {
  source = "../../catalog"
}

module "batchbox" {
  source = "../../modules/batch_environment"

  environment       = var.environment
  batches           = module.catalog.batches
  batch_overrides   = var.batch_overrides
  schedules_enabled = var.schedules_enabled
  default_timezone  = module.catalog.default_timezone
  schedule_engine   = var.schedule_engine

  image_repository      = var.image_repository
  image_tag             = var.image_tag
  ecr_repository_arn    = var.ecr_repository_arn
  cpu_architecture      = var.cpu_architecture
  container_environment = var.container_environment
  secrets               = var.secrets
  secret_kms_key_arns   = var.secret_kms_key_arns

  cluster_arn        = var.cluster_arn
  subnet_ids         = var.subnet_ids
  security_group_ids = var.security_group_ids

  log_retention_days  = var.log_retention_days
  export_bucket_name  = var.export_bucket_name
  export_prefix       = var.export_prefix
  export_kms_key_arn  = var.export_kms_key_arn
  task_parameter_arns = var.task_parameter_arns

  notification_emails          = var.notification_emails
  notification_https_endpoints = var.notification_https_endpoints
  runbook_url                  = var.runbook_url

  chat_slack_team_id    = var.chat_slack_team_id
  chat_slack_channel_id = var.chat_slack_channel_id
  chat_teams_tenant_id  = var.chat_teams_tenant_id
  chat_teams_team_id    = var.chat_teams_team_id
  chat_teams_channel_id = var.chat_teams_channel_id
  create_chat_channels  = var.create_chat_channels
}
