#!/bin/bash
# test_errors.sh - customs' behaviour on bad input and bad upstreams: upstream
# down (502 JSON), malformed HTTP/1.1 (400, still serving), an HTTP/2 header
# value with a CR (refused), Content-Length + Transfer-Encoding (400, no
# smuggling), and Authorization headers kept out of the log.

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

# status_line FILE: first line of a raw HTTP response, CR stripped.
status_line() {
    head -1 "$1" | tr -d '\r'
}

# still_serves DESC: GET /v2/ through customs answers 200.
still_serves() {
    is "$(curl -s -m 10 -o /dev/null -w '%{http_code}' "$CUS_URL/v2/")" 200 "$1"
}

# ---- upstream down from the start ------------------------------------------
DEAD_PORT=$(free_port) || bail_out "no free port"
CUS_UPSTREAM=http://127.0.0.1:$DEAD_PORT start_customs
DOWN_PID=$CUS_PID
for path in /v2/ /v2/it/app/manifests/latest; do
    code=$(curl -s -m 20 -o "$T/down.body" -w '%{http_code}' "$CUS_URL$path")
    is "$code" 502 "upstream down: GET $path -> 502"
    ok 'jq -e ".errors[0].code | strings" "$T/down.body" >/dev/null 2>&1' \
        "upstream down: GET $path body is registry-style JSON errors"
done
code=$(curl -s -m 20 --http2-prior-knowledge -o "$T/down2.body" -w '%{http_code}' "$CUS_URL/v2/")
is "$code" 502 "upstream down: h2c GET /v2/ -> 502"
direct_mode || stop_pid "$DOWN_PID"

# ---- a live registry and customs for the rest ------------------------------
start_registry
start_customs

# Malformed HTTP/1.1: a header line without a colon, and a garbage request line.
printf 'GET /v2/ HTTP/1.1\r\nHost: 127.0.0.1\r\nthis is not a header\r\n\r\n' >"$T/bad1.req"
raw_http "$CUS_PORT" "$T/bad1.req" >"$T/bad1.resp"
like "$(status_line "$T/bad1.resp")" '^HTTP/1\.[01] 400' "header line without colon -> 400"
printf '\001\002 garbage \377\r\n\r\n' >"$T/bad2.req"
raw_http "$CUS_PORT" "$T/bad2.req" >"$T/bad2.resp"
like "$(status_line "$T/bad2.resp")" '^HTTP/1\.[01] 400' "garbage request line -> 400"
still_serves "customs still serves after malformed requests"

# Request smuggling: Content-Length together with Transfer-Encoding, and two
# different Content-Length values, must both be refused outright.
printf 'POST /v2/it/smuggle/blobs/uploads/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n' \
    >"$T/clte.req"
raw_http "$CUS_PORT" "$T/clte.req" >"$T/clte.resp"
like "$(status_line "$T/clte.resp")" '^HTTP/1\.[01] 400' "Content-Length + Transfer-Encoding -> 400"
printf 'POST /v2/it/smuggle/blobs/uploads/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nContent-Length: 5\r\n\r\nhello' \
    >"$T/clcl.req"
raw_http "$CUS_PORT" "$T/clcl.req" >"$T/clcl.resp"
like "$(status_line "$T/clcl.resp")" '^HTTP/1\.[01] 400' "two different Content-Length -> 400"
still_serves "customs still serves after smuggling attempts"

# HTTP/2 header value with a CR. nghttp passes it through (curl cuts it), so
# check from nghttp's own trace that it was really sent, then that customs
# refused the stream (RST_STREAM or a 4xx) instead of forwarding it.
nghttp -nv -H $'x-bad: a\rb' "$CUS_URL/v2/" >"$T/cr.log" 2>&1
if grep -aq $'x-bad: a\rb' "$T/cr.log"; then
    st=$(sed -n 's/.*recv (stream_id=[0-9]*) :status: \([0-9]*\).*/\1/p' "$T/cr.log" | head -1)
    # Refused = a 4xx, or no status and a stream/connection error from customs.
    rst=$(grep -aA1 -E 'recv (RST_STREAM|GOAWAY)' "$T/cr.log" | grep -ao 'error_code=[A-Z_]*' | head -1)
    ok '[ "${st:0:1}" = 4 ] || { [ -z "$st" ] && [ -n "$rst" ] && [ "$rst" != error_code=NO_ERROR ]; }' \
        "h2 header value with CR is refused (status '${st:-none}', ${rst:-no reset})"
else
    skip "h2 header value with CR is refused" "nghttp did not send the CR"
fi
still_serves "customs still serves after the h2 CR header"

# Authorization never reaches the log, but the request does.
MARK=authlog$RANDOM$RANDOM
curl -s -o /dev/null --http1.1 -H 'Authorization: Bearer SECRET-TOKEN-123' \
    "$CUS_URL/v2/it/$MARK-h1/tags/list"
curl -s -o /dev/null --http2-prior-knowledge -H 'Authorization: Bearer SECRET-TOKEN-123' \
    "$CUS_URL/v2/it/$MARK-h2/tags/list"
sleep 0.5   # let the log lines reach the file
ok 'grep -q "$MARK-h1" "$CUS_LOG"' "the HTTP/1.1 request with Authorization is logged"
ok 'grep -q "$MARK-h2" "$CUS_LOG"' "the h2 request with Authorization is logged"
ok '! grep -q "SECRET-TOKEN-123" "$CUS_LOG"' "the bearer token never appears in customs' log"

# Clean shutdown: SIGTERM ends customs within 10 s, by exit() or by the
# default action of TERM, never by a crash (SIGSEGV/SIGABRT) or a hang.
kill -TERM "$CUS_PID"
for _ in $(seq 1 100); do
    kill -0 "$CUS_PID" 2>/dev/null || break
    sleep 0.1
done
if kill -0 "$CUS_PID" 2>/dev/null; then
    kill -9 "$CUS_PID"
    wait "$CUS_PID" 2>/dev/null
    st=hung
else
    wait "$CUS_PID" 2>/dev/null
    st=$?
fi
ok '[ "$st" = 0 ] || [ "$st" = 143 ]' "customs exits cleanly on SIGTERM (status $st)"

done_testing
