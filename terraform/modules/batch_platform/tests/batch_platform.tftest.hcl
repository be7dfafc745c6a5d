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
