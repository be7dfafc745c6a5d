# terraform test (offline: a mock provider, plan only). Run from this module's folder:
#   terraform init -backend=false && terraform test

mock_provider "aws" {
  source = "../testing/aws"
}

variables {
  name_prefix        = "batchbox-test"
  metric_namespace   = "Batchbox/test"
  cluster_arn        = "arn:aws:ecs:ap-northeast-1:123456789012:cluster/test"
  log_retention_days = 30
  watcher_task_role  = true
}

run "one_metric_filter_counts_the_successful_runs_of_every_batch" {
  command = plan

  assert {
    condition     = aws_cloudwatch_log_metric_filter.run_succeeded.pattern == "{ $.message = \"run finished\" && $.status = \"succeeded\" }"
    error_message = "the filter matches every batch's successful run finished line"
  }
  assert {
    condition = (
      aws_cloudwatch_log_metric_filter.run_succeeded.metric_transformation[0].name == "RunSucceeded"
      && aws_cloudwatch_log_metric_filter.run_succeeded.metric_transformation[0].namespace == "Batchbox/test"
      && aws_cloudwatch_log_metric_filter.run_succeeded.metric_transformation[0].dimensions == tomap({ Batch = "$.batch" })
      && aws_cloudwatch_log_metric_filter.run_succeeded.metric_transformation[0].default_value == null
    )
    error_message = "RunSucceeded in the environment's namespace, the batch a dimension from the line, no default value"
  }
}

run "the_watcher_gets_a_task_role_of_its_own_that_may_publish_to_the_topic" {
  command = plan

  assert {
    condition     = aws_iam_role.watcher_task[0].name == "batchbox-test-missed-runs-task"
    error_message = "the watcher's task role is its own"
  }
  assert {
    condition = toset([for st in data.aws_iam_policy_document.watcher_task[0].statement : join(",", sort(st.actions))]) == toset([
      "sns:Publish", "kms:Decrypt,kms:GenerateDataKey*",
    ])
    error_message = "the watcher may publish to the topic and use the topic's key for it, nothing else"
  }
  assert {
    condition     = strcontains(aws_iam_role_policy.watcher_task[0].name, "publish") && length(aws_iam_role_policy.task) == 0
    error_message = "the shared task role gets no policy here (no export bucket, no parameters), the watcher's role its own"
  }
}

run "no_watcher_role_without_a_watcher" {
  command = plan

  variables {
    watcher_task_role = false
  }

  assert {
    condition     = length(aws_iam_role.watcher_task) == 0
    error_message = "an environment without the missed-runs entry has no watcher role"
  }
}

# ---------------------------------------------------------------------------------------------------
# Entries that launch tasks (the catalog's `launch`)
# ---------------------------------------------------------------------------------------------------

run "a_launching_entry_gets_a_role_that_may_start_exactly_the_launched_family" {
  command = plan

  variables {
    launchers = {
      "export-enqueue"         = "arn:aws:ecs:ap-northeast-1:123456789012:task-definition/batchbox-test-export-worker"
      "export-enqueue-monthly" = "arn:aws:ecs:ap-northeast-1:123456789012:task-definition/batchbox-test-export-worker"
    }
    export_bucket_name = "batchbox-test-exports"
  }

  # The roles' ARNs as IAM would report them, so that the policies are known at plan.
  override_resource {
    target          = aws_iam_role.execution
    override_during = plan
    values          = { arn = "arn:aws:iam::123456789012:role/batchbox-test-execution" }
  }
  override_resource {
    target          = aws_iam_role.task
    override_during = plan
    values          = { arn = "arn:aws:iam::123456789012:role/batchbox-test-task" }
  }
  override_resource {
    target          = aws_iam_role.launch
    override_during = plan
    values          = { arn = "arn:aws:iam::123456789012:role/batchbox-test-launch" }
  }
  override_resource {
    target          = aws_iam_role.watcher_task
    override_during = plan
    values          = { arn = "arn:aws:iam::123456789012:role/batchbox-test-missed-runs-task" }
  }

  assert {
    condition     = aws_iam_role.launch["export-enqueue"].name == "batchbox-test-export-enqueue-launch" && aws_iam_role.launch["export-enqueue-monthly"].name == "batchbox-test-export-enqueue-monthly-launch"
    error_message = "each launching entry has a task role of its own, named after it"
  }
  assert {
    condition = jsondecode(aws_iam_role_policy.launch["export-enqueue"].policy) == {
      Version = "2012-10-17"
      Statement = [
        {
          Sid       = "RunTheLaunchedTasks"
          Effect    = "Allow"
          Action    = "ecs:RunTask"
          Resource  = "arn:aws:ecs:ap-northeast-1:123456789012:task-definition/batchbox-test-export-worker:*"
          Condition = { ArnEquals = { "ecs:cluster" = "arn:aws:ecs:ap-northeast-1:123456789012:cluster/test" } }
        },
        {
          Sid       = "PassTheLaunchedTasksRoles"
          Effect    = "Allow"
          Action    = "iam:PassRole"
          Resource  = ["arn:aws:iam::123456789012:role/batchbox-test-execution", "arn:aws:iam::123456789012:role/batchbox-test-task"]
          Condition = { StringEquals = { "iam:PassedToService" = "ecs-tasks.amazonaws.com" } }
        },
      ]
    }
    error_message = "the launch policy is exactly: RunTask on the launched family's revisions in this cluster, PassRole to ECS tasks of the execution and shared task roles: ${aws_iam_role_policy.launch["export-enqueue"].policy}"
  }
  assert {
    condition     = output.launch_policies == { for entry, policy in aws_iam_role_policy.launch : entry => policy.policy } && aws_iam_role_policy.launch["export-enqueue"].role == aws_iam_role.launch["export-enqueue"].id
    error_message = "the output shows the policies the launch roles get"
  }
  assert {
    condition     = length(aws_iam_role_policy.launch_batch_permissions) == 2 && alltrue([for entry, p in aws_iam_role_policy.launch_batch_permissions : p.policy == aws_iam_role_policy.task[0].policy && p.name == aws_iam_role_policy.task[0].name])
    error_message = "a launching entry may do what every batch may (the shared task role's policy, the same document)"
  }
  assert {
    condition     = toset(one([for st in data.aws_iam_policy_document.events.statement : st.resources if st.sid == "PassTheBatchRoles"])) == toset(["arn:aws:iam::123456789012:role/batchbox-test-execution", "arn:aws:iam::123456789012:role/batchbox-test-task", "arn:aws:iam::123456789012:role/batchbox-test-missed-runs-task", "arn:aws:iam::123456789012:role/batchbox-test-launch"])
    error_message = "EventBridge may pass the launch roles to the launching entries' scheduled tasks"
  }
  assert {
    condition     = length([for st in data.aws_iam_policy_document.events.statement : st if contains(st.actions, "ecs:RunTask")]) == 0
    error_message = "a launched family that no schedule runs is not in the events role's RunTask statement"
  }
}

run "no_launch_role_without_a_launching_entry" {
  command = plan

  assert {
    condition     = length(aws_iam_role.launch) == 0 && length(aws_iam_role_policy.launch) == 0 && output.launch_task_role_arns == {}
    error_message = "an environment without a launch has no launch role"
  }
}

run "a_launching_entry_without_shared_permissions_gets_the_launch_policy_only" {
  command = plan

  variables {
    launchers = {
      "export-enqueue" = "arn:aws:ecs:ap-northeast-1:123456789012:task-definition/batchbox-test-export-worker"
    }
  }

  assert {
    condition     = length(aws_iam_role_policy.launch_batch_permissions) == 0 && length(aws_iam_role_policy.launch) == 1
    error_message = "no export bucket, no parameters: the launch role has the launch policy only"
  }
}

run "rejects_a_launched_family_with_a_revision" {
  command = plan

  variables {
    launchers = {
      "export-enqueue" = "arn:aws:ecs:ap-northeast-1:123456789012:task-definition/batchbox-test-export-worker:3"
    }
  }

  expect_failures = [var.launchers]
}

# ---------------------------------------------------------------------------------------------------
# The time line report
# ---------------------------------------------------------------------------------------------------

run "the_report_may_write_its_page_and_nothing_else" {
  command = plan

  variables {
    report_task_role   = true
    export_bucket_name = "batchbox-test-exports"
    export_kms_key_arn = "arn:aws:kms:ap-northeast-1:123456789012:key/0a1b2c3d-0000-4000-8000-000000000001"
  }

  assert {
    condition     = aws_iam_role.report_task[0].name == "batchbox-test-history-report-task" && aws_iam_role_policy.report_task[0].name == "write-time-line"
    error_message = "the report has a task role of its own"
  }
  assert {
    condition = jsonencode([for st in data.aws_iam_policy_document.report_task[0].statement : { sid = st.sid, actions = sort(st.actions), resources = sort(st.resources) }]) == jsonencode([
      { sid = "WriteTheTimeLinePage", actions = ["s3:AbortMultipartUpload", "s3:PutObject"], resources = ["arn:aws:s3:::batchbox-test-exports/reports/timeline.html"] },
      { sid = "EncryptThePage", actions = ["kms:Decrypt", "kms:GenerateDataKey"], resources = ["arn:aws:kms:ap-northeast-1:123456789012:key/0a1b2c3d-0000-4000-8000-000000000001"] },
    ])
    error_message = "the report may put its one key (and encrypt it), nothing under the export prefix, no read, no delete: ${jsonencode([for st in data.aws_iam_policy_document.report_task[0].statement : { sid = st.sid, actions = sort(st.actions), resources = sort(st.resources) }])}"
  }
}

run "no_report_role_without_the_report" {
  command = plan

  assert {
    condition     = length(aws_iam_role.report_task) == 0 && length(aws_iam_role_policy.report_task) == 0
    error_message = "an environment without the history-report entry has no report role"
  }
}

run "a_report_key_that_climbs_is_refused" {
  command = plan

  variables {
    report_key = "reports/../exports/x.html"
  }

  expect_failures = [var.report_key]
}
