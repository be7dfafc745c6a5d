# terraform test (offline: a mock provider, plan only). Run from this module's folder:
#   terraform init -backend=false && terraform test

mock_provider "aws" {
  source = "../testing/aws"
}

variables {
  environment = "test"
  batches = {
    "canary" = {
      description   = "No-op run"
      schedule      = "cron(0 * * * ? *)"
      args          = []
      cpu           = 256
      memory        = 512
      task_count    = 1
      grace_minutes = 30
    }
    "migrate" = {
      description   = "Apply database migrations"
      schedule      = null
      args          = []
      cpu           = 256
      memory        = 512
      task_count    = 1
      grace_minutes = null
    }
    "export-enqueue" = {
      description   = "Queue yesterday's exports"
      schedule      = "cron(30 15 * * ? *)"
      cpu           = 256
      memory        = 512
      grace_minutes = 60
      launch        = { batch = "export-worker", max_tasks = 20, jobs_per_task = 25 }
    }
    # A second entry of the same batch, with its own name, arguments, size and launch.
    "export-enqueue-monthly" = {
      batch         = "export-enqueue"
      description   = "Queue last month's exports"
      schedule      = "cron(50 15 L * ? *)"
      args          = ["--monthly"]
      cpu           = 256
      memory        = 1024
      grace_minutes = 60
      launch        = { batch = "export-worker", args = ["--max-runtime", "2h"], max_tasks = 10, jobs_per_task = 50 }
    }
    # The launched entry: manual here, its tasks started by the enqueue runs.
    "export-worker" = {
      description = "Export queued jobs"
      schedule    = null
      cpu         = 1024
      memory      = 2048
    }
    "history-prune" = {
      description   = "Delete old run history"
      schedule      = "cron(30 18 * * ? *)"
      cpu           = 256
      memory        = 512
      grace_minutes = 60
    }
    # Scheduled but not watched: grace_minutes = null turns missed-run detection off for it.
    "report-weekly" = {
      description   = "A weekly report nobody needs on time"
      schedule      = "cron(0 3 ? * MON *)"
      cpu           = 256
      memory        = 512
      grace_minutes = null
    }
    "missed-runs" = {
      description   = "Report scheduled runs that did not succeed within their grace"
      schedule      = "rate(10 minutes)"
      cpu           = 256
      memory        = 512
      grace_minutes = 20
    }
  }
  image_repository = "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/batchbox"
  image_tag        = "1.0.0"
  secrets = {
    DATABASE_URL = "arn:aws:ssm:ap-northeast-1:123456789012:parameter/batchbox/test/database-url"
  }
  cluster_arn        = "arn:aws:ecs:ap-northeast-1:123456789012:cluster/test"
  subnet_ids         = ["subnet-0a1b2c3d4e5f60001"]
  security_group_ids = ["sg-0a1b2c3d4e5f60001"]
  log_retention_days = 30
}

run "catalog_batches_become_scheduled_and_manual_batches" {
  command = plan

  assert {
    condition     = output.batches["canary"].rule_name == "batchbox-test-canary" && output.batches["canary"].schedule == "cron(0 * * * ? *)"
    error_message = "a scheduled catalog entry gets its rule"
  }
  assert {
    condition     = output.batches["migrate"].rule_name == null && output.batches["migrate"].task_definition_family == "batchbox-test-migrate"
    error_message = "a manual catalog entry gets a task definition only"
  }
}

run "environment_overrides_change_schedule_size_and_state" {
  command = plan

  variables {
    batch_overrides = {
      "canary" = {
        schedule = "rate(15 minutes)"
        enabled  = false
        memory   = 1024
      }
    }
  }

  assert {
    condition     = output.batches["canary"].schedule == "rate(15 minutes)" && output.batches["canary"].enabled == false
    error_message = "the override's schedule and enabled flag win over the catalog"
  }
  assert {
    condition     = module.batch["canary"].task_definition_family == "batchbox-test-canary" && output.batches["canary"].enabled == false
    error_message = "the override applies to the batch's own module"
  }
}

run "schedules_enabled_false_disables_every_rule" {
  command = plan

  variables {
    schedules_enabled = false
  }

  assert {
    condition     = alltrue([for b in output.batches : b.enabled == false])
    error_message = "the master switch disables every schedule"
  }
}

run "rejects_an_override_of_a_batch_that_is_not_in_the_catalog" {
  command = plan

  variables {
    batch_overrides = {
      "history-prnue" = { enabled = false }
    }
  }

  expect_failures = [var.batch_overrides]
}

run "rejects_secrets_without_database_url" {
  command = plan

  variables {
    secrets = {}
  }

  expect_failures = [var.secrets]
}

run "rejects_a_catalog_entry_whose_rule_names_exceed_the_eventbridge_limit" {
  command = plan

  variables {
    environment = "production-eu-west"
    batches = {
      "export-worker-for-the-quarterly-reports" = {
        description   = "A batch whose name is too long for its rules in this environment"
        schedule      = "cron(0 * * * ? *)"
        cpu           = 256
        memory        = 512
        grace_minutes = 30
      }
    }
  }

  expect_failures = [var.batches]
}

# ---------------------------------------------------------------------------------------------------
# The missed-runs watcher
# ---------------------------------------------------------------------------------------------------

run "watcher_reads_the_enabled_watched_schedules_after_the_overrides" {
  command = plan

  variables {
    batch_overrides = {
      "canary"        = { schedule = "rate(15 minutes)" }
      "history-prune" = { enabled = false }
    }
  }

  # Exactly these three, by entry name with their batch: not migrate or export-worker (manual),
  # history-prune (disabled here), report-weekly (grace_minutes = null) or missed-runs (itself);
  # canary with the schedule of this environment.
  assert {
    condition     = module.batch["missed-runs"].container_environment.WATCH_SCHEDULES == jsonencode({ "canary" = { batch = "canary", schedule = "rate(15 minutes)", grace_minutes = 30 }, "export-enqueue" = { batch = "export-enqueue", schedule = "cron(30 15 * * ? *)", grace_minutes = 60 }, "export-enqueue-monthly" = { batch = "export-enqueue", schedule = "cron(50 15 L * ? *)", grace_minutes = 60 } })
    error_message = "WATCH_SCHEDULES must be the enabled, watched entries with their overridden schedules: ${module.batch["missed-runs"].container_environment.WATCH_SCHEDULES}"
  }
  assert {
    condition     = keys(jsondecode(module.batch["missed-runs"].container_environment.WATCH_SCHEDULES)) == ["canary", "export-enqueue", "export-enqueue-monthly"] && jsondecode(module.batch["missed-runs"].container_environment.WATCH_SCHEDULES)["canary"].grace_minutes == 30
    error_message = "WATCH_SCHEDULES decodes to a JSON object by entry name with numbers for grace_minutes"
  }
  assert {
    condition     = module.batch["missed-runs"].container_environment.WATCH_TOPIC_ARN == "arn:aws:sns:ap-northeast-1:123456789012:batchbox-test-notifications" && module.batch["missed-runs"].container_environment.WATCH_ENVIRONMENT == "test"
    error_message = "the watcher is told the topic it publishes to and the environment's name"
  }
  assert {
    condition     = output.watch_schedules == jsondecode(module.batch["missed-runs"].container_environment.WATCH_SCHEDULES)
    error_message = "the output watch_schedules shows what the watcher reads"
  }
  assert {
    condition     = output.batches["canary"].watched && !output.batches["history-prune"].watched && !output.batches["report-weekly"].watched && !output.batches["migrate"].watched && !output.batches["missed-runs"].watched
    error_message = "the batches output says which entries are watched"
  }
}

run "only_the_watcher_gets_the_watch_variables" {
  command = plan

  assert {
    condition = alltrue([for name, b in module.batch : name == "missed-runs" ? true :
      length([for k in keys(b.container_environment) : k if startswith(k, "WATCH_")]) == 0
    ])
    error_message = "no other batch's task definition carries WATCH_* variables"
  }
  assert {
    condition = alltrue([for name, b in module.batch : b.container_environment.BATCH_ENTRY == name]) && (
      { for k, v in module.batch["canary"].container_environment : k => v if k != "BATCH_ENTRY" } == { for k, v in module.batch["migrate"].container_environment : k => v if k != "BATCH_ENTRY" }
      && { for k, v in module.batch["missed-runs"].container_environment : k => v if !startswith(k, "WATCH_") && k != "BATCH_ENTRY" } == { for k, v in module.batch["canary"].container_environment : k => v if k != "BATCH_ENTRY" }
    )
    error_message = "the other entries keep the shared environment, and the watcher has it too; each is told its entry name (BATCH_ENTRY)"
  }
}

run "an_override_can_watch_an_entry_the_catalog_does_not" {
  command = plan

  variables {
    batch_overrides = {
      "report-weekly" = { grace_minutes = 120 }
    }
  }

  assert {
    condition     = jsondecode(module.batch["missed-runs"].container_environment.WATCH_SCHEDULES)["report-weekly"] == { batch = "report-weekly", schedule = "cron(0 3 ? * MON *)", grace_minutes = 120 }
    error_message = "an environment's grace_minutes watches the entry with that grace"
  }
}

run "nothing_is_watched_while_the_schedules_are_disabled" {
  command = plan

  variables {
    schedules_enabled = false
  }

  assert {
    condition     = module.batch["missed-runs"].container_environment.WATCH_SCHEDULES == "{}"
    error_message = "with every schedule disabled nothing is reported missed"
  }
  assert {
    condition     = length(aws_cloudwatch_metric_alarm.watcher) == 0 && output.watcher_alarm_name == null
    error_message = "a watcher that is not scheduled has no alarm"
  }
}

run "the_watcher_is_watched_by_an_alarm_that_does_not_fire_after_apply" {
  command = plan

  variables {
    runbook_url = "https://git.example.com/org/batchbox/blob/main/docs/operations.md"
  }

  # The topic's ARN as AWS would report it, so that the actions are known at plan.
  override_resource {
    target          = module.platform.aws_sns_topic.notifications
    override_during = plan
    values = {
      arn = "arn:aws:sns:ap-northeast-1:123456789012:batchbox-test-notifications"
    }
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.watcher[0].metric_name == "RunSucceeded" && aws_cloudwatch_metric_alarm.watcher[0].namespace == "Batchbox/test" && aws_cloudwatch_metric_alarm.watcher[0].dimensions["Batch"] == "missed-runs" && length(aws_cloudwatch_metric_alarm.watcher[0].dimensions) == 1
    error_message = "the alarm reads the watcher's own successful runs"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.watcher[0].period == 600 && aws_cloudwatch_metric_alarm.watcher[0].evaluation_periods == 3 && aws_cloudwatch_metric_alarm.watcher[0].statistic == "Sum" && aws_cloudwatch_metric_alarm.watcher[0].comparison_operator == "LessThanThreshold" && aws_cloudwatch_metric_alarm.watcher[0].threshold == 1
    error_message = "30 minutes (3 x 600 s) without a successful watcher run"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.watcher[0].treat_missing_data == "missing"
    error_message = "missing data stays missing: INSUFFICIENT_DATA when the watcher stops, no ALARM right after apply"
  }
  assert {
    condition = alltrue([for actions in [
      aws_cloudwatch_metric_alarm.watcher[0].insufficient_data_actions,
      aws_cloudwatch_metric_alarm.watcher[0].ok_actions,
      aws_cloudwatch_metric_alarm.watcher[0].alarm_actions,
    ] : actions == toset(["arn:aws:sns:ap-northeast-1:123456789012:batchbox-test-notifications"])])
    error_message = "INSUFFICIENT_DATA, OK and ALARM all notify the topic"
  }
  assert {
    condition     = strcontains(aws_cloudwatch_metric_alarm.watcher[0].alarm_description, "the missed-run watcher has not succeeded for 30 minutes: missed runs are not being reported") && strcontains(aws_cloudwatch_metric_alarm.watcher[0].alarm_description, "https://git.example.com/org/batchbox/blob/main/docs/operations.md#the-missed-run-watcher-stopped")
    error_message = "the alarm says in words what it means and links to the runbook section"
  }
  assert {
    condition     = length(aws_cloudwatch_metric_alarm.watcher[0].alarm_description) <= 1024
    error_message = "CloudWatch allows 1024 characters of alarm description"
  }
}

run "a_disabled_watcher_has_no_alarm" {
  command = plan

  variables {
    batch_overrides = {
      "missed-runs" = { enabled = false }
    }
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.watcher) == 0
    error_message = "the watcher's alarm exists only while the watcher is scheduled and enabled"
  }
}

run "rejects_a_grace_outside_one_minute_to_seven_days" {
  command = plan

  variables {
    batches = {
      "canary" = {
        description   = "No-op run"
        schedule      = "cron(0 * * * ? *)"
        cpu           = 256
        memory        = 512
        grace_minutes = 0
      }
      "history-prune" = {
        description   = "Delete old run history"
        schedule      = "cron(30 18 * * ? *)"
        cpu           = 256
        memory        = 512
        grace_minutes = 10081
      }
    }
  }

  expect_failures = [var.batches]
}

run "rejects_a_fractional_grace_in_an_override" {
  command = plan

  variables {
    batch_overrides = {
      "canary" = { grace_minutes = 7.5 }
    }
  }

  expect_failures = [var.batch_overrides]
}

# ---------------------------------------------------------------------------------------------------
# Entries and batches; launches
# ---------------------------------------------------------------------------------------------------

run "several_entries_run_one_batch_each_with_its_own_task_definition" {
  command = plan

  assert {
    condition     = module.batch["export-enqueue-monthly"].task_definition_family == "batchbox-test-export-enqueue-monthly" && module.batch["export-enqueue-monthly"].batch == "export-enqueue" && module.batch["export-enqueue"].batch == "export-enqueue"
    error_message = "an entry's task definition is named after the entry and runs its batch"
  }
  assert {
    condition     = output.batches["export-enqueue-monthly"].batch == "export-enqueue" && output.batches["canary"].batch == "canary" && output.batches["export-enqueue-monthly"].rule_name == "batchbox-test-export-enqueue-monthly"
    error_message = "the batches output names each entry's batch (the entry's own name in the shorthand)"
  }
  assert {
    condition     = module.batch["export-enqueue-monthly"].container_environment.BATCH_ENTRY == "export-enqueue-monthly" && module.batch["export-enqueue"].container_environment.BATCH_ENTRY == "export-enqueue"
    error_message = "each task definition tells its run the entry it serves"
  }
}

run "a_launching_entry_is_told_what_to_launch_and_runs_with_its_own_role" {
  command = plan

  variables {
    assign_public_ip = true
    subnet_ids       = ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"]
  }

  override_resource {
    target          = module.platform.aws_iam_role.launch
    override_during = plan
    values          = { arn = "arn:aws:iam::123456789012:role/batchbox-test-launch" }
  }
  override_resource {
    target          = module.platform.aws_iam_role.task
    override_during = plan
    values          = { arn = "arn:aws:iam::123456789012:role/batchbox-test-task" }
  }
  override_resource {
    target          = module.platform.aws_iam_role.execution
    override_during = plan
    values          = { arn = "arn:aws:iam::123456789012:role/batchbox-test-execution" }
  }

  assert {
    condition = { for k, v in module.batch["export-enqueue"].container_environment : k => v if startswith(k, "LAUNCH_") } == {
      LAUNCH_BATCH            = "export-worker"
      LAUNCH_ARGS             = "[]"
      LAUNCH_MAX_TASKS        = "20"
      LAUNCH_JOBS_PER_TASK    = "25"
      LAUNCH_CLUSTER          = "arn:aws:ecs:ap-northeast-1:123456789012:cluster/test"
      LAUNCH_TASK_DEFINITION  = "batchbox-test-export-worker"
      LAUNCH_CONTAINER        = "batch"
      LAUNCH_SUBNETS          = "subnet-0a1b2c3d4e5f60001,subnet-0a1b2c3d4e5f60002"
      LAUNCH_SECURITY_GROUPS  = "sg-0a1b2c3d4e5f60001"
      LAUNCH_ASSIGN_PUBLIC_IP = "true"
    }
    error_message = "the launching entry's task definition carries exactly the LAUNCH_* variables: ${jsonencode(module.batch["export-enqueue"].container_environment)}"
  }
  assert {
    condition     = module.batch["export-enqueue-monthly"].container_environment.LAUNCH_ARGS == jsonencode(["--max-runtime", "2h"]) && module.batch["export-enqueue-monthly"].container_environment.LAUNCH_MAX_TASKS == "10" && module.batch["export-enqueue-monthly"].container_environment.LAUNCH_JOBS_PER_TASK == "50"
    error_message = "each launching entry gets its own launch"
  }
  assert {
    condition     = module.batch["export-enqueue"].container_environment.LAUNCH_TASK_DEFINITION == module.batch["export-worker"].task_definition_family && module.batch["export-enqueue"].container_environment.LAUNCH_CONTAINER == "batch"
    error_message = "LAUNCH_TASK_DEFINITION is the launched entry's family, as its module names it"
  }
  assert {
    condition     = alltrue([for name, b in module.batch : contains(["export-enqueue", "export-enqueue-monthly"], name) || length([for k in keys(b.container_environment) : k if startswith(k, "LAUNCH_")]) == 0])
    error_message = "no other entry's task definition carries LAUNCH_* variables"
  }
  assert {
    condition     = module.batch["export-enqueue"].task_role_arn == "arn:aws:iam::123456789012:role/batchbox-test-launch" && module.batch["export-enqueue-monthly"].task_role_arn == "arn:aws:iam::123456789012:role/batchbox-test-launch" && module.batch["export-worker"].task_role_arn == "arn:aws:iam::123456789012:role/batchbox-test-task" && module.batch["canary"].task_role_arn == "arn:aws:iam::123456789012:role/batchbox-test-task"
    error_message = "the launching entries run with their launch role, the others (the launched one too) with the shared task role"
  }
  assert {
    condition     = jsondecode(output.launchers["export-enqueue"].policy).Statement[0].Resource == "${module.batch["export-worker"].task_definition_family_arn}:*" && jsondecode(output.launchers["export-enqueue"].policy).Statement[0].Condition.ArnEquals["ecs:cluster"] == var.cluster_arn && length(jsondecode(output.launchers["export-enqueue"].policy).Statement) == 2
    error_message = "the launch role may start the launched entry's family (as its module names it) in this cluster"
  }
  assert {
    condition     = jsondecode(output.launchers["export-enqueue"].policy).Statement[1].Resource == [module.batch["export-worker"].execution_role_arn, module.batch["export-worker"].task_role_arn] && jsondecode(output.launchers["export-enqueue"].policy).Statement[1].Action == "iam:PassRole"
    error_message = "the launch role may pass exactly the two roles the launched tasks run with"
  }
}

run "the_watcher_is_the_entry_of_the_batch_missed_runs_whatever_its_name" {
  command = plan

  variables {
    batches = {
      "canary" = {
        description   = "No-op run"
        schedule      = "cron(0 * * * ? *)"
        cpu           = 256
        memory        = 512
        grace_minutes = 30
      }
      "watch-missed" = {
        batch         = "missed-runs"
        description   = "Report scheduled runs that did not succeed within their grace"
        schedule      = "rate(10 minutes)"
        cpu           = 256
        memory        = 512
        grace_minutes = 20
      }
    }
  }

  assert {
    condition     = jsondecode(module.batch["watch-missed"].container_environment.WATCH_SCHEDULES) == { "canary" = { batch = "canary", schedule = "cron(0 * * * ? *)", grace_minutes = 30 } }
    error_message = "the watcher entry reads WATCH_SCHEDULES and does not watch itself"
  }
  assert {
    condition     = length(aws_cloudwatch_metric_alarm.watcher) == 1 && aws_cloudwatch_metric_alarm.watcher[0].dimensions["Batch"] == "missed-runs" && strcontains(aws_cloudwatch_metric_alarm.watcher[0].alarm_description, "stream prefix watch-missed/")
    error_message = "the watcher's alarm reads the batch's successes and points at the entry's log streams"
  }
}

run "rejects_a_launch_of_an_entry_that_is_not_in_the_catalog" {
  command = plan

  variables {
    batches = {
      "export-enqueue" = {
        description = "Queue yesterday's exports"
        schedule    = "cron(30 15 * * ? *)"
        cpu         = 256
        memory      = 512
        launch      = { batch = "export-worker", max_tasks = 20, jobs_per_task = 25 }
      }
    }
  }

  expect_failures = [var.batches]
}

run "rejects_a_launch_of_an_entry_that_runs_another_batch" {
  command = plan

  variables {
    batches = {
      "export-enqueue" = {
        description = "Queue yesterday's exports"
        schedule    = "cron(30 15 * * ? *)"
        cpu         = 256
        memory      = 512
        launch      = { batch = "export-worker", max_tasks = 20, jobs_per_task = 25 }
      }
      "export-worker" = {
        batch       = "canary"
        description = "Not the worker at all"
        cpu         = 256
        memory      = 512
      }
    }
  }

  expect_failures = [var.batches]
}

run "rejects_a_launch_of_an_entry_that_launches" {
  command = plan

  variables {
    batches = {
      "export-enqueue" = {
        description = "Queue yesterday's exports"
        schedule    = "cron(30 15 * * ? *)"
        cpu         = 256
        memory      = 512
        launch      = { batch = "export-worker", max_tasks = 20, jobs_per_task = 25 }
      }
      "export-worker" = {
        description = "Export queued jobs, and launch more of itself"
        cpu         = 256
        memory      = 512
        launch      = { batch = "export-worker", max_tasks = 20, jobs_per_task = 25 }
      }
    }
  }

  expect_failures = [var.batches]
}

run "rejects_a_launch_outside_its_bounds" {
  command = plan

  variables {
    batches = {
      "export-enqueue" = {
        description = "Queue yesterday's exports"
        schedule    = "cron(30 15 * * ? *)"
        cpu         = 256
        memory      = 512
        launch      = { batch = "export-worker", max_tasks = 101, jobs_per_task = 0 }
      }
      "export-worker" = {
        description = "Export queued jobs"
        cpu         = 256
        memory      = 512
      }
    }
  }

  expect_failures = [var.batches]
}

# The dashboard is generated from the catalog: every batch (report-weekly is in no real catalog) gets
# its two time series, every alarm is on an alarm widget, the launching entries on the export queue's.
run "the_dashboard_has_a_row_per_batch_and_every_alarm" {
  command = plan

  assert {
    condition     = aws_cloudwatch_dashboard.this.dashboard_name == "batchbox-test" && jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).start == "-P14D"
    error_message = "the dashboard is batchbox-<environment>, opening on the last 14 days"
  }
  assert {
    condition = alltrue([for batch in ["canary", "migrate", "export-enqueue", "export-worker", "history-prune", "report-weekly", "missed-runs"] : length([
      for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : w
      if try(w.properties.view, "") == "timeSeries" && strcontains(try(w.properties.query, ""), "batch = \"${batch}\"")
    ]) >= 2])
    error_message = "every batch of the catalog has its runs and duration time series"
  }
  assert {
    condition = sort(flatten([for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : try(w.properties.alarms, [])])) == sort([
      for name in output.alarm_names : "arn:aws:cloudwatch:ap-northeast-1:123456789012:alarm:${name}"
    ])
    error_message = "the alarm widgets list every alarm of the environment by ARN"
  }
  assert {
    # 8 entries: 6 scheduled (3 rules each) and 2 manual (2 each), the dead-letter queue's, the watcher's.
    condition     = length(output.alarm_names) == 6 * 3 + 2 * 2 + 2 && contains(output.alarm_names, "batchbox-test-missed-run-watcher-stopped")
    error_message = "alarm_names holds the FailedInvocations alarms of every rule, the dead-letter queue's and the watcher's"
  }
  assert {
    condition = length([for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : w
    if strcontains(try(w.properties.query, ""), "entry in [\"export-enqueue\", \"export-enqueue-monthly\"]")]) == 1
    error_message = "the export queue shows what each launching entry found and launched"
  }
  assert {
    condition     = strcontains(jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets[0].properties.markdown, "[report-weekly](https://ap-northeast-1.console.aws.amazon.com/cloudwatch/home?region=ap-northeast-1#logsV2:log-groups/log-group/$252Fecs$252Fbatchbox-test$3FlogStreamNameFilter$3Dreport-weekly$252Fbatch$252F)")
    error_message = "the header links to each entry's log streams"
  }
}

run "a_dashboard_without_the_export_worker_has_no_export_queue" {
  command = plan

  variables {
    batches = {
      "canary" = {
        description = "No-op run"
        schedule    = "cron(0 * * * ? *)"
        cpu         = 256
        memory      = 512
      }
    }
  }

  assert {
    condition = [for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : [w.type, w.x, w.y, w.width, w.height]] == [
      ["text", 0, 0, 24, 5], ["alarm", 0, 5, 24, 6], ["log", 0, 11, 24, 8], ["log", 0, 19, 12, 6], ["log", 12, 19, 12, 6],
    ]
    error_message = "one batch: the header, the alarms, the failures and its two time series, laid out row by row"
  }
}

# ---------------------------------------------------------------------------------------------------
# The time line report (history-report)
# ---------------------------------------------------------------------------------------------------

run "the_report_gets_the_watched_schedules_its_key_and_a_role_of_its_own" {
  command = plan

  variables {
    batches = {
      "canary" = {
        description   = "No-op run"
        schedule      = "cron(0 * * * ? *)"
        cpu           = 256
        memory        = 512
        grace_minutes = 30
      }
      "missed-runs" = {
        description   = "Report missed runs"
        schedule      = "rate(10 minutes)"
        cpu           = 256
        memory        = 512
        grace_minutes = 20
      }
      "history-report" = {
        description   = "Write the run time line to the bucket"
        schedule      = "cron(15 * * * ? *)"
        cpu           = 256
        memory        = 512
        grace_minutes = 120
      }
    }
    export_bucket_name = "batchbox-test-exports"
    report_key         = "reports/東京/timeline.html"
  }

  override_resource {
    target          = module.platform.aws_iam_role.report_task
    override_during = plan
    values          = { arn = "arn:aws:iam::123456789012:role/batchbox-test-history-report-task" }
  }

  assert {
    condition     = module.batch["history-report"].container_environment.REPORT_SCHEDULES == module.batch["missed-runs"].container_environment.WATCH_SCHEDULES
    error_message = "the report draws exactly the schedules the watcher watches"
  }
  assert {
    condition     = keys(jsondecode(module.batch["history-report"].container_environment.REPORT_SCHEDULES)) == ["canary", "history-report"]
    error_message = "the watched entries, the report itself included, never the watcher"
  }
  assert {
    condition     = module.batch["history-report"].container_environment.REPORT_KEY == "reports/東京/timeline.html" && module.batch["history-report"].container_environment.REPORT_ENVIRONMENT == "test" && module.batch["history-report"].container_environment.EXPORT_BUCKET == "batchbox-test-exports"
    error_message = "the report is told its key, the environment and the bucket"
  }
  assert {
    condition = alltrue([for name, b in module.batch : name == "history-report" ? true :
      length([for k in keys(b.container_environment) : k if startswith(k, "REPORT_")]) == 0
    ])
    error_message = "no other entry carries REPORT_* variables"
  }
  assert {
    condition     = module.batch["history-report"].task_role_arn == "arn:aws:iam::123456789012:role/batchbox-test-history-report-task"
    error_message = "the report runs with its own task role"
  }
  assert {
    condition     = output.report_location == "s3://batchbox-test-exports/reports/東京/timeline.html"
    error_message = "the output says where the page is"
  }
}

# ---------------------------------------------------------------------------------------------------
# Time zones and the schedule engines
# ---------------------------------------------------------------------------------------------------

run "the_rules_engine_refuses_a_scheduled_entry_written_for_another_zone" {
  command = plan

  variables {
    batches = merge(var.batches, {
      "history-prune" = merge(var.batches["history-prune"], { timezone = "Asia/Tokyo" })
    })
    batch_overrides = {
      "canary" = { timezone = "America/New_York" }
      # Manual here: its zone is not read, so not refused.
      "migrate" = { timezone = "Europe/Berlin" }
    }
  }

  expect_failures = [var.schedule_engine]
}

run "the_rules_engine_takes_utc_by_either_name" {
  command = plan

  variables {
    default_timezone = "Etc/UTC"
    batch_overrides = {
      "canary"  = { timezone = "UTC" }
      "migrate" = { timezone = "Europe/Berlin" }
    }
  }

  assert {
    condition     = module.batch["canary"].rule_name == "batchbox-test-canary" && module.batch["history-prune"].schedule_timezone == "UTC" && output.batches["history-prune"].timezone == "Etc/UTC"
    error_message = "UTC and Etc/UTC are UTC: the rules run them, and a manual entry's zone is not read"
  }
  assert {
    condition     = !strcontains(module.batch["missed-runs"].container_environment.WATCH_SCHEDULES, "timezone")
    error_message = "WATCH_SCHEDULES says nothing of a UTC zone, whatever its name"
  }
}

run "the_scheduler_engine_reads_each_cron_in_its_zone_and_tells_the_watcher_the_zones_that_are_not_utc" {
  command = plan

  variables {
    schedule_engine = "scheduler"
    batches = merge(var.batches, {
      "history-prune" = merge(var.batches["history-prune"], { timezone = "Asia/Tokyo" })
      "history-report" = {
        description   = "Write the run time line"
        schedule      = "cron(15 * * * ? *)"
        cpu           = 256
        memory        = 512
        grace_minutes = 120
      }
    })
    batch_overrides = {
      # The override wins over the catalog's zone, and a schedule the spring change skips.
      "history-prune"  = { timezone = "America/New_York", schedule = "cron(30 2 * * ? *)" }
      "export-enqueue" = { timezone = "Europe/Berlin" }
      "canary"         = { timezone = "Etc/UTC" }
    }
  }

  assert {
    condition = {
      for name, b in module.batch : name => [b.schedule_name, b.schedule_timezone, b.rule_name] if b.scheduled
      } == {
      "canary"                 = ["batchbox-test-canary", "Etc/UTC", null]
      "export-enqueue"         = ["batchbox-test-export-enqueue", "Europe/Berlin", null]
      "export-enqueue-monthly" = ["batchbox-test-export-enqueue-monthly", "UTC", null]
      "history-prune"          = ["batchbox-test-history-prune", "America/New_York", null]
      "history-report"         = ["batchbox-test-history-report", "UTC", null]
      "report-weekly"          = ["batchbox-test-report-weekly", "UTC", null]
      "missed-runs"            = ["batchbox-test-missed-runs", "UTC", null]
    }
    error_message = "every scheduled entry is a Scheduler schedule in its effective zone (override, entry, default), none a rule"
  }
  assert {
    condition = jsondecode(module.batch["missed-runs"].container_environment.WATCH_SCHEDULES) == {
      "canary"                 = { batch = "canary", schedule = "cron(0 * * * ? *)", grace_minutes = 30 }
      "export-enqueue"         = { batch = "export-enqueue", schedule = "cron(30 15 * * ? *)", grace_minutes = 60, timezone = "Europe/Berlin" }
      "export-enqueue-monthly" = { batch = "export-enqueue", schedule = "cron(50 15 L * ? *)", grace_minutes = 60 }
      "history-prune"          = { batch = "history-prune", schedule = "cron(30 2 * * ? *)", grace_minutes = 60, timezone = "America/New_York" }
      "history-report"         = { batch = "history-report", schedule = "cron(15 * * * ? *)", grace_minutes = 120 }
    }
    error_message = "WATCH_SCHEDULES carries timezone exactly for the entries not in UTC: ${module.batch["missed-runs"].container_environment.WATCH_SCHEDULES}"
  }
  assert {
    condition     = module.batch["history-report"].container_environment.REPORT_SCHEDULES == module.batch["missed-runs"].container_environment.WATCH_SCHEDULES && output.watch_schedules == jsondecode(module.batch["missed-runs"].container_environment.WATCH_SCHEDULES)
    error_message = "REPORT_SCHEDULES and the output watch_schedules are the very value of WATCH_SCHEDULES"
  }
  assert {
    condition     = output.schedule_engine == "scheduler" && output.schedule_group_name == "batchbox-test" && module.batch["canary"].failed_invocations_alarm_names == { failed = "batchbox-test-canary-failed-failed-invocations", stopped = "batchbox-test-canary-stopped-failed-invocations" }
    error_message = "the schedules are in the environment's group; only the notification rules have FailedInvocations alarms"
  }
  assert {
    # 9 entries: 2 notification alarms each, the dead-letter queue's, 5 of the Scheduler, the watcher's.
    condition     = length(output.alarm_names) == 9 * 2 + 1 + 5 + 1 && contains(output.alarm_names, "batchbox-test-scheduler-invocations-dropped")
    error_message = "alarm_names holds the notification rules' alarms, the dead-letter queue's, the Scheduler group's and the watcher's"
  }
  assert {
    condition = sort(flatten([for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : try(w.properties.alarms, [])])) == sort([
      for name in output.alarm_names : "arn:aws:cloudwatch:ap-northeast-1:123456789012:alarm:${name}"
    ])
    error_message = "the dashboard lists every alarm, the Scheduler's included"
  }
}

run "a_manual_entry_may_name_a_zone_under_the_rules_engine" {
  command = plan

  variables {
    batches = merge(var.batches, {
      "migrate" = merge(var.batches["migrate"], { timezone = "Asia/Tokyo" })
    })
  }

  assert {
    condition     = module.batch["migrate"].schedule_name == null && module.batch["migrate"].rule_name == null
    error_message = "a manual entry has nothing to schedule in any zone"
  }
}

run "rejects_a_zone_name_that_is_not_one" {
  command = plan

  variables {
    schedule_engine = "scheduler"
    batches = merge(var.batches, {
      "canary"        = merge(var.batches["canary"], { timezone = "🚚/𠮷" })
      "history-prune" = merge(var.batches["history-prune"], { timezone = "" })
    })
  }

  expect_failures = [var.batches]
}

run "rejects_an_override_zone_with_html_or_an_offset" {
  command = plan

  variables {
    schedule_engine = "scheduler"
    batch_overrides = {
      "canary"        = { timezone = "<b>Asia/Tokyo</b>" }
      "history-prune" = { timezone = "+09:00" }
    }
  }

  expect_failures = [var.batch_overrides]
}

run "rejects_an_unknown_engine" {
  command = plan

  variables {
    schedule_engine = "Scheduler"
  }

  expect_failures = [var.schedule_engine]
}

run "rejects_a_blank_default_zone" {
  command = plan

  variables {
    default_timezone = " "
  }

  expect_failures = [var.default_timezone]
}

# ---------------------------------------------------------------------------------------------------
# The team's chat
# ---------------------------------------------------------------------------------------------------

run "without_a_chat_channel_nothing_of_the_chat_exists" {
  command = plan

  assert {
    condition = (
      length(aws_cloudwatch_event_rule.alarms_to_chat) == 0 && length(aws_cloudwatch_event_target.alarms_to_chat) == 0
      && alltrue([for name, b in module.batch : !contains(keys(b.container_environment), "WATCH_CHAT_TOPIC_ARN")])
      && output.chat_topic_arn == null && output.alarms_to_chat_rule_name == null && output.chat_channel_configuration_arns == {}
    )
    error_message = "no alarms rule, no chat topic, no WATCH_CHAT_TOPIC_ARN without a chat channel"
  }
}

run "a_slack_channel_sends_failures_stops_alarms_and_missed_runs_to_the_chat" {
  command = plan

  variables {
    chat_slack_team_id    = "T0123456789"
    chat_slack_channel_id = "C0123456789"
  }

  override_resource {
    target          = module.platform.aws_sns_topic.chat
    override_during = plan
    values          = { arn = "arn:aws:sns:ap-northeast-1:123456789012:batchbox-test-chat" }
  }
  override_resource {
    target          = module.platform.aws_sqs_queue.events_dlq
    override_during = plan
    values          = { arn = "arn:aws:sqs:ap-northeast-1:123456789012:batchbox-test-events-dlq" }
  }

  assert {
    condition     = module.batch["missed-runs"].container_environment.WATCH_CHAT_TOPIC_ARN == "arn:aws:sns:ap-northeast-1:123456789012:batchbox-test-chat" && alltrue([for name, b in module.batch : !contains(keys(b.container_environment), "WATCH_CHAT_TOPIC_ARN") if name != "missed-runs"])
    error_message = "the watcher (and only it) is told the chat topic"
  }
  assert {
    condition = jsondecode(aws_cloudwatch_event_rule.alarms_to_chat[0].event_pattern) == {
      source        = ["aws.cloudwatch"]
      "detail-type" = ["CloudWatch Alarm State Change"]
      detail        = { alarmName = [{ prefix = "batchbox-test-" }] }
    }
    error_message = "one rule for the state changes of this environment's alarms: ${aws_cloudwatch_event_rule.alarms_to_chat[0].event_pattern}"
  }
  assert {
    condition = (
      aws_cloudwatch_event_rule.alarms_to_chat[0].name == "batchbox-test-alarms-to-chat"
      && aws_cloudwatch_event_target.alarms_to_chat[0].arn == "arn:aws:sns:ap-northeast-1:123456789012:batchbox-test-chat"
      && aws_cloudwatch_event_target.alarms_to_chat[0].target_id == "chat"
      && aws_cloudwatch_event_target.alarms_to_chat[0].dead_letter_config[0].arn == "arn:aws:sqs:ap-northeast-1:123456789012:batchbox-test-events-dlq"
      && aws_cloudwatch_event_target.alarms_to_chat[0].retry_policy[0].maximum_retry_attempts == 185
    )
    error_message = "the alarms rule batchbox-test-alarms-to-chat targets the chat topic, with the retry policy and dead-letter queue"
  }
  assert {
    # The reason is inserted unquoted (a JSON string of its own): decoded with a stand-in value.
    condition = (
      jsondecode(replace(aws_cloudwatch_event_target.alarms_to_chat[0].input_transformer[0].input_template, "<reason>", "\"r\"")).content.title == ":rotating_light: batchbox test: alarm <alarmName> is <state>"
      && jsondecode(replace(aws_cloudwatch_event_target.alarms_to_chat[0].input_transformer[0].input_template, "<reason>", "\"r\"")).metadata.additionalContext.reason == "r"
      && jsondecode(replace(aws_cloudwatch_event_target.alarms_to_chat[0].input_transformer[0].input_template, "<reason>", "\"r\"")).metadata.eventType == "batch-alarm-state-change"
    )
    error_message = "the alarm message is a custom notification: ${aws_cloudwatch_event_target.alarms_to_chat[0].input_transformer[0].input_template}"
  }
  assert {
    condition     = alltrue([for name, b in module.batch : length(b.notification_rule_names) == 2]) && length(output.batches) == length(var.batches)
    error_message = "every entry keeps its failure and stop rules"
  }
  assert {
    condition     = keys(output.chat_channel_configuration_arns) == ["slack"]
    error_message = "a Slack channel configuration, no Teams one"
  }
}

run "create_chat_channels_false_keeps_the_topic_and_its_feeds_without_a_channel" {
  command = plan

  variables {
    chat_slack_team_id    = "T0123456789"
    chat_slack_channel_id = "C0123456789"
    create_chat_channels  = false
  }

  assert {
    condition = (
      length(aws_cloudwatch_event_rule.alarms_to_chat) == 1 && output.chat_channel_configuration_arns == {}
      && contains(keys(module.batch["missed-runs"].container_environment), "WATCH_CHAT_TOPIC_ARN")
    )
    error_message = "the topic, the alarms rule and the watcher's variable, but no channel configuration"
  }
}

run "rejects_a_slack_team_without_a_channel" {
  command = plan

  variables {
    chat_slack_team_id = "T0123456789"
  }

  expect_failures = [var.chat_slack_team_id]
}

run "rejects_a_slack_channel_id_with_a_space" {
  command = plan

  variables {
    chat_slack_team_id    = "T0123456789"
    chat_slack_channel_id = "C012 3456"
  }

  expect_failures = [var.chat_slack_channel_id]
}

run "rejects_a_slack_team_id_in_lowercase" {
  command = plan

  variables {
    chat_slack_team_id    = "t0123456789"
    chat_slack_channel_id = "C0123456789"
  }

  expect_failures = [var.chat_slack_team_id]
}

run "rejects_a_teams_channel_without_its_tenant" {
  command = plan

  variables {
    chat_teams_team_id    = "00000000-0000-0000-0000-000000000002"
    chat_teams_channel_id = "19%3aabc123%40thread.tacv2"
  }

  expect_failures = [var.chat_teams_tenant_id]
}

run "rejects_a_teams_tenant_that_is_not_a_uuid" {
  command = plan

  variables {
    chat_teams_tenant_id  = "contoso"
    chat_teams_team_id    = "00000000-0000-0000-0000-000000000002"
    chat_teams_channel_id = "19%3aabc123%40thread.tacv2"
  }

  expect_failures = [var.chat_teams_tenant_id]
}
