# production. Account, network and ARNs are placeholders: replace them with the real ones.
environment    = "production"
region         = "ap-northeast-1"
aws_account_id = "210987654321"

image_repository   = "210987654321.dkr.ecr.ap-northeast-1.amazonaws.com/batchbox"
image_tag          = "0.1.0"
ecr_repository_arn = "arn:aws:ecr:ap-northeast-1:210987654321:repository/batchbox"

cluster_arn        = "arn:aws:ecs:ap-northeast-1:210987654321:cluster/production"
subnet_ids         = ["subnet-0f1e2d3c4b5a60001", "subnet-0f1e2d3c4b5a60002", "subnet-0f1e2d3c4b5a60003"]
security_group_ids = ["sg-0f1e2d3c4b5a60001"]

secrets = {
  DATABASE_URL = "arn:aws:ssm:ap-northeast-1:210987654321:parameter/batchbox/production/database-url"
}
container_environment = {
  DATABASE_MAX_CONNECTIONS = "8"
}

log_retention_days = 365
export_bucket_name = "batchbox-production-exports"
export_prefix      = "exports/"

notification_emails = ["batchbox-alerts@example.com"]

batch_overrides = {
  "history-prune" = {
    memory = 1024
  }
}
