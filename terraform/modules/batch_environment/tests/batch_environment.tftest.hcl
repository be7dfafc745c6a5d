# terraform test (offline: a mock provider, plan only). Run from this module's folder:
#   terraform init -backend=false && terraform test

mock_provider "aws" {
  mock_data "aws_region" {
    defaults = {
      name = "ap-northeast-1"
    }
  }
  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }
  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
    }
  }
  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }
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
    condition     = module.batch["canary"].task_definition_family == "batchbox-test-canary" && output.batches["canary"].alarm_window_minutes == 45
    error_message = "rate(15 minutes) + 30 minutes of grace = 45 minutes"
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
