#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL server, e.g.
#
#   scripts/test-postgres.sh .venv/bin/pytest -q tests/web
#
# With ALLIANCE_TEST_POSTGRES set (a postgres:// URL of a server you run yourself), the
# command runs against that server. Otherwise this script makes sure PostgreSQL's server
# programs are installed (Debian's `postgresql` package, via apt-get), creates a new
# cluster in a temporary directory, starts it on a free port on 127.0.0.1, runs the
# command with DATABASE_URL pointing at it, and stops and deletes the cluster afterwards.
set -euo pipefail

if [[ $# -eq 0 ]]; then
    echo "usage: $0 COMMAND [ARGS...]" >&2
    exit 2
fi

if [[ -n "${ALLIANCE_TEST_POSTGRES:-}" ]]; then
    DATABASE_URL="$ALLIANCE_TEST_POSTGRES" exec "$@"
fi

as_root() {
    if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

find_bindir() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [[ -n "$dir" && -x "$dir/initdb" && -x "$dir/pg_ctl" ]]; then
        echo "$dir"
    fi
}

BINDIR=$(find_bindir)
if [[ -z "$BINDIR" ]]; then
    echo "Installing PostgreSQL (Debian package 'postgresql')..." >&2
    # We make our own throwaway clusters; the package need not create and start one.
    if [[ ! -e /etc/postgresql-common/createcluster.conf ]]; then
        as_root mkdir -p /etc/postgresql-common
        echo "create_main_cluster = false" | as_root tee /etc/postgresql-common/createcluster.conf >/dev/null
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
    BINDIR=$(find_bindir)
    if [[ -z "$BINDIR" ]]; then
        echo "PostgreSQL's server programs are still missing after installing it" >&2
        exit 1
    fi
fi

# initdb refuses to run as root: run the server as the postgres user when we are root.
if [[ $(id -u) -eq 0 ]]; then
    RUN_AS=(runuser -u postgres --)
else
    RUN_AS=()
fi

WORKDIR=$(mktemp -d "${TMPDIR:-/tmp}/alliance-pg.XXXXXX")
chmod 755 "$WORKDIR"
if [[ $(id -u) -eq 0 ]]; then
    chown postgres: "$WORKDIR"
fi
DATA="$WORKDIR/data"
LOG="$WORKDIR/server.log"

stop_server() {
    "${RUN_AS[@]}" "$BINDIR/pg_ctl" -D "$DATA" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$WORKDIR"
}
trap stop_server EXIT
trap 'exit 130' INT TERM

"${RUN_AS[@]}" "$BINDIR/initdb" -D "$DATA" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
    --no-sync >/dev/null

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# Durability settings off: this cluster lives for one test run.
"${RUN_AS[@]}" "$BINDIR/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 \
    -o "-p $PORT -k $WORKDIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    start >/dev/null || { cat "$LOG" >&2; exit 1; }

"${RUN_AS[@]}" "$BINDIR/createdb" -h 127.0.0.1 -p "$PORT" -U postgres alliance

echo "PostgreSQL $("$BINDIR/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT" >&2
export DATABASE_URL="postgres://postgres@127.0.0.1:$PORT/alliance"
set +e
"$@"
status=$?
set -e
exit $status
