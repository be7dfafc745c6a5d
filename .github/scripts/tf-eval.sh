#!/usr/bin/env bash
# Evaluates a Terraform expression and prints it as one line of JSON, without a backend, a provider
# or credentials, so that the workflows take region, account, registry, cluster and network from
# the very files Terraform applies:
#
#   .github/scripts/tf-eval.sh env staging '{ region = var.region, subnets = var.subnet_ids }'
#       over terraform/envs/staging/variables.tf + terraform.tfvars
#   .github/scripts/tf-eval.sh catalog 'keys(local.batches)'
#       over terraform/catalog/*.tf (the batch catalog)
#   .github/scripts/tf-eval.sh file terraform/modules/batch_environment/defaults.tf 'local.container_environment_defaults'
#       over one file of locals (a path under terraform/)
#
# Needs terraform (>= 1.10) and jq.
set -euo pipefail

usage() {
    echo "usage: $0 env ENV EXPRESSION | $0 catalog EXPRESSION | $0 file PATH EXPRESSION" >&2
    exit 2
}

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/tf-eval.XXXXXX")"
trap 'rm -rf "$work"' EXIT

case "${1:-}" in
    env)
        [[ $# -eq 3 ]] || usage
        env_name="$2"
        expression="$3"
        if [[ ! "$env_name" =~ ^[a-z][a-z0-9-]*$ ]]; then
            echo "error: invalid environment name '$env_name'" >&2
            exit 2
        fi
        dir="$root/terraform/envs/$env_name"
        for file in variables.tf terraform.tfvars; do
            [[ -f "$dir/$file" ]] || { echo "error: $dir/$file not found" >&2; exit 1; }
        done
        # Only the variables: the root module's backend and provider blocks would need an init.
        cp "$dir/variables.tf" "$dir/terraform.tfvars" "$work/"
        ;;
    catalog)
        [[ $# -eq 2 ]] || usage
        expression="$2"
        cp "$root"/terraform/catalog/*.tf "$work/"
        ;;
    file)
        [[ $# -eq 3 ]] || usage
        file="$root/$2"
        expression="$3"
        [[ "$2" == terraform/*.tf && "$2" != *..* && -f "$file" ]] ||
            { echo "error: $2 is not a .tf file under terraform/" >&2; exit 2; }
        cp "$file" "$work/"
        ;;
    *)
        usage
        ;;
esac

# `terraform console` reads one expression per line: join the lines (use commas between attributes).
expression="${expression//$'\n'/ }"
# `terraform console` prints the jsonencode() result as a quoted string; jq turns it back into JSON.
printf 'jsonencode(%s)\n' "$expression" |
    TF_CLI_CONFIG_FILE=/dev/null CHECKPOINT_DISABLE=1 terraform -chdir="$work" console |
    jq -ec 'fromjson'
