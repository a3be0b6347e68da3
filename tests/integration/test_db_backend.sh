#!/bin/bash
# test_db_backend.sh - the sc_db statement layer (scanner/sc_db.h) keeps the
# same promises on SQLite and on a real PostgreSQL: one conformance program
# (tests/unit/db_conformance.c: binds of every type, read-back, changes(),
# transactions, unique violation and write-conflict classes, a 100,000-row
# SELECT streamed in bounded memory, reset mid-iteration, nested statements)
# runs against a SQLite file and against a throwaway cluster (pglib.sh),
# whose wrong-password open must fail without echoing the password.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pglib.sh"

DRIVER=${DB_CONFORMANCE:-${top_builddir:-$TOP_DIR}/tests/unit/db_conformance}
[ -x "$DRIVER" ] || bail_out "no $DRIVER (make tests/unit/db_conformance)"

# run_driver NAME ARGS...: the driver's TAP lines become ours (prefixed)
run_driver() {
    local name=$1 out rc
    shift
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
    ok '[ "$total" -ge 92 ]' "$name: ran all checks ($total)"
    grep '^# ' "$T/$name.tap" | sed "s/^# /# $name: /"
}

t0=$(date +%s.%N)
run_driver sqlite "sqlite:$T/conf.db"
t1=$(date +%s.%N)

pg_start
t2=$(date +%s.%N)
run_driver pg "$PG_URL" "postgresql://customs:wrong-$PG_PASSWORD@127.0.0.1:$PG_PORT/customs" "wrong-$PG_PASSWORD"
t3=$(date +%s.%N)

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
diag "wall: sqlite $(echo "$t1 - $t0" | bc) s, pg cluster start $(echo "$t2 - $t1" | bc) s, pg run $(echo "$t3 - $t2" | bc) s"
done_testing
