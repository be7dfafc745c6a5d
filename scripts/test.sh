#!/usr/bin/env bash
# The whole test suite, on a fresh machine: starts a throwaway PostgreSQL server (unless
# DATABASE_URL points to one) and installs the S3 API server the tests start, then runs rustfmt,
# clippy and every test on PostgreSQL and SQLite. Whatever it started is stopped by PID on the
# way out, even when tests fail.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n==> %s\n' "$*" >&2; }

pg_dir=""
pg_pid=""
stop_postgres() {
    if [[ -n "$pg_pid" ]] && kill -0 "$pg_pid" 2>/dev/null; then
        log "stopping PostgreSQL (PID $pg_pid)"
        kill -INT "$pg_pid" # fast shutdown
        for _ in $(seq 1 100); do kill -0 "$pg_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pg_pid" 2>/dev/null || true
    fi
    [[ -n "$pg_dir" ]] && rm -rf "$pg_dir"
    return 0
}
trap stop_postgres EXIT

postgres_bindir() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [[ -z "$dir" ]] && command -v pg_config >/dev/null; then dir=$(pg_config --bindir); fi
    if [[ -z "$dir" || ! -x "$dir/initdb" ]]; then
        if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
            log "installing PostgreSQL"
            apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
            dir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
        else
            echo "error: PostgreSQL's initdb not found; install PostgreSQL or set DATABASE_URL" >&2
            exit 1
        fi
    fi
    echo "$dir"
}

start_postgres() {
    local bindir port as_pg=()
    bindir=$(postgres_bindir)
    pg_dir=$(mktemp -d "${TMPDIR:-/tmp}/batchbox-pg.XXXXXX")
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    if [[ $(id -u) -eq 0 ]]; then
        # PostgreSQL refuses to run as root.
        chown postgres: "$pg_dir"
        as_pg=(runuser -u postgres --)
    fi
    log "starting PostgreSQL on 127.0.0.1:$port in $pg_dir"
    "${as_pg[@]}" "$bindir/initdb" -D "$pg_dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    "${as_pg[@]}" "$bindir/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/postgres.log" -w -o \
        "-c listen_addresses=127.0.0.1 -p $port -k $pg_dir -c fsync=off -c max_connections=300" start >/dev/null
    pg_pid=$(head -n 1 "$pg_dir/data/postmaster.pid")
    export TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
}

# s3s-fs: a real S3 API server over a directory that checks SigV4 signatures. The tests start
# one per test (so stopping it is a real outage); this installs the pinned version once.
S3S_FS_VERSION=0.14.1
tools="${XDG_CACHE_HOME:-$HOME/.cache}/batchbox/tools"
export S3S_FS_BIN="$tools/bin/s3s-fs"
if ! "$S3S_FS_BIN" --version 2>/dev/null | grep -q "$S3S_FS_VERSION"; then
    log "installing s3s-fs $S3S_FS_VERSION into $tools (once per machine, a few minutes)"
    cargo install "s3s-fs@$S3S_FS_VERSION" --features binary --locked --root "$tools"
fi

if [[ -n "${DATABASE_URL:-}" ]]; then
    log "using the PostgreSQL server in DATABASE_URL"
    export TEST_DATABASE_URL="$DATABASE_URL"
else
    start_postgres
fi
# The tests give each spawned `batch` its own environment; the server is theirs via TEST_DATABASE_URL.
unset DATABASE_URL

log "cargo fmt --check"
cargo fmt --all -- --check
log "cargo clippy"
cargo clippy --all-targets --locked -- -D warnings
log "cargo test (PostgreSQL and SQLite)"
cargo test --locked --no-fail-fast
