#!/usr/bin/env bash
# Checks the Terraform of batchbox (terraform/), end to end:
#   1. terraform fmt -check
#   2. terraform init + validate of every root (staging, production, local), and terraform test of
#      the modules that have tests (offline, mock provider)
#   3. checkov with no failed check (every skip is an inline #checkov:skip=ID:reason)
#   4. envs/staging planned against a local AWS API emulator (moto server), as it is and with every
#      kind of cron AWS accepts (scripts/check-terraform/every-cron.tfvars: weekly, monthly,
#      weekdays only, L, #): the missed-runs watcher's WATCH_SCHEDULES, one metric filter, the
#      watcher's alarm (scripts/check-terraform/staging_plan.py).
#      staging planned with the scheduler engine and entries in local time
#      (scripts/check-terraform/scheduler.tfvars), and refused with the rules engine and the same
#      entries (every entry at fault named).
#      envs/local applied to the emulator with those crons: apply, re-plan with no changes,
#      read back what was created through the emulator's API, change the image tag (only the task
#      definitions may change; the schedules keep their family ARN), switch the same state to the
#      scheduler engine (the plan swaps rules for schedules and nothing else, apply, re-plan with
#      no changes, read the schedules, group and role back: switch_plan.py,
#      scheduler_readback.py), destroy.
#      Both check the environment's dashboard: its body by AWS's "Dashboard Body Structure and
#      Syntax", every Logs Insights query (and the saved queries) parsed by the documented grammar and
#      reading only the fields docs/operations.md lists, every log group and alarm it names existing,
#      every alarm of the environment on it (scripts/check-terraform/dashboard_body.py,
#      insights_query.py, log_fields.py; their own tests run first, in step 0).
#      The team's chat: staging planned with a Slack channel (scripts/check-terraform/chat.tfvars)
#      must be staging as it is plus exactly the chat topic, channel configuration and role, the
#      chat targets, the alarms rule and the watcher's variable (chat_plan.py); envs/local applies
#      the chat with create_chat_channels = false and reads it back (chat_readback.py).
#   5. the EventBridge rules and input transformers of that real plan, judged by LocalStack's
#      EventBridge code (pattern engine and input transformer, run without a server) on ECS Task
#      State Change events of the documented shape: which rules match, what the messages say
#      (scripts/check-terraform/eventbridge_judge.py); the chat messages, also on CloudWatch Alarm
#      State Change events and with hostile values, must be custom notifications valid against
#      tests/judges/chat_custom_notification.schema.json (jsonschema; chat_judge.py). moto cannot
#      judge them: its matcher does not match inside arrays of objects.
#
# Usage (from anywhere): bash scripts/check-terraform.sh
# Needs: terraform >= 1.10, the AWS provider in a plugin directory (TF_PLUGIN_DIR, default
# /opt/tf-plugins), python3 with venv, and PyPI for the first run (moto and checkov are installed
# into a virtualenv under ${XDG_CACHE_HOME:-~/.cache}/batchbox).
# The working tree is not modified: init, state and plans live in a temporary copy.
set -euo pipefail

# MOTO_VERSION comes from scripts/lib/tools.sh (the tests start moto too).
CHECKOV_VERSION="3.3.30"
# LocalStack's EventBridge code, as an independent judge; the few runtime modules it imports for
# the pattern engine and the transformer functions (not the whole LocalStack runtime); jsonschema
# for the chat messages' schema.
LOCALSTACK_PINS=(localstack-core==2026.3.0 jsonpath-rw==1.4.0 jsonpatch==1.48 boto3==1.44.8 rolo==0.8.9 plux==1.16.0 jsonschema==4.23.0)

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib/tools.sh
source "$ROOT/scripts/lib/tools.sh"
TF_SRC="$ROOT/terraform"
CHAT_SCHEMA="$ROOT/tests/judges/chat_custom_notification.schema.json"
PLUGIN_DIR="${TF_PLUGIN_DIR:-/opt/tf-plugins}"
CACHE_DIR="$BATCHBOX_CACHE"
VENV="$CACHE_DIR/venv-terraform"
JUDGE_VENV="$CACHE_DIR/venv-eventbridge-judge"
ENVS=(staging production local)
TESTED_MODULES=(scheduled_batch batch_platform batch_environment)

export TF_CLI_CONFIG_FILE=/dev/null
export TF_IN_AUTOMATION=1
export TF_INPUT=0
export CHECKPOINT_DISABLE=1

WORK=""
MOTO_PID=""
SCRIPT_NAME=check-terraform
# shellcheck source=scripts/lib/steps.sh
source "$ROOT/scripts/lib/steps.sh"

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
        printf '\ncheck-terraform: FAILED (exit %s) in step "%s"\n' "$rc" "${STEP_NAME:-start}" >&2
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
ok "AWS provider mirror: $(find "$PLUGIN_DIR/registry.terraform.io/hashicorp/aws" -mindepth 1 -maxdepth 1 -printf '%f ')"
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
"$JUDGE_VENV/bin/python" -c 'import jsonschema' || fail "jsonschema missing from $JUDGE_VENV"
[[ -s "$CHAT_SCHEMA" ]] || fail "the chat message schema $CHAT_SCHEMA is missing"
ok "LocalStack's EventBridge engine (${LOCALSTACK_PINS[0]}) in $JUDGE_VENV"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/check-terraform.XXXXXX")"
# A copy without local init leftovers: everything below writes there, never into the tree.
tar -C "$ROOT" --exclude='.terraform' --exclude='*.tfstate' --exclude='*.tfstate.*' \
    --exclude='.terraform.lock.hcl' --exclude='*.tfplan' -cf - terraform | tar -C "$WORK" -xf -
TF="$WORK/terraform"

# ---------------------------------------------------------------------------------------------------
step "0. the dashboard checks on good and deliberately bad bodies, queries and field lists"
run_logged "the tests of the dashboard checks" python3 -m unittest discover -s "$ROOT/scripts/check-terraform" -p 'test_*.py'
ok "$(grep -oE '^Ran [0-9]+ tests' "$WORK/last-command.log"): the query parser, the body rules and the field list"

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
python3 "$ROOT/scripts/check-terraform/checkov_report.py" "$CHECKOV_JSON" || fail "checkov reported failed checks, parsing errors or a skip without a reason (exit $CHECKOV_RC)"
[[ $CHECKOV_RC -eq 0 ]] || fail "checkov exited $CHECKOV_RC"
ok "no failed checkov check"

# ---------------------------------------------------------------------------------------------------
step "4. envs/staging planned and envs/local applied against moto server: apply, re-plan, read back, new image tag, destroy"
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

# staging, planned without AWS: the emulator answers the provider's reads (account 123456789012,
# the one staging's tfvars allow), local state instead of the S3 backend. An override file in the
# temporary copy changes only the provider's endpoints and credentials and the backend.
EVERY_CRON="$ROOT/scripts/check-terraform/every-cron.tfvars"
SCHEDULER="$ROOT/scripts/check-terraform/scheduler.tfvars"
STAGING="$TF/envs/staging"
cat >"$STAGING/check_override.tf" <<EOF_OVERRIDE
terraform {
  backend "local" {}
}

provider "aws" {
  access_key                  = "local"
  secret_key                  = "local"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  max_retries                 = 1

  endpoints {
    cloudwatch = "$ENDPOINT"
    ecs        = "$ENDPOINT"
    events     = "$ENDPOINT"
    iam        = "$ENDPOINT"
    kms        = "$ENDPOINT"
    logs       = "$ENDPOINT"
    scheduler  = "$ENDPOINT"
    sns        = "$ENDPOINT"
    sqs        = "$ENDPOINT"
    sts        = "$ENDPOINT"
  }
}
EOF_OVERRIDE
export TF_DATA_DIR="$WORK/data/staging-plan"
run_logged "init of envs/staging against the emulator" terraform -chdir="$STAGING" init -input=false -no-color \
    -plugin-dir="$PLUGIN_DIR" -backend-config="path=$WORK/staging.tfstate"
for variant in plain every-cron scheduler; do
    var_files=()
    [[ $variant == every-cron ]] && var_files=(-var-file="$EVERY_CRON")
    [[ $variant == scheduler ]] && var_files=(-var-file="$SCHEDULER")
    run_logged "plan of envs/staging ($variant)" terraform -chdir="$STAGING" plan -input=false -no-color \
        "${var_files[@]}" -out="$WORK/staging-$variant.tfplan"
    terraform -chdir="$STAGING" show -json "$WORK/staging-$variant.tfplan" >"$WORK/staging-$variant.json" ||
        fail "terraform show of the staging plan ($variant)"
    PYTHONPATH="$ROOT/scripts/check-terraform" "$VENV/bin/python" "$ROOT/scripts/check-terraform/staging_plan.py" \
        "$WORK/staging-$variant.json" "$variant" || fail "the staging plan ($variant) does not configure the missed-run detection as it should"
done
ok "staging plans as it is, with weekly, monthly, weekday-only, L and # crons, and with the scheduler engine in local time"

# The team's chat: staging with a Slack channel against staging as it is.
run_logged "plan of envs/staging (chat)" terraform -chdir="$STAGING" plan -input=false -no-color \
    -var-file="$ROOT/scripts/check-terraform/chat.tfvars" -out="$WORK/staging-chat.tfplan"
terraform -chdir="$STAGING" show -json "$WORK/staging-chat.tfplan" >"$WORK/staging-chat.json" ||
    fail "terraform show of the staging plan (chat)"
PYTHONPATH="$ROOT/scripts/check-terraform" python3 "$ROOT/scripts/check-terraform/chat_plan.py" \
    "$WORK/staging-plain.json" "$WORK/staging-chat.json" || fail "staging with a Slack channel must add exactly the chat"

# The rules engine reads every cron in UTC: the same zoned overrides must be refused at plan, every
# entry at fault named with its zone, never converted.
set +e
terraform -chdir="$STAGING" plan -input=false -no-color -var-file="$SCHEDULER" -var schedule_engine=rules >"$WORK/zoned-rules.log" 2>&1
ZONED_RC=$?
set -e
[[ $ZONED_RC -ne 0 ]] || fail "staging planned with the rules engine and entries in local time: it must refuse them"
python3 - "$WORK/zoned-rules.log" <<'EOF_ZONED' || fail "the refusal of zoned entries under the rules engine does not name every entry at fault and what to do"
import re, sys
text = " ".join(re.sub(r"[│╷╵]", " ", open(sys.argv[1]).read()).split())
text = text[text.find("Error:"):] if "Error:" in text else ""  # the error, not the plan printed before it
wanted = ["history-prune (America/New_York)", "export-enqueue (Europe/Berlin)", "export-enqueue-monthly (Asia/Tokyo)",
          'schedule_engine = "scheduler"', "write their cron in UTC"]
missing = [w for w in wanted if w not in text]
if missing or "history-report (" in text or "canary (" in text:
    print(f"    missing {missing} (or an entry in UTC named) in: {text[-1500:]}", file=sys.stderr)
    sys.exit(1)
EOF_ZONED
ok "the rules engine refuses entries in local time at plan, naming each with its zone"

export TF_DATA_DIR="$WORK/data/local-apply"
LOCAL="$TF/envs/local"
# The local environment carries the same crons, so the emulator's API accepts each of them.
TFVARS=(-var "endpoint=$ENDPOINT" -var-file="$EVERY_CRON")
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

# Read back through the emulator's API what envs/local created (scripts/check-terraform/readback.py).
PYTHONPATH="$ROOT/scripts/check-terraform" "$VENV/bin/python" "$ROOT/scripts/check-terraform/readback.py" \
    "$ENDPOINT" "$WORK/outputs.json" "after-apply" "local" ||
    fail "read-back through the emulator's API does not match the catalog"
PYTHONPATH="$ROOT/scripts/check-terraform" "$VENV/bin/python" "$ROOT/scripts/check-terraform/chat_readback.py" \
    "$ENDPOINT" "$WORK/outputs.json" "$WORK/replan.json" ||
    fail "read-back of the chat topic, its policy and the chat targets does not match the plan"

step "5. the EventBridge rules and messages of the real plan, judged by LocalStack's EventBridge engine"
PYTHONPATH="$ROOT/scripts/check-terraform" "$JUDGE_VENV/bin/python" "$ROOT/scripts/check-terraform/eventbridge_judge.py" \
    "$WORK/replan.json" "$CHAT_SCHEMA" || fail "the failure and stop rules or their messages (e-mail and chat) do not behave as AWS would evaluate them"

step "4. (continued) envs/local against moto: new image tag, destroy"

# A new image tag registers new revisions; nothing else may change.
NEW_TAG="check-$RANDOM"
run_logged "plan with a new image tag" terraform -chdir="$LOCAL" plan -input=false -no-color "${TFVARS[@]}" \
    -var "image_tag=$NEW_TAG" -out="$WORK/new-tag.tfplan"
terraform -chdir="$LOCAL" show -json "$WORK/new-tag.tfplan" >"$WORK/new-tag.json" || fail "terraform show of the plan"
python3 "$ROOT/scripts/check-terraform/new_tag_plan.py" "$WORK/new-tag.json" || fail "a new image tag must change the task definitions only"
run_logged "apply of the new image tag" terraform -chdir="$LOCAL" apply -auto-approve -input=false -no-color "$WORK/new-tag.tfplan"
PYTHONPATH="$ROOT/scripts/check-terraform" "$VENV/bin/python" "$ROOT/scripts/check-terraform/readback.py" \
    "$ENDPOINT" "$WORK/outputs.json" "after-new-tag" "$NEW_TAG" ||
    fail "after a new image tag the schedules must still run their families, now at the new revision"

# The same state switched to the scheduler engine, with entries in local time: the plan must remove
# the schedule rules, their targets and FailedInvocations alarms and add the schedules, their group,
# role and alarms, and change nothing else but the watcher's and the report's schedules, the
# dead-letter alarm's description and the dashboard's alarm list.
SWITCH=(-var "endpoint=$ENDPOINT" -var-file="$SCHEDULER" -var "image_tag=$NEW_TAG")
run_logged "plan of the switch to the scheduler engine" terraform -chdir="$LOCAL" plan -input=false -no-color "${SWITCH[@]}" \
    -out="$WORK/switch.tfplan"
terraform -chdir="$LOCAL" show -json "$WORK/switch.tfplan" >"$WORK/switch.json" || fail "terraform show of the switch plan"
python3 "$ROOT/scripts/check-terraform/switch_plan.py" "$WORK/switch.json" ||
    fail "switching the engine must swap the rules for schedules and change nothing else"
run_logged "apply of the switch to the scheduler engine" terraform -chdir="$LOCAL" apply -auto-approve -input=false -no-color "$WORK/switch.tfplan"
set +e
terraform -chdir="$LOCAL" plan -detailed-exitcode -input=false -no-color "${SWITCH[@]}" >"$WORK/replan-scheduler.log" 2>&1
PLAN_RC=$?
set -e
if [[ $PLAN_RC -ne 0 ]]; then
    grep -vE 'Refreshing state|Reading\.\.\.|Read complete' "$WORK/replan-scheduler.log" >&2
    fail "re-plan after the switch wants changes or failed (exit $PLAN_RC)"
fi
ok "re-plan after the switch: no changes"
terraform -chdir="$LOCAL" output -json >"$WORK/outputs-scheduler.json" || fail "terraform output after the switch"
PYTHONPATH="$ROOT/scripts/check-terraform" "$VENV/bin/python" "$ROOT/scripts/check-terraform/scheduler_readback.py" \
    "$ENDPOINT" "$WORK/outputs-scheduler.json" ||
    fail "read-back of the Scheduler schedules, group and role through the emulator's API does not match"

run_logged "terraform destroy of envs/local" terraform -chdir="$LOCAL" destroy -auto-approve -input=false -no-color \
    "${SWITCH[@]}"
ok "destroy: $(grep -o 'Destroy complete!.*' "$WORK/last-command.log")"
"$VENV/bin/python" "$ROOT/scripts/check-terraform/destroyed.py" "$ENDPOINT" || fail "destroy left resources behind"
unset TF_DATA_DIR

steps_summary
