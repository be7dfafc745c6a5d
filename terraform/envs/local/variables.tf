variable "endpoint" {
  description = "URL of the local AWS API emulator (moto server), e.g. `http://127.0.0.1:5000`."
  type        = string
  default     = "http://127.0.0.1:5000"

  validation {
    condition     = can(regex("^https?://[^/]+$", var.endpoint))
    error_message = "endpoint must be a URL like http://127.0.0.1:5000 (no path)."
  }
}

variable "region" {
  description = "Region the emulator pretends to be."
  type        = string
  default     = "ap-northeast-1"
}

variable "image_tag" {
  description = "Image tag of the local task definitions; change it to see that only the task definitions change and the schedules keep following their families."
  type        = string
  default     = "local"
}

variable "batch_overrides" {
  description = "Per-batch changes to the catalog, as staging and production have them (scripts/check-terraform applies every kind of cron AWS accepts through it)."
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

variable "schedule_engine" {
  description = "What runs the schedules: \"rules\" (EventBridge scheduled rules, every cron in UTC; the default) or \"scheduler\" (EventBridge Scheduler, each cron in its entry's IANA time zone). Switching is this one variable; docs/operations.md says how without a missed or doubled run."
  type        = string
  default     = "rules"
  nullable    = false
  # modules/batch_environment checks the value (and refuses entries in local time under rules).
}
