"""Checks a staging plan (terraform show -json) for the missed-run detection: the watcher's task
definition and what it watches (by entry, with each entry's batch), one metric filter for the
environment, the watcher's alarm, no per-batch missed-success alarm; for the launches: each
launching entry's LAUNCH_* variables and its own role with exactly its two policies; and the
dashboard: its body by AWS's rules, every query parsed (dashboard_body.py, insights_query.py),
every log group and alarm it names planned here, every alarm planned here on it; the saved queries
parsed too. Run without AWS: the plan is made against the local emulator.

With the scheduler engine (scheduler.tfvars): every scheduled entry an EventBridge Scheduler
schedule in its zone and none a rule, the watcher told exactly the zones that are not UTC, the
Scheduler role's trust, the Scheduler alarms (scheduler_expectations.py says what to expect).

    python3 staging_plan.py PLAN.json plain|every-cron|scheduler
"""
import json
import os
import sys

import dashboard_body
import insights_query
import log_fields
import scheduler_expectations as expect
from checks import UTC_ZONES, WATCHER, Checks, watched_entries

plan_path, mode = sys.argv[1:3]
with open(plan_path) as f:
    plan = json.load(f)
check = Checks()
TOPIC = "arn:aws:sns:ap-northeast-1:123456789012:batchbox-staging-notifications"
# What terraform/envs/staging/terraform.tfvars gives the tasks.
CLUSTER = "arn:aws:ecs:ap-northeast-1:123456789012:cluster/staging"
SUBNETS = "subnet-0a1b2c3d4e5f60001,subnet-0a1b2c3d4e5f60002"
SECURITY_GROUPS = "sg-0a1b2c3d4e5f60001"

changes = [rc for rc in plan.get("resource_changes", []) if rc["change"]["actions"] != ["delete"]]
by_type = {}
for rc in changes:
    by_type.setdefault(rc["type"], []).append(rc)
# output_changes holds the known parts of an output that is partly unknown until apply (ARNs).
outputs = {k: v.get("after") for k, v in plan.get("output_changes", {}).items()}
batches = outputs.get("batches") or {}
check(bool(batches), "the plan's output batches is known")


def environment_of(batch):
    for rc in by_type.get("aws_ecs_task_definition", []):
        after = rc["change"]["after"] or {}
        if after.get("family") == f"batchbox-staging-{batch}":
            definitions = after.get("container_definitions")
            if definitions is None:
                return None
            return {e["name"]: e["value"] for e in json.loads(definitions)[0].get("environment", [])}
    return None


watchers = sorted(name for name, b in batches.items() if b.get("batch") == WATCHER)
check(len(watchers) == 1, f"one entry runs the watcher ({watchers})")
watcher_env = environment_of(watchers[0]) if watchers else None
check(watcher_env is not None, "the watcher's task definition is planned with its container definitions known")
watcher_env = watcher_env or {}
try:
    watched = json.loads(watcher_env.get("WATCH_SCHEDULES", "null"))
except ValueError:
    watched = None
expected = watched_entries(batches)
check(watched == expected, f"WATCH_SCHEDULES {watched} == the scheduled, enabled, watched entries {expected}")
check(outputs.get("watch_schedules") == watched, "the output watch_schedules is what the watcher reads")
check(watcher_env.get("WATCH_TOPIC_ARN") == TOPIC, f"WATCH_TOPIC_ARN is the topic ({watcher_env.get('WATCH_TOPIC_ARN')})")
check(watcher_env.get("WATCH_ENVIRONMENT") == "staging", f"WATCH_ENVIRONMENT is staging ({watcher_env.get('WATCH_ENVIRONMENT')})")
check((watched or {}).get("export-enqueue-monthly", {}).get("batch") == "export-enqueue",
      "WATCH_SCHEDULES names the batch of an entry named apart from it")
for name, b in batches.items():
    env = environment_of(name) or {}
    check(env.get("BATCH_ENTRY") == name, f"{name}: BATCH_ENTRY is the entry's name ({env.get('BATCH_ENTRY')})")
    if b["batch"] != WATCHER:
        check(not any(k.startswith("WATCH_") for k in env), f"{name}: no WATCH_* variables")

# The time line report draws what the watcher watches, and only it is told REPORT_*.
reports = sorted(name for name, b in batches.items() if b.get("batch") == "history-report")
check(len(reports) == 1, f"one entry runs the report ({reports})")
for name in batches:
    env = environment_of(name) or {}
    report_env = {k: v for k, v in env.items() if k.startswith("REPORT_")}
    if name in reports:
        check(json.loads(report_env.get("REPORT_SCHEDULES", "null")) == watched, f"{name}: REPORT_SCHEDULES is what the watcher watches")
        check(report_env.get("REPORT_KEY") == "reports/timeline.html" and report_env.get("REPORT_ENVIRONMENT") == "staging",
              f"{name}: REPORT_KEY and REPORT_ENVIRONMENT ({report_env})")
    else:
        check(not report_env, f"{name}: no REPORT_* variables")

# Launches: the LAUNCH_* variables of each launching entry, none elsewhere; its own role with its
# two policies (the launch policy's resources are ARNs known after apply: readback.py reads it
# back whole).
launchers = {name: b["launch"] for name, b in batches.items() if b.get("launch")}
check(sorted(launchers) == ["export-enqueue", "export-enqueue-monthly"], f"the launching entries ({sorted(launchers)})")
for name in batches:
    env = environment_of(name) or {}
    launch_env = {k: v for k, v in env.items() if k.startswith("LAUNCH_")}
    launch = launchers.get(name)
    if launch is None:
        check(not launch_env, f"{name}: no LAUNCH_* variables")
        continue
    want = {
        "LAUNCH_BATCH": launch["batch"],
        "LAUNCH_ARGS": json.dumps(launch["args"]),
        "LAUNCH_MAX_TASKS": str(launch["max_tasks"]),
        "LAUNCH_JOBS_PER_TASK": str(launch["jobs_per_task"]),
        "LAUNCH_CLUSTER": CLUSTER,
        "LAUNCH_TASK_DEFINITION": batches[launch["batch"]]["task_definition_family"],
        "LAUNCH_CONTAINER": "batch",
        "LAUNCH_SUBNETS": SUBNETS,
        "LAUNCH_SECURITY_GROUPS": SECURITY_GROUPS,
        "LAUNCH_ASSIGN_PUBLIC_IP": "false",
    }
    check(launch_env == want, f"{name}: LAUNCH_* {launch_env} == {want}")
    check(batches[launch["batch"]]["batch"] == launch["batch"], f"{name}: launches the entry {launch['batch']}, which runs that batch")
roles = {rc["index"]: rc["change"]["after"] for rc in by_type.get("aws_iam_role", []) if ".aws_iam_role.launch[" in rc["address"]}
check(sorted(roles) == sorted(launchers), f"one launch role per launching entry ({sorted(roles)})")
for name, role in roles.items():
    check(role["name"] == f"batchbox-staging-{name}-launch", f"{name}: its role is batchbox-staging-{name}-launch ({role['name']})")
role_policies = [rc for rc in by_type.get("aws_iam_role_policy", []) if ".aws_iam_role_policy.launch" in rc["address"]]
for name in launchers:
    names = sorted(rc["change"]["after"]["name"] for rc in role_policies if rc["index"] == name)
    check(names == ["batch-permissions", "launch-tasks"], f"{name}: its role has the shared batch permissions and the launch policy, nothing else ({names})")

if mode == "every-cron":
    crons = {
        "export-enqueue": "cron(0 3 ? * MON *)",
        "export-worker": "cron(0 0 1 * ? *)",
        "history-prune": "cron(0 19 ? * SUN-THU *)",
        "canary": "cron(0 0 L * ? *)",
        "export-requeue": "cron(0 9 ? * 2#1 *)",
    }
    rules = {rc["change"]["after"]["name"]: rc["change"]["after"] for rc in by_type.get("aws_cloudwatch_event_rule", [])
             if (rc["change"]["after"] or {}).get("schedule_expression")}
    for name, cron in crons.items():
        check(rules.get(f"batchbox-staging-{name}", {}).get("schedule_expression") == cron, f"{name}: planned with {cron}")
        check((watched or {}).get(name, {}).get("schedule") == cron, f"{name}: watched with {cron}")
    check((watched or {}).get("export-requeue", {}).get("grace_minutes") == 60, "an override's grace_minutes watches a manual catalog entry it schedules")

# The schedule engine: rules (plain, every-cron) or EventBridge Scheduler (scheduler).
schedule_rules = {rc["change"]["after"]["name"]: rc["change"]["after"] for rc in by_type.get("aws_cloudwatch_event_rule", [])
                  if (rc["change"]["after"] or {}).get("schedule_expression")}
schedules = {rc["change"]["after"]["name"]: rc["change"]["after"] for rc in by_type.get("aws_scheduler_schedule", [])}
scheduled = sorted(name for name, b in batches.items() if b["schedule"] is not None)
scheduler_resources = sorted(rc["address"] for t in ("aws_scheduler_schedule", "aws_scheduler_schedule_group") for rc in by_type.get(t, []))
scheduler_resources += sorted(rc["address"] for rc in by_type.get("aws_iam_role", []) + by_type.get("aws_cloudwatch_metric_alarm", [])
                              if "-scheduler" in (rc["change"]["after"] or {}).get("name", (rc["change"]["after"] or {}).get("alarm_name", "")))
if mode != "scheduler":
    check(outputs.get("schedule_engine", "rules") == "rules", "the default engine is rules")
    check(not scheduler_resources, f"no Scheduler schedule, group, role or alarm with the rules engine ({scheduler_resources})")
    check(sorted(schedule_rules) == sorted(f"batchbox-staging-{n}" for n in scheduled), f"one schedule rule per scheduled entry ({sorted(schedule_rules)})")
    check(all(b["timezone"] in UTC_ZONES for b in batches.values() if b["schedule"] is not None), "every scheduled entry is in UTC")
    check(not any("timezone" in w for w in (watched or {}).values()), "WATCH_SCHEDULES names no zone")
else:
    check(not schedule_rules, f"no schedule rule with the scheduler engine ({sorted(schedule_rules)})")
    run_task_targets = [rc["address"] for rc in by_type.get("aws_cloudwatch_event_target", []) if (rc["change"]["after"] or {}).get("ecs_target")]
    check(not run_task_targets, f"no rule target runs a task ({run_task_targets})")
    check(sorted(schedules) == sorted(f"batchbox-staging-{n}" for n in scheduled), f"one Scheduler schedule per scheduled entry ({sorted(schedules)})")
    groups = [rc["change"]["after"] for rc in by_type.get("aws_scheduler_schedule_group", [])]
    check([g["name"] for g in groups] == ["batchbox-staging"], f"one schedule group, batchbox-staging ({[g['name'] for g in groups]})")
    for name in scheduled:
        schedule = schedules.get(f"batchbox-staging-{name}") or {}
        want_expression = expect.ZONED.get(name, (expect.UTC_LEFT.get(name, batches[name]["schedule"]),))[0]
        want_zone = expect.zone_of(name)
        check((schedule.get("schedule_expression"), schedule.get("schedule_expression_timezone")) == (want_expression, want_zone),
              f"{name}: {want_expression} in {want_zone} ({schedule.get('schedule_expression')} in {schedule.get('schedule_expression_timezone')})")
        check(batches[name]["timezone"] == want_zone and batches[name]["schedule_name"] == f"batchbox-staging-{name}" and batches[name]["rule_name"] is None,
              f"{name}: the output batches says its zone and schedule, and no rule")
        check(schedule.get("group_name") == "batchbox-staging" and schedule.get("state") == "ENABLED"
              and schedule.get("description") == batches[name]["description"]
              and schedule.get("flexible_time_window") == [{"mode": "OFF", "maximum_window_in_minutes": None}],
              f"{name}: in the group, enabled, with the entry's description, no flexible window ({schedule.get('flexible_time_window')})")
        target = (schedule.get("target") or [{}])[0]
        ecs = (target.get("ecs_parameters") or [{}])[0]
        network = (ecs.get("network_configuration") or [{}])[0]
        check(target.get("arn") == CLUSTER and target.get("input") is None, f"{name}: the target is the cluster, with no input")
        check((ecs.get("task_definition_arn"), ecs.get("launch_type"), ecs.get("platform_version"), ecs.get("task_count"),
               ecs.get("propagate_tags"), ecs.get("enable_ecs_managed_tags"))
              == (batches[name]["task_definition_family_arn"], "FARGATE", "LATEST", 1, "TASK_DEFINITION", True),
              f"{name}: runs its family without revision on Fargate LATEST, tagged as the rule's target ({ecs})")
        check(sorted(network.get("subnets") or []) == SUBNETS.split(",") and network.get("security_groups") == [SECURITY_GROUPS]
              and network.get("assign_public_ip") is False, f"{name}: the environment's network ({network})")
        check(target.get("retry_policy") == [{"maximum_event_age_in_seconds": 3600, "maximum_retry_attempts": 3}],
              f"{name}: retries for an hour, 3 attempts ({target.get('retry_policy')})")
    zoned_watched = sorted(n for n, w in (watched or {}).items() if "timezone" in w)
    check(zoned_watched == sorted(n for n in expect.ZONED if n in (watched or {})),
          f"WATCH_SCHEDULES names a zone exactly for the watched entries not in UTC ({zoned_watched})")
    for name in zoned_watched:
        check(watched[name]["timezone"] == expect.ZONED[name][1] and watched[name]["schedule"] == expect.ZONED[name][0],
              f"{name}: watched at {expect.ZONED[name][0]} in {expect.ZONED[name][1]} ({watched[name]})")
    check("history-report" in (watched or {}) and "timezone" not in watched["history-report"], "Etc/UTC is UTC: no zone named for it")
    roles = {rc["change"]["after"]["name"]: rc["change"]["after"] for rc in by_type.get("aws_iam_role", [])}
    role = roles.get("batchbox-staging-scheduler") or {}
    check(bool(role) and json.loads(role.get("assume_role_policy") or "null") == expect.trust_policy("123456789012"),
          f"the Scheduler role batchbox-staging-scheduler may be assumed by EventBridge Scheduler of this account only ({role.get('assume_role_policy')})")
    check("batchbox-staging-events" in roles, "the events role stays")
    policies = [rc["change"]["after"]["name"] for rc in by_type.get("aws_iam_role_policy", []) if rc["address"].endswith("aws_iam_role_policy.scheduler[0]")]
    check(policies == ["run-scheduled-batches"], f"the Scheduler role has its one policy ({policies}; its document, of role ARNs known after apply, is read back in envs/local)")

alarms = [rc["change"]["after"] for rc in by_type.get("aws_cloudwatch_metric_alarm", [])]
schedule_rule_alarms = sorted(a["alarm_name"] for a in alarms if a.get("metric_name") == "FailedInvocations"
                              and a["dimensions"]["RuleName"] in {f"batchbox-staging-{n}" for n in scheduled})
scheduler_alarms = {a["alarm_name"]: a for a in alarms if a.get("namespace") == "AWS/Scheduler"}
if mode == "scheduler":
    check(not schedule_rule_alarms, f"no FailedInvocations alarm of a schedule rule ({schedule_rule_alarms})")
    check(sorted(scheduler_alarms) == sorted(f"batchbox-staging-{k}" for k in expect.ALARM_METRICS), f"the Scheduler alarms ({sorted(scheduler_alarms)})")
    for suffix, metric in expect.ALARM_METRICS.items():
        a = scheduler_alarms.get(f"batchbox-staging-{suffix}") or {}
        check((a.get("metric_name"), a.get("dimensions"), a.get("statistic"), a.get("period"), a.get("comparison_operator"), a.get("threshold"),
               a.get("treat_missing_data")) == (metric, {"ScheduleGroup": "batchbox-staging"}, "Sum", 300, "GreaterThanThreshold", 0, "notBreaching"),
              f"{suffix}: {metric} of the group, on the first count in 5 minutes, no data is OK")
else:
    check(len(schedule_rule_alarms) == len(scheduled), f"a FailedInvocations alarm per schedule rule ({len(schedule_rule_alarms)})")
    check(not scheduler_alarms, f"no Scheduler alarm ({sorted(scheduler_alarms)})")
check(not [a for a in alarms if a["alarm_name"].endswith("-missed-success")], "no per-batch missed-success alarm")
watcher_alarms = [a for a in alarms if a.get("metric_name") == "RunSucceeded"]
check(len(watcher_alarms) == 1, f"one alarm on RunSucceeded, the watcher's ({[a['alarm_name'] for a in watcher_alarms]})")
for a in watcher_alarms:
    check(a["dimensions"] == {"Batch": WATCHER} and a["namespace"] == "Batchbox/staging", "the alarm reads RunSucceeded{Batch=missed-runs}")
    check((a["period"], a["evaluation_periods"], a["statistic"], a["comparison_operator"], a["threshold"]) == (600, 3, "Sum", "LessThanThreshold", 1),
          "30 minutes (3 x 600 s) of Sum < 1")
    check(a["treat_missing_data"] == "missing", "missing data stays missing")
    check("the missed-run watcher has not succeeded for 30 minutes: missed runs are not being reported" in a["alarm_description"],
          "the alarm's description says what it means")

filters = [rc["change"]["after"] for rc in by_type.get("aws_cloudwatch_log_metric_filter", [])]
check(len(filters) == 1, f"one metric filter for the environment ({len(filters)})")
for f in filters:
    transformation = (f.get("metric_transformation") or [{}])[0]
    check(f["pattern"] == '{ $.message = "run finished" && $.status = "succeeded" }', f"the filter counts successful runs ({f['pattern']})")
    check(transformation.get("name") == "RunSucceeded" and transformation.get("namespace") == "Batchbox/staging"
          and transformation.get("dimensions") == {"Batch": "$.batch"} and not transformation.get("default_value"),
          f"RunSucceeded with dimension Batch = $.batch and no default value ({transformation})")

# The dashboard: what it names must be planned here, and every alarm planned here must be on it.
FIELDS = log_fields.read(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
ALARM_ARN_PREFIX = "arn:aws:cloudwatch:ap-northeast-1:123456789012:alarm:"
log_groups = {rc["change"]["after"]["name"] for rc in by_type.get("aws_cloudwatch_log_group", [])}
alarm_arns = [ALARM_ARN_PREFIX + a["alarm_name"] for a in alarms]
dashboards = [rc["change"]["after"] for rc in by_type.get("aws_cloudwatch_dashboard", [])]
check(len(dashboards) == 1 and dashboards[0]["dashboard_name"] == "batchbox-staging",
      f"one dashboard, batchbox-staging ({[d['dashboard_name'] for d in dashboards]})")
check(all(isinstance(d.get("dashboard_body"), str) for d in dashboards), "the dashboard's body is known at plan")
for d in dashboards:
    report = dashboard_body.judge(check, "dashboard batchbox-staging", d.get("dashboard_body"), FIELDS, log_groups, alarm_arns, batches)
    print(f"    dashboard: {len(report.widgets)} widgets, {len(report.queries)} queries parsed, {len(report.alarm_arns)} alarms")
check(outputs.get("dashboard_name") == "batchbox-staging", f"the output dashboard_name ({outputs.get('dashboard_name')})")
saved = [rc["change"]["after"] for rc in by_type.get("aws_cloudwatch_query_definition", [])]
check(len(saved) == 3, f"three saved queries ({[q['name'] for q in saved]})")
for q in saved:
    check(set(q["log_group_names"]) <= log_groups, f"saved query {q['name']}: its log groups are planned ({q['log_group_names']})")
    try:
        insights_query.parse(q["query_string"], FIELDS)
        check(True, f"saved query {q['name']} parses")
    except insights_query.QueryError as error:
        check(False, f"saved query {q['name']} does not parse: {error}")

print(f"    WATCH_SCHEDULES ({mode}): {watcher_env.get('WATCH_SCHEDULES')}")
check.finish(f"staging plan ({mode})", f"for {len(batches)} entries, {len(watched or {})} watched, {len(launchers)} launching")
