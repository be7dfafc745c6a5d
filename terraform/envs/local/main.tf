# batchbox against a local AWS API emulator (moto server): the same catalog and modules as staging
# and production, applied for real, so a re-plan proves there is no drift. Not a deployable
# environment: the cluster is created here, the network ids and the secret ARN are placeholders
# (the emulator does not check them), and the saved Logs Insights queries are off (the emulator
# lacks that API).

provider "aws" {
  #checkov:skip=CKV_AWS_41:Dummy credentials of the local emulator; they grant nothing anywhere else.
  region     = var.region
  access_key = "local"
  secret_key = "local"

  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = true
  s3_use_path_style           = true
  # A few retries: the emulator sometimes closes a connection mid-answer ("use of closed
  # network connection" on ListTargetsByRule), which one more try rides out.
  max_retries = 3

  endpoints {
    cloudwatch = var.endpoint
    ecs        = var.endpoint
    events     = var.endpoint
    iam        = var.endpoint
    kms        = var.endpoint
    logs       = var.endpoint
    scheduler  = var.endpoint
    sns        = var.endpoint
    sqs        = var.endpoint
    sts        = var.endpoint
  }

  default_tags {
    tags = {
      Project     = "batchbox"
      Environment = "local"
      ManagedBy   = "terraform"
    }
  }
}

resource "aws_ecs_cluster" "this" {
  name = "batchbox-local"

  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

module "catalog" {
  source = "../../catalog"
}

module "batchbox" {
  source = "../../modules/batch_environment"

  environment      = "local"
  batches          = module.catalog.batches
  batch_overrides  = var.batch_overrides
  default_timezone = module.catalog.default_timezone
  schedule_engine  = var.schedule_engine

  image_repository = "batchbox"
  image_tag        = var.image_tag

  # The emulator's account is 123456789012; nothing reads this parameter.
  secrets = {
    DATABASE_URL = "arn:aws:ssm:${var.region}:123456789012:parameter/batchbox/local/database-url"
  }

  cluster_arn        = aws_ecs_cluster.this.arn
  subnet_ids         = ["subnet-0000000000000000a"]
  security_group_ids = ["sg-0000000000000000a"]

  log_retention_days       = 7
  kms_key_arn              = null
  create_query_definitions = false

  export_bucket_name  = "batchbox-local-exports"
  notification_emails = ["batchbox-local@example.com"]

  # The chat topic and everything that feeds it, with placeholder Slack ids; the emulator has no
  # Chatbot API, so no channel configuration.
  chat_slack_team_id    = "T0000000000"
  chat_slack_channel_id = "C0000000000"
  create_chat_channels  = false
}
