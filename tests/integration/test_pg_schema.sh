#!/bin/bash
# test_pg_schema.sh - the store's PostgreSQL schema (scanner/sc_store_schema_pg.c)
# on a throwaway cluster (pglib.sh): applied to a fresh database, applied
# again as a no-op, applied by two processes at once (one waits on the
# advisory lock, neither fails, the steps run once), and compared with the
# real SQLite schema (sc_store_open) by tests/unit/pg_schema_check.c: the
# same tables, views, columns, mapped types, keys, indexes and triggers, the
# same `findings` rows from the same sample rows, the same vex generation
# bumps.  Then the store itself: sc_store_open on a postgres:// URL of a
# fresh database applies that schema (sc_store.c migrate()), reports the
# latest version, and a second open is a no-op; nothing reaches stderr
# (server NOTICEs go to sc_db_pg.c's notice processor).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pglib.sh"

CHECKER=${PG_SCHEMA_CHECK:-${top_builddir:-$TOP_DIR}/tests/unit/pg_schema_check}
[ -x "$CHECKER" ] || bail_out "no $CHECKER (make tests/unit/pg_schema_check)"

t0=$(date +%s.%N)
pg_start
# the number of steps, from the header that both schemas must reach
V=$(sed -n 's/^#define SC_STORE_SCHEMA_PG_VERSION \([0-9]*\).*/\1/p' "$TOP_DIR/scanner/sc_store_schema_pg.h")
[ -n "$V" ] || bail_out "cannot read SC_STORE_SCHEMA_PG_VERSION"
t1=$(date +%s.%N)

# 1. a fresh database, then the same again
out=$("$CHECKER" apply "$PG_URL" 2>&1)
is "$out" "applied $V version $V" "fresh database: every step applied"
out=$("$CHECKER" apply "$PG_URL" 2>&1)
is "$out" "applied 0 version $V" "applied again: nothing to do"
is "$(pg_psql -d customs -Atc 'SELECT count(*), min(version), max(version) FROM schema_version')" "$V|1|$V" \
   "schema_version lists steps 1..$V once"
is "$(pg_psql -d customs -Atc "SELECT count(*) FROM pg_views WHERE viewname = 'findings'")" 1 "the findings view exists"

# 2. two appliers at once on another fresh database.  A session holding
# the advisory lock lines them up: both start while it is held, so both
# wait, then one migrates and the other finds the schema current.
"$PG_BIN/createdb" -h "$PG_SOCK" -p "$PG_PORT" -U postgres -O customs customs2 || bail_out "createdb customs2"
URL2="${PG_URL%/customs}/customs2"
KEY=$("$CHECKER" key)
HOLD_S=4
pg_psql -d customs2 -c "BEGIN; SELECT pg_advisory_xact_lock($KEY); SELECT pg_sleep($HOLD_S); COMMIT;" \
    >/dev/null 2>&1 &
holder=$!
for _ in $(seq 30); do
    held=$(pg_psql -d customs2 -Atc "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted")
    [ "$held" = 1 ] && break
    sleep 0.1
done
is "$held" 1 "a session holds the schema lock"
c0=$(date +%s.%N)
"$CHECKER" apply "$URL2" >"$T/a1.out" 2>&1 &
p1=$!
"$CHECKER" apply "$URL2" >"$T/a2.out" 2>&1 &
p2=$!
# while the lock is held both must be waiting for it, not failing (polled:
# on a loaded machine the two may take a while to connect)
for _ in $(seq 30); do
    waiting=$(pg_psql -d customs2 -Atc "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
    [ "$waiting" = 2 ] && break
    sleep 0.1
done
is "$waiting" 2 "both appliers wait on the advisory lock"
wait $p1; r1=$?
wait $p2; r2=$?
c1=$(date +%s.%N)
wait $holder
is "$r1/$r2" "0/0" "concurrent appliers: neither fails"
is "$(sort "$T/a1.out" "$T/a2.out" | tr '\n' ';')" "applied 0 version $V;applied $V version $V;" \
   "one applied the $V steps, the other none"
is "$(pg_psql -d customs2 -Atc 'SELECT count(*), count(DISTINCT version) FROM schema_version')" "$V|$V" \
   "customs2: each step recorded once"
ok "[ \"\$(echo \"$c1 - $c0 >= 1\" | bc)\" = 1 ]" "the appliers waited for the lock holder ($(echo "$c1 - $c0" | bc) s)"

# 3. against the real SQLite schema
t2=$(date +%s.%N)
"$CHECKER" compare "$PG_URL" "$T/lite.db" >"$T/compare.tap" 2>&1
rc=$?
total=$(grep -c '^ok \|^not ok ' "$T/compare.tap")
fails=$(grep -A3 '^not ok ' "$T/compare.tap")
ok '[ "$rc" = 0 ] && [ -z "$fails" ]' "schema compare with SQLite ($total checks, exit $rc)"
[ -z "$fails" ] || diag "compare failures: $fails"
# every check of the comparison, for the log (one line per table per aspect)
sed 's/^/compare: /' "$T/compare.tap" | diag "$(cat)"
ok '[ "$total" -ge 150 ]' "compare ran all its checks ($total)"
# the same findings as psql and sqlite3 print them (not through sc_db)
q="SELECT image, seq, vuln, package, version, fixed, severity, score, ecosystem, layer, purl, generation, unsure"
q="$q FROM findings ORDER BY image, seq"
pg_rows=$(pg_psql -d customs -At -F '|' -c "$q")
is "$pg_rows" "$(sqlite3 -separator '|' "$T/lite.db" "$q")" "findings read the same through psql and sqlite3"
is "$(grep -c . <<<"$pg_rows")" 10 "psql: the 10 sample findings"
# 4. sc_store_open on PostgreSQL: schema applied by the store, then a no-op
"$PG_BIN/createdb" -h "$PG_SOCK" -p "$PG_PORT" -U postgres -O customs customs3 || bail_out "createdb customs3"
URL3="${PG_URL%/customs}/customs3"
"$CHECKER" store "$URL3" >"$T/store.tap" 2>"$T/store.err"
rc=$?
total=$(grep -c '^ok \|^not ok ' "$T/store.tap")
fails=$(grep -A3 '^not ok ' "$T/store.tap")
ok '[ "$rc" = 0 ] && [ -z "$fails" ]' "sc_store_open on PostgreSQL: fresh, then a no-op ($total checks, exit $rc)"
[ -z "$fails" ] || diag "store failures: $fails"
sed 's/^/store: /' "$T/store.tap" | diag "$(cat)"
ok '[ "$total" -ge 9 ]' "the store check ran all its checks ($total)"
is "$(cat "$T/store.err")" "" "nothing on stderr (server notices are not printed)"
is "$(pg_psql -d customs3 -Atc 'SELECT count(*), min(version), max(version) FROM schema_version')" "$V|1|$V" \
   "customs3: steps 1..$V recorded once, as psql sees them"
t3=$(date +%s.%N)
diag "wall: pg cluster start $(echo "$t1 - $t0" | bc) s, apply/concurrency $(echo "$t2 - $t1" | bc) s," \
     "compare $(echo "$t3 - $t2" | bc) s"
done_testing
