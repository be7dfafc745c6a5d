#!/usr/bin/env bash
# Deploys one environment with one image: terraform plan -var image_tag=TAG into a plan file,
# then terraform apply of exactly that plan (nothing to apply when the plan has no changes).
# Run after .github/scripts/terraform-init.sh ENV, with the environment's credentials.
#
#   .github/scripts/terraform-apply.sh staging 3f2c...   (the commit whose image `release` pushed)
#
# The plan's summary (and the plan, cut to 60000 characters) goes to the job summary when
# GITHUB_STEP_SUMMARY is set.
set -euo pipefail

env_name="${1:-}"
image_tag="${2:-}"
if [[ ! "$env_name" =~ ^[a-z][a-z0-9-]*$ || ! "$image_tag" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]]; then
    echo "usage: $0 ENV IMAGE_TAG" >&2
    exit 2
fi
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dir="$root/terraform/envs/$env_name"
work="$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/terraform-apply.XXXXXX")"
trap 'rm -rf "$work"' EXIT
summary_file="${GITHUB_STEP_SUMMARY:-/dev/null}"

set +e
terraform -chdir="$dir" plan -input=false -no-color -detailed-exitcode \
    -var "image_tag=$image_tag" -out="$work/tfplan" 2>&1 | tee "$work/plan.log"
plan_rc=${PIPESTATUS[0]}
set -e

summary="$(grep -E '^(Plan:|No changes\.)' "$work/plan.log" | tail -n 1 || true)"
{
    echo "### terraform apply: $env_name, image tag \`$image_tag\`"
    echo
    echo "${summary:-terraform plan failed (exit $plan_rc)}"
    echo
    echo '<details><summary>Plan</summary>'
    echo
    echo '```text'
    head -c 60000 "$work/plan.log"
    echo
    echo '```'
    echo
    echo '</details>'
} >>"$summary_file"

case "$plan_rc" in
    0)
        echo "No changes: $env_name already runs image tag $image_tag."
        ;;
    2)
        terraform -chdir="$dir" apply -input=false -no-color "$work/tfplan"
        echo "Applied $env_name with image tag $image_tag." | tee -a "$summary_file"
        ;;
    *)
        echo "::error::terraform plan of $env_name failed (exit $plan_rc)"
        exit 1
        ;;
esac
