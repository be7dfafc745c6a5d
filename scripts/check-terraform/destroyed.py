"""After destroy, nothing of batchbox-local is left in the emulator."""

import sys

import boto3

s = boto3.session.Session(aws_access_key_id="local", aws_secret_access_key="local", region_name="ap-northeast-1")


def c(name):
    return s.client(name, endpoint_url=sys.argv[1])


left = [r["Name"] for r in c("events").list_rules(NamePrefix="batchbox-local-")["Rules"]]
left += [a["AlarmName"] for a in c("cloudwatch").describe_alarms(AlarmNamePrefix="batchbox-local-")["MetricAlarms"]]
left += [t["TopicArn"] for t in c("sns").list_topics()["Topics"] if "batchbox-local" in t["TopicArn"]]
left += [r["RoleName"] for r in c("iam").list_roles()["Roles"] if r["RoleName"].startswith("batchbox-local-")]
left += [g["logGroupName"] for g in c("logs").describe_log_groups(logGroupNamePrefix="/ecs/batchbox-local")["logGroups"]]
left += c("sqs").list_queues(QueueNamePrefix="batchbox-local-").get("QueueUrls", [])
left += [d["DashboardName"] for d in c("cloudwatch").list_dashboards(DashboardNamePrefix="batchbox-local")["DashboardEntries"]]
scheduler = c("scheduler")
left += [g["Name"] for g in scheduler.list_schedule_groups(NamePrefix="batchbox-local")["ScheduleGroups"]]
left += [f"{s['GroupName']}/{s['Name']}" for s in scheduler.list_schedules(NamePrefix="batchbox-local-")["Schedules"]]
if left:
    print(f"    left behind: {left}", file=sys.stderr)
    sys.exit(1)
print("    nothing left behind: no rule, alarm, topic, role, log group, queue, dashboard, schedule group or schedule of batchbox-local")
