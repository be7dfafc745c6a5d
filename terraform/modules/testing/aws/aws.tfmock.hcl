# The AWS provider as the modules' `terraform test` files mock it (offline, plan only): a fixed
# region, partition and account, and policy documents rendered as an empty policy.
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
