"""Reads back through the emulator's API what envs/local applied for the team's chat (a Slack
channel with placeholder ids, create_chat_channels = false): the chat topic, encrypted, with its
policy (EventBridge and the account only), the second target `chat` of every -failed and -stopped
rule and the alarms rule's target with their input transformers exactly as planned, and the
watcher's WATCH_CHAT_TOPIC_ARN in its registered task definition.

    python3 chat_readback.py ENDPOINT OUTPUTS.json PLAN.json
"""
import json
import sys

import boto3
from checks import WATCHER, Checks

endpoint, outputs_path, plan_path = sys.argv[1:4]
with open(outputs_path) as f:
    outputs = {k: v["value"] for k, v in json.load(f).items()}
with open(plan_path) as f:
    plan = json.load(f)
session = boto3.session.Session(aws_access_key_id="local", aws_secret_access_key="local", region_name="ap-northeast-1")
events, sns, ecs = (session.client(s, endpoint_url=endpoint) for s in ("events", "sns", "ecs"))
check = Checks()


def resources(module):
    yield from module.get("resources", [])
    for child in module.get("child_modules", []):
        yield from resources(child)


planned = {(r["values"]["rule"], r["values"]["target_id"]): r["values"] for r in resources(plan["planned_values"]["root_module"])
           if r["type"] == "aws_cloudwatch_event_target" and r["values"]["target_id"] == "chat"}

topic_arn = outputs["chat_topic_arn"]
check(topic_arn and topic_arn.endswith(":batchbox-local-chat"), f"the chat topic exists ({topic_arn})")
attributes = sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]
check(bool(attributes.get("KmsMasterKeyId")), "the chat topic is encrypted with a KMS key")
policy = json.loads(attributes["Policy"])
principals = sorted(json.dumps(s["Principal"], sort_keys=True) for s in policy["Statement"])
check(principals == sorted([json.dumps({"Service": "events.amazonaws.com"}), json.dumps({"AWS": "arn:aws:iam::123456789012:root"})]),
      f"the chat topic's policy lets EventBridge and the account only ({principals})")
check(all(s["Effect"] == "Allow" and s["Resource"] == topic_arn for s in policy["Statement"]), "every statement is on the chat topic")

check(len(planned) > 2, f"the plan has chat targets ({len(planned)})")
for (rule, target_id), values in sorted(planned.items()):
    read = [t for t in events.list_targets_by_rule(Rule=rule)["Targets"] if t["Id"] == target_id]
    if not read:
        check(False, f"{rule}: no target {target_id} in the emulator")
        continue
    target = read[0]
    transformer = target.get("InputTransformer", {})
    check(target["Arn"] == topic_arn, f"{rule}: target chat publishes to the chat topic")
    check(transformer.get("InputTemplate") == values["input_transformer"][0]["input_template"]
          and transformer.get("InputPathsMap") == values["input_transformer"][0]["input_paths"],
          f"{rule}: the chat input transformer reads back as planned")
    check(target.get("DeadLetterConfig", {}).get("Arn", "").endswith(":batchbox-local-events-dlq"), f"{rule}: the dead-letter queue")

rule = outputs["alarms_to_chat_rule_name"]
check(rule == "batchbox-local-alarms-to-chat" and (rule, "chat") in planned, f"the alarms rule {rule} and its chat target")
pattern = json.loads(events.describe_rule(Name=rule)["EventPattern"])
check(pattern.get("detail", {}).get("alarmName") == [{"prefix": "batchbox-local-"}], f"{rule}: the alarms of batchbox-local ({pattern})")

watcher = next(name for name, b in outputs["batches"].items() if b["batch"] == WATCHER)
definition = ecs.describe_task_definition(taskDefinition=f"batchbox-local-{watcher}")["taskDefinition"]
environment = {e["name"]: e["value"] for e in definition["containerDefinitions"][0]["environment"]}
check(environment.get("WATCH_CHAT_TOPIC_ARN") == topic_arn, f"the watcher's task definition has WATCH_CHAT_TOPIC_ARN={topic_arn}")

check.finish("chat read back from the emulator", f"({len(planned)} chat targets)")
