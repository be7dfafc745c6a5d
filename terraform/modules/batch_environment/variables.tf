# ---------------------------------------------------------------------------------------------------
# Which environment, which batches
# ---------------------------------------------------------------------------------------------------

variable "environment" {
  description = "Environment name, e.g. `staging` or `production`. Resource names start with `batchbox-<environment>`."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,21}[a-z0-9]$", var.environment))
    error_message = "environment must be 2-23 characters of lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "batches" {
  description = "The batch catalog (terraform/catalog): entry name => { batch (null = the entry's name), description, schedule (null = manual), timezone (the IANA zone its cron is read in; null = default_timezone), args, cpu, memory, task_count, grace_minutes (null = not watched by the missed-runs watcher), launch (null, or { batch, args, max_tasks, jobs_per_task }: the run starts up to max_tasks tasks of the catalog entry named batch) }."
  type = map(object({
    batch         = optional(string)
    description   = string
    schedule      = optional(string)
    timezone      = optional(string)
    args          = optional(list(string), [])
    cpu           = number
    memory        = number
    task_count    = optional(number, 1)
    grace_minutes = optional(number)
    launch = optional(object({
      batch         = string
      args          = optional(list(string), [])
      max_tasks     = number
      jobs_per_task = number
    }))
  }))

  validation {
    condition     = length(var.batches) > 0
    error_message = "the catalog is empty: pass module.catalog.batches."
  }

  validation {
    condition     = alltrue([for name, b in var.batches : b.timezone == null ? true : can(regex(local.timezone_pattern, b.timezone))])
    error_message = "timezone must be an IANA time zone name such as \"Asia/Tokyo\" or \"UTC\" (letters, digits, _ + -, up to three parts separated by /, at most 50 characters); catalog entries at fault: ${join(", ", [for name, b in var.batches : "${name} (timezone = ${jsonencode(b.timezone)})" if b.timezone == null ? false : !can(regex(local.timezone_pattern, b.timezone))])}."
  }

  # How late a success may come after a fire time before the watcher reports it missed. Up to 7 days:
  # a run that may take longer than that is not one the watcher can usefully judge.
  validation {
    condition     = alltrue([for name, b in var.batches : b.grace_minutes == null ? true : b.grace_minutes >= 1 && b.grace_minutes <= 10080 && floor(b.grace_minutes) == b.grace_minutes])
    error_message = "grace_minutes must be null (not watched) or a whole number of minutes from 1 to 10080 (7 days); catalog entries at fault: ${join(", ", [for name, b in var.batches : "${name} (grace_minutes = ${b.grace_minutes})" if(b.grace_minutes == null ? false : !(b.grace_minutes >= 1 && b.grace_minutes <= 10080 && floor(b.grace_minutes) == b.grace_minutes))])}."
  }

  # The longest name a catalog entry generates is its rule batchbox-<environment>-<entry>-stopped;
  # EventBridge allows 64 characters (PutRule Name). modules/scheduled_batch checks every other
  # generated name too (a precondition on its task definition).
  validation {
    condition     = alltrue([for name in keys(var.batches) : length("batchbox-${var.environment}-${name}-stopped") <= 64])
    error_message = "These catalog entries make EventBridge rule names longer than the 64 characters AWS allows in environment ${var.environment}: ${join(", ", [for name in keys(var.batches) : "${name} (batchbox-${var.environment}-${name}-stopped has ${length("batchbox-${var.environment}-${name}-stopped")})" if length("batchbox-${var.environment}-${name}-stopped") > 64])}. Shorten the entry name: at most ${64 - length("batchbox-${var.environment}--stopped")} characters here."
  }

  # A launch runs the task definition of the catalog entry named after the launched batch, so that
  # entry must exist and run that batch (`batch schedule --check` says the same, naming the entry).
  validation {
    condition     = alltrue([for name, b in var.batches : b.launch == null ? true : try(coalesce(var.batches[b.launch.batch].batch, b.launch.batch) == b.launch.batch, false)])
    error_message = "A launch must name a catalog entry that runs the launched batch (a shorthand entry such as \"export-worker\"): ${join(", ", [for name, b in var.batches : "${name} launches ${b.launch.batch}" if b.launch == null ? false : !try(coalesce(var.batches[b.launch.batch].batch, b.launch.batch) == b.launch.batch, false)])}."
  }

  # The launched tasks run with the execution role and the shared task role, the two roles a
  # launching entry may pass: not the watcher, not an entry that launches itself.
  validation {
    condition     = alltrue([for name, b in var.batches : b.launch == null ? true : try(var.batches[b.launch.batch].launch == null && b.launch.batch != "missed-runs", true)])
    error_message = "A launched entry must run with the shared task role: it may not launch tasks itself, nor be the missed-runs watcher: ${join(", ", [for name, b in var.batches : "${name} launches ${b.launch.batch}" if b.launch == null ? false : !try(var.batches[b.launch.batch].launch == null && b.launch.batch != "missed-runs", true)])}."
  }

  validation {
    condition     = alltrue([for name, b in var.batches : b.launch == null ? true : try(b.launch.max_tasks >= 1 && b.launch.max_tasks <= 100 && floor(b.launch.max_tasks) == b.launch.max_tasks && b.launch.jobs_per_task >= 1 && b.launch.jobs_per_task <= 100000 && floor(b.launch.jobs_per_task) == b.launch.jobs_per_task, false)])
    error_message = "launch.max_tasks must be a whole number from 1 to 100 and launch.jobs_per_task one from 1 to 100000; catalog entries at fault: ${join(", ", [for name, b in var.batches : "${name} (max_tasks = ${b.launch.max_tasks}, jobs_per_task = ${b.launch.jobs_per_task})" if b.launch == null ? false : !try(b.launch.max_tasks >= 1 && b.launch.max_tasks <= 100 && floor(b.launch.max_tasks) == b.launch.max_tasks && b.launch.jobs_per_task >= 1 && b.launch.jobs_per_task <= 100000 && floor(b.launch.jobs_per_task) == b.launch.jobs_per_task, false)])}."
  }
}

variable "batch_overrides" {
  description = "Per-environment changes to catalog entries, by entry name: schedule, timezone (the IANA zone the cron is read in here), enabled (false = schedule DISABLED, not watched), cpu, memory, task_count, grace_minutes (a number: also watches a catalog entry whose grace is null). Unset fields keep the catalog value."
  type = map(object({
    schedule      = optional(string)
    timezone      = optional(string)
    enabled       = optional(bool)
    cpu           = optional(number)
    memory        = optional(number)
    task_count    = optional(number)
    grace_minutes = optional(number)
  }))
  default  = {}
  nullable = false

  validation {
    condition     = alltrue([for name in keys(var.batch_overrides) : contains(keys(var.batches), name)])
    error_message = "batch_overrides names an entry that is not in the catalog: ${join(", ", [for name in keys(var.batch_overrides) : name if !contains(keys(var.batches), name)])}."
  }

  validation {
    condition     = alltrue([for name, o in var.batch_overrides : o.timezone == null ? true : can(regex(local.timezone_pattern, o.timezone))])
    error_message = "timezone in batch_overrides must be an IANA time zone name such as \"America/New_York\" or \"UTC\" (letters, digits, _ + -, up to three parts separated by /, at most 50 characters); overrides at fault: ${join(", ", [for name, o in var.batch_overrides : "${name} (timezone = ${jsonencode(o.timezone)})" if o.timezone == null ? false : !can(regex(local.timezone_pattern, o.timezone))])}."
  }

  validation {
    condition     = alltrue([for name, o in var.batch_overrides : o.grace_minutes == null ? true : o.grace_minutes >= 1 && o.grace_minutes <= 10080 && floor(o.grace_minutes) == o.grace_minutes])
    error_message = "grace_minutes in batch_overrides must be a whole number of minutes from 1 to 10080 (7 days); overrides at fault: ${join(", ", [for name, o in var.batch_overrides : "${name} (grace_minutes = ${o.grace_minutes})" if(o.grace_minutes == null ? false : !(o.grace_minutes >= 1 && o.grace_minutes <= 10080 && floor(o.grace_minutes) == o.grace_minutes))])}."
  }
}

variable "default_timezone" {
  description = "The IANA time zone every entry's cron is read in unless the entry or its override names another: the catalog's default_timezone (module.catalog.default_timezone)."
  type        = string
  default     = "UTC"
  nullable    = false

  validation {
    condition     = can(regex(local.timezone_pattern, var.default_timezone))
    error_message = "default_timezone must be an IANA time zone name such as \"UTC\" or \"Asia/Tokyo\" (letters, digits, _ + -, up to three parts separated by /, at most 50 characters), not ${jsonencode(var.default_timezone)}."
  }
}

variable "schedule_engine" {
  description = "What runs the schedules here: \"rules\" (EventBridge scheduled rules, cron in UTC only; the default) or \"scheduler\" (EventBridge Scheduler schedules in the group batchbox-<environment>, each cron in its entry's IANA time zone). Switching is one plan: the rules, their targets and FailedInvocations alarms go, the schedules, their role and alarms come."
  type        = string
  default     = "rules"
  nullable    = false

  validation {
    condition     = contains(["rules", "scheduler"], var.schedule_engine)
    error_message = "schedule_engine must be \"rules\" (EventBridge rules, UTC) or \"scheduler\" (EventBridge Scheduler, any IANA time zone), not ${jsonencode(var.schedule_engine)}."
  }

  # EventBridge rules read every cron in UTC: an entry written for another zone would run at the
  # wrong hour, so it is refused here rather than converted (a fixed offset cannot follow daylight
  # saving time). Manual entries have no cron to read.
  validation {
    condition     = var.schedule_engine != "rules" || length(local.zoned_under_rules) == 0
    error_message = "schedule_engine = \"rules\" reads every cron in UTC, but these scheduled entries are written for another time zone: ${join(", ", [for name in local.zoned_under_rules : "${name} (${local.batches[name].timezone})"])}. Set schedule_engine = \"scheduler\" (EventBridge Scheduler follows the zone and its daylight saving time) or write their cron in UTC (timezone = \"UTC\")."
  }
}

variable "schedules_enabled" {
  description = "Master switch: false sets every schedule (rule or Scheduler schedule) of this environment to DISABLED (nothing is watched for missed runs then, and the watcher's alarm is removed)."
  type        = bool
  default     = true
  nullable    = false
}

# ---------------------------------------------------------------------------------------------------
# Image and task settings
# ---------------------------------------------------------------------------------------------------

variable "image_repository" {
  description = "Image repository without tag, e.g. `123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/batchbox`."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9._:/-]*[a-z0-9]$", var.image_repository)) && !strcontains(reverse(split("/", var.image_repository))[0], ":")
    error_message = "image_repository must be a repository reference without a tag (set the tag in image_tag)."
  }
}

variable "image_tag" {
  description = "Image tag to run, e.g. `1.4.0` or a commit SHA. A new tag registers new task definition revisions; the schedules follow automatically."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", var.image_tag)) && var.image_tag != "latest"
    error_message = "image_tag must be a valid tag other than `latest` (a mutable tag would make a revision's image unknowable)."
  }
}

variable "ecr_repository_arn" {
  description = "ARN of the ECR repository of the image (the execution role may pull from it only), or null for an image outside ECR."
  type        = string
  default     = null
}

variable "cpu_architecture" {
  description = "CPU architecture of the image: X86_64 or ARM64."
  type        = string
  default     = "X86_64"
  nullable    = false
}

variable "container_environment" {
  description = "Plain environment variables for every batch container, merged over the defaults DATABASE_MAX_CONNECTIONS=4, LOG_FORMAT=json, RUST_LOG=info (e.g. `{ BATCH_MAX_RUNTIME = \"30m\" }`). Never secrets."
  type        = map(string)
  default     = {}
  nullable    = false
}

variable "secrets" {
  description = "Secret environment variables for every batch container: name => SSM parameter or Secrets Manager ARN. Must hold DATABASE_URL."
  type        = map(string)
  nullable    = false

  validation {
    condition     = contains(keys(var.secrets), "DATABASE_URL")
    error_message = "secrets must hold DATABASE_URL (an SSM SecureString parameter or Secrets Manager ARN): the batches need the database."
  }
}

variable "secret_kms_key_arns" {
  description = "Customer managed KMS keys that encrypt the secrets, if any (the execution role may decrypt with them)."
  type        = list(string)
  default     = []
  nullable    = false
}

# ---------------------------------------------------------------------------------------------------
# Where the tasks run
# ---------------------------------------------------------------------------------------------------

variable "cluster_arn" {
  description = "ARN of the ECS cluster the batches run in."
  type        = string
}

variable "subnet_ids" {
  description = "Subnets of the batch tasks (awsvpc)."
  type        = list(string)
}

variable "security_group_ids" {
  description = "Security groups of the batch tasks."
  type        = list(string)
}

variable "assign_public_ip" {
  description = "Give the tasks a public IP (public subnets without a NAT only)."
  type        = bool
  default     = false
  nullable    = false
}

# ---------------------------------------------------------------------------------------------------
# Platform: logs, permissions, notifications
# ---------------------------------------------------------------------------------------------------

variable "log_retention_days" {
  description = "Days CloudWatch Logs keeps the batch logs."
  type        = number
}

variable "kms_key_arn" {
  description = "Existing KMS key for the log group and the notification topic; null = create one."
  type        = string
  default     = null
}

variable "create_query_definitions" {
  description = "Create the saved Logs Insights queries (turn off for an AWS API emulator that lacks the API)."
  type        = bool
  default     = true
  nullable    = false
}

variable "export_bucket_name" {
  description = "S3 bucket the export batches write to; null = no S3 permission."
  type        = string
  default     = null
}

variable "export_prefix" {
  description = "Key prefix in the export bucket that the task role may write."
  type        = string
  default     = "exports/"
  nullable    = false
}

variable "report_key" {
  description = "Object key of the run time line page in export_bucket_name (REPORT_KEY of the history-report entry); its task role may write this key only."
  type        = string
  default     = "reports/timeline.html"
  nullable    = false
}

variable "export_kms_key_arn" {
  description = "Customer managed KMS key of the export bucket's default encryption, or null."
  type        = string
  default     = null
}

variable "task_parameter_arns" {
  description = "SSM parameter ARNs the batches may read at run time."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "notification_emails" {
  description = "E-mail addresses for failed-task notifications, alarms and missed-run reports."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "runbook_url" {
  description = "URL of docs/operations.md in the repository, e.g. `https://git.example.com/org/batchbox/blob/main/docs/operations.md`: the failure notifications link to its sections. null = they name the section only."
  type        = string
  default     = null
}

variable "notification_https_endpoints" {
  description = "HTTPS endpoints for the notifications."
  type        = list(string)
  default     = []
  nullable    = false
}

# ---------------------------------------------------------------------------------------------------
# The team's chat (Amazon Q Developer in chat applications, formerly AWS Chatbot)
# ---------------------------------------------------------------------------------------------------
# Chat is on when a Slack or a Teams channel is given: then failures, stops, alarms and missed runs
# also reach the chat topic <prefix>-chat as custom notifications, and (create_chat_channels) the
# channel configurations deliver them. The Slack workspace or the Teams team must have been
# authorised once in the console before a channel configuration can be created.

variable "chat_slack_team_id" {
  description = "Slack workspace (team) ID authorised in the Amazon Q Developer in chat applications console, e.g. `T07EA123LEP`; with chat_slack_channel_id. null = no Slack channel."
  type        = string
  default     = null

  validation {
    condition     = var.chat_slack_team_id == null ? true : can(regex("^[0-9A-Z]{1,255}$", var.chat_slack_team_id))
    error_message = "chat_slack_team_id must be a Slack workspace ID (capital letters and digits, e.g. T07EA123LEP), as the console shows it."
  }
  validation {
    condition     = (var.chat_slack_team_id == null) == (var.chat_slack_channel_id == null)
    error_message = "chat_slack_team_id and chat_slack_channel_id go together: set both (a Slack channel) or neither."
  }
}

variable "chat_slack_channel_id" {
  description = "Slack channel ID, e.g. `C07EZ1ABC23` (the end of the channel's link); with chat_slack_team_id. null = no Slack channel."
  type        = string
  default     = null

  validation {
    condition     = var.chat_slack_channel_id == null ? true : can(regex("^[A-Za-z0-9]{1,255}$", var.chat_slack_channel_id))
    error_message = "chat_slack_channel_id must be a Slack channel ID (letters and digits, e.g. C07EZ1ABC23)."
  }
}

variable "chat_teams_tenant_id" {
  description = "Microsoft Entra tenant ID (a UUID) of the Teams team; with chat_teams_team_id and chat_teams_channel_id. null = no Teams channel."
  type        = string
  default     = null

  validation {
    condition     = var.chat_teams_tenant_id == null ? true : can(regex("^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$", var.chat_teams_tenant_id))
    error_message = "chat_teams_tenant_id must be a tenant ID (a UUID such as 00000000-0000-0000-0000-000000000000)."
  }
  validation {
    condition     = length(distinct([var.chat_teams_tenant_id == null, var.chat_teams_team_id == null, var.chat_teams_channel_id == null])) == 1
    error_message = "chat_teams_tenant_id, chat_teams_team_id and chat_teams_channel_id go together: set all three (a Teams channel) or none; missing: ${join(", ", [for n, v in { chat_teams_tenant_id = var.chat_teams_tenant_id, chat_teams_team_id = var.chat_teams_team_id, chat_teams_channel_id = var.chat_teams_channel_id } : n if v == null])}."
  }
}

variable "chat_teams_team_id" {
  description = "Microsoft Teams team ID (a UUID, the groupId of the team's link); with chat_teams_tenant_id and chat_teams_channel_id."
  type        = string
  default     = null

  validation {
    condition     = var.chat_teams_team_id == null ? true : can(regex("^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$", var.chat_teams_team_id))
    error_message = "chat_teams_team_id must be a team ID (a UUID such as 00000000-0000-0000-0000-000000000000)."
  }
}

variable "chat_teams_channel_id" {
  description = "Microsoft Teams channel ID as the channel's link has it (URL-encoded, e.g. `19%3aabc123%40thread.tacv2`); with chat_teams_tenant_id and chat_teams_team_id."
  type        = string
  default     = null

  validation {
    condition     = var.chat_teams_channel_id == null ? true : can(regex("^[A-Za-z0-9_=+/.,%-]{1,255}$", var.chat_teams_channel_id))
    error_message = "chat_teams_channel_id must be the channel ID from the channel's link, URL-encoded (e.g. 19%3aabc123%40thread.tacv2), without spaces."
  }
}

variable "create_chat_channels" {
  description = "false keeps the chat topic and everything that feeds it but creates no Chatbot channel configuration (an emulator without the Chatbot API). Only matters when a chat channel is given."
  type        = bool
  default     = true
  nullable    = false
}
