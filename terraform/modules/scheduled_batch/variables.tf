# ---------------------------------------------------------------------------------------------------
# The catalog entry and its batch
# ---------------------------------------------------------------------------------------------------

variable "name" {
  description = "Catalog entry name, e.g. `export-enqueue-monthly`: the task definition family, the rules, the alarms and the log stream prefix are named after it, and the container gets it as BATCH_ENTRY."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,38}[a-z0-9]$", var.name))
    error_message = "name must be 2-40 characters of lowercase letters, digits and hyphens, starting with a letter (AWS resource names are built from it)."
  }
}

variable "batch" {
  description = "The batch the entry runs: the subcommand of the `batch` binary (command[0] of the container), e.g. `export-enqueue`. null = the entry's name (the catalog's shorthand)."
  type        = string
  default     = null

  validation {
    condition     = var.batch == null ? true : can(regex("^[a-z][a-z0-9-]{0,38}[a-z0-9]$", var.batch))
    error_message = "batch must be 2-40 characters of lowercase letters, digits and hyphens, starting with a letter (it is a subcommand of `batch`)."
  }
}

variable "name_prefix" {
  description = "Prefix of every resource name, e.g. `batchbox-staging`. The task definition family is `<name_prefix>-<name>`."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,30}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 2-32 characters of lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "description" {
  description = "What the batch does, in one line. Becomes the description of the schedule rule."
  type        = string

  validation {
    condition     = length(trimspace(var.description)) > 0 && length(var.description) <= 512
    error_message = "description is required: a non-empty line of at most 512 characters (the EventBridge limit)."
  }
}

variable "args" {
  description = "Arguments after the batch name in the container command, e.g. `[\"--older-than-days\", \"90\"]`."
  type        = list(string)
  default     = []
  nullable    = false
}

# ---------------------------------------------------------------------------------------------------
# Schedule
# ---------------------------------------------------------------------------------------------------

variable "schedule_expression" {
  description = "EventBridge schedule expression in UTC: `cron(minutes hours day-of-month month day-of-week year)` or `rate(N minute|minutes|hour|hours|day|days)`. null = manual batch: the task definition and its failure notifications only, no rule or target."
  type        = string
  default     = null

  # AWS's cron reference, field by field, as src/catalog/cron.rs writes it down with its source
  # (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cron-expressions.html): each
  # field's values (numbers of at most two digits, four in the year; upper-case names), its
  # wildcards (`/` with an increment from 1 to the field's largest value; none in day-of-week),
  # `L`, `LW`, `nW`, `nL` and `n#k` alone in their day field, years 1970-2199, and `?` in exactly
  # one day field. A regex cannot see two rules that `batch schedule --check` enforces in CI:
  # ranges run upwards (MON-FRI, not FRI-MON) and the expression fires at least once (not
  # `cron(0 0 30 2 ? *)`). tests/cron_judge.rs evaluates this condition on the test corpus.
  validation {
    condition = var.schedule_expression == null ? true : (
      can(regex("^rate\\(1 (minute|hour|day)\\)$", var.schedule_expression)) ||
      can(regex("^rate\\([1-9][0-9]* (minutes|hours|days)\\)$", var.schedule_expression)) && !can(regex("^rate\\(1 ", var.schedule_expression)) ||
      (
        can(regex(format("^cron\\(%s +%s +%s +%s +%s +%s\\)$", [
          # Each field: its lone forms, `*` (with an increment), or a list of values and ranges
          # (each with an increment).
          for field in [
            { alone = "", value = "[0-5]?[0-9]", step = "(?:/(?:0?[1-9]|[1-5][0-9]))?" },                                                                                          # minutes
            { alone = "", value = "[01]?[0-9]|2[0-3]", step = "(?:/(?:0?[1-9]|1[0-9]|2[0-3]))?" },                                                                                 # hours
            { alone = "\\?|L|LW|(?:0?[1-9]|[12][0-9]|3[01])W|", value = "0?[1-9]|[12][0-9]|3[01]", step = "(?:/(?:0?[1-9]|[12][0-9]|3[01]))?" },                                   # day-of-month
            { alone = "", value = "0?[1-9]|1[0-2]|JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC", step = "(?:/(?:0?[1-9]|1[0-2]))?" },                                           # month
            { alone = "\\?|L|(?:0?[1-7]|SUN|MON|TUE|WED|THU|FRI|SAT)L|(?:0?[1-7]|SUN|MON|TUE|WED|THU|FRI|SAT)#[1-5]|", value = "0?[1-7]|SUN|MON|TUE|WED|THU|FRI|SAT", step = "" }, # day-of-week
            { alone = "", value = "19[7-9][0-9]|2[01][0-9][0-9]", step = "(?:/(?:0{0,2}[1-9]|0?[1-9][0-9]|1[0-9][0-9]|2[0-2][0-9]))?" },                                           # year
          ] : format("(?:%s\\*%s|%s(?:,%s)*)", field.alone, field.step, "(?:${field.value})(?:-(?:${field.value}))?${field.step}", "(?:${field.value})(?:-(?:${field.value}))?${field.step}")
        ]...), var.schedule_expression)) &&
        # EventBridge: exactly one of day-of-month and day-of-week is `?`.
        try((split(" ", replace(var.schedule_expression, "/ +/", " "))[2] == "?") != (split(" ", replace(var.schedule_expression, "/ +/", " "))[4] == "?"), false)
      )
    )
    error_message = "schedule_expression must be an EventBridge `cron(minutes hours day-of-month month day-of-week year)` as AWS's cron reference allows, with `?` in exactly one of day-of-month and day-of-week (e.g. `cron(30 18 * * ? *)`, `cron(0/15 8-17 ? * MON-FRI *)`, `cron(0 9 ? * 2#1 *)`; `batch schedule --check` names the field at fault), or `rate(N unit)` (`rate(1 hour)`, `rate(15 minutes)`), or null for a manual batch."
  }
}

variable "schedule_engine" {
  description = "What runs the schedule: \"rules\" (an EventBridge rule and its ECS target, cron in UTC) or \"scheduler\" (an EventBridge Scheduler schedule in schedule_group_name, cron in schedule_timezone)."
  type        = string
  default     = "rules"
  nullable    = false

  validation {
    condition     = contains(["rules", "scheduler"], var.schedule_engine)
    error_message = "schedule_engine must be \"rules\" or \"scheduler\"."
  }
}

variable "schedule_timezone" {
  description = "The IANA time zone the Scheduler reads the cron in (e.g. `America/New_York`); null = UTC. Only with schedule_engine = \"scheduler\": an EventBridge rule reads every cron in UTC."
  type        = string
  default     = null

  validation {
    condition     = var.schedule_timezone == null || var.schedule_engine == "scheduler"
    error_message = "schedule_timezone needs schedule_engine = \"scheduler\": an EventBridge rule reads its cron in UTC and cannot follow ${jsonencode(var.schedule_timezone)}."
  }

  validation {
    condition     = var.schedule_timezone == null ? true : length(var.schedule_timezone) >= 1 && length(var.schedule_timezone) <= 50
    error_message = "schedule_timezone must be 1-50 characters (the Scheduler API's ScheduleExpressionTimezone)."
  }
}

variable "schedule_group_name" {
  description = "The EventBridge Scheduler schedule group of the schedule (the environment's, `<name_prefix>`). Needed with schedule_engine = \"scheduler\" and a schedule."
  type        = string
  default     = null
}

variable "enabled" {
  description = "Whether the schedule (rule or Scheduler schedule) is ENABLED (true) or DISABLED (false). A disabled batch keeps its task definition and schedule."
  type        = bool
  default     = true
  nullable    = false
}

variable "alarm_topic_arn" {
  description = "SNS topic ARN that receives the failure and stop notifications and the FailedInvocations alarms."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]+$", var.alarm_topic_arn))
    error_message = "alarm_topic_arn must be an SNS topic ARN."
  }
}

variable "chat_topic_arn" {
  description = "SNS topic of the team's chat (custom notifications for Amazon Q Developer in chat applications), or null: with it, the failure and stop rules get a second target `chat` that publishes a custom notification there. Must be known at plan (batch_platform's chat_topic_arn_at_plan)."
  type        = string
  default     = null

  validation {
    condition     = var.chat_topic_arn == null ? true : can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]+$", var.chat_topic_arn))
    error_message = "chat_topic_arn must be an SNS topic ARN (or null for no chat)."
  }
}

# ---------------------------------------------------------------------------------------------------
# Task definition
# ---------------------------------------------------------------------------------------------------

variable "image" {
  description = "Container image reference with a tag or digest, e.g. `123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/batchbox:1.4.0`."
  type        = string

  validation {
    condition     = can(regex("^[^\\s]+(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[a-f0-9]{64})$", var.image)) && !endswith(var.image, ":latest")
    error_message = "image must name a tag or digest other than `latest`, so each task definition revision names one image."
  }
}

variable "cpu" {
  description = "Fargate task CPU units: 256, 512, 1024, 2048, 4096, 8192 or 16384."
  type        = number

  validation {
    condition     = contains([256, 512, 1024, 2048, 4096, 8192, 16384], var.cpu)
    error_message = "cpu must be one of the Fargate CPU values: 256, 512, 1024, 2048, 4096, 8192, 16384."
  }
}

variable "memory" {
  description = "Fargate task memory in MiB; must be a pair Fargate accepts for `cpu` (256: 512-2048; 512: 1024-4096; 1024: 2048-8192; 2048: 4096-16384; 4096: 8192-30720, in 1024 steps; 8192: 16384-61440 in 4096 steps; 16384: 32768-122880 in 8192 steps)."
  type        = number

  validation {
    condition = contains(
      var.cpu == 256 ? [512, 1024, 2048] :
      var.cpu == 512 ? range(1024, 4097, 1024) :
      var.cpu == 1024 ? range(2048, 8193, 1024) :
      var.cpu == 2048 ? range(4096, 16385, 1024) :
      var.cpu == 4096 ? range(8192, 30721, 1024) :
      var.cpu == 8192 ? range(16384, 61441, 4096) :
      var.cpu == 16384 ? range(32768, 122881, 8192) : [],
      var.memory
    )
    error_message = "memory is not a Fargate pair for this cpu. Valid: cpu 256 -> 512, 1024, 2048; 512 -> 1024-4096; 1024 -> 2048-8192; 2048 -> 4096-16384; 4096 -> 8192-30720 (1024 steps); 8192 -> 16384-61440 (4096 steps); 16384 -> 32768-122880 (8192 steps)."
  }
}

variable "cpu_architecture" {
  description = "CPU architecture of the image: X86_64 or ARM64."
  type        = string
  default     = "X86_64"

  validation {
    condition     = contains(["X86_64", "ARM64"], var.cpu_architecture)
    error_message = "cpu_architecture must be X86_64 or ARM64."
  }
}

variable "environment" {
  description = "Plain (non-secret) environment variables of the container, e.g. `{ RUST_LOG = \"info\", LOG_FORMAT = \"json\" }`. Secrets such as DATABASE_URL belong in `secrets`."
  type        = map(string)
  default     = {}
  nullable    = false

  validation {
    condition     = !contains(keys(var.environment), "DATABASE_URL")
    error_message = "DATABASE_URL is a secret: pass it in `secrets` (an SSM parameter or Secrets Manager ARN), never in `environment`."
  }

  validation {
    condition     = !contains(keys(var.environment), "BATCH_SCHEDULED_TIME")
    error_message = "BATCH_SCHEDULED_TIME is set per run by the schedule target from the event time; do not set it in `environment`."
  }

  validation {
    condition     = !contains(keys(var.environment), "BATCH_ENTRY")
    error_message = "BATCH_ENTRY is the catalog entry's name, set by this module; do not set it in `environment`."
  }
}

variable "secrets" {
  description = "Secret environment variables: name => SSM Parameter Store or Secrets Manager ARN, injected by ECS at start (the execution role must be allowed to read them), e.g. `{ DATABASE_URL = \"arn:aws:ssm:ap-northeast-1:123456789012:parameter/batchbox/staging/database-url\" }`."
  type        = map(string)
  default     = {}
  nullable    = false

  validation {
    condition     = alltrue([for arn in values(var.secrets) : can(regex("^arn:aws[a-z-]*:(ssm|secretsmanager):[a-z0-9-]+:[0-9]{12}:(parameter/|secret:)", arn))])
    error_message = "every secret must be an SSM parameter ARN (arn:aws:ssm:REGION:ACCOUNT:parameter/...) or a Secrets Manager ARN (arn:aws:secretsmanager:REGION:ACCOUNT:secret:...)."
  }
}

variable "stop_timeout_seconds" {
  description = "Seconds ECS waits after SIGTERM before SIGKILL when a task is stopped (Fargate allows 2-120). The batch stops claiming work, records the run as interrupted and exits within this time."
  type        = number
  default     = 30

  validation {
    condition     = var.stop_timeout_seconds >= 2 && var.stop_timeout_seconds <= 120
    error_message = "stop_timeout_seconds must be between 2 and 120 (the Fargate limit)."
  }
}

variable "execution_role_arn" {
  description = "ARN of the task execution role (pulls the image, writes logs, reads `secrets`)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/", var.execution_role_arn))
    error_message = "execution_role_arn must be an IAM role ARN."
  }
}

variable "task_role_arn" {
  description = "ARN of the task role: the permissions of the batch itself."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/", var.task_role_arn))
    error_message = "task_role_arn must be an IAM role ARN."
  }
}

variable "log_group_name" {
  description = "CloudWatch Logs group of the awslogs driver. Streams are `<name>/batch/<task id>` (the entry name is the stream prefix)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_/.#-]{1,512}$", var.log_group_name))
    error_message = "log_group_name must be a CloudWatch Logs group name."
  }
}

# ---------------------------------------------------------------------------------------------------
# Where the scheduled task runs
# ---------------------------------------------------------------------------------------------------

variable "cluster_arn" {
  description = "ARN of the ECS cluster that runs the scheduled task."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:ecs:[a-z0-9-]+:[0-9]{12}:cluster/[A-Za-z0-9_-]+$", var.cluster_arn))
    error_message = "cluster_arn must be an ECS cluster ARN (arn:aws:ecs:REGION:ACCOUNT:cluster/NAME)."
  }
}

variable "subnet_ids" {
  description = "Subnets of the task's network interface (awsvpc), usually private subnets with a NAT or VPC endpoints."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) > 0 && alltrue([for s in var.subnet_ids : can(regex("^subnet-[0-9a-f]{8,17}$", s))])
    error_message = "subnet_ids must hold at least one subnet id (subnet-...)."
  }
}

variable "security_group_ids" {
  description = "Security groups of the task's network interface."
  type        = list(string)

  validation {
    condition     = length(var.security_group_ids) > 0 && length(var.security_group_ids) <= 5 && alltrue([for s in var.security_group_ids : can(regex("^sg-[0-9a-f]{8,17}$", s))])
    error_message = "security_group_ids must hold 1 to 5 security group ids (sg-...)."
  }
}

variable "assign_public_ip" {
  description = "Give the task a public IP (only for public subnets without a NAT)."
  type        = bool
  default     = false
  nullable    = false
}

variable "task_count" {
  description = "Number of tasks each schedule event starts (1-10), e.g. several workers that share one queue."
  type        = number
  default     = 1

  validation {
    condition     = var.task_count >= 1 && var.task_count <= 10 && floor(var.task_count) == var.task_count
    error_message = "task_count must be a whole number from 1 to 10 (the RunTask limit)."
  }
}

variable "scheduler_role_arn" {
  description = "ARN of the role EventBridge Scheduler assumes to run the task (ecs:RunTask on this family, iam:PassRole on the task's roles, sqs:SendMessage on the dead-letter queue). Needed with schedule_engine = \"scheduler\" and a schedule."
  type        = string
  default     = null

  validation {
    condition     = var.scheduler_role_arn == null ? true : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/", var.scheduler_role_arn))
    error_message = "scheduler_role_arn must be an IAM role ARN or null."
  }
}

variable "events_role_arn" {
  description = "ARN of the role EventBridge assumes to run the task (ecs:RunTask on this family, iam:PassRole on the task's roles). Unused for a manual batch."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/", var.events_role_arn))
    error_message = "events_role_arn must be an IAM role ARN."
  }
}

# ---------------------------------------------------------------------------------------------------
# Notifications
# ---------------------------------------------------------------------------------------------------

variable "environment_name" {
  description = "Environment name shown in the notifications, e.g. `staging`. null = name_prefix."
  type        = string
  default     = null
}

variable "dead_letter_queue_arn" {
  description = "SQS queue where EventBridge puts the events it could not deliver to this batch's targets (the schedule's RunTask, the notifications). Its policy must let this batch's rules send."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:sqs:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,80}$", var.dead_letter_queue_arn))
    error_message = "dead_letter_queue_arn must be a standard SQS queue ARN in the rules' account and region (EventBridge does not accept FIFO queues as dead-letter queues)."
  }
}

variable "runbook_url" {
  description = "URL of docs/operations.md in the repository (e.g. `https://git.example.com/org/batchbox/blob/main/docs/operations.md`); the notifications link to its sections. null = they name the section only."
  type        = string
  default     = null

  validation {
    condition     = var.runbook_url == null ? true : can(regex("^https://[^\\s<>\"#]+$", var.runbook_url))
    error_message = "runbook_url must be an https:// URL without a #fragment, spaces, angle brackets or quotes (it is placed in an EventBridge input template)."
  }
}
