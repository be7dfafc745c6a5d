"""The plan that switches an applied environment from the rules engine to the scheduler engine
(terraform show -json): every schedule rule, its target and its FailedInvocations alarm deleted;
every scheduled entry's Scheduler schedule, the group, the Scheduler role and its policy and the
Scheduler alarms created; the task definitions of the watcher and the report replaced (their
schedules name zones now); the dead-letter alarm's description and the dashboard's alarm list
updated. Nothing else.

    python3 switch_plan.py PLAN.json
"""
import json
import re
import sys

from checks import Checks

with open(sys.argv[1]) as f:
    plan = json.load(f)
check = Checks()

ENTRY = r'module\.batchbox\.module\.batch\["([a-z0-9-]+)"\]\.'
PLATFORM = "module.batchbox.module.platform."
changes = {rc["address"]: rc["change"] for rc in plan.get("resource_changes", []) if rc["change"]["actions"] not in (["no-op"], ["read"])}
by_action = {}
for address, change in changes.items():
    by_action.setdefault("+".join(change["actions"]), []).append(address)

prior = plan.get("prior_state", {}).get("values", {})


def prior_resources(module):
    for r in module.get("resources", []):
        yield r
    for child in module.get("child_modules", []):
        yield from prior_resources(child)


before = sorted(re.match(ENTRY, r["address"]).group(1) for r in prior_resources(prior.get("root_module", {}))
                if r["type"] == "aws_cloudwatch_event_rule" and r["values"].get("schedule_expression"))
check(len(before) >= 5, f"the applied state has schedule rules ({before})")

deleted = sorted(by_action.get("delete", []))
want_deleted = sorted(f'module.batchbox.module.batch["{n}"].{r}' for n in before for r in (
    "aws_cloudwatch_event_rule.this[0]", "aws_cloudwatch_event_target.this[0]", 'aws_cloudwatch_metric_alarm.failed_invocations["schedule"]'))
check(deleted == want_deleted, f"deleted exactly each schedule rule, its target and its FailedInvocations alarm: {sorted(set(deleted) ^ set(want_deleted))} differ")

created = sorted(by_action.get("create", []))
want_created = sorted([f'module.batchbox.module.batch["{n}"].aws_scheduler_schedule.this[0]' for n in before] + [
    PLATFORM + "aws_scheduler_schedule_group.this[0]", PLATFORM + "aws_iam_role.scheduler[0]", PLATFORM + "aws_iam_role_policy.scheduler[0]",
] + [PLATFORM + f'aws_cloudwatch_metric_alarm.scheduler["{k}"]' for k in
     ("dead-letter-failed", "invocations-dropped", "target-errors", "target-throttled", "throttled")])
check(created == want_created, f"created exactly a schedule per scheduled entry, the group, the role, its policy and the alarms: {sorted(set(created) ^ set(want_created))} differ")

replaced = sorted(by_action.get("create+delete", []) + by_action.get("delete+create", []))
check(replaced == sorted(f'module.batchbox.module.batch["{n}"].aws_ecs_task_definition.this' for n in ("history-report", "missed-runs")),
      f"replaced only the task definitions of the watcher and the report ({replaced})")
for address in replaced:
    before_env = {e["name"]: e["value"] for e in json.loads(changes[address]["before"]["container_definitions"])[0]["environment"]}
    after_definitions = changes[address]["after"].get("container_definitions")
    after_env = {e["name"]: e["value"] for e in json.loads(after_definitions)[0]["environment"]} if after_definitions else {}
    moved = sorted(k for k in set(before_env) | set(after_env) if before_env.get(k) != after_env.get(k))
    check(moved in (["WATCH_SCHEDULES"], ["REPORT_SCHEDULES"]), f"{address}: only the schedules it reads change ({moved})")

updated = sorted(by_action.get("update", []))
check(updated == sorted(["module.batchbox.aws_cloudwatch_dashboard.this", PLATFORM + "aws_cloudwatch_metric_alarm.events_dlq"]),
      f"updated in place only the dashboard (its alarm list) and the dead-letter alarm (its description) ({updated})")
dlq = changes.get(PLATFORM + "aws_cloudwatch_metric_alarm.events_dlq", {})
moved = sorted(k for k in (dlq.get("after") or {}) if (dlq.get("before") or {}).get(k) != dlq["after"][k]) if dlq else []
check(moved == ["alarm_description"] and "EventBridge Scheduler" in dlq["after"]["alarm_description"],
      f"the dead-letter alarm changes its description only, to name the Scheduler ({moved})")
others = sorted(set(changes) - set(deleted) - set(created) - set(replaced) - set(updated))
check(not others, f"nothing else changes ({others})")

check.finish("switch to the scheduler engine", f"({len(before)} rules out, {len(before)} schedules in)")
