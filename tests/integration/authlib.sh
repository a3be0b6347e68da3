# authlib.sh - authenticated test registries, sourced after lib.sh by the
# tests of customs in front of a registry that wants credentials
# (tests/integration/test_upstream_*.sh).
#
# Every registry started here has its own storage and log directory under
# $T, listens on a free loopback port, and is stopped by lib.sh's cleanup.
# Its log is at level info, so the registry says which user made each
# request (auth.user.name=...): the tests read it to tell customs' own
# requests from a client's.

# make_htpasswd FILE USER PASSWORD [USER PASSWORD ...]: a bcrypt password file.
make_htpasswd() {
    local file=$1
    shift
    : >"$file"
    while [ $# -ge 2 ]; do
        htpasswd -nbB "$1" "$2" | sed '/^$/d' >>"$file" || bail_out "htpasswd failed for user $1"
        shift 2
    done
}

# start_htpasswd_registry HTPASSWD_FILE: docker-registry with basic
#   authentication.  Exports AREG_PORT AREG_URL AREG_PID AREG_LOG AREG_DIR.
_AREG_N=0
start_htpasswd_registry() {
    local htpasswd=$1 port
    _AREG_N=$((_AREG_N + 1))
    AREG_DIR=$T/authreg-$_AREG_N
    mkdir -p "$AREG_DIR/data"
    port=$(free_port) || bail_out "no free port"
    cat >"$AREG_DIR/config.yml" <<YAML
version: 0.1
log:
  level: info
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $AREG_DIR/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
auth:
  htpasswd:
    realm: customs-test
    path: $htpasswd
YAML
    AREG_LOG=$AREG_DIR/registry.log
    "$REGISTRY_BIN" serve "$AREG_DIR/config.yml" >"$AREG_LOG" 2>&1 &
    AREG_PID=$!
    _LIB_PIDS+=("$AREG_PID")
    wait_http "http://127.0.0.1:$port/v2/" "$AREG_PID" || {
        diag "registry log:" "$(tail -20 "$AREG_LOG")"
        bail_out "registry with basic authentication did not start"
    }
    AREG_PORT=$port
    AREG_URL=http://127.0.0.1:$port
    export AREG_PORT AREG_URL AREG_PID AREG_LOG AREG_DIR
}

# registry_requests_by USER [PATH_SUBSTRING]: how many requests the
#   htpasswd registry logged as made by USER (to paths containing the
#   substring).
registry_requests_by() {
    grep -E "auth\.user\.name=\"?$1\"?( |\$)" "$AREG_LOG" | grep -F -c -- "${2:-/v2/}" || true
}
