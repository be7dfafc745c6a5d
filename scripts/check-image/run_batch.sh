# shellcheck shell=bash
# shellcheck disable=SC2154 # run, ctr, default_command, work, helpers: set by check-image.sh
# Sourced by scripts/check-image.sh: runs a batch inside the image as ECS would run its tasks.
# Uses the script's run (the buildah run command), ctr, default_command, env_flags, work,
# helpers, RUN_TIMEOUT and run_pids (which its clean-up kills), and steps.sh's ok and fail.

# run_batch LABEL COPIES EXTRA_ENV ARGS...: COPIES runs at once, like task_count tasks of one
# schedule event; each must exit 0 and print only JSON log lines of this batch on stdout.
# EXTRA_ENV: KEY=VALUE lines (none: empty).
run_batch() {
    local label=$1 copies=$2 extra_env=$3 i rc failed=0 outs=()
    shift 3
    local flags=("${env_flags[@]}")
    while IFS= read -r kv; do
        [[ -n "$kv" ]] && flags+=(--env "$kv")
    done <<<"$extra_env"
    echo "    \$ batch $* ($copies task$([[ $copies -gt 1 ]] && echo s))"
    run_pids=()
    for ((i = 1; i <= copies; i++)); do
        timeout --kill-after=20s "$RUN_TIMEOUT" "${run[@]}" "${flags[@]}" "$ctr" -- \
            "${default_command[0]}" "$@" </dev/null >"$work/$label.$i.out" 2>"$work/$label.$i.err" &
        run_pids+=($!)
        outs+=("$work/$label.$i.out")
    done
    for ((i = 1; i <= copies; i++)); do
        rc=0
        wait "${run_pids[i - 1]}" || rc=$?
        if ((rc != 0)); then
            failed=1
            echo "    task $i exited $rc; stdout and stderr:" >&2
            tail -n 20 "$work/$label.$i.out" "$work/$label.$i.err" >&2
        fi
        if [[ -s "$work/$label.$i.err" ]]; then
            echo "    note: task $i wrote to stderr:"
            head -n 5 "$work/$label.$i.err" | sed 's/^/      /'
        fi
    done
    run_pids=()
    ((failed == 0)) || fail "batch $* failed"
    for ((i = 1; i <= copies; i++)); do
        result=$("${helpers[@]}" logs "$1" "$work/$label.$i.out") || fail "batch $*: stdout is not only JSON log lines of $1"
        ok "$* (task $i/$copies): exit 0, $result"
    done
}
