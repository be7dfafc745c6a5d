"""The chat messages of a real plan, judged: every chat input transformer (the -failed and -stopped
rules' second target `chat`, and the alarms rule's) rendered on events of the documented shapes,
with LocalStack's renderer and with one written here from the EventBridge User Guide ("Amazon
EventBridge input transformation"); both must agree, each message must be JSON that validates
against the custom notification schema of Amazon Q Developer in chat applications
(tests/judges/chat_custom_notification.schema.json, with the jsonschema package), and say what
on-call needs. Called by eventbridge_judge.py.

Events: ECS Task State Change (Amazon ECS Developer Guide, task state change events) for a failed
task (exit 1), a task that never started (no exit code), a deliberate stop, each with a hostile
stoppedReason (double quotes, a backslash, a line break, an emoji); CloudWatch Alarm State Change
(Amazon CloudWatch User Guide, "Alarm events and EventBridge") for each alarm of the environment,
with a hostile reason.
"""

import copy
import json
import re

import jsonschema
from localstack_events import pattern_matches
from localstack_events import render_json as localstack_render_json

HOSTILE = 'CannotStartContainerError: "quoted" C:\\temp\\x\nsecond line 🚚 𠮷 <b>&amp;\''


def render_json_here(input_paths, template, event, json_path):
    """A JSON template as the User Guide documents it: a variable inside a quoted string is
    inserted as it is, not escaped (a string's characters, a number's JSON text); a variable outside
    quotes becomes its JSON value; a path missing from the event creates no variable, which leaves
    nothing. Returns the raw text (which must then parse)."""
    variables = {}
    for name, path in input_paths.items():
        value, found = json_path(event, path)
        if found:
            variables[name] = value
    out, in_string, i = [], False, 0
    while i < len(template):
        c = template[i]
        if c == "\\" and in_string:
            out.append(template[i:i + 2])
            i += 2
            continue
        if c == '"':
            in_string = not in_string
        if c == "<":
            end = template.index(">", i)
            name = template[i + 1:end]
            if name in variables:
                value = variables[name]
                if in_string:
                    out.append(value if isinstance(value, str) else json.dumps(value))
                else:
                    out.append(json.dumps(value, ensure_ascii=False))
            i = end + 1
            continue
        out.append(c)
        i += 1
    return "".join(out)


def alarm_event(alarm_arn, state, previous, reason):
    region, account, name = alarm_arn.split(":")[3], alarm_arn.split(":")[4], alarm_arn.split(":alarm:")[1]
    return {
        "version": "0",
        "id": "c4c1c1c9-6542-e61b-6ef0-8c4d36933a92",
        "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch",
        "account": account,
        "time": "2026-11-21T17:04:40Z",
        "region": region,
        "resources": [alarm_arn],
        "detail": {
            "alarmName": name,
            "configuration": {"description": "batchbox: what the state means", "metrics": []},
            "previousState": {"reason": "earlier", "reasonData": "{}", "timestamp": "2026-11-21T16:04:40.985+0000", "value": previous},
            "state": {"reason": reason, "reasonData": "{\"version\":\"1.0\"}", "timestamp": "2026-11-21T17:04:40.989+0000", "value": state},
        },
    }


def judge(check, all_resources, cluster_arn, families, batch_of, ecs_event, json_path, schema_path, environment):
    with open(schema_path) as f:
        schema = json.load(f)
    validator = jsonschema.Draft202012Validator(schema)
    jsonschema.Draft202012Validator.check_schema(schema)
    prefix = f"batchbox-{environment}"
    targets = [r["values"] for r in all_resources if r["type"] == "aws_cloudwatch_event_target" and r["values"]["target_id"] == "chat"]
    rules = {r["values"]["name"]: r["values"] for r in all_resources if r["type"] == "aws_cloudwatch_event_rule"}
    chat_topics = [r["values"] for r in all_resources if r["type"] == "aws_sns_topic" and r["values"]["name"] == f"{prefix}-chat"]
    check(len(chat_topics) == 1, f"the plan holds the chat topic {prefix}-chat")
    by_rule = {t["rule"]: t for t in targets}
    check(set(by_rule) == {f"{fam}-{k}" for fam in families for k in ("failed", "stopped")} | {f"{prefix}-alarms-to-chat"},
          f"a chat target on every -failed and -stopped rule and on the alarms rule ({len(by_rule)})")

    def validate(label, rendered_raw, theirs):
        try:
            message = json.loads(rendered_raw)
        except json.JSONDecodeError as e:
            check(False, f"{label}: the rendered message is not JSON ({e}): {rendered_raw[:300]}")
            return None
        check(theirs == message, f"{label}: LocalStack's renderer and the documented rules agree")
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(message)]
        check(not errors, f"{label}: a valid custom notification ({errors[:3]})")
        return message

    messages = {}
    for family in families:
        entry = family.removeprefix(f"{prefix}-")
        batch = batch_of[family]
        samples = {
            "exit 1": ("failed", ecs_event(cluster_arn, family, exit_code=1, stop_code="EssentialContainerExited", stopped_reason=HOSTILE)),
            "never started": ("failed", ecs_event(cluster_arn, family, stop_code="TaskFailedToStart", stopped_reason=HOSTILE, container_reason=HOSTILE)),
            "stopped on purpose": ("stopped", ecs_event(cluster_arn, family, exit_code=143, stop_code="UserInitiated", stopped_reason=HOSTILE, started_by="run-batch")),
        }
        for label, (kind, event) in samples.items():
            rule = f"{family}-{kind}"
            matched = {name for name, r in rules.items() if r.get("event_pattern") and pattern_matches(json.loads(r["event_pattern"]), event)}
            check(matched == {rule}, f"{family} {label}: only {rule} matches ({sorted(matched)})")
            target = by_rule.get(rule)
            if not target:
                continue
            transformer = target["input_transformer"][0]
            raw = render_json_here(transformer["input_paths"], transformer["input_template"], event, json_path)
            as_text = copy.deepcopy(event)  # LocalStack cannot put a number inside a string (TypeError)
            for container in as_text["detail"]["containers"]:
                if "exitCode" in container:
                    container["exitCode"] = json.dumps(container["exitCode"])
            theirs = localstack_render_json(transformer["input_paths"], transformer["input_template"], as_text)
            message = validate(f"{family} {label}", raw, theirs)
            if message is None:
                continue
            messages[(family, label)] = message
            content, metadata = message["content"], message["metadata"]
            named = entry if entry == batch else f"{entry} (batch {batch})"
            code = str(event["detail"]["containers"][0].get("exitCode", ""))
            word = "STOPPED ON PURPOSE" if kind == "stopped" else "FAILED"
            check(content["title"].endswith(f"batchbox {environment}: {named} {word}"), f"{family} {label}: the title names the entry and what happened ({content['title']})")
            description = content["description"]
            check(f"*Entry:* {entry}, batch {batch} (task definition family {family})" in description, f"{family} {label}: names the entry and its batch")
            check(f"*Exit code:* {code} (" in description, f"{family} {label}: the exit code '{code}'")
            check(f"*Stop code:* {event['detail']['stopCode']}\n" in description and event["detail"]["taskArn"] in description
                  and "*Stopped at (UTC):* 2026-11-21T15:52:10.123Z" in description, f"{family} {label}: stop code, task, time")
            check(re.search(r"\[this entry's log streams\]\(https://[a-z0-9-]+\.console\.aws\.amazon\.com/cloudwatch/home\?region=[a-z0-9-]+#logsV2:log-groups/log-group/\$252Fecs\$252F" + re.escape(prefix) + r"\$3FlogStreamNameFilter\$3D" + re.escape(entry) + r"\$252Fbatch\$252F\)", description),
                  f"{family} {label}: a markdown link to the entry's log streams")
            check("*Runbook:* " in description and content["nextSteps"], f"{family} {label}: the runbook and next steps")
            check(HOSTILE not in json.dumps(message, ensure_ascii=False) and "quoted" not in description,
                  f"{family} {label}: the free-text reasons are not in the message")
            check(metadata["additionalContext"] == {"environment": environment, "entry": entry, "batch": batch, "exitCode": code, "stopCode": event["detail"]["stopCode"]},
                  f"{family} {label}: additionalContext ({metadata['additionalContext']})")
            check(metadata["relatedResources"] == [event["detail"]["taskArn"]] and metadata["threadId"] == f"{prefix}-{entry}"
                  and metadata["eventType"] == ("batch-task-stopped" if kind == "stopped" else "batch-task-failed"),
                  f"{family} {label}: the task, the thread of the entry, the event type")
            check(content["keywords"] == [environment, entry, batch], f"{family} {label}: keywords")

    # The alarms: every alarm of the environment, and another environment's that must not match.
    alarm_target = by_rule.get(f"{prefix}-alarms-to-chat")
    alarm_rule = rules.get(f"{prefix}-alarms-to-chat")
    alarms = sorted(r["values"]["alarm_name"] for r in all_resources if r["type"] == "aws_cloudwatch_metric_alarm")
    check(alarms and alarm_rule and alarm_target, f"the plan holds the alarms ({len(alarms)}) and the alarms rule with its chat target")
    if not (alarms and alarm_rule and alarm_target):
        return messages, None
    arn_head = cluster_arn.split(":cluster/")[0].replace(":ecs:", ":cloudwatch:")
    pattern = json.loads(alarm_rule["event_pattern"])
    other = alarm_event(f"{arn_head}:alarm:batchbox-{environment}x-other", "ALARM", "OK", "x")
    check(not pattern_matches(pattern, other), "another environment's alarm does not match the alarms rule")
    task_event = ecs_event(cluster_arn, families[0], exit_code=1, stop_code="EssentialContainerExited", stopped_reason="x")
    check(not pattern_matches(pattern, task_event), "a task event does not match the alarms rule")
    alarm_message = None
    transformer = alarm_target["input_transformer"][0]
    for name in alarms:
        for state, previous in (("ALARM", "OK"), ("INSUFFICIENT_DATA", "OK"), ("OK", "ALARM")):
            event = alarm_event(f"{arn_head}:alarm:{name}", state, previous, HOSTILE)
            matched = {n for n, r in rules.items() if r.get("event_pattern") and pattern_matches(json.loads(r["event_pattern"]), event)}
            check(matched == {f"{prefix}-alarms-to-chat"}, f"alarm {name} {state}: only the alarms rule matches ({sorted(matched)})")
            raw = render_json_here(transformer["input_paths"], transformer["input_template"], event, json_path)
            theirs = localstack_render_json(transformer["input_paths"], transformer["input_template"], event)
            message = validate(f"alarm {name} {state}", raw, theirs)
            if message is None:
                continue
            content = message["content"]
            check(name in content["title"] and content["title"].endswith(f"is {state}"), f"alarm {name} {state}: the title names the alarm and its state")
            check(f"*State:* {state} (was {previous})" in content["description"] and "*Since (UTC):* 2026-11-21T17:04:40.989+0000" in content["description"],
                  f"alarm {name} {state}: new and previous state, time")
            check(f"#alarmsV2:alarm/{name})" in content["description"] and "docs/operations.md" in content["description"],
                  f"alarm {name} {state}: a link to the alarm in the console and the runbook")
            check(message["metadata"]["additionalContext"]["reason"] == event["detail"]["state"]["reason"],
                  f"alarm {name} {state}: the reason, quotes, backslash, line break and emoji intact")
            if alarm_message is None and state == "ALARM":
                alarm_message = message
    return messages, alarm_message
