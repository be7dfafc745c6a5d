"""What scripts/check-terraform/scheduler.tfvars must give, written down apart from Terraform: the
zone and schedule of each entry it moves, the Scheduler's resources by name, and the Scheduler
role's trust and policy. staging_plan.py judges the staging plan with it, scheduler_readback.py
what the emulator holds after the local environment switched engines."""

# entry => (schedule, time zone) as scheduler.tfvars sets them; every other scheduled entry keeps
# the catalog's schedule in UTC.
ZONED = {
    "history-prune": ("cron(30 2 * * ? *)", "America/New_York"),
    "export-enqueue": ("cron(30 0 * * ? *)", "Europe/Berlin"),
    "export-enqueue-monthly": ("cron(0 9 1 * ? *)", "Asia/Tokyo"),
}
OTHER_UTC_NAME = {"history-report": "Etc/UTC"}
UTC_LEFT = {"canary": "rate(15 minutes)", "export-requeue": "cron(0 9 ? * 2#1 *)"}

# EventBridge Scheduler User Guide, "Monitoring Amazon EventBridge Scheduler with Amazon
# CloudWatch": namespace AWS/Scheduler, dimension ScheduleGroup.
ALARM_METRICS = {
    "scheduler-target-errors": "TargetErrorCount",
    "scheduler-target-throttled": "TargetErrorThrottledCount",
    "scheduler-throttled": "InvocationThrottleCount",
    "scheduler-invocations-dropped": "InvocationDroppedCount",
    "scheduler-dead-letter-failed": "InvocationsFailedToBeSentToDeadLetterCount",
}


def zone_of(name):
    """The zone scheduler.tfvars gives an entry."""
    if name in ZONED:
        return ZONED[name][1]
    return OTHER_UTC_NAME.get(name, "UTC")


def trust_policy(account):
    """EventBridge Scheduler User Guide, "Set up the execution role": scheduler.amazonaws.com, with
    aws:SourceAccount."""
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "EventBridgeSchedulerOfThisAccount", "Effect": "Allow",
            "Principal": {"Service": "scheduler.amazonaws.com"}, "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": account}},
        }],
    }


def role_policy(family_arns, cluster_arn, passed_roles, dead_letter_queue_arn):
    """The Scheduler role's policy: RunTask on the scheduled families' revisions in the cluster,
    tagging the tasks it starts (ECS tag-on-create), PassRole of the batch roles to ECS tasks,
    SendMessage to the dead-letter queue. Nothing else."""
    cluster_name = cluster_arn.split("/", 1)[1]
    task_arns = cluster_arn.split(":cluster/")[0] + f":task/{cluster_name}/*"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "RunScheduledBatches", "Effect": "Allow", "Action": "ecs:RunTask",
             "Resource": [f"{arn}:*" for arn in family_arns],
             "Condition": {"ArnEquals": {"ecs:cluster": cluster_arn}}},
            {"Sid": "TagTheTasksItStarts", "Effect": "Allow", "Action": "ecs:TagResource", "Resource": task_arns,
             "Condition": {"StringEquals": {"ecs:CreateAction": "RunTask"}}},
            {"Sid": "PassTheBatchRoles", "Effect": "Allow", "Action": "iam:PassRole", "Resource": passed_roles,
             "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}},
            {"Sid": "SendFailedInvocationsToTheDeadLetterQueue", "Effect": "Allow", "Action": "sqs:SendMessage",
             "Resource": dead_letter_queue_arn},
        ],
    }
