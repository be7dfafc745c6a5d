# shellcheck shell=bash
# Shared by the scripts: pinned tools cached under ~/.cache/batchbox, and throwaway servers started
# on free ports and stopped by PID. Source it; it only defines functions and never exits: each
# function prints what it does on stderr and returns non-zero on failure, for the caller to report.

BATCHBOX_CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/batchbox"
S3S_FS_VERSION=0.14.1
S3S_FS_BIN="$BATCHBOX_CACHE/tools/bin/s3s-fs"

# A TCP port nobody listens on right now, on 127.0.0.1.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# pinned_venv DIR REQUIREMENT...: a virtualenv in DIR holding exactly these pins (e.g.
# checkov==3.3.30); it is rebuilt when the pins change.
pinned_venv() {
    local venv=$1
    shift
    local want="$*"
    if [[ -x "$venv/bin/python" && "$(cat "$venv/.batchbox-pins" 2>/dev/null || true)" == "$want" ]]; then
        return 0
    fi
    echo "    installing $want into $venv" >&2
    rm -rf "$venv"
    mkdir -p "$(dirname "$venv")"
    if ! python3 -m venv "$venv" 2>/dev/null; then
        rm -rf "$venv"
        # Debian ships venv separately; as root, install it.
        if ! { [[ $(id -u) -eq 0 ]] && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null; } \
            || ! python3 -m venv "$venv"; then
            echo "error: cannot create a virtualenv in $venv (install python3-venv)" >&2
            return 1
        fi
    fi
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$@" \
        || { echo "error: pip could not install $want" >&2; return 1; }
    echo "$want" >"$venv/.batchbox-pins"
}

# ensure_s3s_fs: the pinned s3s-fs (an S3 API server over a directory that checks SigV4
# signatures) at $S3S_FS_BIN, installed with cargo once per machine.
ensure_s3s_fs() {
    [[ "$("$S3S_FS_BIN" --version 2>/dev/null || true)" == "s3s-fs $S3S_FS_VERSION" ]] && return 0
    command -v cargo >/dev/null || { echo "error: cargo is required to install s3s-fs $S3S_FS_VERSION" >&2; return 1; }
    echo "    installing s3s-fs $S3S_FS_VERSION into $BATCHBOX_CACHE/tools (once per machine, a few minutes)" >&2
    cargo install "s3s-fs@$S3S_FS_VERSION" --features binary --locked --root "$BATCHBOX_CACHE/tools" >&2 \
        || { echo "error: cargo install s3s-fs@$S3S_FS_VERSION failed" >&2; return 1; }
}

# ensure_moto: the pinned moto server (an AWS API emulator), which the SNS tests start
# (tests/it/helpers/sns.rs), at $MOTO_SERVER_BIN, in a virtualenv of its own.
MOTO_VERSION=5.2.5
MOTO_SERVER_BIN="$BATCHBOX_CACHE/venv-moto/bin/moto_server"
ensure_moto() {
    pinned_venv "$BATCHBOX_CACHE/venv-moto" "moto[server]==$MOTO_VERSION" || return 1
    [[ -x "$MOTO_SERVER_BIN" ]] || { echo "error: moto_server missing from $BATCHBOX_CACHE/venv-moto" >&2; return 1; }
}

# ensure_aws_cron_parser: the pinned npm aws-cron-parser, the independent judge of the cron tests
# (tests/it/cron_judge.rs), in $AWS_CRON_PARSER_DIR, installed with npm once per machine.
AWS_CRON_PARSER_VERSION=1.1.12
AWS_CRON_PARSER_DIR="$BATCHBOX_CACHE/aws-cron-parser-$AWS_CRON_PARSER_VERSION"
ensure_aws_cron_parser() {
    [[ -f "$AWS_CRON_PARSER_DIR/node_modules/aws-cron-parser/package.json" ]] && return 0
    command -v npm >/dev/null || { echo "error: npm is required to install aws-cron-parser" >&2; return 1; }
    echo "    installing aws-cron-parser $AWS_CRON_PARSER_VERSION into $AWS_CRON_PARSER_DIR" >&2
    mkdir -p "$AWS_CRON_PARSER_DIR"
    npm install --prefix "$AWS_CRON_PARSER_DIR" --no-audit --no-fund --silent \
        "aws-cron-parser@$AWS_CRON_PARSER_VERSION" >&2 \
        || { echo "error: npm install aws-cron-parser@$AWS_CRON_PARSER_VERSION failed" >&2; return 1; }
}

# postgres_bindir: prints the directory of PostgreSQL's server binaries (initdb, pg_ctl),
# installing them with apt-get when they are missing and this runs as root.
postgres_bindir() {
    local dir
    # shellcheck disable=SC2012 # version directories: plain names, sorted by version
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [[ -z "$dir" ]] && command -v pg_config >/dev/null; then dir=$(pg_config --bindir); fi
    if [[ -z "$dir" || ! -x "$dir/initdb" ]]; then
        if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
            echo "error: PostgreSQL's initdb not found; install PostgreSQL's server binaries" >&2
            return 1
        fi
        echo "    installing PostgreSQL (apt-get)" >&2
        if ! apt-get update -qq >&2 || ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2; then
            echo "error: apt-get install postgresql failed" >&2
            return 1
        fi
        # shellcheck disable=SC2012
        dir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    fi
    echo "$dir"
}

# ensure_debian_package COMMAND PACKAGE: COMMAND is on the PATH, installing Debian's PACKAGE
# with apt-get when it is missing and this runs as root.
ensure_debian_package() {
    command -v "$1" >/dev/null && return 0
    if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
        echo "error: $1 not found; install the Debian package $2" >&2
        return 1
    fi
    echo "    installing $2 (apt-get)" >&2
    if ! apt-get update -qq >&2 || ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >&2; then
        echo "error: apt-get install $2 failed" >&2
        return 1
    fi
    command -v "$1" >/dev/null || { echo "error: $2 installed no $1" >&2; return 1; }
}

# start_postgres: a throwaway PostgreSQL server on a free port in a temporary directory (run as
# the postgres user when this is root: PostgreSQL refuses to run as root). Sets PG_DIR, PG_PID
# and PG_URL; stop it with stop_postgres.
# shellcheck disable=SC2034 # PG_URL is for the caller
start_postgres() {
    local bindir port as_pg=()
    bindir=$(postgres_bindir) || return 1
    PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/batchbox-pg.XXXXXX")
    port=$(free_port)
    if [[ $(id -u) -eq 0 ]]; then
        chown postgres: "$PG_DIR"
        as_pg=(runuser -u postgres --)
    fi
    echo "    starting PostgreSQL on 127.0.0.1:$port in $PG_DIR" >&2
    "${as_pg[@]}" "$bindir/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null \
        || { echo "error: initdb failed" >&2; return 1; }
    "${as_pg[@]}" "$bindir/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" -w -o \
        "-c listen_addresses=127.0.0.1 -p $port -k $PG_DIR -c fsync=off -c max_connections=300" start >/dev/null \
        || { echo "error: PostgreSQL did not start; see $PG_DIR/postgres.log" >&2; return 1; }
    PG_PID=$(head -n 1 "$PG_DIR/data/postmaster.pid")
    PG_URL="postgres://postgres@127.0.0.1:$port/postgres"
}

# stop_postgres: stops the server of start_postgres by its PID (fast shutdown, then KILL) and
# removes its directory. Safe to call when nothing was started.
stop_postgres() {
    if [[ -n "${PG_PID:-}" ]] && kill -0 "$PG_PID" 2>/dev/null; then
        echo "    stopping PostgreSQL (PID $PG_PID)" >&2
        kill -INT "$PG_PID"
        for _ in $(seq 1 100); do kill -0 "$PG_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$PG_PID" 2>/dev/null || true
    fi
    [[ -n "${PG_DIR:-}" ]] && rm -rf "$PG_DIR"
    PG_PID=""
    PG_DIR=""
}

# start_s3s_fs ROOT ACCESS_KEY SECRET_KEY LOG: the pinned s3s-fs (installed if missing) serving
# ROOT, each of whose directories is a bucket, on a free port of 127.0.0.1, its output in LOG; it
# returns once the server answers. Sets S3_PORT and S3_PID; stop it with stop_s3s_fs.
# shellcheck disable=SC2034 # S3_PORT is for the caller
start_s3s_fs() {
    local _
    ensure_s3s_fs || return 1
    S3_PORT=$(free_port)
    echo "    starting s3s-fs on 127.0.0.1:$S3_PORT, serving $1" >&2
    "$S3S_FS_BIN" --host 127.0.0.1 --port "$S3_PORT" --access-key "$2" --secret-key "$3" "$1" >"$4" 2>&1 &
    S3_PID=$!
    for _ in $(seq 1 100); do
        kill -0 "$S3_PID" 2>/dev/null || { echo "error: s3s-fs exited while starting; see $4" >&2; return 1; }
        python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$S3_PORT" \
            2>/dev/null && return 0
        sleep 0.2
    done
    echo "error: s3s-fs does not answer on 127.0.0.1:$S3_PORT; see $4" >&2
    return 1
}

# stop_s3s_fs: stops the server of start_s3s_fs by its PID. Safe to call when nothing was started.
stop_s3s_fs() {
    if [[ -n "${S3_PID:-}" ]] && kill -0 "$S3_PID" 2>/dev/null; then
        echo "    stopping s3s-fs (PID $S3_PID)" >&2
        kill -TERM "$S3_PID"
        wait "$S3_PID" 2>/dev/null || true
    fi
    S3_PID=""
}
