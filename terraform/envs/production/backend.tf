# Remote state in S3, locked with a lock object next to the state (no DynamoDB table).
# The bucket name is a placeholder: override it at init with
#   terraform init -backend-config="bucket=<state bucket>"
terraform {
  backend "s3" {
    bucket       = "batchbox-terraform-state"
    key          = "batchbox/production/terraform.tfstate"
    region       = "ap-northeast-1"
    encrypt      = true
    use_lockfile = true
  }
}
