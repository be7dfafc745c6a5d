#!/usr/bin/env bash
# Checks the Terraform of batchbox (terraform/), end to end:
#   1. terraform fmt -check
#   2. terraform init + validate of every root (staging, production, local), and terraform test of
#      the modules that have tests (offline, mock provider)
#   3. checkov with no failed check (every skip is an inline #checkov:skip=ID:reason)
#   4. envs/local applied to a local AWS API emulator (moto server): apply, re-plan with no changes,
#      read back what was created through the emulator's API, change the image tag (only the task
#      definitions may change; the schedules keep their family ARN), destroy.
#   5. the EventBridge rules and input transformers of that real plan, judged by LocalStack's
#      EventBridge code (pattern engine and input transformer, run without a server) on ECS Task
#      State Change events of the documented shape: which rules match, what the messages say
#      (scripts/check-terraform/eventbridge_judge.py). moto cannot judge them: its matcher does not
#      match inside arrays of objects.
#
# Usage (from anywhere): bash scripts/check-terraform.sh
# Needs: terraform >= 1.10, the AWS provider in a plugin directory (TF_PLUGIN_DIR, default
# /opt/tf-plugins), python3 with venv, and PyPI for the first run (moto and checkov are installed
# into a virtualenv under ${XDG_CACHE_HOME:-~/.cache}/batchbox).
# The working tree is not modified: init, state and plans live in a temporary copy.
set -euo pipefail

MOTO_VERSION="5.2.5"
CHECKOV_VERSION="3.3.30"
# LocalStack's EventBridge code, as an independent judge; the few runtime modules it imports for
# the pattern engine and the transformer functions (not the whole LocalStack runtime).
LOCALSTACK_PINS=(localstack-core==2026.3.0 jsonpath-rw==1.4.0 jsonpatch==1.48 boto3==1.44.8 rolo==0.8.9 plux==1.16.0)

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib/tools.sh
source "$ROOT/scripts/lib/tools.sh"
TF_SRC="$ROOT/terraform"
PLUGIN_DIR="${TF_PLUGIN_DIR:-/opt/tf-plugins}"
CACHE_DIR="$BATCHBOX_CACHE"
VENV="$CACHE_DIR/venv-terraform"
JUDGE_VENV="$CACHE_DIR/venv-eventbridge-judge"
ENVS=(staging production local)
TESTED_MODULES=(scheduled_batch batch_environment)

export TF_CLI_CONFIG_FILE=/dev/null
export TF_IN_AUTOMATION=1
export TF_INPUT=0
export CHECKPOINT_DISABLE=1

START_SECONDS=$SECONDS
WORK=""
MOTO_PID=""
CURRENT_STEP="start"

step() {
  CURRENT_STEP="$*"
  printf '\n==> %s  [%ss]\n' "$*" "$((SECONDS - START_SECONDS))"
}
ok() { printf '    ok: %s\n' "$*"; }
fail() {
  printf '\n!!! FAILED in step "%s": %s\n' "$CURRENT_STEP" "$*" >&2
  exit 1
}

cleanup() {
  local rc=$?
  if [[ -n "$MOTO_PID" ]] && kill -0 "$MOTO_PID" 2>/dev/null; then
    kill "$MOTO_PID" 2>/dev/null || true
    wait "$MOTO_PID" 2>/dev/null || true
  fi
  if [[ -n "$WORK" && -d "$WORK" ]]; then
    rm -rf "$WORK"
  fi
  if [[ $rc -ne 0 ]]; then
    printf '\n!!! check-terraform FAILED (exit %s) in step "%s"\n' "$rc" "$CURRENT_STEP" >&2
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Runs a command quietly; on failure prints its output and fails the check.
run_logged() {
  local what="$1"
  shift
  local log="$WORK/last-command.log"
  if ! "$@" >"$log" 2>&1; then
    cat "$log" >&2
    fail "$what"
  fi
}

# ---------------------------------------------------------------------------------------------------
step "tools"
command -v terraform >/dev/null || fail "terraform is not on PATH"
TF_VERSION="$(terraform version -json | python3 -c 'import json,sys; print(json.load(sys.stdin)["terraform_version"])')"
python3 - "$TF_VERSION" <<'EOF' || fail "terraform $TF_VERSION is too old: 1.10 or newer is needed (S3 backend use_lockfile)"
import sys
major, minor = (int(x) for x in sys.argv[1].split(".")[:2])
sys.exit(0 if (major, minor) >= (1, 10) else 1)
EOF
ok "terraform $TF_VERSION"
[[ -d "$PLUGIN_DIR/registry.terraform.io/hashicorp/aws" ]] || fail "no AWS provider under $PLUGIN_DIR (set TF_PLUGIN_DIR)"
ok "AWS provider mirror: $(ls "$PLUGIN_DIR/registry.terraform.io/hashicorp/aws" | tr '\n' ' ')"
command -v python3 >/dev/null || fail "python3 is not on PATH"

pinned_venv "$VENV" "moto[server]==$MOTO_VERSION" "checkov==$CHECKOV_VERSION" ||
  fail "could not install moto[server]==$MOTO_VERSION and checkov==$CHECKOV_VERSION"
[[ -x "$VENV/bin/moto_server" ]] || fail "moto_server missing from $VENV"
[[ -x "$VENV/bin/checkov" ]] || fail "checkov missing from $VENV"
"$VENV/bin/python" -c 'import boto3' || fail "boto3 missing from $VENV"
ok "moto $MOTO_VERSION, checkov $CHECKOV_VERSION, boto3 in $VENV"

# A separate virtualenv: LocalStack pins its own botocore, moto another.
pinned_venv "$JUDGE_VENV" "${LOCALSTACK_PINS[@]}" || fail "could not install ${LOCALSTACK_PINS[*]}"
PYTHONPATH="$ROOT/scripts/check-terraform" "$JUDGE_VENV/bin/python" -c 'import localstack_events' ||
  fail "LocalStack's EventBridge pattern engine or transformer cannot be loaded from $JUDGE_VENV"
ok "LocalStack's EventBridge engine (${LOCALSTACK_PINS[0]}) in $JUDGE_VENV"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/check-terraform.XXXXXX")"
# A copy without local init leftovers: everything below writes there, never into the tree.
tar -C "$ROOT" --exclude='.terraform' --exclude='*.tfstate' --exclude='*.tfstate.*' \
  --exclude='.terraform.lock.hcl' --exclude='*.tfplan' -cf - terraform | tar -C "$WORK" -xf -
TF="$WORK/terraform"

# ---------------------------------------------------------------------------------------------------
step "1. terraform fmt -check -recursive terraform/"
if ! terraform fmt -check -recursive -diff "$TF_SRC"; then
  fail "files are not formatted: run terraform fmt -recursive terraform/"
fi
ok "formatted"

# ---------------------------------------------------------------------------------------------------
step "2. terraform init + validate (every root), terraform test (modules)"
for env in "${ENVS[@]}"; do
  export TF_DATA_DIR="$WORK/data/$env"
  run_logged "init of envs/$env" terraform -chdir="$TF/envs/$env" init -backend=false -plugin-dir="$PLUGIN_DIR" -input=false -no-color
  run_logged "validate of envs/$env" terraform -chdir="$TF/envs/$env" validate -no-color
  ok "envs/$env is valid"
done
for module in "${TESTED_MODULES[@]}"; do
  export TF_DATA_DIR="$WORK/data/module-$module"
  run_logged "init of modules/$module" terraform -chdir="$TF/modules/$module" init -backend=false -plugin-dir="$PLUGIN_DIR" -input=false -no-color
  run_logged "terraform test of modules/$module" terraform -chdir="$TF/modules/$module" test -no-color
  passed="$(grep -cE '^ +run ".*"\.\.\. pass$' "$WORK/last-command.log" || true)"
  ok "modules/$module: terraform test, $passed runs passed"
done
unset TF_DATA_DIR

# ---------------------------------------------------------------------------------------------------
step "3. checkov -d terraform/ --framework terraform"
# A skip must say why.
if grep -rnE '#[[:space:]]*checkov:skip=[A-Z0-9_]+[[:space:]]*$' "$TF_SRC" --include='*.tf'; then
  fail "a checkov skip without a reason (write #checkov:skip=CKV_...:reason)"
fi
set +e
"$VENV/bin/checkov" -d "$TF_SRC" --framework terraform --skip-download -o json \
  --output-file-path "$WORK/checkov" >"$WORK/checkov.log" 2>&1
CHECKOV_RC=$?
set -e
CHECKOV_JSON="$WORK/checkov/results_json.json"
if [[ ! -s "$CHECKOV_JSON" ]]; then
  tail -50 "$WORK/checkov.log" >&2
  fail "checkov produced no report (exit $CHECKOV_RC)"
fi
python3 - "$CHECKOV_JSON" <<'EOF' || fail "checkov reported failed checks, parsing errors or a skip without a reason (exit $CHECKOV_RC)"
import json, sys
data = json.load(open(sys.argv[1]))
reports = data if isinstance(data, list) else [data]
passed = failed = parsing_errors = 0
skipped = []
for r in reports:
    res = r.get("results", {})
    passed += len(res.get("passed_checks", []))
    failed += len(res.get("failed_checks", []))
    parsing_errors += r.get("summary", {}).get("parsing_errors", 0)
    for c in res.get("failed_checks", []):
        print(f"    FAILED {c['check_id']} {c['check_name']}: {c['resource']} ({c['file_path']}:{c['file_line_range']})", file=sys.stderr)
    for c in res.get("skipped_checks", []):
        skipped.append((c["check_id"], c["resource"], c["check_result"].get("suppress_comment", "")))
print(f"    checkov: {passed} passed, {failed} failed, {len(skipped)} skipped, {parsing_errors} parsing errors")
for check_id, resource, reason in sorted(set(skipped)):
    print(f"    skip {check_id} on {resource}: {reason}")
    if not reason.strip():
        print("    ^ a skip without a reason", file=sys.stderr)
        failed += 1
if parsing_errors:
    print("    checkov could not parse some files", file=sys.stderr)
sys.exit(1 if failed or parsing_errors or passed == 0 else 0)
EOF
[[ $CHECKOV_RC -eq 0 ]] || fail "checkov exited $CHECKOV_RC"
ok "no failed checkov check"

# ---------------------------------------------------------------------------------------------------
step "4. envs/local against moto server: apply, re-plan, read back, new image tag, destroy"
PORT="$(free_port)"
ENDPOINT="http://127.0.0.1:$PORT"
"$VENV/bin/moto_server" -H 127.0.0.1 -p "$PORT" >"$WORK/moto.log" 2>&1 &
MOTO_PID=$!
for _ in $(seq 1 60); do
  if ! kill -0 "$MOTO_PID" 2>/dev/null; then
    cat "$WORK/moto.log" >&2
    fail "moto_server exited at start"
  fi
  if python3 -c "import urllib.request,sys; urllib.request.urlopen('$ENDPOINT/moto-api/', timeout=1)" 2>/dev/null; then
    break
  fi
  sleep 0.5
done
python3 -c "import urllib.request; urllib.request.urlopen('$ENDPOINT/moto-api/', timeout=2)" 2>/dev/null ||
  fail "moto_server did not answer on $ENDPOINT within 30 s"
ok "moto_server $MOTO_VERSION on $ENDPOINT (pid $MOTO_PID)"

export TF_DATA_DIR="$WORK/data/local-apply"
LOCAL="$TF/envs/local"
TFVARS=(-var "endpoint=$ENDPOINT")
run_logged "init of envs/local with local state" terraform -chdir="$LOCAL" init -input=false -no-color \
  -plugin-dir="$PLUGIN_DIR" -backend-config="path=$WORK/local.tfstate"

run_logged "terraform apply of envs/local" terraform -chdir="$LOCAL" apply -auto-approve -input=false -no-color "${TFVARS[@]}"
ok "apply: $(grep -o 'Apply complete!.*' "$WORK/last-command.log")"

set +e
terraform -chdir="$LOCAL" plan -detailed-exitcode -input=false -no-color "${TFVARS[@]}" -out="$WORK/replan.tfplan" >"$WORK/replan.log" 2>&1
PLAN_RC=$?
set -e
case $PLAN_RC in
  0) ok "re-plan after apply: no changes" ;;
  2)
    grep -vE 'Refreshing state|Reading\.\.\.|Read complete' "$WORK/replan.log" >&2
    fail "re-plan after apply wants changes (drift between the configuration and what the API returns)"
    ;;
  *)
    cat "$WORK/replan.log" >&2
    fail "re-plan after apply failed (exit $PLAN_RC)"
    ;;
esac

terraform -chdir="$LOCAL" output -json >"$WORK/outputs.json" || fail "terraform output"
# The plan as data, every value known (the cluster ARN in the patterns comes from the apply).
terraform -chdir="$LOCAL" show -json "$WORK/replan.tfplan" >"$WORK/replan.json" || fail "terraform show of the re-plan"

cat >"$WORK/readback.py" <<'PYEOF'
"""Reads back through the emulator's API what envs/local created, and compares it with the catalog."""
import json
import re
import sys

import boto3

endpoint, outputs_path, phase, image_tag = sys.argv[1:5]
outputs = {k: v["value"] for k, v in json.load(open(outputs_path)).items()}
catalog = outputs["catalog"]
deployed = outputs["batches"]
topic_arn = outputs["notification_topic_arn"]
cluster_arn = outputs["cluster_arn"]
prefix = "batchbox-local-"

session = boto3.session.Session(aws_access_key_id="local", aws_secret_access_key="local", region_name="ap-northeast-1")
client = lambda service: session.client(service, endpoint_url=endpoint)
events, ecs, cloudwatch, logs, sns, iam, sqs = (client(s) for s in ("events", "ecs", "cloudwatch", "logs", "sns", "iam", "sqs"))

failures = []
checked = 0


def check(condition, message):
    global checked
    checked += 1
    if not condition:
        failures.append(message)
        print(f"    FAIL {message}", file=sys.stderr)


scheduled = sorted(n for n, b in catalog.items() if b.get("schedule") is not None)
manual = sorted(n for n, b in catalog.items() if b.get("schedule") is None)
check(sorted(deployed) == sorted(catalog), f"deployed batches {sorted(deployed)} == catalog {sorted(catalog)}")

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
    check(rule["ScheduleExpression"] == spec["schedule"], f"{name}: schedule {rule['ScheduleExpression']} == {spec['schedule']}")
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
        check(command[:1] == [name], f"{name}: container command[0] is the batch name ({command[:1]})")
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
    for kind, rule_name in sorted(kinds.items()):
        rule = all_rules.get(rule_name)
        check(rule is not None and rule["State"] == "ENABLED", f"{name}: rule {rule_name} exists and is ENABLED")
        if rule is None:
            continue
        pattern = json.loads(rule["EventPattern"])
        detail = pattern.get("detail", {})
        check(pattern.get("source") == ["aws.ecs"] and pattern.get("detail-type") == ["ECS Task State Change"], f"{rule_name}: ECS Task State Change events")
        check(detail.get("lastStatus") == ["STOPPED"] and detail.get("clusterArn") == [cluster_arn], f"{rule_name}: STOPPED tasks of this cluster")
        check(detail.get("taskDefinitionArn") == [{"prefix": deployed[name]["task_definition_family_arn"] + ":"}], f"{rule_name}: revisions of its family only")
        targets = events.list_targets_by_rule(Rule=rule_name)["Targets"]
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

# FailedInvocations: one alarm per rule of the environment, on that rule, to the topic.
rule_names = sorted(all_rules)
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

# Missed-success alarms: one per scheduled batch, none for manual ones.
alarms = {n: a for n, a in all_alarms.items() if n.endswith("-missed-success")}
check(sorted(alarms) == sorted(f"{prefix}{n}-missed-success" for n in scheduled), f"one missed-success alarm per scheduled batch: {sorted(alarms)}")
filters = {f["filterName"]: f for f in logs.describe_metric_filters(logGroupName=outputs["log_group_name"])["metricFilters"]}
for name in scheduled:
    alarm = alarms.get(f"{prefix}{name}-missed-success")
    if alarm is None:
        continue
    window = deployed[name]["alarm_window_minutes"]
    check(alarm["Period"] * alarm["EvaluationPeriods"] == window * 60, f"{name}: alarm window {alarm['Period']}s x {alarm['EvaluationPeriods']} == {window} min")
    check(alarm["TreatMissingData"] == "breaching" and alarm["ComparisonOperator"] == "LessThanThreshold", f"{name}: alarm fires on no success, missing data breaching")
    check(topic_arn in alarm.get("AlarmActions", []), f"{name}: alarm notifies the topic")
    check(alarm.get("Dimensions") == [{"Name": "Batch", "Value": name}] and alarm["MetricName"] == "RunSucceeded", f"{name}: alarm watches RunSucceeded for Batch={name}")
for name in scheduled + manual:
    mf = filters.get(deployed[name]["metric_filter_name"])
    check(mf is not None and f'$.batch = "{name}"' in mf["filterPattern"] and '$.status = "succeeded"' in mf["filterPattern"]
          and '$.message = "run finished"' in mf["filterPattern"], f"{name}: metric filter counts its successful runs")

# Least privilege of the events role: these families, these two roles.
events_policy = iam.get_role_policy(RoleName="batchbox-local-events", PolicyName="run-scheduled-batches")["PolicyDocument"]
if isinstance(events_policy, str):
    events_policy = json.loads(events_policy)
statements = {s.get("Sid"): s for s in events_policy["Statement"]}
as_list = lambda v: v if isinstance(v, list) else [v]
run_task = set(as_list(statements.get("RunScheduledBatches", {}).get("Resource", [])))
want = {arn for n in scheduled for arn in (deployed[n]["task_definition_family_arn"], deployed[n]["task_definition_family_arn"] + ":*")}
check(run_task == want, f"events role may run exactly the scheduled families ({sorted(run_task)})")
pass_role = set(as_list(statements.get("PassTheBatchRoles", {}).get("Resource", [])))
want_roles = {iam.get_role(RoleName=f"{prefix}{r}")["Role"]["Arn"] for r in ("execution", "task")}
check(pass_role == want_roles, f"events role may pass exactly the execution and task roles ({sorted(pass_role)})")

group = logs.describe_log_groups(logGroupNamePrefix=outputs["log_group_name"])["logGroups"]
check(len(group) == 1 and group[0].get("retentionInDays") and group[0].get("kmsKeyId"), "log group exists with retention and KMS key")

if failures:
    print(f"    read-back ({phase}): {len(failures)} of {checked} checks FAILED", file=sys.stderr)
    sys.exit(1)
print(f"    read-back ({phase}): {checked} checks passed for {len(scheduled)} scheduled ({', '.join(scheduled)}) and {len(manual)} manual ({', '.join(manual)}) batches")
PYEOF

"$VENV/bin/python" "$WORK/readback.py" "$ENDPOINT" "$WORK/outputs.json" "after-apply" "local" ||
  fail "read-back through the emulator's API does not match the catalog"

step "5. the EventBridge rules and messages of the real plan, judged by LocalStack's EventBridge engine"
PYTHONPATH="$ROOT/scripts/check-terraform" "$JUDGE_VENV/bin/python" "$ROOT/scripts/check-terraform/eventbridge_judge.py" \
  "$WORK/replan.json" || fail "the failure and stop rules or their messages do not behave as AWS would evaluate them"

step "4. (continued) envs/local against moto: new image tag, destroy"

# A new image tag registers new revisions; nothing else may change.
NEW_TAG="check-$RANDOM"
run_logged "plan with a new image tag" terraform -chdir="$LOCAL" plan -input=false -no-color "${TFVARS[@]}" \
  -var "image_tag=$NEW_TAG" -out="$WORK/new-tag.tfplan"
terraform -chdir="$LOCAL" show -json "$WORK/new-tag.tfplan" >"$WORK/new-tag.json" || fail "terraform show of the plan"
python3 - "$WORK/new-tag.json" <<'EOF' || fail "a new image tag must change the task definitions only"
import json, sys
plan = json.load(open(sys.argv[1]))
changes = [(rc["address"], rc["type"], rc["change"]["actions"]) for rc in plan.get("resource_changes", [])
           if rc["change"]["actions"] not in (["no-op"], ["read"])]
others = [c for c in changes if c[1] != "aws_ecs_task_definition"]
for address, _, actions in others:
    print(f"    unexpected change: {address} {actions}", file=sys.stderr)
task_definitions = [c for c in changes if c[1] == "aws_ecs_task_definition"]
if others or not task_definitions:
    sys.exit(1)
print(f"    new image tag: {len(task_definitions)} task definitions replaced (create before destroy), "
      "no change to rules, targets, alarms or roles")
EOF
run_logged "apply of the new image tag" terraform -chdir="$LOCAL" apply -auto-approve -input=false -no-color "$WORK/new-tag.tfplan"
"$VENV/bin/python" "$WORK/readback.py" "$ENDPOINT" "$WORK/outputs.json" "after-new-tag" "$NEW_TAG" ||
  fail "after a new image tag the schedules must still run their families, now at the new revision"

run_logged "terraform destroy of envs/local" terraform -chdir="$LOCAL" destroy -auto-approve -input=false -no-color \
  "${TFVARS[@]}" -var "image_tag=$NEW_TAG"
ok "destroy: $(grep -o 'Destroy complete!.*' "$WORK/last-command.log")"
"$VENV/bin/python" - "$ENDPOINT" <<'EOF' || fail "destroy left resources behind"
import sys
import boto3
s = boto3.session.Session(aws_access_key_id="local", aws_secret_access_key="local", region_name="ap-northeast-1")
c = lambda name: s.client(name, endpoint_url=sys.argv[1])
left = [r["Name"] for r in c("events").list_rules(NamePrefix="batchbox-local-")["Rules"]]
left += [a["AlarmName"] for a in c("cloudwatch").describe_alarms(AlarmNamePrefix="batchbox-local-")["MetricAlarms"]]
left += [t["TopicArn"] for t in c("sns").list_topics()["Topics"] if "batchbox-local" in t["TopicArn"]]
left += [r["RoleName"] for r in c("iam").list_roles()["Roles"] if r["RoleName"].startswith("batchbox-local-")]
left += [g["logGroupName"] for g in c("logs").describe_log_groups(logGroupNamePrefix="/ecs/batchbox-local")["logGroups"]]
left += c("sqs").list_queues(QueueNamePrefix="batchbox-local-").get("QueueUrls", [])
if left:
    print(f"    left behind: {left}", file=sys.stderr)
    sys.exit(1)
print("    nothing left behind: no rule, alarm, topic, role, log group or queue of batchbox-local")
EOF
unset TF_DATA_DIR

CURRENT_STEP="done"
printf '\n==> check-terraform passed in %ss\n' "$((SECONDS - START_SECONDS))"
