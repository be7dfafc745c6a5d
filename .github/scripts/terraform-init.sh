#!/usr/bin/env bash
# terraform init of one environment root (terraform/envs/ENV) with its S3 backend, as the
# workflows run it: the state bucket comes from TF_STATE_BUCKET when set (backend.tf holds a
# placeholder name), the provider is downloaded from the registry. Credentials come from the
# environment (aws-actions/configure-aws-credentials).
#
#   TF_STATE_BUCKET=my-state-bucket .github/scripts/terraform-init.sh staging
set -euo pipefail

env_name="${1:-}"
if [[ ! "$env_name" =~ ^[a-z][a-z0-9-]*$ ]]; then
    echo "usage: $0 ENV (staging, production)" >&2
    exit 2
fi
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dir="$root/terraform/envs/$env_name"
[[ -f "$dir/backend.tf" ]] || { echo "error: $dir/backend.tf not found" >&2; exit 1; }

backend_config=()
if [[ -n "${TF_STATE_BUCKET:-}" ]]; then
    backend_config=(-backend-config="bucket=$TF_STATE_BUCKET")
fi
terraform -chdir="$dir" init -input=false -no-color "${backend_config[@]}"
