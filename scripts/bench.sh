#!/usr/bin/env bash
# The export benchmark, on a fresh machine (docs/performance.md says what it measures and why):
#
#   scripts/bench.sh            100k and 1M rows, 3 runs each, 10k-2M for memory; writes the
#                               results into docs/performance.md (about 45 minutes on 2 cores)
#   scripts/bench.sh --quick    10k and 100k rows, 1 run; prints the results, writes nothing
#   scripts/bench.sh --peak     the month-start peak (bench/peak.py): 480 jobs of skewed sizes,
#                               enqueue -> 1 or 2 launched workers -> S3, three claim orders; writes
#                               its results into docs/performance.md (about 7 minutes on 2 cores)
#   scripts/bench.sh --peak --quick   the same with 60 jobs; prints the results, writes nothing
#
# Builds `batch` and bench/ (xlsx-bench, with each rust_xlsxwriter feature variant; not for --peak)
# in release, installs the Python peers (pinned) into a virtualenv, starts a throwaway PostgreSQL
# server (unless BENCH_DATABASE_URL names one) and an S3 API server (s3s-fs), runs bench/run.py (or
# bench/peak.py), and stops what it started by PID. More options after `--` go to that script
# (`-- --help` lists them). Builds go to cargo's target directory (CARGO_TARGET_DIR is respected).
# BENCH_WORK (default target/bench) holds the data files: about 3 GB at 2M rows.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/tools.sh
source scripts/lib/tools.sh

log() { printf '\n==> %s\n' "$*" >&2; }
die() { echo "error: $*" >&2; exit 1; }

PEERS=(XlsxWriter==3.3.1 openpyxl==3.1.5 et-xmlfile==2.0.0 lxml==6.1.3 psycopg==3.3.9
    psycopg-binary==3.3.9 typing-extensions==4.16.0)
FEATURES=(zlib ryu zmij)

mode=full
peak=false
run_args=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --quick) mode=quick ;;
        --peak) peak=true ;;
        --) shift; run_args+=("$@"); break ;;
        *) die "unknown argument $1 (scripts/bench.sh [--peak] [--quick] [-- bench/run.py or bench/peak.py options])" ;;
    esac
    shift
done
if [[ $peak == true && $mode == quick ]]; then
    run_args=(--quick --command "scripts/bench.sh --peak --quick" "${run_args[@]}")
elif [[ $peak == true ]]; then
    run_args=(--report docs/performance.md "${run_args[@]}")
elif [[ $mode == quick ]]; then
    run_args=(--sizes "10000,100000" --memory-sizes "10000,100000" --runs 1 --command "scripts/bench.sh --quick"
        "${run_args[@]}")
else
    run_args=(--report docs/performance.md "${run_args[@]}")
fi

work=$(realpath -m "${BENCH_WORK:-target/bench}")
cleanup() {
    stop_s3s_fs
    stop_postgres
}
trap cleanup EXIT

# The tool compares its writer with the export's: both must build the same writer crates.
pick() { grep -A1 "^name = \"$2\"$" "$1" | sed -n 's/^version = "\(.*\)"/\1/p'; }
for crate in rust_xlsxwriter zip flate2 zlib-rs; do
    [[ "$(pick Cargo.lock "$crate")" == "$(pick bench/Cargo.lock "$crate")" ]] \
        || die "$crate is $(pick Cargo.lock "$crate") in Cargo.lock but $(pick bench/Cargo.lock "$crate") in bench/Cargo.lock; align them"
done

# Where cargo puts a manifest's builds: CARGO_TARGET_DIR, the manifest's own target/ otherwise.
target_dir() {
    cargo metadata --format-version 1 --no-deps --manifest-path "$1" \
        | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])'
}

log "building batch (release)"
cargo build --release --locked --bin batch
batch="$(target_dir Cargo.toml)/release/batch"
mkdir -p "$work/bin"
variants=()
if [[ $peak == false ]]; then
    log "building xlsx-bench (release)"
    tool_dir="$(target_dir bench/Cargo.toml)/release"
    cargo build --release --locked --manifest-path bench/Cargo.toml
    cp "$tool_dir/xlsx-bench" "$work/bin/xlsx-bench"
    for feature in "${FEATURES[@]}"; do
        cargo build --release --locked --manifest-path bench/Cargo.toml --features "$feature"
        cp "$tool_dir/xlsx-bench" "$work/bin/xlsx-bench-$feature"
        variants+=(--variant "$feature=$work/bin/xlsx-bench-$feature")
    done
fi

log "installing the Python peers"
venv="$BATCHBOX_CACHE/bench-venv"
pinned_venv "$venv" "${PEERS[@]}"

rm -rf "$work/s3" "$work/tmp"
mkdir -p "$work/s3/bench" "$work/tmp"
log "starting the S3 server"
start_s3s_fs "$work/s3" bench-access bench-secret-key "$work/s3s-fs.log" || die "could not start s3s-fs"

if [[ -n "${BENCH_DATABASE_URL:-}" ]]; then
    dsn=$BENCH_DATABASE_URL
    pg_bin=""
else
    log "starting a throwaway PostgreSQL server"
    start_postgres
    dsn=$PG_URL
    pg_bin=$(postgres_bindir)
fi

common=(--dsn "$dsn" --batch "$batch" --python "$venv/bin/python" --s3-endpoint "http://127.0.0.1:$S3_PORT"
    --s3-root "$work/s3" --s3-access-key bench-access --s3-secret-key bench-secret-key
    --s3s-fs "$S3S_FS_BIN" --pg-bin "$pg_bin" --work "$work")
if [[ $peak == true ]]; then
    log "running bench/peak.py"
    "$venv/bin/python" bench/peak.py "${common[@]}" "${run_args[@]}"
else
    log "running bench/run.py"
    "$venv/bin/python" bench/run.py "${common[@]}" --tool "$work/bin/xlsx-bench" "${variants[@]}" "${run_args[@]}"
fi
