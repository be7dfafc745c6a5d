"""Reads back through the emulator's API what envs/local created, and compares it with the catalog
(its entries, the batch each runs, and the launches with their roles and policies), and reads the
dashboard back (GetDashboard): its body by AWS's rules, every query parsed, every log group and
alarm it names existing in the emulator, and every alarm of the environment on it."""
import json
import os
import re
import sys

import boto3
import dashboard_body
import log_fields
from checks import WATCHER, Checks, watched_entries

endpoint, outputs_path, phase, image_tag = sys.argv[1:5]
with open(outputs_path) as f:
    outputs = {k: v["value"] for k, v in json.load(f).items()}
catalog = outputs["catalog"]
deployed = outputs["batches"]
topic_arn = outputs["notification_topic_arn"]
cluster_arn = outputs["cluster_arn"]
prefix = "batchbox-local-"

session = boto3.session.Session(aws_access_key_id="local", aws_secret_access_key="local", region_name="ap-northeast-1")


def client(service):
    return session.client(service, endpoint_url=endpoint)


events, ecs, cloudwatch, logs, sns, iam, sqs = (client(s) for s in ("events", "ecs", "cloudwatch", "logs", "sns", "iam", "sqs"))

check = Checks()


# Scheduled as deployed: the environment's batch_overrides may schedule a manual catalog entry.
scheduled = sorted(n for n, b in deployed.items() if b.get("schedule") is not None)
manual = sorted(n for n, b in deployed.items() if b.get("schedule") is None)
REPORT = "history-report"  # the time line report's batch
check(sorted(deployed) == sorted(catalog), f"deployed entries {sorted(deployed)} == catalog {sorted(catalog)}")
for name, spec in catalog.items():
    check(deployed[name]["batch"] == (spec.get("batch") or name), f"{name}: runs batch {deployed[name]['batch']} (catalog: {spec.get('batch') or name})")
watchers = sorted(n for n, b in deployed.items() if b["batch"] == WATCHER)
launchers = {n: b["launch"] for n, b in deployed.items() if b.get("launch")}
reports = sorted(n for n, b in deployed.items() if b["batch"] == REPORT)


def task_role_name(name):
    """The role an entry's tasks run with: the watcher's, a launching entry's own, or the shared one."""
    if name in watchers:
        return f"{prefix}missed-runs-task"
    if name in reports:
        return f"{prefix}history-report-task"
    if name in launchers:
        return f"{prefix}{name}-launch"
    return f"{prefix}task"


rules = events.list_rules(NamePrefix=prefix)["Rules"]
schedule_rules = {r["Name"]: r for r in rules if r.get("ScheduleExpression")}
check(sorted(schedule_rules) == sorted(prefix + n for n in scheduled),
      f"one schedule rule per scheduled batch: {sorted(schedule_rules)}")

for name in scheduled:
    spec, out = catalog[name], deployed[name]
    family_arn = out["task_definition_family_arn"]
    rule = schedule_rules.get(prefix + name)
    if rule is None:
        check(False, f"{name}: rule {prefix + name} exists")
        continue
    check(rule.get("Description") == spec["description"] and rule["Description"].strip(), f"{name}: rule description is the catalog's")
    check(rule["ScheduleExpression"] == out["schedule"], f"{name}: schedule {rule['ScheduleExpression']} == {out['schedule']}")
    check(rule["State"] == "ENABLED", f"{name}: rule is ENABLED")

    targets = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
    check(len(targets) == 1, f"{name}: exactly one target (found {len(targets)})")
    if not targets:
        continue
    target = targets[0]
    ecs_params = target.get("EcsParameters", {})
    task_definition_arn = ecs_params.get("TaskDefinitionArn", "")
    check(target["Arn"] == cluster_arn, f"{name}: target is the cluster")
    check(task_definition_arn == family_arn and not re.search(r":\d+$", task_definition_arn),
          f"{name}: target runs the family without revision ({task_definition_arn})")
    check(ecs_params.get("LaunchType") == "FARGATE", f"{name}: Fargate launch type")
    check(ecs_params.get("TaskCount") == spec.get("task_count", 1), f"{name}: task count {ecs_params.get('TaskCount')}")
    check(target.get("RoleArn", "").endswith(":role/batchbox-local-events"), f"{name}: target uses the events role")
    vpc = ecs_params.get("NetworkConfiguration", {}).get("awsvpcConfiguration", {})
    check(vpc.get("Subnets") and vpc.get("SecurityGroups"), f"{name}: target has subnets and security groups")
    transformer = target.get("InputTransformer", {})
    check(transformer.get("InputPathsMap", {}).get("time") == "$.time", f"{name}: the transformer reads the event time")
    try:
        rendered = json.loads(transformer.get("InputTemplate", "").replace("<time>", "2026-11-21T18:30:00Z"))
        override = rendered["containerOverrides"][0]
        env = {e["name"]: e["value"] for e in override["environment"]}
        check(override["name"] == "batch" and env.get("BATCH_SCHEDULED_TIME") == "2026-11-21T18:30:00Z",
              f"{name}: the event time reaches container batch as BATCH_SCHEDULED_TIME")
    except (ValueError, KeyError, IndexError) as error:
        check(False, f"{name}: input template renders to container overrides ({error})")

    # What the target runs: ECS resolves the family ARN to the latest ACTIVE revision.
    task_def = ecs.describe_task_definition(taskDefinition=task_definition_arn)["taskDefinition"]
    containers = {c["name"]: c for c in task_def["containerDefinitions"]}
    container = containers.get("batch")
    check(container is not None, f"{name}: the task definition has a container named batch")
    if container:
        command = container.get("command", [])
        check(command[:1] == [deployed[name]["batch"]], f"{name}: container command[0] is the entry's batch ({command[:1]})")
        check(command[1:] == spec.get("args", []), f"{name}: command args {command[1:]} == catalog {spec.get('args', [])}")
        check(container["image"].endswith(":" + image_tag), f"{name}: runs image tag {image_tag} ({container['image']})")

for name in scheduled + manual:
    spec, out = catalog[name], deployed[name]
    task_def = ecs.describe_task_definition(taskDefinition=out["task_definition_family_arn"])["taskDefinition"]
    check(task_def["status"] == "ACTIVE", f"{name}: the family has an ACTIVE revision")
    check(task_def["requiresCompatibilities"] == ["FARGATE"] and task_def["networkMode"] == "awsvpc", f"{name}: Fargate, awsvpc")
    check((task_def["cpu"], task_def["memory"]) == (str(spec["cpu"]), str(spec["memory"])),
          f"{name}: cpu/memory {task_def['cpu']}/{task_def['memory']} == catalog {spec['cpu']}/{spec['memory']}")
    container = {c["name"]: c for c in task_def["containerDefinitions"]}.get("batch", {})
    env_names = {e["name"] for e in container.get("environment", [])}
    secret_names = {s["name"] for s in container.get("secrets", [])}
    check("DATABASE_URL" in secret_names and "DATABASE_URL" not in env_names, f"{name}: DATABASE_URL comes from secrets only")
    check({"DATABASE_MAX_CONNECTIONS", "LOG_FORMAT", "RUST_LOG"} <= env_names, f"{name}: default environment present")
    env_values = {e["name"]: e["value"] for e in container.get("environment", [])}
    check(env_values.get("EXPORT_BUCKET") == "batchbox-local-exports" and env_values.get("EXPORT_PREFIX") == "exports/",
          f"{name}: EXPORT_BUCKET and EXPORT_PREFIX name the bucket the task role may write")
    log_options = container.get("logConfiguration", {}).get("options", {})
    check(container.get("logConfiguration", {}).get("logDriver") == "awslogs" and log_options.get("awslogs-stream-prefix") == name,
          f"{name}: awslogs with stream prefix {name}")
    check(env_values.get("BATCH_ENTRY") == name, f"{name}: BATCH_ENTRY is the entry ({env_values.get('BATCH_ENTRY')})")
    check(task_def.get("taskRoleArn", "").endswith(f":role/{task_role_name(name)}"),
          f"{name}: runs with the task role {task_role_name(name)} ({task_def.get('taskRoleArn')})")
    check(log_options.get("mode") == "blocking", f"{name}: awslogs mode set explicitly to blocking ({log_options.get('mode')})")
    check(container.get("readonlyRootFilesystem") is True, f"{name}: read-only root file system")
    if phase == "after-new-tag":
        check(task_def["revision"] >= 2, f"{name}: the family now resolves to a new revision ({task_def['revision']})")
        old = ecs.describe_task_definition(taskDefinition=f"{out['task_definition_family_arn']}:{task_def['revision'] - 1}")["taskDefinition"]
        check(old["status"] == "INACTIVE", f"{name}: the previous revision is deregistered")

for name in manual:
    check(prefix + name not in {r["Name"] for r in rules}, f"{name}: manual batch has no rule")

# Dead-letter queue of every EventBridge target: encrypted, EventBridge may send from this
# environment's rules only, alarmed when not empty.
dlq_name = outputs["dead_letter_queue_name"]
dlq_url = sqs.get_queue_url(QueueName=dlq_name)["QueueUrl"]
dlq = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["All"])["Attributes"]
dlq_arn = dlq["QueueArn"]
check(dlq.get("SqsManagedSseEnabled") == "true", f"dead-letter queue {dlq_name} is encrypted (SSE-SQS)")
dlq_policy = json.loads(dlq.get("Policy", "{}"))
dlq_statement = (dlq_policy.get("Statement") or [{}])[0]
check(dlq_statement.get("Principal") == {"Service": "events.amazonaws.com"} and dlq_statement.get("Action") == "sqs:SendMessage"
      and dlq_statement.get("Condition", {}).get("ArnLike", {}).get("aws:SourceArn", "").endswith(":rule/batchbox-local-*"),
      "dead-letter queue policy: EventBridge may send, from this environment's rules only")

# Notification rules: one pair per batch (failed, stopped on purpose) -> the topic, with the DLQ.
all_rules = {r["Name"]: r for r in rules}
for name in scheduled + manual:
    kinds = deployed[name]["notification_rule_names"]
    check(sorted(kinds) == ["failed", "stopped"], f"{name}: a failure rule and a deliberate-stop rule ({sorted(kinds)})")
    for _, rule_name in sorted(kinds.items()):
        rule = all_rules.get(rule_name)
        check(rule is not None and rule["State"] == "ENABLED", f"{name}: rule {rule_name} exists and is ENABLED")
        if rule is None:
            continue
        pattern = json.loads(rule["EventPattern"])
        detail = pattern.get("detail", {})
        check(pattern.get("source") == ["aws.ecs"] and pattern.get("detail-type") == ["ECS Task State Change"], f"{rule_name}: ECS Task State Change events")
        check(detail.get("lastStatus") == ["STOPPED"] and detail.get("clusterArn") == [cluster_arn], f"{rule_name}: STOPPED tasks of this cluster")
        check(detail.get("taskDefinitionArn") == [{"prefix": deployed[name]["task_definition_family_arn"] + ":"}], f"{rule_name}: revisions of its family only")
        # The e-mail target; the chat target (id chat) is chat_readback.py's.
        targets = [t for t in events.list_targets_by_rule(Rule=rule_name)["Targets"] if t["Id"] != "chat"]
        check(len(targets) == 1 and targets[0]["Arn"] == topic_arn and not targets[0].get("RoleArn"), f"{rule_name}: one target, the topic, no role")
        if targets:
            check(targets[0].get("DeadLetterConfig", {}).get("Arn") == dlq_arn, f"{rule_name}: target has the dead-letter queue")
            paths = targets[0].get("InputTransformer", {}).get("InputPathsMap", {})
            check({"task", "exitCode", "stopCode", "stoppedReason", "stoppedAt"} <= set(paths), f"{rule_name}: readable message (task, exit code, stop code and reason, time)")

for name in scheduled:
    targets = events.list_targets_by_rule(Rule=prefix + name)["Targets"]
    check(bool(targets) and targets[0].get("DeadLetterConfig", {}).get("Arn") == dlq_arn, f"{name}: the schedule's ECS target has the dead-letter queue")
    check(bool(targets) and targets[0].get("RetryPolicy", {}).get("MaximumEventAgeInSeconds") == 3600, f"{name}: the schedule's target retries for an hour at most")

attributes = sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]
check(attributes.get("KmsMasterKeyId"), "notification topic exists and is encrypted with KMS")
policy = json.loads(attributes.get("Policy", "{}"))
principals = json.dumps([s.get("Principal") for s in policy.get("Statement", [])])
check("events.amazonaws.com" in principals and "cloudwatch.amazonaws.com" in principals, "topic policy lets EventBridge and alarms publish")
events_statements = [st for st in policy.get("Statement", []) if st.get("Principal") == {"Service": "events.amazonaws.com"}]
check(len(events_statements) == 1 and "Condition" not in events_statements[0],
      "topic policy: EventBridge's statement has no Condition (EventBridge User Guide: conditions are not supported for it)")
subscriptions = sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
check(any(s["Protocol"] == "email" for s in subscriptions), "topic has the e-mail subscription")

all_alarms = {a["AlarmName"]: a for a in cloudwatch.describe_alarms(AlarmNamePrefix=prefix, MaxRecords=100)["MetricAlarms"]}

# FailedInvocations: one alarm per rule of the environment, on that rule, to the topic. The chat's
# alarms rule has none: what it cannot deliver goes to the dead-letter queue, whose alarm notifies.
chat_rules = {outputs.get("alarms_to_chat_rule_name")}
rule_names = sorted(r for r in all_rules if r not in chat_rules)
invocation_alarms = {a["Dimensions"][0]["Value"]: a for a in all_alarms.values() if a.get("MetricName") == "FailedInvocations"}
check(sorted(invocation_alarms) == rule_names, f"one FailedInvocations alarm per rule ({len(invocation_alarms)} alarms, {len(rule_names)} rules)")
for rule_name, alarm in sorted(invocation_alarms.items()):
    check(alarm["Namespace"] == "AWS/Events" and alarm["Dimensions"] == [{"Name": "RuleName", "Value": rule_name}]
          and alarm["Threshold"] == 0 and alarm["ComparisonOperator"] == "GreaterThanThreshold" and topic_arn in alarm.get("AlarmActions", []),
          f"{rule_name}: FailedInvocations alarm fires on the first failure and notifies the topic")
dlq_alarm = all_alarms.get(outputs["dead_letter_alarm_name"])
check(dlq_alarm is not None and dlq_alarm["Namespace"] == "AWS/SQS" and dlq_alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
      and dlq_alarm["Dimensions"] == [{"Name": "QueueName", "Value": dlq_name}] and dlq_alarm["Threshold"] == 0
      and topic_arn in dlq_alarm.get("AlarmActions", []), "the dead-letter queue alarms on its first message, to the topic")

# Missed-run detection: no alarm per batch; one metric filter for the environment; the watcher's
# task definition tells it what to watch, its own role lets it publish; an alarm watches the watcher.
check(not [n for n in all_alarms if n.endswith("-missed-success")], "no per-batch missed-success alarm")
filters = logs.describe_metric_filters(logGroupName=outputs["log_group_name"])["metricFilters"]
check([f["filterName"] for f in filters] == [outputs["metric_filter_name"]], f"one metric filter in the log group ({[f['filterName'] for f in filters]})")
for mf in filters:
    transformation = (mf.get("metricTransformations") or [{}])[0]
    check(mf["filterPattern"] == '{ $.message = "run finished" && $.status = "succeeded" }', f"the filter counts successful runs ({mf['filterPattern']})")
    check(transformation.get("metricName") == "RunSucceeded" and transformation.get("metricNamespace") == "Batchbox/local"
          and transformation.get("dimensions") == {"Batch": "$.batch"}, f"RunSucceeded in Batchbox/local with dimension Batch = $.batch ({transformation})")

check(len(watchers) == 1, f"one entry runs the watcher ({watchers})")
watcher_task = ecs.describe_task_definition(taskDefinition=deployed[watchers[0]]["task_definition_family_arn"])["taskDefinition"]
watcher_env = {e["name"]: e["value"] for e in watcher_task["containerDefinitions"][0].get("environment", [])}
expected_watched = watched_entries(deployed)
check(json.loads(watcher_env.get("WATCH_SCHEDULES", "null")) == expected_watched,
      f"WATCH_SCHEDULES {watcher_env.get('WATCH_SCHEDULES')} == the scheduled, enabled, watched entries")
check(watcher_env.get("WATCH_TOPIC_ARN") == topic_arn and watcher_env.get("WATCH_ENVIRONMENT") == "local",
      "the watcher is told the topic (the one AWS reports) and the environment")
watcher_role = iam.get_role(RoleName=f"{prefix}missed-runs-task")["Role"]
check(watcher_task.get("taskRoleArn") == watcher_role["Arn"] == outputs["watcher_task_role_arn"], "the watcher runs with its own task role")
watcher_policy = iam.get_role_policy(RoleName=watcher_role["RoleName"], PolicyName="publish-missed-runs")["PolicyDocument"]
if isinstance(watcher_policy, str):
    watcher_policy = json.loads(watcher_policy)
grants = sorted((tuple(sorted(st["Action"] if isinstance(st["Action"], list) else [st["Action"]])), st["Resource"]) for st in watcher_policy["Statement"])
kms_key = attributes.get("KmsMasterKeyId")
# With chat (envs/local has it), the chat topic too.
publish_to = [topic_arn, outputs["chat_topic_arn"]] if outputs.get("chat_topic_arn") else topic_arn
check(grants == sorted([(("sns:Publish",), publish_to), (("kms:Decrypt", "kms:GenerateDataKey*"), kms_key)]),
      f"the watcher may publish to the topic (and the chat topic) and use its key, nothing else ({grants})")
for name in scheduled + manual:
    if name not in watchers:
        task_def = ecs.describe_task_definition(taskDefinition=deployed[name]["task_definition_family_arn"])["taskDefinition"]
        env_names = {e["name"] for e in task_def["containerDefinitions"][0].get("environment", [])}
        check(not any(n.startswith("WATCH_") for n in env_names), f"{name}: no WATCH_* variables")


# The time line report: the watcher's schedules, its key, and a role that may write that key only.
check(len(reports) == 1, f"one entry runs the report ({reports})")
report_task = ecs.describe_task_definition(taskDefinition=deployed[reports[0]]["task_definition_family_arn"])["taskDefinition"]
report_env = {e["name"]: e["value"] for e in report_task["containerDefinitions"][0].get("environment", [])}
check(json.loads(report_env.get("REPORT_SCHEDULES", "null")) == expected_watched, "REPORT_SCHEDULES is what the watcher watches")
check(report_env.get("REPORT_KEY") == "reports/timeline.html" and report_env.get("REPORT_ENVIRONMENT") == "local",
      f"the report is told its key and the environment ({report_env.get('REPORT_KEY')})")
check(outputs.get("report_location") == "s3://batchbox-local-exports/reports/timeline.html", f"report_location ({outputs.get('report_location')})")
report_policy = iam.get_role_policy(RoleName=f"{prefix}history-report-task", PolicyName="write-time-line")["PolicyDocument"]
if isinstance(report_policy, str):
    report_policy = json.loads(report_policy)
report_grants = sorted((tuple(sorted(st["Action"] if isinstance(st["Action"], list) else [st["Action"]])), st["Resource"]) for st in report_policy["Statement"])
check(report_grants[0] == (("s3:AbortMultipartUpload", "s3:PutObject"), "arn:aws:s3:::batchbox-local-exports/reports/timeline.html"),
      f"the report may write its one key ({report_grants})")
for name in scheduled + manual:
    if name not in reports:
        task_def = ecs.describe_task_definition(taskDefinition=deployed[name]["task_definition_family_arn"])["taskDefinition"]
        env_names = {e["name"] for e in task_def["containerDefinitions"][0].get("environment", [])}
        check(not any(n.startswith("REPORT_") for n in env_names), f"{name}: no REPORT_* variables")


def policy_document(role, policy):
    document = iam.get_role_policy(RoleName=role, PolicyName=policy)["PolicyDocument"]
    return json.loads(document) if isinstance(document, str) else document


# Launches: what each launching entry is told, and a role that may start exactly the launched
# family in this cluster with exactly the two roles its tasks run with, besides what every batch may.
execution_role_arn = iam.get_role(RoleName=f"{prefix}execution")["Role"]["Arn"]
task_role_arn = iam.get_role(RoleName=f"{prefix}task")["Role"]["Arn"]
check(sorted(launchers) == ["export-enqueue", "export-enqueue-monthly"], f"the launching entries ({sorted(launchers)})")
for name, launch in sorted(launchers.items()):
    launched = deployed[launch["batch"]]
    task_def = ecs.describe_task_definition(taskDefinition=deployed[name]["task_definition_family_arn"])["taskDefinition"]
    env = {e["name"]: e["value"] for e in task_def["containerDefinitions"][0].get("environment", [])}
    want_env = {
        "LAUNCH_BATCH": launch["batch"], "LAUNCH_ARGS": json.dumps(launch["args"]),
        "LAUNCH_MAX_TASKS": str(launch["max_tasks"]), "LAUNCH_JOBS_PER_TASK": str(launch["jobs_per_task"]),
        "LAUNCH_CLUSTER": cluster_arn, "LAUNCH_TASK_DEFINITION": launched["task_definition_family"], "LAUNCH_CONTAINER": "batch",
        "LAUNCH_SUBNETS": "subnet-0000000000000000a", "LAUNCH_SECURITY_GROUPS": "sg-0000000000000000a", "LAUNCH_ASSIGN_PUBLIC_IP": "false",
    }
    check({k: v for k, v in env.items() if k.startswith("LAUNCH_")} == want_env, f"{name}: the LAUNCH_* variables ({env})")
    launched_task = ecs.describe_task_definition(taskDefinition=launched["task_definition_family_arn"])["taskDefinition"]
    check(launched["batch"] == launch["batch"] and launched_task["containerDefinitions"][0]["command"][0] == launch["batch"],
          f"{name}: the launched family runs {launch['batch']}")
    check((launched_task.get("executionRoleArn"), launched_task.get("taskRoleArn")) == (execution_role_arn, task_role_arn),
          f"{name}: the launched tasks run with the execution role and the shared task role")
    role = f"{prefix}{name}-launch"
    check(iam.get_role(RoleName=role)["Role"]["Arn"] == outputs["launchers"][name]["task_role_arn"], f"{name}: its own role {role}")
    policies = sorted(iam.list_role_policies(RoleName=role)["PolicyNames"])
    check(policies == ["batch-permissions", "launch-tasks"], f"{name}: the role's policies are the batches' permissions and the launch ({policies})")
    check(policy_document(role, "batch-permissions") == policy_document(f"{prefix}task", "batch-permissions"),
          f"{name}: the role may do what the shared task role may")
    check(not iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"], f"{name}: no managed policy on its role")
    want_policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "RunTheLaunchedTasks", "Effect": "Allow", "Action": "ecs:RunTask",
             "Resource": launched["task_definition_family_arn"] + ":*",
             "Condition": {"ArnEquals": {"ecs:cluster": cluster_arn}}},
            {"Sid": "PassTheLaunchedTasksRoles", "Effect": "Allow", "Action": "iam:PassRole",
             "Resource": [execution_role_arn, task_role_arn],
             "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}},
        ],
    }
    got = policy_document(role, "launch-tasks")
    check(got == want_policy, f"{name}: the launch policy is exactly RunTask on {launched['task_definition_family']}:* in the cluster "
          f"and PassRole of the execution and shared task roles to ECS tasks ({json.dumps(got)})")

watcher_alarm = all_alarms.get(outputs["watcher_alarm_name"] or "")
check(watcher_alarm is not None, f"the watcher's alarm exists ({outputs['watcher_alarm_name']})")
if watcher_alarm:
    check(watcher_alarm["MetricName"] == "RunSucceeded" and watcher_alarm["Dimensions"] == [{"Name": "Batch", "Value": WATCHER}]
          and watcher_alarm["Namespace"] == "Batchbox/local", "the watcher's alarm reads RunSucceeded{Batch=missed-runs}")
    check((watcher_alarm["Period"], watcher_alarm["EvaluationPeriods"], watcher_alarm["Statistic"], watcher_alarm["ComparisonOperator"], watcher_alarm["Threshold"])
          == (600, 3, "Sum", "LessThanThreshold", 1.0), "the watcher's alarm: 3 x 600 s of Sum < 1")
    check(watcher_alarm["TreatMissingData"] == "missing", "the watcher's alarm keeps missing data missing")
    check(all(watcher_alarm.get(k) == [topic_arn] for k in ("AlarmActions", "OKActions", "InsufficientDataActions")),
          "the watcher's alarm notifies the topic on ALARM, OK and INSUFFICIENT_DATA")
    # Not its state: moto creates every alarm in OK, where AWS starts one in INSUFFICIENT_DATA.

# Least privilege of the events role: these families, these two roles.
events_policy = iam.get_role_policy(RoleName="batchbox-local-events", PolicyName="run-scheduled-batches")["PolicyDocument"]
if isinstance(events_policy, str):
    events_policy = json.loads(events_policy)
statements = {s.get("Sid"): s for s in events_policy["Statement"]}


def as_list(v):
    return v if isinstance(v, list) else [v]


run_task = set(as_list(statements.get("RunScheduledBatches", {}).get("Resource", [])))
want = {arn for n in scheduled for arn in (deployed[n]["task_definition_family_arn"], deployed[n]["task_definition_family_arn"] + ":*")}
check(run_task == want, f"events role may run exactly the scheduled families ({sorted(run_task)})")
pass_role = set(as_list(statements.get("PassTheBatchRoles", {}).get("Resource", [])))
want_roles = {iam.get_role(RoleName=f"{prefix}{r}")["Role"]["Arn"]
              for r in ["execution", "task", "missed-runs-task", "history-report-task"] + [f"{n}-launch" for n in launchers]}
check(pass_role == want_roles, f"events role may pass exactly the execution, task, watcher, report and launch roles ({sorted(pass_role)})")

group = logs.describe_log_groups(logGroupNamePrefix=outputs["log_group_name"])["logGroups"]
check(len(group) == 1 and group[0].get("retentionInDays") and group[0].get("kmsKeyId"), "log group exists with retention and KMS key")

# The dashboard as CloudWatch holds it: every alarm batchbox-local has (AlarmArn as the API gives
# it) on it, every log group it queries existing.
dashboard_name = outputs["dashboard_name"]
body = cloudwatch.get_dashboard(DashboardName=dashboard_name)["DashboardBody"]
existing_groups = {g["logGroupName"] for g in logs.describe_log_groups(logGroupNamePrefix="/ecs/")["logGroups"]}
every_alarm = [a["AlarmArn"] for a in all_alarms.values()]
check(sorted(outputs["alarm_names"]) == sorted(all_alarms), f"the output alarm_names is every alarm of batchbox-local ({len(outputs['alarm_names'])})")
fields = log_fields.read(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
report = dashboard_body.judge(check, f"dashboard {dashboard_name} (read back)", body, fields, existing_groups, every_alarm, deployed)
check(dashboard_name == "batchbox-local" and any(e["DashboardName"] == dashboard_name for e in cloudwatch.list_dashboards()["DashboardEntries"]),
      f"the dashboard batchbox-local is listed ({dashboard_name})")

check.finish(f"read-back ({phase})", f"for {len(launchers)} launching, {len(scheduled)} scheduled ({', '.join(scheduled)}) and {len(manual)} manual ({', '.join(manual)}) batches")
