"""Reads back through the emulator's API what envs/local holds after switching to the scheduler
engine with scheduler.tfvars: the schedule group and one schedule per scheduled entry
(GetSchedule: expression, time zone, flexible window, target, role, ECS parameters, dead-letter
queue, retry policy), no schedule rule left, the Scheduler role's trust and policy (IAM), the
Scheduler alarms, the watcher's WATCH_SCHEDULES, and every alarm on the dashboard.

    python3 scheduler_readback.py ENDPOINT OUTPUTS.json
"""
import json
import sys

import boto3
import scheduler_expectations as expect
from checks import Checks, watched_entries

endpoint, outputs_path = sys.argv[1:3]
with open(outputs_path) as f:
    outputs = {k: v["value"] for k, v in json.load(f).items()}
deployed = outputs["batches"]
cluster_arn = outputs["cluster_arn"]
topic_arn = outputs["notification_topic_arn"]
prefix = "batchbox-local-"
session = boto3.session.Session(aws_access_key_id="local", aws_secret_access_key="local", region_name="ap-northeast-1")
scheduler, events, iam, sqs, ecs, cloudwatch = (session.client(s, endpoint_url=endpoint) for s in ("scheduler", "events", "iam", "sqs", "ecs", "cloudwatch"))
check = Checks()


def document(value):
    return json.loads(value) if isinstance(value, str) else value


scheduled = sorted(n for n, b in deployed.items() if b["schedule"] is not None)
group = outputs["schedule_group_name"]
check(outputs["schedule_engine"] == "scheduler" and group == "batchbox-local", f"the scheduler engine, group batchbox-local ({group})")
check(scheduler.get_schedule_group(Name=group)["State"] == "ACTIVE", f"the schedule group {group} exists")
listed = sorted(s["Name"] for s in scheduler.list_schedules(GroupName=group)["Schedules"])
check(listed == sorted(prefix + n for n in scheduled), f"one schedule per scheduled entry in the group ({listed})")
rules = [r["Name"] for r in events.list_rules(NamePrefix=prefix)["Rules"] if r.get("ScheduleExpression")]
check(not rules, f"no schedule rule is left ({rules})")

role_arn = outputs["scheduler_role_arn"]
dlq_arn = sqs.get_queue_attributes(QueueUrl=sqs.get_queue_url(QueueName=outputs["dead_letter_queue_name"])["QueueUrl"],
                                   AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
for name in scheduled:
    out = deployed[name]
    s = scheduler.get_schedule(Name=prefix + name, GroupName=group)
    want_expression = expect.ZONED.get(name, (expect.UTC_LEFT.get(name, out["schedule"]),))[0]
    check((s["ScheduleExpression"], s["ScheduleExpressionTimezone"]) == (want_expression, expect.zone_of(name)) == (out["schedule"], out["timezone"]),
          f"{name}: {s['ScheduleExpression']} in {s['ScheduleExpressionTimezone']} (scheduler.tfvars: {want_expression} in {expect.zone_of(name)})")
    check(s["FlexibleTimeWindow"] == {"Mode": "OFF"} and s["State"] == "ENABLED" and s.get("Description") == out["description"],
          f"{name}: no flexible window, enabled, the entry's description ({s['FlexibleTimeWindow']}, {s['State']})")
    target = s["Target"]
    ecs_parameters = target.get("EcsParameters", {})
    vpc = ecs_parameters.get("NetworkConfiguration", {}).get("awsvpcConfiguration", {})
    check(target["Arn"] == cluster_arn and target["RoleArn"] == role_arn and "Input" not in target,
          f"{name}: the cluster, run with the Scheduler role, no input ({target['Arn']}, {target['RoleArn']})")
    check((ecs_parameters.get("TaskDefinitionArn"), ecs_parameters.get("LaunchType"), ecs_parameters.get("PlatformVersion"), ecs_parameters.get("TaskCount"),
           ecs_parameters.get("PropagateTags"), ecs_parameters.get("EnableECSManagedTags"))
          == (out["task_definition_family_arn"], "FARGATE", "LATEST", 1, "TASK_DEFINITION", True),
          f"{name}: its family without revision, Fargate LATEST, tagged ({ecs_parameters})")
    check(vpc == {"Subnets": ["subnet-0000000000000000a"], "SecurityGroups": ["sg-0000000000000000a"], "AssignPublicIp": "DISABLED"},
          f"{name}: the environment's network ({vpc})")
    check(target.get("DeadLetterConfig") == {"Arn": dlq_arn}, f"{name}: the environment's dead-letter queue ({target.get('DeadLetterConfig')})")
    check(target.get("RetryPolicy") == {"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 3}, f"{name}: an hour, 3 retries ({target.get('RetryPolicy')})")
    task_definition = ecs.describe_task_definition(taskDefinition=ecs_parameters.get("TaskDefinitionArn", "none"))["taskDefinition"]
    check(task_definition["status"] == "ACTIVE" and task_definition["family"] == prefix + name, f"{name}: the family has an ACTIVE revision")

role = iam.get_role(RoleName=f"{prefix}scheduler")["Role"]
check(role["Arn"] == role_arn, f"the Scheduler role is {prefix}scheduler ({role['Arn']})")
check(document(role["AssumeRolePolicyDocument"]) == expect.trust_policy("123456789012"),
      f"only EventBridge Scheduler of this account may assume it ({role['AssumeRolePolicyDocument']})")
check(iam.list_role_policies(RoleName=role["RoleName"])["PolicyNames"] == ["run-scheduled-batches"]
      and not iam.list_attached_role_policies(RoleName=role["RoleName"])["AttachedPolicies"], "one inline policy, no managed policy")
passed = [iam.get_role(RoleName=prefix + r)["Role"]["Arn"] for r in ("execution", "task", "missed-runs-task", "history-report-task")]
passed += [iam.get_role(RoleName=f"{prefix}{n}-launch")["Role"]["Arn"] for n in sorted(outputs["launchers"])]
want_policy = expect.role_policy([deployed[n]["task_definition_family_arn"] for n in scheduled], cluster_arn, passed, dlq_arn)
got_policy = document(iam.get_role_policy(RoleName=role["RoleName"], PolicyName="run-scheduled-batches")["PolicyDocument"])
check(got_policy == want_policy, f"the Scheduler role's policy is exactly RunTask, TagResource, PassRole and SendMessage as written down ({json.dumps(got_policy)})")
check(iam.get_role(RoleName=f"{prefix}events")["Role"]["Arn"], "the events role stays")

alarms = {a["AlarmName"]: a for a in cloudwatch.describe_alarms(AlarmNamePrefix=prefix, MaxRecords=100)["MetricAlarms"]}
for suffix, metric in expect.ALARM_METRICS.items():
    a = alarms.get(prefix + suffix) or {}
    check((a.get("Namespace"), a.get("MetricName"), a.get("Dimensions"), a.get("Statistic"), a.get("Period"), a.get("Threshold"), a.get("TreatMissingData"))
          == ("AWS/Scheduler", metric, [{"Name": "ScheduleGroup", "Value": group}], "Sum", 300, 0.0, "notBreaching")
          and a.get("AlarmActions") == [topic_arn] and a.get("OKActions") == [topic_arn],
          f"{prefix + suffix}: {metric} of the group, to the topic on ALARM and OK")
schedule_alarms = sorted(n for n, a in alarms.items() if a.get("MetricName") == "FailedInvocations" and a["Dimensions"][0]["Value"] in {prefix + s for s in scheduled})
check(not schedule_alarms, f"no FailedInvocations alarm of a schedule rule is left ({schedule_alarms})")
check(sorted(outputs["alarm_names"]) == sorted(alarms), "the output alarm_names is every alarm of batchbox-local")
body = json.loads(cloudwatch.get_dashboard(DashboardName=outputs["dashboard_name"])["DashboardBody"])
on_dashboard = sorted(arn.rsplit(":alarm:", 1)[1] for w in body["widgets"] for arn in w.get("properties", {}).get("alarms", []))
check(on_dashboard == sorted(alarms), f"every alarm is on the dashboard, the Scheduler's too ({len(on_dashboard)} of {len(alarms)})")

watcher = ecs.describe_task_definition(taskDefinition=deployed["missed-runs"]["task_definition_family_arn"])["taskDefinition"]
environment = {e["name"]: e["value"] for e in watcher["containerDefinitions"][0]["environment"]}
watched = json.loads(environment["WATCH_SCHEDULES"])
check(watched == watched_entries(deployed) and watched == outputs["watch_schedules"], f"WATCH_SCHEDULES is what the watcher must watch ({watched})")
check(sorted(n for n, w in watched.items() if "timezone" in w) == sorted(expect.ZONED),
      f"WATCH_SCHEDULES names a zone exactly for the entries not in UTC ({sorted(n for n, w in watched.items() if 'timezone' in w)})")

check.finish("read-back (scheduler engine)", f"for {len(scheduled)} schedules in {group}")
