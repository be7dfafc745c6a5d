"""Judges the EventBridge rules and input transformers of a real `terraform plan` against
LocalStack's EventBridge code (an implementation independent of moto and of this project).

Usage: python eventbridge_judge.py PLAN.json SCHEMA.json
  PLAN.json: `terraform show -json` of a saved plan of envs/local after apply (every value known).
  SCHEMA.json: the custom notification schema of Amazon Q Developer in chat applications
  (tests/judges/chat_custom_notification.schema.json), for the chat messages (chat_judge.py).

For every batch it builds ECS Task State Change events in the shape the Amazon ECS Developer Guide
documents ("Amazon ECS task state change events": `detail` is the Task object of DescribeTasks)
and asserts which of ALL the environment's rules match each one: exit 0, 1, 2, 137, a task that
never started (TaskFailedToStart, CannotPullContainerError), a deliberate stop (UserInitiated),
RUNNING, another family whose name starts with this one's, another family, another cluster.
Then it renders each notification target's input transformer for sample events, with LocalStack's
renderer and with a renderer written here from the EventBridge User Guide ("Amazon EventBridge
input transformation"), asserts that both agree and that the message says what on-call needs.
"""

import copy
import json
import re
import sys

import chat_judge
from checks import Checks
from localstack_events import pattern_matches
from localstack_events import render as localstack_render

check = Checks()


def resources(module):
    yield from module.get("resources", [])
    for child in module.get("child_modules", []):
        yield from resources(child)


# ---------------------------------------------------------------------------------------------------
# A faithful InputTransformer renderer, from the EventBridge User Guide ("Amazon EventBridge input
# transformation"): each InputPathsMap entry is a JSON path (dots and [index]) into the event; a
# path that does not exist creates no variable, so its placeholder renders as nothing; values are
# not escaped; strings are inserted as they are, numbers as their JSON text. A string template (in
# quotes) yields a JSON string: what people read is that string decoded (\n = a line break).
# ---------------------------------------------------------------------------------------------------
PATH_STEP = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]")


def json_path(event, path):
    if not path.startswith("$"):
        raise ValueError(f"not a JSON path: {path}")
    value, rest = event, path[1:]
    while rest:
        step = PATH_STEP.match(rest)
        if not step:
            raise ValueError(f"unsupported JSON path: {path}")
        key, index = step.groups()
        if key is not None:
            if not isinstance(value, dict) or key not in value:
                return None, False
            value = value[key]
        else:
            if not isinstance(value, list) or int(index) >= len(value):
                return None, False
            value = value[int(index)]
        rest = rest[step.end():]
    return value, True


def render_here(input_paths, template):
    def render_for(event):
        variables = {}
        for name, path in input_paths.items():
            value, found = json_path(event, path)
            if found:
                variables[name] = value if isinstance(value, str) else json.dumps(value)
        raw = re.sub(r"<([^<>]+)>", lambda m: variables.get(m.group(1), ""), template)
        assert raw.startswith('"') and raw.endswith('"'), "a string template must be quoted"
        return raw, json.loads(raw)

    return render_for


# ---------------------------------------------------------------------------------------------------
# ECS Task State Change events, in the documented shape
# ---------------------------------------------------------------------------------------------------

def ecs_event(cluster_arn, family, *, last_status="STOPPED", exit_code=None, stop_code=None,
              stopped_reason=None, container_reason=None, started_by="events-rule/batchbox-local"):
    arn_head = cluster_arn.split(":cluster/")[0]
    cluster = cluster_arn.split(":cluster/")[1]
    region, account = arn_head.split(":")[3], arn_head.split(":")[4]
    task_arn = f"{arn_head}:task/{cluster}/c13b4cb40f1f4fe4a2971f76ae5a47ad"
    container = {
        "containerArn": f"{arn_head}:container/{cluster}/c13b4cb40f1f4fe4a2971f76ae5a47ad/cf159fd6-3e3f-4a9e-84f9-66cbe726af01",
        "lastStatus": last_status,
        "name": "batch",
        "image": f"{account}.dkr.ecr.{region}.amazonaws.com/batchbox:1.0.0",
        "taskArn": task_arn,
        "networkInterfaces": [{"attachmentId": "1789bcae-ddfb-4d10-8ebe-8ac87ddba5b8", "privateIpv4Address": "10.0.0.139"}],
        "cpu": "0",
    }
    if exit_code is not None:
        container["exitCode"] = exit_code
    if container_reason is not None:
        container["reason"] = container_reason
    detail = {
        "attachments": [{"id": "1789bcae-ddfb-4d10-8ebe-8ac87ddba5b8", "type": "eni", "status": "DELETED", "details": []}],
        "availabilityZone": f"{region}a",
        "clusterArn": cluster_arn,
        "containers": [container],
        "createdAt": "2026-11-21T15:40:02.402Z",
        "launchType": "FARGATE",
        "cpu": "256",
        "memory": "512",
        "desiredStatus": "STOPPED" if last_status == "STOPPED" else "RUNNING",
        "group": f"family:{family}",
        "lastStatus": last_status,
        "overrides": {"containerOverrides": [{"name": "batch"}]},
        "connectivity": "CONNECTED",
        "startedBy": started_by,
        "taskArn": task_arn,
        "taskDefinitionArn": f"{arn_head}:task-definition/{family}:7",
        "version": 5,
        "platformVersion": "1.4.0",
        "updatedAt": "2026-11-21T15:52:10.123Z",
    }
    if last_status == "STOPPED":
        detail.update({
            "stopCode": stop_code,
            "stoppedReason": stopped_reason,
            "stoppingAt": "2026-11-21T15:52:00.000Z",
            "executionStoppedAt": "2026-11-21T15:52:05.000Z",
            "stoppedAt": "2026-11-21T15:52:10.123Z",
        })
    return {
        "version": "0",
        "id": "3317b2af-7005-947d-b652-f55e762e571a",
        "detail-type": "ECS Task State Change",
        "source": "aws.ecs",
        "account": account,
        "time": "2026-11-21T15:52:10Z",
        "region": region,
        "resources": [task_arn],
        "detail": detail,
    }


def main(plan_path, schema_path):
    with open(plan_path) as f:
        plan = json.load(f)
    all_resources = list(resources(plan["planned_values"]["root_module"]))
    rules = {r["values"]["name"]: r for r in all_resources if r["type"] == "aws_cloudwatch_event_rule"}
    # The schedule's and the e-mail notification's target of each rule (the chat targets: chat_judge).
    targets = {r["values"]["rule"]: r for r in all_resources if r["type"] == "aws_cloudwatch_event_target" and r["values"]["target_id"] != "chat"}
    every_target = [r for r in all_resources if r["type"] == "aws_cloudwatch_event_target"]
    families = sorted(r["values"]["family"] for r in all_resources if r["type"] == "aws_ecs_task_definition")
    # The batch each family's entry runs: command[0] of its container.
    batch_of = {r["values"]["family"]: json.loads(r["values"]["container_definitions"])[0]["command"][0]
                for r in all_resources if r["type"] == "aws_ecs_task_definition"}
    cluster_arn = next(r["values"]["arn"] for r in all_resources if r["type"] == "aws_ecs_cluster")
    patterns = {name: json.loads(r["values"]["event_pattern"]) for name, r in rules.items() if r["values"].get("event_pattern")}
    check(families, "the plan holds task definitions")
    check(all(f"{f}-failed" in patterns and f"{f}-stopped" in patterns for f in families),
          f"every family has a -failed and a -stopped rule ({sorted(patterns)})")

    other_cluster = cluster_arn.rsplit("/", 1)[0] + "/someone-elses"
    for family in families:
        shadow = f"{family}-shadow"  # a family whose name starts with this one's
        cases = [
            ("exit 0", ecs_event(cluster_arn, family, exit_code=0, stop_code="EssentialContainerExited", stopped_reason="Essential container in task exited"), set()),
            ("exit 1", ecs_event(cluster_arn, family, exit_code=1, stop_code="EssentialContainerExited", stopped_reason="Essential container in task exited"), {f"{family}-failed"}),
            ("exit 2", ecs_event(cluster_arn, family, exit_code=2, stop_code="EssentialContainerExited", stopped_reason="Essential container in task exited"), {f"{family}-failed"}),
            ("exit 137", ecs_event(cluster_arn, family, exit_code=137, stop_code="EssentialContainerExited", stopped_reason="Essential container in task exited", container_reason="OutOfMemoryError: Container killed due to memory usage"), {f"{family}-failed"}),
            ("never started", ecs_event(cluster_arn, family, stop_code="TaskFailedToStart", stopped_reason="CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref 123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/batchbox:9.9.9: not found", container_reason="CannotPullContainerError: failed to resolve ref"), {f"{family}-failed"}),
            ("never started, no container reason", ecs_event(cluster_arn, family, stop_code="TaskFailedToStart", stopped_reason="ResourceInitializationError: unable to pull secrets or registry auth"), {f"{family}-failed"}),
            ("stopped on purpose, exit 143", ecs_event(cluster_arn, family, exit_code=143, stop_code="UserInitiated", stopped_reason="Task stopped by user", started_by="run-batch"), {f"{family}-stopped"}),
            ("stopped on purpose before the container ran", ecs_event(cluster_arn, family, stop_code="UserInitiated", stopped_reason="Task stopped by user"), {f"{family}-stopped"}),
            ("RUNNING", ecs_event(cluster_arn, family, last_status="RUNNING"), set()),
            ("a family that starts with this one's, exit 1", ecs_event(cluster_arn, shadow, exit_code=1, stop_code="EssentialContainerExited"), set()),
            ("another family, exit 1", ecs_event(cluster_arn, "some-other-app", exit_code=1, stop_code="EssentialContainerExited"), set()),
            ("another cluster, exit 1", ecs_event(other_cluster, family, exit_code=1, stop_code="EssentialContainerExited"), set()),
        ]
        for label, event, expected in cases:
            matched = {name for name, pattern in patterns.items() if pattern_matches(pattern, event)}
            check(matched == expected, f"{family}, {label}: rules matched {sorted(matched)}, expected {sorted(expected)}")

    # The schedule rules carry no event pattern; every target that runs a task or notifies has the
    # dead-letter queue and a retry policy.
    for target in every_target:
        values = target["values"]
        rule_name = f"{values['rule']} ({values['target_id']})"
        check(values.get("dead_letter_config") and values["dead_letter_config"][0].get("arn", "").endswith("-events-dlq"),
              f"{rule_name}: target has the dead-letter queue")
        check(values.get("retry_policy"), f"{rule_name}: target has a retry policy")

    # The messages.
    messages = {}
    for family in families:
        entry = family.removeprefix("batchbox-local-")
        batch = batch_of[family]
        # An entry named after its batch is named once; another entry with its batch.
        named = f"batch {entry} " if entry == batch else f"entry {entry} (batch {batch}) "
        samples = {
            "failed": ("exit 1", ecs_event(cluster_arn, family, exit_code=1, stop_code="EssentialContainerExited", stopped_reason="Essential container in task exited")),
            "never-started": ("never started", ecs_event(cluster_arn, family, stop_code="TaskFailedToStart", stopped_reason="CannotPullContainerError: pull image manifest has been retried 1 time(s)", container_reason="CannotPullContainerError: failed to resolve ref")),
            "stopped": ("stopped on purpose", ecs_event(cluster_arn, family, exit_code=143, stop_code="UserInitiated", stopped_reason="Task stopped by user", started_by="run-batch")),
        }
        for kind, (label, event) in samples.items():
            rule = f"{family}-stopped" if kind == "stopped" else f"{family}-failed"
            transformer = targets[rule]["values"]["input_transformer"][0]
            raw, message = render_here(transformer["input_paths"], transformer["input_template"])(event)
            # LocalStack's renderer: it cannot insert numbers into a string template (TypeError),
            # so numbers go in as their JSON text; it returns the string without its quotes, with
            # \n turned into line breaks, i.e. the decoded string.
            as_text = copy.deepcopy(event)
            for container in as_text["detail"]["containers"]:
                if "exitCode" in container:
                    container["exitCode"] = json.dumps(container["exitCode"])
            theirs = localstack_render(transformer["input_paths"], transformer["input_template"], as_text)
            check(theirs == message, f"{family} {label}: LocalStack's renderer and the documented rules agree on the message")
            messages[(family, kind)] = message
            task_arn = event["detail"]["taskArn"]
            check(named in message.splitlines()[0], f"{family} {label}: the first line names the entry and its batch ({named.strip()})")
            check(f"Catalog entry: {entry}, batch {batch} (task definition family {family}," in message,
                  f"{family} {label}: the body names the entry, its batch and its family")
            check("Environment: local" in message, f"{family} {label}: names the environment")
            check(task_arn in message, f"{family} {label}: has the task ARN")
            check("Stopped at (UTC): 2026-11-21T15:52:10.123Z" in message, f"{family} {label}: says when")
            check(f"logStreamNameFilter$3D{entry}$252Fbatch$252F" in message and "$252Fecs$252Fbatchbox-local" in message,
                  f"{family} {label}: links to the entry's log streams in the console")
            check(f"stream {entry}/batch/TASK_ID" in message, f"{family} {label}: names the stream")
            check("Runbook: docs/operations.md, section '" in message, f"{family} {label}: names the runbook section")
            if kind == "failed":
                check("FAILED" in message.splitlines()[0] and "Exit code of the batch container: 1\n" in message,
                      f"{family} {label}: a failure with its exit code")
            if kind == "never-started":
                check("Exit code of the batch container: \n" in message and "Stop code: TaskFailedToStart" in message
                      and "CannotPullContainerError" in message, f"{family} {label}: no exit code, the stop code and reason")
            if kind == "stopped":
                check("STOPPED ON PURPOSE" in message.splitlines()[0] and "UserInitiated" in message
                      and "Exit code of the batch container: 143" in message, f"{family} {label}: labelled a deliberate stop")

    # The chat messages.
    chat_messages, alarm_message = chat_judge.judge(check, all_resources, cluster_arn, families, batch_of, ecs_event, json_path,
                                                    schema_path, "local")

    check.finish("EventBridge judge (LocalStack's pattern engine and renderer, the chat schema)", f"for {len(families)} families")
    example = messages.get(("batchbox-local-export-worker", "failed")) or next(iter(messages.values()))
    print("    rendered failure message (export-worker, exit 1):")
    for line in example.splitlines():
        print(f"      | {line}")
    chat_example = chat_messages.get(("batchbox-local-export-enqueue-monthly", "exit 1")) or next(iter(chat_messages.values()))
    for title, message in (("chat failure message (export-enqueue-monthly, exit 1)", chat_example), ("chat alarm message (ALARM)", alarm_message)):
        print(f"    rendered {title}, as published to the chat topic:")
        for line in json.dumps(message, indent=2, ensure_ascii=False).splitlines():
            print(f"      | {line}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
