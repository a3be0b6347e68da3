# tests/integration/lib.sh - shared helpers for the customs integration tests.
#
# Source it from a test script (bash):
#     . "$(dirname "$0")/lib.sh"
#
# It provides:
#   - a temp dir $T (removed on exit unless KEEP_TMP=1) and a cleanup trap that
#     kills every process started through this library;
#   - free_port, start_registry, start_customs, stop_pid, peak_rss_kib;
#   - cus_db N (the Nth customs' database), db_sql [N] SQL (query it with
#     sqlite3 or psql, whichever CUSTOMS_TEST_DB says; output as sqlite3's)
#     and db_dump [N] (all of it as SQL text);
#   - TAP helpers: ok, is, isnt, like, skip, diag, bail_out, done_testing.
#
# Environment:
#   CUSTOMS_BIN         customs binary (default: <top of the build tree>/customs)
#   CUSTOMS_POLICY      policy file (default: none: customs scans and annotates
#                       but blocks nothing; policy tests set their own)
#   CUSTOMS_TEST_DIRECT=1  do not start customs: CUS_URL points at the registry
#                       itself (used to validate the scripts without the daemon;
#                       proxy-specific checks are then meaningless).
#   REGISTRY_BIN        default /usr/bin/docker-registry
#   KEEP_TMP=1          keep $T for post-mortem.
#   CUSTOMS_TEST_DB     sqlite (default) or postgres: with postgres, every
#                       customs of the test stores into its own database of
#                       one throwaway PostgreSQL cluster (pglib.sh), and
#                       cus_db N names it as a postgresql:// URL, and
#                       db_sql [N] SQL queries it (psql instead of sqlite3).
#   WAIT_SECS           readiness timeout for servers (default 15).

set -u

LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP_DIR=$(cd "$LIB_DIR/../.." && pwd)
CUSTOMS_BIN=${CUSTOMS_BIN:-$TOP_DIR/customs}
REGISTRY_BIN=${REGISTRY_BIN:-/usr/bin/docker-registry}
WAIT_SECS=${WAIT_SECS:-15}
CUSTOMS_TEST_DIRECT=${CUSTOMS_TEST_DIRECT:-0}
CUSTOMS_POLICY=${CUSTOMS_POLICY:-}

T=$(mktemp -d "${TMPDIR:-/tmp}/customs-it.XXXXXX")
export T

# ---------------------------------------------------------------------------
# Process bookkeeping and cleanup
# ---------------------------------------------------------------------------

_LIB_PIDS=()        # every daemon we started, killed on exit

# _lib_kill_all: stops every daemon started through this library (TERM,
#   then KILL after a second), and reaps them.
_lib_kill_all() {
    local pid
    for pid in "${_LIB_PIDS[@]}"; do
        kill "$pid" 2>/dev/null
    done
    for pid in "${_LIB_PIDS[@]}"; do
        # Give each daemon a moment to exit cleanly, then force it.
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    _LIB_PIDS=()
}

_lib_cleanup() {
    local rc=$?
    _lib_kill_all
    if [ "${KEEP_TMP:-0}" = 1 ]; then
        echo "# kept temp dir $T" >&2
    else
        rm -rf "$T"
    fi
    exit "$rc"
}
trap _lib_cleanup EXIT
trap 'exit 130' INT TERM

# stop_pid PID [SIGNAL]: kill one process we started and reap it.
stop_pid() {
    kill "-${2:-TERM}" "$1" 2>/dev/null
    wait "$1" 2>/dev/null
    return 0
}

# ---------------------------------------------------------------------------
# TAP
# ---------------------------------------------------------------------------

_TAP_N=0
_TAP_FAILED=0

# _tap_result PASS(0/1) DESC: print one TAP line and count it.
_tap_result() {
    _TAP_N=$((_TAP_N + 1))
    if [ "$1" = 0 ]; then
        echo "ok $_TAP_N - $2"
    else
        echo "not ok $_TAP_N - $2"
        _TAP_FAILED=$((_TAP_FAILED + 1))
    fi
    return "$1"
}

# ok COND DESC
#   COND is either an integer exit status (0 passes) or a shell expression
#   that is eval'ed, e.g.  ok '[ "$code" = 201 ]' "upload finished"
ok() {
    # Odd local names: COND is eval'ed in our scope and must see the caller's.
    local _ok_cond=$1 _ok_desc=$2 _ok_st
    if [[ $_ok_cond =~ ^[0-9]+$ ]]; then
        _ok_st=$_ok_cond
    else
        eval "$_ok_cond"; _ok_st=$?
    fi
    [ "$_ok_st" = 0 ] || _ok_st=1
    _tap_result "$_ok_st" "$_ok_desc" || diag "condition failed: $_ok_cond"
}

# is GOT WANT DESC: string equality.
is() {
    if [ "$1" = "$2" ]; then
        _tap_result 0 "$3"
    else
        _tap_result 1 "$3"
        diag "got:  '$1'"
        diag "want: '$2'"
        return 1
    fi
}

# isnt GOT UNWANTED DESC: string inequality.
isnt() {
    if [ "$1" != "$2" ]; then
        _tap_result 0 "$3"
    else
        _tap_result 1 "$3"
        diag "got unwanted: '$1'"
        return 1
    fi
}

# like GOT ERE DESC: extended regular expression match.
like() {
    if [[ $1 =~ $2 ]]; then
        _tap_result 0 "$3"
    else
        _tap_result 1 "$3"
        diag "got:  '$1'"
        diag "want match: /$2/"
        return 1
    fi
}

# skip DESC REASON: a test that cannot run here (counted, not failed).
skip() {
    _TAP_N=$((_TAP_N + 1))
    echo "ok $_TAP_N - $1 # SKIP $2"
}

# diag MSG...: a TAP comment on stdout (visible under prove -v).
diag() {
    local line
    while IFS= read -r line; do echo "# $line"; done <<<"$*"
}

# bail_out MSG: abort the whole test file.
bail_out() {
    echo "Bail out! $*"
    exit 2
}

# done_testing: print the plan; exit status tells whether every test passed.
done_testing() {
    echo "1..$_TAP_N"
    if [ "$_TAP_FAILED" -gt 0 ]; then
        diag "$_TAP_FAILED of $_TAP_N failed"
        exit 1
    fi
    exit 0
}

# ---------------------------------------------------------------------------
# Ports and readiness
# ---------------------------------------------------------------------------

# port_in_use PORT: true if something accepts connections on 127.0.0.1:PORT.
port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# free_port: print a TCP port on 127.0.0.1 that nothing listens on.
# Random in 20000-59999 so parallel test files rarely collide.
free_port() {
    local p
    for _ in $(seq 1 200); do
        p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
        if ! port_in_use "$p" && ! ss -Htan "sport = :$p" 2>/dev/null | grep -q .; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

# wait_http URL PID [CURL_ARGS...]: wait until URL answers with any HTTP status
# while PID is alive. Returns 1 on timeout or if PID died.
wait_http() {
    local url=$1 pid=$2 code deadline
    shift 2
    deadline=$((SECONDS + WAIT_SECS))
    while [ $SECONDS -lt $deadline ]; do
        kill -0 "$pid" 2>/dev/null || return 1
        code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$@" "$url" 2>/dev/null)
        if [ -n "$code" ] && [ "$code" != 000 ]; then
            return 0
        fi
        sleep 0.1
    done
    return 1
}

# ---------------------------------------------------------------------------
# docker-registry
# ---------------------------------------------------------------------------

_REG_N=0

# start_registry [PORT] [TLS_CERT TLS_KEY]
#   Start /usr/bin/docker-registry on 127.0.0.1:PORT (a free one if empty)
#   with filesystem storage in $T/registry (shared by every registry started
#   by this test, so a restarted or TLS registry sees the same content), or
#   in $REG_STORAGE when set (a second, independent registry: give it its
#   own directory, a shared one silently turns uploads into no-ops).
#   Exports REG_PORT REG_URL REG_PID REG_LOG (the latest registry started).
start_registry() {
    local port=${1:-} cert=${2:-} key=${3:-} dir scheme=http
    [ -n "$port" ] || port=$(free_port) || bail_out "no free port"
    _REG_N=$((_REG_N + 1))
    dir=$T/registry-$_REG_N
    local root=${REG_STORAGE:-$T/registry}
    mkdir -p "$dir" "$root"
    {
        echo "version: 0.1"
        echo "log:"
        echo "  level: warn"
        echo "  accesslog:"
        echo "    disabled: true"
        echo "storage:"
        echo "  filesystem:"
        echo "    rootdirectory: $root"
        echo "  delete:"
        echo "    enabled: true"
        echo "  maintenance:"
        echo "    uploadpurging:"
        echo "      enabled: false"
        echo "http:"
        echo "  addr: 127.0.0.1:$port"
        if [ -n "$cert" ]; then
            echo "  tls:"
            echo "    certificate: $cert"
            echo "    key: $key"
        fi
    } >"$dir/config.yml"
    REG_LOG=$dir/registry.log
    "$REGISTRY_BIN" serve "$dir/config.yml" >"$REG_LOG" 2>&1 &
    REG_PID=$!
    _LIB_PIDS+=("$REG_PID")
    [ -n "$cert" ] && scheme=https
    if ! wait_http "$scheme://127.0.0.1:$port/v2/" "$REG_PID" -k; then
        diag "registry log:" "$(tail -20 "$REG_LOG")"
        bail_out "docker-registry did not start on port $port"
    fi
    REG_PORT=$port
    REG_URL=$scheme://127.0.0.1:$port
    export REG_PORT REG_URL REG_PID REG_LOG
}

# ---------------------------------------------------------------------------
# customs
# ---------------------------------------------------------------------------

_CUS_N=0

# start_customs [EXTRA ARGS...]
#   Start "$CUSTOMS_BIN serve" on a free port in front of $CUS_UPSTREAM
#   (default $REG_URL), with a database in $T and the policy if one exists.
#   Extra args are passed through (e.g. --tls-cert F --tls-key F).
#   Exports CUS_PORT CUS_URL CUS_PID CUS_LOG. The first instance logs to
#   $T/customs.log, later ones to $T/customs-N.log.
#
#   With CUSTOMS_TEST_DIRECT=1 nothing is started: CUS_* describe the registry
#   (for --tls-cert/--tls-key a TLS registry on the same storage is started).
start_customs() {
    local port upstream=${CUS_UPSTREAM:-${REG_URL:-}} cert="" key="" a scheme=http
    local args=("$@")
    # Find TLS options: they decide the scheme of CUS_URL.
    for ((a = 0; a < ${#args[@]}; a++)); do
        case ${args[a]} in
            --tls-cert) cert=${args[a + 1]:-} ;;
            --tls-key) key=${args[a + 1]:-} ;;
        esac
    done
    [ -n "$cert" ] && scheme=https
    _CUS_N=$((_CUS_N + 1))

    if [ "$CUSTOMS_TEST_DIRECT" = 1 ]; then
        if [ -n "$cert" ]; then
            local save_port=$REG_PORT save_url=$REG_URL save_pid=$REG_PID save_log=$REG_LOG
            start_registry "" "$cert" "$key"
            CUS_PORT=$REG_PORT CUS_URL=$REG_URL CUS_PID=$REG_PID CUS_LOG=$REG_LOG
            REG_PORT=$save_port REG_URL=$save_url REG_PID=$save_pid REG_LOG=$save_log
        elif [ -n "${CUS_UPSTREAM:-}" ]; then
            # "customs in front of a dead upstream": direct means the dead URL.
            CUS_URL=$CUS_UPSTREAM
            CUS_PORT=${CUS_UPSTREAM##*:}
            CUS_PID=${REG_PID:-$$} CUS_LOG=${REG_LOG:-/dev/null}
        else
            CUS_PORT=$REG_PORT CUS_URL=$REG_URL CUS_PID=$REG_PID CUS_LOG=$REG_LOG
        fi
        export CUS_PORT CUS_URL CUS_PID CUS_LOG
        diag "CUSTOMS_TEST_DIRECT=1: CUS_URL=$CUS_URL is the registry itself"
        return 0
    fi

    [ -x "$CUSTOMS_BIN" ] || bail_out "customs binary not found: $CUSTOMS_BIN (set CUSTOMS_BIN, or CUSTOMS_TEST_DIRECT=1)"
    [ -n "$upstream" ] || bail_out "start_customs: no upstream (start_registry first or set CUS_UPSTREAM)"
    port=$(free_port) || bail_out "no free port"
    if [ "$_CUS_N" = 1 ]; then CUS_LOG=$T/customs.log; else CUS_LOG=$T/customs-$_CUS_N.log; fi
    CUS_DB=$(cus_db "$_CUS_N") || bail_out "no database for customs $_CUS_N"
    export CUS_DB
    local cmd=("$CUSTOMS_BIN" serve --listen "127.0.0.1:$port" --upstream "$upstream" --db "$CUS_DB")
    [ -n "$CUSTOMS_POLICY" ] && cmd+=(--policy "$CUSTOMS_POLICY")
    cmd+=("${args[@]}")
    "${cmd[@]}" >"$CUS_LOG" 2>&1 &
    CUS_PID=$!
    _LIB_PIDS+=("$CUS_PID")
    # Readiness: any HTTP answer on /v2/ (a 502 is fine when upstream is down).
    if ! wait_http "$scheme://127.0.0.1:$port/v2/" "$CUS_PID" -k; then
        diag "command: ${cmd[*]}" "customs log:" "$(tail -20 "$CUS_LOG")"
        bail_out "customs did not become ready on port $port"
    fi
    CUS_PORT=$port
    CUS_URL=$scheme://127.0.0.1:$port
    export CUS_PORT CUS_URL CUS_PID CUS_LOG
}

# start_receiver DIR: a webhook receiver (webhook_receiver.py) on a free
#   port of 127.0.0.1, writing each POST to DIR/N.body and DIR/N.headers and
#   answering with the status in DIR/status (default 200).  Exports
#   RCV_PORT RCV_URL RCV_PID (the latest one started).  Stop it with
#   stop_pid "$RCV_PID" and start it again on the same port with
#   RCV_PORT=P start_receiver DIR.
start_receiver() {
    local dir=$1 port=${RCV_PORT:-}
    [ -n "$port" ] || port=$(free_port) || bail_out "no free port"
    mkdir -p "$dir"
    rm -f "$dir/ready"
    python3 "$LIB_DIR/webhook_receiver.py" "$port" "$dir" >"$dir/receiver.log" 2>&1 &
    RCV_PID=$!
    _LIB_PIDS+=("$RCV_PID")
    local deadline=$((SECONDS + WAIT_SECS))
    while [ ! -e "$dir/ready" ]; do
        kill -0 "$RCV_PID" 2>/dev/null || bail_out "webhook receiver died: $(tail -5 "$dir/receiver.log")"
        [ $SECONDS -lt $deadline ] || bail_out "webhook receiver did not start on port $port"
        sleep 0.05
    done
    RCV_PORT=$port
    RCV_URL=http://127.0.0.1:$port
    export RCV_PORT RCV_URL RCV_PID
}

# wait_until SECS COND: poll COND (eval'ed in the caller's scope) every
#   0.2 s for up to SECS; returns COND's last status.
wait_until() {
    local _wu_deadline=$((SECONDS + $1))
    while [ $SECONDS -lt $_wu_deadline ]; do
        eval "$2" && return 0
        sleep 0.2
    done
    eval "$2"
}

# reg_digest PORT REPO TAG: the digest registry 127.0.0.1:PORT serves for
#   REPO:TAG (its Docker-Content-Digest; an index when the tag is one).
reg_digest() {
    local hdr
    hdr=$(mktemp "$T/regdigest.XXXXXX")
    curl -sS -m 10 -o /dev/null -D "$hdr" \
        -H "Accept: application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json" \
        -H "Accept: application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json" \
        "http://127.0.0.1:$1/v2/$2/manifests/$3" && header_value "$hdr" Docker-Content-Digest
    rm -f "$hdr"
}

# events_for REPO: the bodies webhook_receiver.py wrote to $RCV for events
#   about base repository REPO (base-image-updated), one path per line.
events_for() {
    local f
    for f in "$RCV"/*.body; do
        [ -e "$f" ] || continue
        [ "$(jq -r '.base.repository // empty' "$f" 2>/dev/null)" = "$1" ] && echo "$f"
    done
}

# direct_mode: true when CUS_URL is the registry itself.
direct_mode() { [ "$CUSTOMS_TEST_DIRECT" = 1 ]; }

# peak_rss_kib PID: peak resident set size (VmHWM) of a live process, in KiB.
peak_rss_kib() {
    awk '/^VmHWM:/ { print $2; found = 1 } END { if (!found) exit 1 }' "/proc/$1/status" 2>/dev/null
}

# ---------------------------------------------------------------------------
# Small helpers shared by the tests
# ---------------------------------------------------------------------------

# sha256_of FILE: print "sha256:<hex>".
sha256_of() {
    local h
    h=$(sha256sum "$1") || return 1
    echo "sha256:${h%% *}"
}

# header_value FILE NAME: value of the last header NAME in a curl -D dump
# (case-insensitive, CR stripped; the last one wins after redirects/100s).
header_value() {
    tr -d '\r' <"$1" | awk -v n="$(echo "$2" | tr 'A-Z' 'a-z')" '
        { i = index($0, ":"); if (i > 1 && tolower(substr($0, 1, i - 1)) == n) {
              v = substr($0, i + 1); sub(/^[ \t]+/, "", v); last = v } }
        END { print last }'
}

# abs_url BASE LOCATION: resolve a Location header against BASE
# (scheme://host:port), keeping absolute URLs as they are.
abs_url() {
    case $2 in
        http://* | https://*) echo "$2" ;;
        /*) echo "$1$2" ;;
        *) echo "$1/$2" ;;
    esac
}

# url_hostport URL: "host:port" part of an absolute URL.
url_hostport() {
    local u=${1#*://}
    echo "${u%%/*}"
}

# raw_http PORT FILE [SECS]: send the bytes of FILE to 127.0.0.1:PORT over a
# plain TCP connection and print whatever comes back within SECS (default 5).
# Uses bash's /dev/tcp so no netcat is needed.
raw_http() {
    local port=$1 file=$2 secs=${3:-5}
    timeout "$secs" bash -c '
        exec 3<>"/dev/tcp/127.0.0.1/$0" || exit 1
        cat "$1" >&3
        cat <&3' "$port" "$file" 2>/dev/null
    return 0
}

# make_random_file FILE BYTES: incompressible content.
make_random_file() {
    head -c "$2" /dev/urandom >"$1"
}

# make_tls_certs DIR: a throw-away CA and a server certificate for
# 127.0.0.1 / localhost. Creates DIR/{ca.crt,ca.key,server.crt,server.key}
# and DIR/certs.d/ca.crt (a skopeo --*-cert-dir: *.crt there are CAs).
make_tls_certs() {
    local d=$1
    mkdir -p "$d/certs.d" || return 1
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=customs test CA" \
        -keyout "$d/ca.key" -out "$d/ca.crt" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" >/dev/null 2>&1 || return 1
    openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
        -keyout "$d/server.key" -out "$d/server.csr" >/dev/null 2>&1 || return 1
    printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" \
        "basicConstraints=CA:FALSE" "keyUsage=digitalSignature,keyEncipherment" \
        "extendedKeyUsage=serverAuth" >"$d/server.ext"
    openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" \
        -CAcreateserial -days 2 -extfile "$d/server.ext" \
        -out "$d/server.crt" >/dev/null 2>&1 || return 1
    cp "$d/ca.crt" "$d/certs.d/ca.crt"
}

# blob_upload BASE REPO FILE DIGEST [CURL OPTS...]
#   The usual three-step blob upload: POST uploads/, one PATCH streaming the
#   whole FILE (curl -T: Content-Length, read as it goes), PUT ?digest=.
#   Location headers are followed as returned. Prints the HTTP status of the
#   last step reached (201 on success, 000 on a transport error).
blob_upload() {
    local base=$1 repo=$2 file=$3 dig=$4 hdr loc code
    shift 4
    hdr=$(mktemp "$T/hdr.XXXXXX")
    code=$(curl -sS "$@" -X POST -H 'Content-Length: 0' -D "$hdr" -o /dev/null \
        -w '%{http_code}' "$base/v2/$repo/blobs/uploads/" 2>/dev/null)
    if [ "$code" = 202 ]; then
        loc=$(abs_url "$base" "$(header_value "$hdr" Location)")
        code=$(curl -sS "$@" -X PATCH -T "$file" -H 'Content-Type: application/octet-stream' \
            -D "$hdr" -o /dev/null -w '%{http_code}' "$loc" 2>/dev/null)
    fi
    if [ "$code" = 202 ]; then
        loc=$(abs_url "$base" "$(header_value "$hdr" Location)")
        case $loc in *\?*) loc="$loc&digest=$dig" ;; *) loc="$loc?digest=$dig" ;; esac
        code=$(curl -sS "$@" -X PUT -H 'Content-Length: 0' -o /dev/null \
            -w '%{http_code}' "$loc" 2>/dev/null)
    fi
    rm -f "$hdr"
    echo "${code:-000}"
}

# ---------------------------------------------------------------------------
# Fault and load helpers (test_faults.sh, test_load_many.sh, bench/loop_latency.sh)
# ---------------------------------------------------------------------------

# http_code URL [CURL OPTS...]: print only the HTTP status ("000" when the
# transport failed). Bounded by -m 30 so a hung server fails the caller.
http_code() {
    local url=$1 code
    shift
    code=$(curl -s -o /dev/null -m 30 -w '%{http_code}' "$@" "$url" 2>/dev/null)
    echo "${code:-000}"
}

# db_integrity DB: what `PRAGMA integrity_check` says ("ok" when intact).
db_integrity() {
    sqlite3 "$1" 'PRAGMA integrity_check' 2>&1 | tr '\n' ' ' | sed 's/ $//'
}

# forget_blob_locations: skopeo remembers where it saw blobs and mounts them
# across repositories instead of uploading; a test that needs the bytes to
# flow through customs forgets that first.
forget_blob_locations() {
    rm -f /var/lib/containers/cache/blob-info-cache-v1.* \
        "${HOME:-/root}"/.local/share/containers/cache/blob-info-cache-v1.* 2>/dev/null
    return 0
}

# skopeo_push OCI_DIR TAG HOSTPORT REPO:TAG [SECS]: push an OCI layout over
# cleartext, bounded by SECS (default 120). Output goes to stderr.
skopeo_push() {
    timeout "${5:-120}" skopeo copy -q --dest-tls-verify=false "oci:$1:$2" "docker://$3/$4" >&2
}

# skopeo_pull HOSTPORT REPO:TAG OCI_DIR [SECS]: pull into a fresh OCI layout.
skopeo_pull() {
    rm -rf "$3"
    timeout "${4:-120}" skopeo copy -q --src-tls-verify=false "docker://$1/$2" "oci:$3:x" >&2
}

# make_osv_set DIR N [PREFIX]: N synthetic OSV records (PREFIX-000001.json...)
# over made-up Debian, PyPI, npm and Go packages (synthpkg-(i % 5000); Debian:12
# when i % 4 == 0), each with a range, aliases and a CVSS vector (critical or
# high, alternating within each ecosystem), so that an import does real work.
# None of them names a package the fixtures install. Deterministic.
make_osv_set() {
    python3 - "$1" "$2" "${3:-SYNTH}" <<'PY'
import json, os, sys
out, n, prefix = sys.argv[1], int(sys.argv[2]), sys.argv[3]
os.makedirs(out, exist_ok=True)
ecos = [("Debian:12", "ECOSYSTEM", "1.%d-1"), ("PyPI", "ECOSYSTEM", "1.%d.0"),
        ("npm", "SEMVER", "1.%d.0"), ("Go", "SEMVER", "1.%d.0")]
for i in range(1, n + 1):
    eco, kind, fix = ecos[i % len(ecos)]
    rid = "%s-%06d" % (prefix, i)
    rec = {"schema_version": "1.6.0", "id": rid, "modified": "2030-01-01T00:00:00Z",
           "aliases": ["CVE-2098-%05d" % i], "summary": "synthetic record %d " % i + "x" * 200,
           "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:%s/A:N"
                         % ("H" if (i // 4) % 2 else "L")}],
           "affected": [{"package": {"ecosystem": eco, "name": "synthpkg-%d" % (i % 5000)},
                         "ranges": [{"type": kind, "events": [{"introduced": "0"},
                                                             {"fixed": fix % (i % 97)}]}]}]}
    with open(os.path.join(out, rid + ".json"), "w") as f:
        json.dump(rec, f)
PY
}

# zip_dir DIR ZIP: zip every *.json of DIR (flat) into ZIP.
zip_dir() {
    (cd "$1" && python3 -c 'import sys, zipfile, glob
z = zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED)
[z.write(f) for f in sorted(glob.glob("*.json"))]
z.close()' "$2")
}

# ---------------------------------------------------------------------------
# The database backend (CUSTOMS_TEST_DB)
# ---------------------------------------------------------------------------

CUSTOMS_TEST_DB=${CUSTOMS_TEST_DB:-sqlite}
case $CUSTOMS_TEST_DB in
    sqlite) ;;
    postgres)
        # started here, in the test's own shell, so that its variables and
        # its exit trap belong to the test (cus_db runs in $(...) subshells)
        . "$LIB_DIR/pglib.sh"
        pg_start ;;
    *) bail_out "CUSTOMS_TEST_DB must be sqlite or postgres, not '$CUSTOMS_TEST_DB'" ;;
esac

# cus_db N: the database of the Nth customs started by this test (and of the
#   `customs` commands run against it): $T/customs-N.db, or with
#   CUSTOMS_TEST_DB=postgres the URL of database customs_N, created on first
#   use and owned by the password-authenticated role.
cus_db() {
    if [ "$CUSTOMS_TEST_DB" = postgres ]; then
        [ -n "$(pg_psql -d postgres -tA -c "SELECT 1 FROM pg_database WHERE datname = 'customs_$1'")" ] ||
            "$PG_BIN/createdb" -h "$PG_SOCK" -p "$PG_PORT" -U postgres -O customs "customs_$1" >&2 || return 1
        echo "${PG_URL%/*}/customs_$1"
    else
        echo "$T/customs-$1.db"
    fi
}

# db_sql [N] SQL: run SQL on the database of the Nth customs of this test
#   (cus_db N; N defaults to 1) and print its rows as sqlite3 does by
#   default: one line per row, columns joined by '|', NULL as an empty
#   field.  SQLite: sqlite3 on the file; PostgreSQL: psql as the superuser
#   over the cluster's socket on database customs_N (no password on any
#   command line).  Several statements separated by ';' run in order.
#   Write portable SQL (coalesce, not ifnull; `x <> 0`, not a bare integer
#   as a condition; no strftime/group_concat/PRAGMA): a check that needs
#   one dialect belongs to a SQLite-only test.  The status is the client's
#   (nonzero on an SQL error, the message on stderr).
db_sql() {
    local n=1
    if [ $# -ge 2 ]; then n=$1; shift; fi
    [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "db_sql: bad customs number '$n'" >&2; return 2; }
    if [ "$CUSTOMS_TEST_DB" = postgres ]; then
        # -f - (not -c): every statement's rows are printed, as sqlite3 does
        printf '%s;\n' "$1" | pg_psql -d "customs_$n" -tA -f -
    else
        sqlite3 "$T/customs-$n.db" "$1"
    fi
}

# db_dump [N]: the whole database of the Nth customs (default 1) as SQL text
#   (sqlite3 .dump, or pg_dump of customs_N), e.g. to look for a leaked secret.
db_dump() {
    local n=${1:-1}
    [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "db_dump: bad customs number '$n'" >&2; return 2; }
    if [ "$CUSTOMS_TEST_DB" = postgres ]; then
        "$PG_BIN/pg_dump" -h "$PG_SOCK" -p "$PG_PORT" -U postgres "customs_$n"
    else
        sqlite3 "$T/customs-$n.db" .dump
    fi
}
