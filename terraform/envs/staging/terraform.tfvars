# staging. Account, network and ARNs are placeholders: replace them with the real ones.
environment    = "staging"
region         = "ap-northeast-1"
aws_account_id = "123456789012"

image_repository   = "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/batchbox"
image_tag          = "0.1.0"
ecr_repository_arn = "arn:aws:ecr:ap-northeast-1:123456789012:repository/batchbox"

cluster_arn        = "arn:aws:ecs:ap-northeast-1:123456789012:cluster/staging"
subnet_ids         = ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"]
security_group_ids = ["sg-0a1b2c3d4e5f60001"]

secrets = {
  DATABASE_URL = "arn:aws:ssm:ap-northeast-1:123456789012:parameter/batchbox/staging/database-url"
}
container_environment = {
  RUST_LOG = "info,batchbox=debug"
}

log_retention_days = 30
export_bucket_name = "batchbox-staging-exports"
export_prefix      = "exports/"

notification_emails = ["batchbox-staging-alerts@example.com"]

# staging proves the scheduling path every 15 minutes.
batch_overrides = {
  "canary" = {
    schedule = "rate(15 minutes)"
  }
}
