"""Checks the team's chat in two staging plans (terraform show -json): staging as it is, which
must hold nothing of the chat, and staging with a Slack channel (chat.tfvars), which must be the
same plan plus exactly the chat: the topic and its policy, the channel role, the Slack channel
configuration on the chat topic only, a second target `chat` on every entry's -failed and -stopped
rules, the alarms rule and its target, and the watcher's WATCH_CHAT_TOPIC_ARN and permission.
Every other planned value, the e-mail targets and their messages included, must be identical.

    python3 chat_plan.py PLAIN.json CHAT.json
"""
import json
import sys

from checks import WATCHER, Checks

PREFIX = "batchbox-staging"
CHAT_TOPIC = f"arn:aws:sns:ap-northeast-1:123456789012:{PREFIX}-chat"
PLATFORM = "module.batchbox.module.platform"

check = Checks()


def planned(path):
    with open(path) as f:
        plan = json.load(f)
    return {rc["address"]: rc for rc in plan.get("resource_changes", []) if rc["change"]["actions"] != ["delete"]}, plan


plain, _ = planned(sys.argv[1])
chat, chat_plan = planned(sys.argv[2])
batches = chat_plan["output_changes"]["batches"]["after"]
watcher = next(name for name, b in batches.items() if b["batch"] == WATCHER)


def after(rc):
    return rc["change"]["after"] or {}


# Staging as it is: nothing of the chat.
chat_types = {"aws_chatbot_slack_channel_configuration", "aws_chatbot_teams_channel_configuration"}
check(not [a for a, rc in plain.items() if rc["type"] in chat_types or rc["name"] in ("chat", "alarms_to_chat")],
      "staging without chat plans no chat topic, channel, role, target or alarms rule")
watcher_family = f"{PREFIX}-{watcher}"


def environment(resources, family):
    rc = next(rc for rc in resources.values() if rc["type"] == "aws_ecs_task_definition" and after(rc).get("family") == family)
    return {e["name"]: e["value"] for e in json.loads(after(rc)["container_definitions"])[0]["environment"]}


check("WATCH_CHAT_TOPIC_ARN" not in environment(plain, watcher_family), "without chat the watcher has no WATCH_CHAT_TOPIC_ARN")

# With chat: exactly these are added.
expected_new = {
    f"{PLATFORM}.aws_sns_topic.chat[0]",
    f"{PLATFORM}.aws_sns_topic_policy.chat[0]",
    f"{PLATFORM}.aws_iam_role.chat[0]",
    f'{PLATFORM}.aws_chatbot_slack_channel_configuration.this["slack"]',
    "module.batchbox.aws_cloudwatch_event_rule.alarms_to_chat[0]",
    "module.batchbox.aws_cloudwatch_event_target.alarms_to_chat[0]",
} | {f'module.batchbox.module.batch["{name}"].aws_cloudwatch_event_target.chat["{kind}"]' for name in batches for kind in ("failed", "stopped")}
new = set(chat) - set(plain)
check(new == expected_new, f"chat adds exactly the chat resources (unexpected {sorted(new - expected_new)}, missing {sorted(expected_new - new)})")
check(set(plain) <= set(chat), f"chat removes nothing ({sorted(set(plain) - set(chat))})")

# Nothing else changes but the watcher's task definition (its variable) and its role policy.
allowed_changes = {
    f'module.batchbox.module.batch["{watcher}"].aws_ecs_task_definition.this',
    f"{PLATFORM}.aws_iam_role_policy.watcher_task[0]",
    f"{PLATFORM}.data.aws_iam_policy_document.watcher_task[0]",  # read at apply: the chat topic's ARN
}
changed = sorted(a for a in set(plain) & set(chat) if after(plain[a]) != after(chat[a]) or plain[a]["change"].get("after_unknown") != chat[a]["change"].get("after_unknown"))
check(set(changed) <= allowed_changes, f"chat changes nothing else ({sorted(set(changed) - allowed_changes)})")
notify = [a for a in plain if a.endswith('aws_cloudwatch_event_target.notify["failed"]') or a.endswith('aws_cloudwatch_event_target.notify["stopped"]')]
check(len(notify) == 2 * len(batches) and all(after(plain[a]) == after(chat[a]) for a in notify),
      "the e-mail targets and their messages are identical with chat")
plain_env, chat_env = environment(plain, watcher_family), environment(chat, watcher_family)
check(chat_env.get("WATCH_CHAT_TOPIC_ARN") == CHAT_TOPIC and {k: v for k, v in chat_env.items() if k != "WATCH_CHAT_TOPIC_ARN"} == plain_env,
      f"the watcher gets WATCH_CHAT_TOPIC_ARN={CHAT_TOPIC} and nothing else new")

# The Slack channel configuration, on the chat topic only.
slack = after(chat.get(f'{PLATFORM}.aws_chatbot_slack_channel_configuration.this["slack"]', {"change": {"after": {}}}))
check(slack.get("configuration_name") == f"{PREFIX}-slack" and slack.get("slack_team_id") == "T0000000000"
      and slack.get("slack_channel_id") == "C0000000000", f"the Slack channel configuration {PREFIX}-slack with chat.tfvars' ids")
check(slack.get("sns_topic_arns") == [CHAT_TOPIC], f"the Slack channel reads the chat topic only ({slack.get('sns_topic_arns')})")
check(slack.get("logging_level") == "ERROR" and slack.get("user_authorization_required") is False
      and slack.get("guardrail_policy_arns") == ["arn:aws:iam::aws:policy/AWSDenyAll"],
      "logging ERROR, no user authorisation, the AWSDenyAll guardrail")
role = after(chat.get(f"{PLATFORM}.aws_iam_role.chat[0]", {"change": {"after": {}}}))
trust = json.loads(role.get("assume_role_policy") or "{}")
check(role.get("name") == f"{PREFIX}-chat" and [s["Principal"] for s in trust.get("Statement", [])] == [{"Service": "chatbot.amazonaws.com"}],
      "the channel role is trusted by chatbot.amazonaws.com only")
check(not [a for a, rc in chat.items() if rc["type"] in ("aws_iam_role_policy", "aws_iam_role_policy_attachment") and after(rc).get("role") in (f"{PREFIX}-chat",)],
      "the channel role has no policy")
topic = after(chat.get(f"{PLATFORM}.aws_sns_topic.chat[0]", {"change": {"after": {}}}))
check(topic.get("name") == f"{PREFIX}-chat" and topic.get("kms_master_key_id") is None
      and chat[f"{PLATFORM}.aws_sns_topic.chat[0]"]["change"]["after_unknown"].get("kms_master_key_id"),
      "the chat topic is encrypted with the environment's key (created with it, so known after apply)")

# The targets.
for address in sorted(expected_new):
    if ".aws_cloudwatch_event_target." not in address or address not in chat:
        continue
    target = after(chat[address])
    # The queue is created with the environment, so its ARN is known after apply only.
    dlq_unknown = (chat[address]["change"].get("after_unknown") or {}).get("dead_letter_config") == [{"arn": True}]
    check(target.get("arn") == CHAT_TOPIC and target.get("target_id") == "chat", f"{address}: to the chat topic, id chat")
    check(len(target.get("dead_letter_config") or []) == 1 and dlq_unknown
          and target.get("retry_policy") == [{"maximum_event_age_in_seconds": 86400, "maximum_retry_attempts": 185}],
          f"{address}: the e-mail targets' retry policy and the dead-letter queue (the envs/local read-back checks its ARN)")
rule = after(chat.get("module.batchbox.aws_cloudwatch_event_rule.alarms_to_chat[0]", {"change": {"after": {}}}))
check(rule.get("name") == f"{PREFIX}-alarms-to-chat" and json.loads(rule.get("event_pattern") or "{}") == {
    "source": ["aws.cloudwatch"], "detail-type": ["CloudWatch Alarm State Change"], "detail": {"alarmName": [{"prefix": f"{PREFIX}-"}]}},
    f"the rule {PREFIX}-alarms-to-chat takes this environment's alarms' state changes")

check.finish("staging with chat (chat.tfvars) against staging as it is", f"({len(new)} resources added)")
