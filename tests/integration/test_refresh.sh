#!/bin/bash
# tests/integration/test_refresh.sh - `customs serve` imports vulnerability
# data from db.sources (a file and an http URL) at start and every
# db.refresh; a failing URL is logged and changes nothing.  TAP output.

. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || bail_out "python3 is required (http server)"

mkdir -p "$T/www"
rec() { # ID FIXED
    printf '{"schema_version":"1.6.0","id":"%s","modified":"%s","affected":[{"package":{"ecosystem":"PyPI","name":"requests"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"%s"}]}]}]}\n' \
        "$1" "$3" "$2"
}
rec PYSEC-9999-1 2.32.0 2099-01-01T00:00:00Z >"$T/local.json"
rec PYSEC-9999-2 2.33.0 2099-01-01T00:00:00Z >"$T/www/remote.json"
HPORT=$(free_port)
(cd "$T/www" && exec python3 -m http.server --bind 127.0.0.1 "$HPORT") >"$T/http.log" 2>&1 &
_LIB_PIDS+=("$!")
wait_http "http://127.0.0.1:$HPORT/remote.json" "$!" || bail_out "http server did not start"
cat >"$T/customs.yaml" <<X
db:
  sources:
    - $T/local.json
    - http://127.0.0.1:$HPORT/remote.json
    - http://127.0.0.1:$HPORT/missing.zip
  refresh: 2s
X
start_registry
start_customs -c "$T/customs.yaml"
DB=$T/customs-1.db
for i in $(seq 50); do grep -q "db refresh: 2 source" "$CUS_LOG" && break; sleep 0.2; done
ok 'grep -q "db refresh: 2 source(s): 2 added" "$CUS_LOG"' "both good sources imported at start"
ok 'grep -q "missing.zip: download failed" "$CUS_LOG"' "the failing URL is logged"
"$CUSTOMS_BIN" db status --db "$DB" >"$T/status.out" 2>&1
is "$?" 0 "customs db status"
like "$(cat "$T/status.out")" "PyPI" "status lists the ecosystem"
is "$(sqlite3 "$DB" "select count(*) from vulns")" 2 "two records stored"
# an updated record is picked up by the next refresh, without a restart
rec PYSEC-9999-2 2.34.0 2099-02-01T00:00:00Z >"$T/www/remote.json"
for i in $(seq 50); do grep -q "1 updated" "$CUS_LOG" && break; sleep 0.2; done
ok 'grep -q "db refresh: 2 source(s): 0 added, 1 updated" "$CUS_LOG"' "an updated record is imported by the next refresh"
kill -0 "$CUS_PID"
is "$?" 0 "customs still running"
done_testing
