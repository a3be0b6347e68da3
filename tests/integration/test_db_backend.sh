#!/bin/bash
# test_db_backend.sh - the sc_db statement layer (scanner/sc_db.h) keeps the
# same promises on SQLite and on a real PostgreSQL: one conformance program
# (tests/unit/db_conformance.c: binds of every type, read-back, changes(),
# transactions, unique violation and write-conflict classes, a 100,000-row
# SELECT streamed in bounded memory, reset mid-iteration, nested statements)
# runs against a SQLite file and against a throwaway cluster (pglib.sh),
# whose wrong-password open must fail without echoing the password.
# Then the PostgreSQL side loses its connection (db_conformance --reconnect,
# tests/unit/db_reconnect.c): sessions terminated, the server restarted,
# stopped and started by the shell commands given here; the driver prints
# the time a call takes with the server down and the time to recover.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pglib.sh"

DRIVER=${DB_CONFORMANCE:-${top_builddir:-$TOP_DIR}/tests/unit/db_conformance}
[ -x "$DRIVER" ] || bail_out "no $DRIVER (make tests/unit/db_conformance)"

# run_driver NAME MIN ARGS...: the driver's TAP lines become ours (prefixed);
# it must have run at least MIN checks
run_driver() {
    local name=$1 min=$2 out rc
    shift 2
    # an ASan build (--enable-asan) keeps freed memory in quarantine, which
    # the RSS figure would count: hand freed rows back at once instead
    out=$(ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0" "$DRIVER" "$@" 2>&1)
    rc=$?
    echo "$out" >"$T/$name.tap"
    local total fails
    total=$(grep -c '^ok \|^not ok ' "$T/$name.tap")
    fails=$(grep '^not ok ' "$T/$name.tap")
    ok '[ "$rc" = 0 ] && [ -z "$fails" ]' "$name: conformance ($total checks, exit $rc)"
    [ -z "$fails" ] || diag "$name failures: $fails"
    ok '[ "$total" -ge "$min" ]' "$name: ran all checks ($total, at least $min)"
    grep '^# ' "$T/$name.tap" | sed "s/^# /# $name: /"
}

t0=$(date +%s.%N)
run_driver sqlite 92 "sqlite:$T/conf.db"
t1=$(date +%s.%N)

pg_start
t2=$(date +%s.%N)
run_driver pg 92 "$PG_URL" "postgresql://customs:wrong-$PG_PASSWORD@127.0.0.1:$PG_PORT/customs" "wrong-$PG_PASSWORD"
t3=$(date +%s.%N)

# the server under the driver's feet: restarted and stopped fast (sessions
# terminated, transactions aborted), started with pg_start's options; the
# log goes to a file so that no server holds the driver's output open
pg_ctl_cmd="${PG_AS[*]} $(printf '%q' "$PG_BIN/pg_ctl") -D $(printf '%q' "$PG_DIR") -w -t 30 -l $(printf '%q' "$PG_DIR/server.log")"
export DBC_PG_RESTART="$pg_ctl_cmd -m fast restart >/dev/null 2>&1"
export DBC_PG_STOP="$pg_ctl_cmd -m fast stop >/dev/null 2>&1"
export DBC_PG_PORT=$PG_PORT
export DBC_PG_START="$pg_ctl_cmd -o $(printf '%q' "-p $PG_PORT -k $PG_SOCK -c listen_addresses=127.0.0.1 -c fsync=off") start >/dev/null 2>&1"
run_driver pg_reconnect 50 --reconnect "$PG_URL" "$PG_PASSWORD"
t4=$(date +%s.%N)
is "$(pg_psql -d customs -Atc 'SELECT count(*) FROM rc')" 9 "pg_reconnect: the 9 committed rows are in the table"
for f in down_first_call_s hung_server_call_s recover_after_start_s restart_first_call_s; do
    v=$(sed -n "s/^# $f \([0-9.]*\).*/\1/p" "$T/pg_reconnect.tap")
    ok '[ -n "$v" ]' "pg_reconnect: $f measured (${v:-?})"
done

# the same rows landed in both databases
is "$(sqlite3 "$T/conf.db" 'SELECT count(*) FROM big')" 100000 "sqlite: 100000 rows stored"
is "$(pg_psql -d customs -Atc 'SELECT count(*) FROM big')" 100000 "pg: 100000 rows stored"
is "$(pg_psql -d customs -Atc "SELECT name FROM t WHERE id = 1")" \
   "$(sqlite3 "$T/conf.db" "SELECT name FROM t WHERE id = 1")" "the quoted text reads the same from both"
# the streamed SELECT's client memory, as the driver measured it
for b in sqlite pg; do
    rss=$(sed -n 's/^# rss_growth_kib \([0-9-]*\).*/\1/p' "$T/$b.tap")
    ok '[ -n "$rss" ] && [ "$rss" -lt 8192 ]' "$b: 100000-row SELECT grew RSS by ${rss:-?} KiB (< 8192)"
done
diag "wall: sqlite $(echo "$t1 - $t0" | bc) s, pg cluster start $(echo "$t2 - $t1" | bc) s, pg run $(echo "$t3 - $t2" | bc) s, pg reconnect run $(echo "$t4 - $t3" | bc) s"
done_testing
