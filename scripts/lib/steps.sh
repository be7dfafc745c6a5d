# shellcheck shell=bash
# How the check scripts report, one way for all. Source it after setting SCRIPT_NAME:
#   step NAME      starts a named step (printed with the time since the script began)
#   ok WHAT        a check that held (printed, and listed again by steps_summary)
#   fail WHY       stops the script with FAIL_EXIT (default 1), naming the step it was in
#   steps_summary  every check that held and how long each step took

: "${SCRIPT_NAME:=$(basename "$0" .sh)}"
: "${FAIL_EXIT:=1}"
STEPS_STARTED=$SECONDS
STEP_NAME=""
STEP_STARTED=$SECONDS
STEP_CHECKS=()
STEP_TIMINGS=()

step_done() {
    if [[ -n "$STEP_NAME" ]]; then
        STEP_TIMINGS+=("$(printf '%4ds  %s' $((SECONDS - STEP_STARTED)) "$STEP_NAME")")
    fi
    STEP_NAME=""
}

step() {
    step_done
    STEP_NAME=$*
    STEP_STARTED=$SECONDS
    printf '\n==> %s  [%ss]\n' "$*" "$((SECONDS - STEPS_STARTED))"
}

ok() {
    STEP_CHECKS+=("$*")
    printf '    ok: %s\n' "$*"
}

fail() {
    printf '\n%s: FAILED in step "%s": %s\n' "$SCRIPT_NAME" "${STEP_NAME:-start}" "$*" >&2
    exit "$FAIL_EXIT"
}

steps_summary() {
    step_done
    printf '\n%s: PASSED in %ds\n' "$SCRIPT_NAME" $((SECONDS - STEPS_STARTED))
    if [[ ${#STEP_CHECKS[@]} -gt 0 ]]; then
        printf '  %s\n' "${STEP_CHECKS[@]}"
    fi
    printf '\ntimings:\n'
    printf '  %s\n' "${STEP_TIMINGS[@]}"
}
