variable "name_prefix" {
  description = "Prefix of every resource name, e.g. `batchbox-staging`. Task definition families of the batches are `<name_prefix>-<batch>`."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,30}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 2-32 characters of lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "cluster_arn" {
  description = "ARN of the ECS cluster the batches run in. The events role may run tasks only there."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:ecs:[a-z0-9-]+:[0-9]{12}:cluster/[A-Za-z0-9_-]+$", var.cluster_arn))
    error_message = "cluster_arn must be an ECS cluster ARN (arn:aws:ecs:REGION:ACCOUNT:cluster/NAME)."
  }
}

variable "scheduled_task_definition_family_arns" {
  description = "Task definition family ARNs (without revision) that the schedules run. The events role (and the Scheduler role, with the scheduler engine) may run these families only."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for a in var.scheduled_task_definition_family_arns : can(regex("^arn:aws[a-z-]*:ecs:[a-z0-9-]+:[0-9]{12}:task-definition/[A-Za-z0-9_-]+$", a))])
    error_message = "each entry must be a task definition ARN without revision (arn:aws:ecs:REGION:ACCOUNT:task-definition/FAMILY)."
  }
}

variable "schedule_engine" {
  description = "What runs the schedules: \"rules\" (EventBridge rules, with the events role) or \"scheduler\" (EventBridge Scheduler: the schedule group <name_prefix>, the role <name_prefix>-scheduler and the alarms on AWS/Scheduler are created)."
  type        = string
  default     = "rules"
  nullable    = false

  validation {
    condition     = contains(["rules", "scheduler"], var.schedule_engine)
    error_message = "schedule_engine must be \"rules\" or \"scheduler\"."
  }
}

# ---------------------------------------------------------------------------------------------------
# Logs and encryption
# ---------------------------------------------------------------------------------------------------

variable "log_retention_days" {
  description = "Days CloudWatch Logs keeps the batches' logs (0 = never expire)."
  type        = number

  validation {
    condition     = contains([0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts: 0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "metric_namespace" {
  description = "CloudWatch metric namespace of RunSucceeded (the successful runs, dimension Batch), e.g. `Batchbox/staging`. One namespace per environment keeps environments sharing an account apart."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9./_#:-]{1,255}$", var.metric_namespace)) && !startswith(var.metric_namespace, "AWS/")
    error_message = "metric_namespace must be 1-255 characters of letters, digits and . / _ # : - and must not start with AWS/."
  }
}

variable "kms_key_arn" {
  description = "ARN of an existing customer managed KMS key that encrypts the log group and the notification topic. null = the module creates one (with rotation) whose key policy lets CloudWatch Logs, EventBridge and CloudWatch alarms use it. An existing key needs the same grants, and its EventBridge statement must carry no aws:SourceAccount/aws:SourceArn condition (not supported for EventBridge publishing to an encrypted topic: every notification would be dropped)."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null ? true : can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID) or null."
  }
}

variable "kms_key_deletion_window_days" {
  description = "Waiting period before the created KMS key is deleted after destroy (7-30 days)."
  type        = number
  default     = 30

  validation {
    condition     = var.kms_key_deletion_window_days >= 7 && var.kms_key_deletion_window_days <= 30
    error_message = "kms_key_deletion_window_days must be between 7 and 30."
  }
}

variable "create_query_definitions" {
  description = "Create the saved CloudWatch Logs Insights queries (failed runs, durations per batch, one run by run_id). Turn off where the API is not available (e.g. an AWS API emulator)."
  type        = bool
  default     = true
  nullable    = false
}

# ---------------------------------------------------------------------------------------------------
# What the roles may reach
# ---------------------------------------------------------------------------------------------------

variable "ecr_repository_arn" {
  description = "ARN of the ECR repository of the image; the execution role may pull from it only. null = the image is not in ECR (no pull permission is granted)."
  type        = string
  default     = null

  validation {
    condition     = var.ecr_repository_arn == null ? true : can(regex("^arn:aws[a-z-]*:ecr:[a-z0-9-]+:[0-9]{12}:repository/[a-z0-9._/-]+$", var.ecr_repository_arn))
    error_message = "ecr_repository_arn must be an ECR repository ARN (arn:aws:ecr:REGION:ACCOUNT:repository/NAME) or null."
  }
}

variable "watcher_task_role" {
  description = "Create the missed-runs watcher's own task role (`<name_prefix>-missed-runs-task`: sns:Publish on the notification topic, kms:GenerateDataKey* and kms:Decrypt on its key). true when the catalog has the `missed-runs` entry."
  type        = bool
  default     = false
  nullable    = false
}

variable "report_task_role" {
  description = "Create the time line report's own task role (`<name_prefix>-history-report-task`: s3:PutObject on report_key in export_bucket_name only, and the export key's kms:GenerateDataKey when export_kms_key_arn is set). true when the catalog has the `history-report` entry."
  type        = bool
  default     = false
  nullable    = false
}

variable "report_key" {
  description = "The object key of the time line page (REPORT_KEY) in export_bucket_name; the report's task role may write this key only."
  type        = string
  default     = "reports/timeline.html"
  nullable    = false

  validation {
    condition     = can(regex("^[^/\\\\]+(/[^/\\\\]+)*$", var.report_key)) && !anytrue([for part in split("/", var.report_key) : contains([".", ".."], part)]) && length(var.report_key) <= 1024
    error_message = "report_key must be a relative object key such as reports/timeline.html: names separated by single /, none empty, . or .., no \\, no trailing /."
  }
}

variable "launchers" {
  description = "Catalog entries whose runs launch tasks of another entry (the catalog's `launch`): launching entry => the launched entry's task definition family ARN, without revision. Each gets its own task role `<name_prefix>-<entry>-launch`: the shared task role's permissions plus ecs:RunTask on that family's revisions in cluster_arn and iam:PassRole (to ECS tasks) on the execution role and the shared task role, the roles the launched tasks must run with."
  type        = map(string)
  default     = {}
  nullable    = false

  validation {
    condition     = alltrue([for arn in values(var.launchers) : can(regex("^arn:aws[a-z-]*:ecs:[a-z0-9-]+:[0-9]{12}:task-definition/[A-Za-z0-9_-]+$", arn))])
    error_message = "each launched family must be a task definition ARN without revision (arn:aws:ecs:REGION:ACCOUNT:task-definition/FAMILY)."
  }

  validation {
    condition     = alltrue([for entry in keys(var.launchers) : can(regex("^[a-z][a-z0-9-]{0,38}[a-z0-9]$", entry))])
    error_message = "each launching entry must be a catalog entry name (2-40 lowercase letters, digits and hyphens)."
  }
}

variable "secret_arns" {
  description = "SSM parameter and Secrets Manager ARNs that the task definitions inject as `secrets` (e.g. DATABASE_URL). The execution role may read exactly these."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for arn in var.secret_arns : can(regex("^arn:aws[a-z-]*:(ssm|secretsmanager):[a-z0-9-]+:[0-9]{12}:(parameter/|secret:)", arn))])
    error_message = "every secret must be an SSM parameter ARN or a Secrets Manager ARN."
  }
}

variable "secret_kms_key_arns" {
  description = "Customer managed KMS keys that encrypt those secrets (the execution role may decrypt with them). Empty when the secrets use the AWS managed keys."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for arn in var.secret_kms_key_arns : can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/", arn))])
    error_message = "every entry must be a KMS key ARN."
  }
}

variable "export_bucket_name" {
  description = "S3 bucket the export batches write to. null = no S3 permission for the task role."
  type        = string
  default     = null

  validation {
    condition     = var.export_bucket_name == null ? true : can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.export_bucket_name))
    error_message = "export_bucket_name must be an S3 bucket name (3-63 lowercase letters, digits, dots, hyphens) or null."
  }
}

variable "export_prefix" {
  description = "Key prefix inside the export bucket that the task role may write, e.g. `exports/`. The task role may write `arn:aws:s3:::BUCKET/PREFIX*` only."
  type        = string
  default     = "exports/"
  nullable    = false

  validation {
    condition     = length(var.export_prefix) > 0 && !startswith(var.export_prefix, "/") && !strcontains(var.export_prefix, "*")
    error_message = "export_prefix must be a non-empty key prefix without a leading slash or wildcard (an empty prefix would open the whole bucket)."
  }
}

variable "export_kms_key_arn" {
  description = "Customer managed KMS key of the export bucket's default encryption (SSE-KMS), if any: the task role may generate data keys with it. null = SSE-S3 or AWS managed key."
  type        = string
  default     = null

  validation {
    condition     = var.export_kms_key_arn == null ? true : can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/", var.export_kms_key_arn))
    error_message = "export_kms_key_arn must be a KMS key ARN or null."
  }
}

variable "task_parameter_arns" {
  description = "SSM parameter ARNs the batches may read at run time through the task role (not injected as secrets)."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for arn in var.task_parameter_arns : can(regex("^arn:aws[a-z-]*:ssm:[a-z0-9-]+:[0-9]{12}:parameter/", arn))])
    error_message = "every entry must be an SSM parameter ARN (arn:aws:ssm:REGION:ACCOUNT:parameter/...)."
  }
}

# ---------------------------------------------------------------------------------------------------
# Notifications
# ---------------------------------------------------------------------------------------------------

variable "notification_emails" {
  description = "E-mail addresses subscribed to the failure notifications, alarms and missed-run reports (each must confirm the subscription)."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for e in var.notification_emails : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", e))])
    error_message = "every notification e-mail must look like name@example.com."
  }
}

variable "notification_https_endpoints" {
  description = "HTTPS endpoints (e.g. a chat webhook relay) subscribed to the notifications. They must confirm the subscription automatically."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for u in var.notification_https_endpoints : startswith(u, "https://")])
    error_message = "every notification endpoint must be an https:// URL."
  }
}

variable "chat" {
  description = "The team's chat (Amazon Q Developer in chat applications, formerly AWS Chatbot), or null for none: a Slack channel (team_id, channel_id) and/or a Microsoft Teams channel (tenant_id, team_id, channel_id). With either, the chat topic <name_prefix>-chat exists; with create_channels, so do the channel configurations. batch_environment checks the ids."
  type = object({
    slack = optional(object({
      team_id    = string
      channel_id = string
    }))
    teams = optional(object({
      tenant_id  = string
      team_id    = string
      channel_id = string
    }))
    create_channels = optional(bool, true)
  })
  default = null

  validation {
    condition     = var.chat == null || try(var.chat.slack != null || var.chat.teams != null, false)
    error_message = "chat needs a slack or a teams channel (or chat = null for none)."
  }
}
