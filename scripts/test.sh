#!/usr/bin/env bash
# The whole test suite, on a fresh machine: starts a throwaway PostgreSQL server (unless
# DATABASE_URL points to one) and installs the S3 API server the tests start, moto (an SNS
# API for the missed-run tests), LibreOffice Calc (which opens the exported workbooks), Chromium
# (which renders the time line page) and npm aws-cron-parser (the independent judge of
# the schedule engine), then runs rustfmt, clippy and every test on
# PostgreSQL and SQLite. Whatever it started is stopped by PID on the
# way out, even when tests fail.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/tools.sh
source scripts/lib/tools.sh

log() { printf '\n==> %s\n' "$*" >&2; }

trap stop_postgres EXIT

# The workbook tests have LibreOffice Calc open what the export wrote, as a spreadsheet user would.
ensure_debian_package soffice libreoffice-calc-nogui

# The time line tests have headless Chromium load the page and read the DOM it rendered.
ensure_debian_package chromium chromium

# The tests start one s3s-fs per test (so stopping it is a real outage); they find it here.
ensure_s3s_fs
export S3S_FS_BIN

# The missed-run tests publish to SNS on a moto server they start, subscribed by the test.
ensure_moto
export MOTO_SERVER_BIN

# The cron tests compare the schedule engine with an independent one (npm aws-cron-parser).
ensure_aws_cron_parser
export AWS_CRON_PARSER_DIR

if [[ -n "${DATABASE_URL:-}" ]]; then
    log "using the PostgreSQL server in DATABASE_URL"
    export TEST_DATABASE_URL="$DATABASE_URL"
else
    log "starting a throwaway PostgreSQL server"
    start_postgres
    export TEST_DATABASE_URL="$PG_URL"
fi
# The tests give each spawned `batch` its own environment; the server is theirs via TEST_DATABASE_URL.
unset DATABASE_URL

log "cargo fmt --check"
cargo fmt --all -- --check
log "cargo clippy"
cargo clippy --all-targets --locked -- -D warnings
log "cargo test (PostgreSQL and SQLite)"
cargo test --locked --no-fail-fast
# The benchmark's own code (bench/, a crate of its own) must not rot between benchmark runs.
log "bench/: rustfmt, clippy, its tests, the Python scripts parse, the peak model's self-check"
cargo fmt --manifest-path bench/Cargo.toml -- --check
cargo clippy --manifest-path bench/Cargo.toml --all-targets --locked -- -D warnings
cargo test --manifest-path bench/Cargo.toml --locked
python3 -c 'import ast, sys; [ast.parse(open(f).read(), f) for f in sys.argv[1:]]' bench/*.py
python3 bench/peak_model.py  # the peak benchmark's arithmetic against hand-computed cases
