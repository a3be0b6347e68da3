#!/bin/bash
# test_store_pg.sh - the store's core push-to-verdict path on both backends:
# tests/unit/store_conformance.c (open, two layers with packages, an image
# tagged and retagged, its inventory, an inline OSV import, match, stored
# findings and the findings view, a verdict from a deny-critical policy, the
# decisions log; then referrers, VEX documents, events and deliveries,
# annotations, NVD scores, index children, lineage and the admin searches)
# runs against a SQLite file and against an empty database
# of a throwaway PostgreSQL cluster (pglib.sh).  Both runs must pass every
# check, run the same checks, and print the same verdict message.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pglib.sh"

DRIVER=${STORE_CONFORMANCE:-${top_builddir:-$TOP_DIR}/tests/unit/store_conformance}
[ -x "$DRIVER" ] || bail_out "no $DRIVER (make tests/unit/store_conformance)"
MIN_CHECKS=287 # the driver's checks (a run that stops early has fewer)

# run_driver NAME URL: the driver's result becomes our checks
run_driver() {
    local name=$1 rc total fails
    TMPDIR=$T "$DRIVER" "$2" >"$T/$name.tap" 2>"$T/$name.err"
    rc=$?
    total=$(grep -c '^ok \|^not ok ' "$T/$name.tap")
    fails=$(grep -A2 '^not ok ' "$T/$name.tap")
    ok '[ "$rc" = 0 ] && [ -z "$fails" ]' "$name: store core path ($total checks, exit $rc)"
    [ -z "$fails" ] || diag "$name failures: $fails"
    ok '[ "$total" -ge $MIN_CHECKS ]' "$name: ran all checks ($total)"
    is "$(cat "$T/$name.err")" "" "$name: nothing on stderr"
}

t0=$(date +%s.%N)
run_driver sqlite "sqlite:$T/store.db"
t1=$(date +%s.%N)
pg_start
t2=$(date +%s.%N)
run_driver pg "$PG_URL"
t3=$(date +%s.%N)

is "$(grep -c '^ok \|^not ok ' "$T/pg.tap")" "$(grep -c '^ok \|^not ok ' "$T/sqlite.tap")" \
   "the same number of checks on both backends"
lite_v=$(grep '^# verdict: ' "$T/sqlite.tap")
pg_v=$(grep '^# verdict: ' "$T/pg.tap")
ok '[ -n "$lite_v" ] && [[ "$lite_v" == *CVE-2099-1234* ]]' "SQLite: a verdict message naming the CVE"
is "$pg_v" "$lite_v" "PostgreSQL: the same verdict message"
diag "verdict: ${lite_v#\# verdict: }"
# what the store wrote, as psql sees it (not through sc_db)
q="SELECT image, seq, vuln, package, version, fixed, severity, ecosystem, layer, purl, generation, unsure"
q="$q FROM findings ORDER BY image, seq"
pg_rows=$(pg_psql -d customs -At -F '|' -c "$q")
is "$(grep -c . <<<"$pg_rows")" 6 "psql: six rows in the findings view (two images, three each)"
is "$pg_rows" "$(sqlite3 -separator '|' "$T/store.db" "$q")" "psql and sqlite3: the same findings rows"
is "$(pg_psql -d customs -Atc "SELECT severity, sev_own FROM vulns WHERE id = 'PYSEC-2099-1'")" \
   "$(sqlite3 "$T/store.db" "SELECT severity, sev_own FROM vulns WHERE id = 'PYSEC-2099-1'")" \
   "psql and sqlite3: the same borrowed severity"
is "$(pg_psql -d customs -Atc "SELECT repo, tag, digest FROM tags")" \
   "$(sqlite3 "$T/store.db" "SELECT repo, tag, digest FROM tags")" "psql and sqlite3: the same tag row"
is "$(pg_psql -d customs -Atc "SELECT count(*) FROM tag_history")" "3" "psql: three tag history rows"
diag "wall: sqlite $(echo "$t1 - $t0" | bc) s, pg cluster start $(echo "$t2 - $t1" | bc) s," \
     "pg run $(echo "$t3 - $t2" | bc) s"
done_testing
