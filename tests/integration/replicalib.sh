# tests/integration/replicalib.sh - several customs replicas on one
# PostgreSQL database, and haproxy in front of them (test_replicas.sh,
# bench/replicas.sh).
#
# Source it after lib.sh and pglib.sh, with pg_start and start_registry done:
#     . "$(dirname "$0")/lib.sh"
#     . "$LIB_DIR/pglib.sh"
#     . "$LIB_DIR/replicalib.sh"
#     pg_start; start_registry
#     rep_start 2                # REP_URL[1..2], REP_PID, REP_LOG, REP_PORT
#     hap_config_rr "$T/hap.cfg" # round-robin, health-checked
#     hap_start "$T/hap.cfg"     # HAP_PORT, HAP_URL, HAP_PID, HAP_LOG
#
# Every replica is `customs serve --db "$PG_URL"` (start_customs with the
# shared database given last, so it overrides the per-test database lib.sh
# picks), with $CUSTOMS_POLICY as for start_customs.  haproxy runs in the
# foreground (-db) and is killed with the test's other daemons.
# Errors: a replica or haproxy that does not start bails out of the test.

REP_N=0
REP_URL=() REP_PORT=() REP_PID=() REP_LOG=()
HAP_BIN=${HAP_BIN:-$(command -v haproxy || echo /usr/sbin/haproxy)}

# rep_start N [EXTRA ARGS...]: start N more replicas on $PG_URL.
rep_start() {
    local n=$1 i
    shift
    [ -n "${PG_URL:-}" ] || bail_out "rep_start: pg_start first"
    for ((i = 0; i < n; i++)); do
        start_customs "$@" --db "$PG_URL"
        REP_N=$((REP_N + 1))
        REP_URL[REP_N]=$CUS_URL REP_PORT[REP_N]=$CUS_PORT
        REP_PID[REP_N]=$CUS_PID REP_LOG[REP_N]=$CUS_LOG
    done
}

# hap_config_rr FILE [PORT]: a haproxy configuration balancing every request
#   round-robin over the replicas started so far (what a plain L7 balancer
#   does: the POST, PATCH and PUT of one upload reach different replicas).
#   Health checks every 200 ms mark a dead replica down after one failure;
#   a request whose connection was refused is retried on the other replica.
#   Sets HAP_PORT (a free port unless PORT is given).
hap_config_rr() {
    local file=$1 i
    HAP_PORT=${2:-$(free_port)} || bail_out "no free port"
    {
        echo "global"
        echo "    maxconn 1024"
        echo "defaults"
        echo "    mode http"
        echo "    log stdout format raw local0"
        echo "    option httplog"
        echo "    timeout connect 2s"
        echo "    timeout client 300s"
        echo "    timeout server 300s"
        echo "    option redispatch"
        echo "    retries 3"
        echo "frontend registry"
        echo "    bind 127.0.0.1:$HAP_PORT"
        echo "    default_backend customs"
        echo "backend customs"
        echo "    balance roundrobin"
        echo "    option httpchk GET /v2/"
        echo "    http-check expect rstatus ^(200|401)\$"
        for ((i = 1; i <= REP_N; i++)); do
            echo "    server customs$i 127.0.0.1:${REP_PORT[i]} check inter 200 fall 1 rise 2"
        done
    } >"$file"
}

# hap_start FILE: run haproxy on FILE (which binds 127.0.0.1:$HAP_PORT) and
#   wait until every replica is up in it (a request through it answers).
#   Exports HAP_URL HAP_PID HAP_LOG.
hap_start() {
    local file=$1
    [ -x "$HAP_BIN" ] || bail_out "haproxy not found (apt-get install haproxy)"
    "$HAP_BIN" -c -q -f "$file" >"$T/hap-check.log" 2>&1 ||
        bail_out "haproxy refuses $file: $(tail -3 "$T/hap-check.log")"
    HAP_LOG=$T/haproxy-$HAP_PORT.log
    "$HAP_BIN" -db -f "$file" >"$HAP_LOG" 2>&1 &
    HAP_PID=$!
    _LIB_PIDS+=("$HAP_PID")
    HAP_URL=http://127.0.0.1:$HAP_PORT
    if ! wait_http "$HAP_URL/v2/" "$HAP_PID"; then
        diag "haproxy log:" "$(tail -20 "$HAP_LOG")"
        bail_out "haproxy did not start on port $HAP_PORT"
    fi
    # servers start "up" but are checked at once: give the first checks a round
    sleep 0.5
    export HAP_URL HAP_PID HAP_LOG HAP_PORT
}

# rep_access_count I ERE: access lines of replica I whose "METHOD PATH"
#   matches ERE (e.g. 'PATCH /v2/shop/app/blobs/uploads/').
rep_access_count() {
    grep -E 'access id=[0-9]+ ' "${REP_LOG[$1]}" | grep -cE " $2"
}

# rep_scan_lines DIGEST [STATUS]: scan log lines for layer DIGEST across every
#   replica (with status=STATUS when given), one per line.
rep_scan_lines() {
    local i
    for ((i = 1; i <= REP_N; i++)); do
        grep -h "scan layer=$1 " "${REP_LOG[i]}"
    done | if [ -n "${2:-}" ]; then grep "status=$2\\b"; else cat; fi
}

# oci_layers OCI_DIR: the layer digests of the layout's (first) manifest.
oci_layers() {
    local m
    m=$(jq -r '.manifests[0].digest' "$1/index.json") || return 1
    jq -r '.layers[].digest' "$1/blobs/sha256/${m#sha256:}"
}

# ms_now: milliseconds since the epoch.
ms_now() {
    echo $(($(date +%s%N) / 1000000))
}
