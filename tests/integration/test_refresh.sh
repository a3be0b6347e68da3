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
DB=$(cus_db 1)
for i in $(seq 50); do grep -q "db refresh: 2 source" "$CUS_LOG" && break; sleep 0.2; done
ok 'grep -q "db refresh: 2 source(s): 2 added" "$CUS_LOG"' "both good sources imported at start"
ok 'grep -q "missing.zip: download failed" "$CUS_LOG"' "the failing URL is logged"
"$CUSTOMS_BIN" db status --db "$DB" >"$T/status.out" 2>&1
is "$?" 0 "customs db status"
like "$(cat "$T/status.out")" "PyPI" "status lists the ecosystem"
like "$(cat "$T/status.out")" "http://127\.0\.0\.1:$HPORT/remote\.json" "and names the downloaded source by its URL"
ok '! grep -q "customs-osv-" "$T/status.out"' "not by its spool file"
is "$(db_sql "select count(*) from vulns")" 2 "two records stored"
ok 'grep -q "missing.zip: download failed (.*404.*) after 1 attempt(s)" "$CUS_LOG"' "a 404 is not tried again"
# the next refresh asks with the validators of the import: 304, nothing downloaded
wait_until 15 'grep -q "remote.json: unchanged since the last import (HTTP 304)" "$CUS_LOG"'
ok 'grep -q "remote.json: unchanged since the last import (HTTP 304)" "$CUS_LOG"' \
    "an unchanged URL is not downloaded again (conditional GET answered 304)"
ok 'grep -q "\"GET /remote.json HTTP/1.1\" 304" "$T/http.log"' "the server saw the conditional GET and answered 304"
is "$(db_sql "select count(*) from source_validators where url like '%remote.json'")" 1 \
    "the validators of the import are stored"
# an updated record is picked up by the next refresh, without a restart
# (its mtime a few seconds ahead: Last-Modified has a one-second grain)
rec PYSEC-9999-2 2.34.0 2099-02-01T00:00:00Z >"$T/www/remote.json"
touch -d "@$(($(date +%s) + 5))" "$T/www/remote.json"
for i in $(seq 50); do grep -q "1 updated" "$CUS_LOG" && break; sleep 0.2; done
ok 'grep -q "db refresh: 2 source(s): 0 added, 1 updated" "$CUS_LOG"' "an updated record is imported by the next refresh"
kill -0 "$CUS_PID"
is "$?" 0 "customs still running"
# a restart keeps the validators: its first download of the URL is a 304 too
stop_pid "$CUS_PID"
N304=$(grep -c '"GET /remote.json HTTP/1.1" 304' "$T/http.log")
N200=$(grep -c '"GET /remote.json HTTP/1.1" 200' "$T/http.log")
CUS_LOG0=$CUS_LOG
start_customs -c "$T/customs.yaml" --db "$DB"
wait_until 15 '[ "$(grep -c "\"GET /remote.json HTTP/1.1\" 304" "$T/http.log")" -gt "$N304" ]'
ok '[ "$(grep -c "\"GET /remote.json HTTP/1.1\" 304" "$T/http.log")" -gt "$N304" ]' \
    "after a restart the first request for the URL is conditional (304)"
is "$(grep -c '"GET /remote.json HTTP/1.1" 200' "$T/http.log")" "$N200" "and downloads nothing"
stop_pid "$CUS_PID"
# no data at all: said loudly at start
printf 'log:\n  level: info\n' >"$T/empty.yaml"
start_customs -c "$T/empty.yaml"
wait_until 10 'grep -q "NO VULNERABILITY DATA LOADED" "$CUS_LOG"'
like "$(grep -m1 "NO VULNERABILITY DATA" "$CUS_LOG")" "warn .*NO VULNERABILITY DATA LOADED \(no db.sources configured\)" \
    "a daemon without data says so at start, as a warning"
"$CUSTOMS_BIN" db status --db "$(cus_db $_CUS_N)" >"$T/empty-status.out" 2>&1
like "$(cat "$T/empty-status.out")" "WARNING: +no vulnerability data" "and so does customs db status"
unlike_status=$("$CUSTOMS_BIN" db status --db "$DB" 2>&1 | grep -c "no vulnerability data")
is "$unlike_status" 0 "(not for a database with data)"
done_testing
