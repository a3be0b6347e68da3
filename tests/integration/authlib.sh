# authlib.sh - authenticated test registries, sourced after lib.sh by the
# tests of customs in front of a registry that wants credentials
# (tests/integration/test_upstream_*.sh).
#
# Every registry started here has its own storage and log directory under
# $T, listens on a free loopback port, and is stopped by lib.sh's cleanup.
# Its log is at level debug: only then does docker-registry 2.8 say which
# user made each request (auth.user.name=...) on its successful requests
# too; the tests read it to tell customs' own requests from a client's
# (reg_reqs, reg_rate_max).

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
  level: debug
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

# reg_reqs USER METHOD URI_SUBSTRING [FROM_LINE]: how many distinct requests
#   (by http.request.id) the registry logged as made by USER with that method
#   ("" = any) to a URI containing the substring (from line FROM_LINE of its
#   log on).  docker-registry 2.8 names the user on every line of a
#   request only at level debug (at info, only on failed requests), and
#   logs several lines per request: requests are counted by their id.
reg_reqs() {
    tail -n "+${4:-1}" "$AREG_LOG" | grep -E "auth\.user\.name=\"?$1\"?( |\$)" | awk -v m="$2" -v s="$3" '
        { id = ""; meth = ""; uri = ""
          for (i = 1; i <= NF; i++) {
              if ($i ~ /^http\.request\.id=/) id = substr($i, 17)
              else if ($i ~ /^http\.request\.method=/) meth = substr($i, 21)
              else if ($i ~ /^http\.request\.uri=/) uri = substr($i, 18)
          }
          gsub(/"/, "", uri)
          if (id != "" && (m == "" || meth == m) && index(uri, s) && !(id in seen)) { seen[id] = 1; n++ } }
        END { print n + 0 }'
}
# reg_rate_max USER SINCE_LINE: the most GET/HEAD requests USER made within one
#   wall-clock second in the registry's log from line SINCE_LINE on (what a
#   sync does: catalog, tags, manifests, blobs; not the annotation pushes)
reg_rate_max() {
    tail -n "+$2" "$AREG_LOG" | grep -E "auth\.user\.name=\"?$1\"?( |\$)" | awk '
        { id = ""; meth = ""; uri = ""
          for (i = 1; i <= NF; i++) {
              if ($i ~ /^http\.request\.id=/) id = substr($i, 17)
              else if ($i ~ /^http\.request\.method=/) meth = substr($i, 21)
              else if ($i ~ /^http\.request\.uri=/) uri = substr($i, 18)
          }
          if (id == "" || (id in seen) || (meth != "GET" && meth != "HEAD") || index(uri, "/manifests/sha256-")) next
          seen[id] = 1; sec = substr($1, 7, 19); c[sec]++; if (c[sec] > max) max = c[sec] }
        END { print max + 0 }'
}
