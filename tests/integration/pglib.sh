# tests/integration/pglib.sh - a throwaway PostgreSQL cluster for one test.
#
# Source it after lib.sh (it uses $T, free_port and bail_out):
#     . "$(dirname "$0")/lib.sh"
#     . "$(dirname "$0")/pglib.sh"
#     pg_start
#
# pg_start creates a cluster in $T/pg (initdb; as the postgres user when run
# as root, since the server refuses to run as root), starts it on a free
# port of 127.0.0.1 with its socket in $T/pgsock and fsync off, and creates
# a database owned by a password-authenticated role (scram-sha-256 over
# TCP, so URLs with passwords are exercised; only the socket trusts the
# superuser, for setup).  max_connections is 400: a test may run several
# customs at once, each with a connection per thread (about 20).  It sets:
#   PG_URL       postgresql://customs:PASSWORD@127.0.0.1:PORT/customs
#   PG_PASSWORD  that password;  PG_PORT, PG_SOCK, PG_BIN
#   pg_psql ARGS psql as the superuser over the socket
# The server is stopped on exit, before lib.sh's cleanup (which removes $T).
#
# Environment: PG_BIN (default: the newest /usr/lib/postgresql/*/bin).

# lib.sh sources it for CUSTOMS_TEST_DB=postgres, and a test may too: once
[ -n "${_PGLIB_LOADED:-}" ] && return 0
_PGLIB_LOADED=1

PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
PG_DIR=$T/pg
PG_SOCK=$T/pgsock
PG_AS=()

_pg_stop() {
    [ -f "$PG_DIR/postmaster.pid" ] || return 0
    "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR" -m immediate -w -t 20 stop >/dev/null 2>&1 && return 0
    # pg_ctl failed: the postmaster's pid is the first line of its pid file
    local pid
    pid=$(head -n 1 "$PG_DIR/postmaster.pid" 2>/dev/null)
    [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
    return 0
}

# lib.sh's trap stays in charge of the exit status and of $T
# the daemons first: a customs whose database went away first logs errors
trap '_pg_rc=$?; _lib_kill_all; _pg_stop; (exit $_pg_rc); _lib_cleanup' EXIT

pg_psql() {
    "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCK" -p "$PG_PORT" -U postgres "$@"
}

pg_start() {
    [ -n "${PG_URL:-}" ] && return 0 # already running (lib.sh's CUSTOMS_TEST_DB=postgres)
    [ -x "$PG_BIN/initdb" ] || bail_out "PostgreSQL server binaries not found (apt-get install postgresql)"
    mkdir -p "$PG_DIR" "$PG_SOCK"
    if [ "$(id -u)" = 0 ]; then
        # the server refuses root: run it as postgres, which must reach $T
        chmod o+x "$T"
        chown postgres: "$PG_DIR" "$PG_SOCK"
        PG_AS=(runuser -u postgres --)
    fi
    PG_PORT=$(free_port) || bail_out "no free port"
    PG_PASSWORD="pw-$RANDOM$RANDOM-Zq"
    "${PG_AS[@]}" "$PG_BIN/initdb" -D "$PG_DIR" -U postgres -E UTF8 --locale=C \
        --auth-local=trust --auth-host=scram-sha-256 >"$T/initdb.log" 2>&1 ||
        bail_out "initdb failed: $(tail -n 3 "$T/initdb.log")"
    "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR" -l "$PG_DIR/server.log" -w -t 30 \
        -o "-p $PG_PORT -k $PG_SOCK -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=400" start >/dev/null 2>&1 ||
        bail_out "pg_ctl start failed: $(tail -n 3 "$PG_DIR/server.log" 2>/dev/null)"
    pg_psql -d postgres -c "CREATE ROLE customs LOGIN PASSWORD '$PG_PASSWORD'" >/dev/null ||
        bail_out "create role failed"
    "$PG_BIN/createdb" -h "$PG_SOCK" -p "$PG_PORT" -U postgres -O customs customs ||
        bail_out "createdb failed"
    PG_URL="postgresql://customs:$PG_PASSWORD@127.0.0.1:$PG_PORT/customs"
    export PG_URL PG_PASSWORD PG_PORT PG_SOCK PG_BIN
}
