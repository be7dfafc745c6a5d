# Everything that differs between environments is a variable here, set in terraform.tfvars.

variable "environment" {
  description = "Environment name: resource names start with `batchbox-<environment>`."
  type        = string
}

variable "region" {
  description = "AWS region of the environment."
  type        = string
  default     = "ap-northeast-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as ap-northeast-1."
  }
}

variable "aws_account_id" {
  description = "AWS account of the environment; the provider refuses to touch any other account."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.aws_account_id))
    error_message = "aws_account_id must be 12 digits."
  }
}

# ---------------------------------------------------------------------------------------------------
# What runs
# ---------------------------------------------------------------------------------------------------

variable "image_repository" {
  description = "Image repository without tag, e.g. `123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/batchbox`."
  type        = string
}

variable "image_tag" {
  description = "Image tag to run (a release version or commit SHA, never `latest`)."
  type        = string
}

variable "ecr_repository_arn" {
  description = "ARN of the ECR repository of the image (the execution role may pull from it only)."
  type        = string
  default     = null
}

variable "cpu_architecture" {
  description = "CPU architecture of the image: X86_64 or ARM64."
  type        = string
  default     = "X86_64"
}

variable "schedules_enabled" {
  description = "false disables every schedule of this environment (the rules stay, DISABLED)."
  type        = bool
  default     = true
}

variable "schedule_engine" {
  description = "What runs the schedules: \"rules\" (EventBridge scheduled rules, every cron in UTC; the default) or \"scheduler\" (EventBridge Scheduler, each cron in its entry's IANA time zone). Switching is this one variable; docs/operations.md says how without a missed or doubled run."
  type        = string
  default     = "rules"
  nullable    = false
  # modules/batch_environment checks the value (and refuses entries in local time under rules).
}

variable "batch_overrides" {
  description = "Per-entry changes to the catalog in this environment: schedule, timezone (the IANA zone the cron is read in; not UTC needs schedule_engine = \"scheduler\"), enabled, cpu, memory, task_count, grace_minutes (how late a success may come before the missed-runs watcher reports the run missed)."
  type = map(object({
    schedule      = optional(string)
    timezone      = optional(string)
    enabled       = optional(bool)
    cpu           = optional(number)
    memory        = optional(number)
    task_count    = optional(number)
    grace_minutes = optional(number)
  }))
  default = {}
}

variable "container_environment" {
  description = "Plain environment variables for every batch, over the defaults (DATABASE_MAX_CONNECTIONS=4, LOG_FORMAT=json, RUST_LOG=info)."
  type        = map(string)
  default     = {}
}

variable "secrets" {
  description = "Secret environment variables: name => SSM parameter or Secrets Manager ARN. Must hold DATABASE_URL."
  type        = map(string)
}

variable "secret_kms_key_arns" {
  description = "Customer managed KMS keys that encrypt the secrets, if any."
  type        = list(string)
  default     = []
}

# ---------------------------------------------------------------------------------------------------
# Where it runs
# ---------------------------------------------------------------------------------------------------

variable "cluster_arn" {
  description = "ARN of the ECS cluster the batches run in."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets of the batch tasks."
  type        = list(string)
}

variable "security_group_ids" {
  description = "Security groups of the batch tasks (egress to the database, S3 and the AWS APIs)."
  type        = list(string)
}

# ---------------------------------------------------------------------------------------------------
# Logs, data, notifications
# ---------------------------------------------------------------------------------------------------

variable "log_retention_days" {
  description = "Days CloudWatch Logs keeps the batch logs."
  type        = number
}

variable "export_bucket_name" {
  description = "S3 bucket the export batches write to (null = none)."
  type        = string
  default     = null
}

variable "export_prefix" {
  description = "Key prefix in the export bucket that the batches may write."
  type        = string
  default     = "exports/"
}

variable "export_kms_key_arn" {
  description = "Customer managed KMS key of the export bucket, if any."
  type        = string
  default     = null
}

variable "task_parameter_arns" {
  description = "SSM parameter ARNs the batches may read at run time."
  type        = list(string)
  default     = []
}

variable "notification_emails" {
  description = "E-mail addresses for failed-task notifications, alarms and missed-run reports."
  type        = list(string)
  default     = []
}

variable "notification_https_endpoints" {
  description = "HTTPS endpoints for the notifications."
  type        = list(string)
  default     = []
}

variable "runbook_url" {
  description = "URL of docs/operations.md in the repository (e.g. `https://git.example.com/org/batchbox/blob/main/docs/operations.md`): failure notifications link to its sections. null = they name the section only."
  type        = string
  default     = null
}

# ---------------------------------------------------------------------------------------------------
# The team's chat (Amazon Q Developer in chat applications, formerly AWS Chatbot)
# ---------------------------------------------------------------------------------------------------
# Chat is on when a Slack or a Teams channel is given (modules/batch_environment checks the ids and
# that they come together). The Slack workspace or Teams team must be authorised once in the
# console first.

variable "chat_slack_team_id" {
  description = "Slack workspace (team) ID authorised in the Amazon Q Developer in chat applications console; with chat_slack_channel_id. null = no Slack channel."
  type        = string
  default     = null
}

variable "chat_slack_channel_id" {
  description = "Slack channel ID (the end of the channel's link); with chat_slack_team_id. null = no Slack channel."
  type        = string
  default     = null
}

variable "chat_teams_tenant_id" {
  description = "Microsoft Entra tenant ID of the Teams team; with chat_teams_team_id and chat_teams_channel_id. null = no Teams channel."
  type        = string
  default     = null
}

variable "chat_teams_team_id" {
  description = "Microsoft Teams team ID; with chat_teams_tenant_id and chat_teams_channel_id."
  type        = string
  default     = null
}

variable "chat_teams_channel_id" {
  description = "Microsoft Teams channel ID, URL-encoded as in the channel's link; with chat_teams_tenant_id and chat_teams_team_id."
  type        = string
  default     = null
}

variable "create_chat_channels" {
  description = "false keeps the chat topic and everything that feeds it but creates no Chatbot channel configuration."
  type        = bool
  default     = true
  nullable    = false
}
