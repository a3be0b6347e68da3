#!/bin/bash
# tests/integration/test_upstream_token.sh - customs in front of a registry
# with Docker token authentication laid out like Azure Container Registry:
# one origin (haproxy) sends /oauth2/ and /acr/ to a token server written
# for the test (token_server.py: RS256 JWTs with an x5c header, GET and POST
# grants, the ACR exchange, an /acr/v1 echo) and everything else to
# docker-registry 2.8 with auth.token.
#   a. without customs: alice pushes, anonymous is refused (the setup works);
#   b. customs without proxy_auth: the 401 challenges reach the client
#      byte-identical; skopeo push and pull with alice's credentials work,
#      without credentials they are refused, reader pulls but cannot push;
#   c. customs with upstream.proxy_auth: the realm names customs (same path),
#      service and scope unchanged; skopeo's token requests go through
#      customs; /oauth2/token (GET, POST), /oauth2/exchange and /acr/v1/...
#      reach the token server unchanged;
#   d. a realm on another origin passes unchanged even with proxy_auth;
#   e. customs' own credentials (scanner): an image pushed straight to the
#      origin is scanned on its first pull through customs and refused under
#      a policy, with token_grant basic, password, password with POST
#      answering 405 (fallback to GET) and refresh_token; the blobs are
#      fetched with scanner's tokens (haproxy logs the SHA-256 of each
#      request's credential, the token server that of each token it issues
#      and to whom); tokens are cached per scope; what customs fetched is not
#      served to a client without credentials;
#   f. no password and no issued token in customs' logs or admin API.
# TAP.

. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/mkimage.sh"
. "$LIB_DIR/fixtures.sh"
. "$LIB_DIR/authlib.sh"

for c in jq skopeo curl python3 openssl haproxy; do
    command -v $c >/dev/null || bail_out "$c is required"
done
direct_mode && bail_out "the token flow through customs needs customs (CUSTOMS_TEST_DIRECT=1 has none)"

SERVICE="customs-test.azurecr.example"
ISSUER="customs-test-token-issuer"
rnd() { head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
PW_ALICE=alice-$(rnd) PW_SCANNER=scanner-$(rnd) PW_READER=reader-$(rnd) PW_NOBODY=nobody-$(rnd)
printf '%s\n' "$PW_ALICE" "$PW_SCANNER" "$PW_READER" "$PW_NOBODY" >"$T/passwords.txt"

# ---- the token server -----------------------------------------------------------------
TOKD=$T/tokserver
mkdir -p "$TOKD"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=customs test token signer" \
    -keyout "$TOKD/key.pem" -out "$TOKD/cert.pem" >"$TOKD/openssl.out" 2>&1 ||
    bail_out "openssl: $(cat "$TOKD/openssl.out")"
jq -n --arg a "$PW_ALICE" --arg s "$PW_SCANNER" --arg r "$PW_READER" --arg n "$PW_NOBODY" '{
    alice: {password: $a, actions: ["pull", "push"]},
    scanner: {password: $s, actions: ["pull", "push", "catalog"]},
    reader: {password: $r, actions: ["pull"]},
    nobody: {password: $n, actions: []}}' >"$TOKD/users.json"
TOK_PORT=$(free_port) || bail_out "no free port"
python3 "$LIB_DIR/token_server.py" --port "$TOK_PORT" --dir "$TOKD" --users "$TOKD/users.json" \
    --key "$TOKD/key.pem" --cert "$TOKD/cert.pem" --issuer "$ISSUER" >"$TOKD/server.out" 2>&1 &
TOK_PID=$!
_LIB_PIDS+=("$TOK_PID")
wait_until "$WAIT_SECS" '[ -e "$TOKD/ready" ] || ! kill -0 "$TOK_PID" 2>/dev/null'
[ -e "$TOKD/ready" ] && kill -0 "$TOK_PID" 2>/dev/null || bail_out "token server did not start: $(tail -5 "$TOKD/server.out")"
TOK_URL=http://127.0.0.1:$TOK_PORT
TLOG=$TOKD/log.jsonl
TOKENS=$TOKD/tokens.txt
: >"$TLOG"

# tlog_lines: how many requests the token server logged so far
tlog_lines() { wc -l <"$TLOG" | tr -d ' '; }
# tlog_count FROM JQ_FILTER: requests logged after line FROM that match the filter
tlog_count() { tail -n "+$(($1 + 1))" "$TLOG" | jq -s "[.[] | select($2)] | length"; }
# tlog_last JQ_PATH: that field of the last request logged by a client other
#   than customs itself (its annotation thread asks for tokens at any time)
tlog_last() { jq -c 'select(.user_agent | startswith("customs/") | not)' "$TLOG" | tail -n 1 | jq -c "$1"; }
# token USER PASSWORD SCOPE: a token straight from the token server ("" on failure)
token() {
    curl -s -m 10 -u "$1:$2" -G --data-urlencode "service=$SERVICE" --data-urlencode "scope=$3" \
        "$TOK_URL/oauth2/token" | jq -r '.token // empty'
}
# www_auth URL [CURL ARGS]: status and the WWW-Authenticate value of a GET, as "STATUS|VALUE|COUNT"
www_auth() {
    local url=$1 h st
    shift
    h=$(mktemp "$T/wa.XXXXXX")
    st=$(curl -s -m 10 -o /dev/null -D "$h" -w '%{http_code}' "$@" "$url")
    echo "$st|$(header_value "$h" WWW-Authenticate)|$(tr -d '\r' <"$h" | grep -ci '^www-authenticate:')"
    rm -f "$h"
}
sha_hex() { printf '%s' "$1" | sha256sum | cut -c1-64; }
# jwt_claims JWT: the decoded claims
jwt_claims() {
    python3 -c 'import base64, sys; p = sys.argv[1].split(".")[1]; print(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)).decode())' "$1"
}

# ---- docker-registry with auth.token, and the ACR-like origin -------------------------
_TREG_N=0
# start_token_registry REALM: a docker-registry 2.8 with auth.token on a free port
#   (never $HA_PORT), its own storage; exports TREG_PORT TREG_LOG
start_token_registry() {
    local realm=$1 port dir pid
    _TREG_N=$((_TREG_N + 1))
    dir=$T/tokreg-$_TREG_N
    mkdir -p "$dir/data"
    port=$(free_port) || bail_out "no free port"
    while [ "$port" = "${HA_PORT:-}" ]; do port=$(free_port) || bail_out "no free port"; done
    cat >"$dir/config.yml" <<YAML
version: 0.1
log:
  level: info
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:$port
auth:
  token:
    realm: $realm
    service: $SERVICE
    issuer: $ISSUER
    rootcertbundle: $TOKD/cert.pem
YAML
    TREG_LOG=$dir/registry.log
    "$REGISTRY_BIN" serve "$dir/config.yml" >"$TREG_LOG" 2>&1 &
    pid=$!
    _LIB_PIDS+=("$pid")
    wait_http "http://127.0.0.1:$port/v2/" "$pid" || bail_out "token registry did not start: $(tail -5 "$TREG_LOG")"
    TREG_PORT=$port
}

HA_PORT=$(free_port) || bail_out "no free port"
start_token_registry "http://127.0.0.1:$HA_PORT/oauth2/token"
REG1_PORT=$TREG_PORT REG1_LOG=$TREG_LOG
cat >"$T/haproxy.cfg" <<CFG
global
    maxconn 512
    log stdout format raw local0
defaults
    mode http
    log global
    # which credential came with each request: its scheme and the SHA-256
    # of the value after it (the token server logs the SHA-256 of each
    # token it issues, and to whom)
    log-format "%b %HM %HU %ST scheme=%[capture.req.hdr(1)] cred=%[capture.req.hdr(0)]"
    timeout connect 5s
    timeout client 300s
    timeout server 300s
    timeout http-request 30s
frontend origin
    bind 127.0.0.1:$HA_PORT
    http-request capture req.hdr(Authorization),word(2,"\\ "),digest(sha256),hex len 64
    http-request capture req.hdr(Authorization),word(1,"\\ ") len 16
    acl is_auth path_beg /oauth2/ /acr/
    use_backend tokens if is_auth
    default_backend registry
backend tokens
    server tok 127.0.0.1:$TOK_PORT
backend registry
    server reg 127.0.0.1:$REG1_PORT
CFG
haproxy -c -f "$T/haproxy.cfg" >"$T/haproxy-check.out" 2>&1 || bail_out "haproxy config: $(cat "$T/haproxy-check.out")"
haproxy -f "$T/haproxy.cfg" -db >"$T/haproxy.log" 2>&1 &
HA_PID=$!
_LIB_PIDS+=("$HA_PID")
wait_http "http://127.0.0.1:$HA_PORT/v2/" "$HA_PID" || bail_out "haproxy did not start: $(tail -5 "$T/haproxy.log")"
HA=127.0.0.1:$HA_PORT
HA_URL=http://$HA
HA_REALM=$HA_URL/oauth2/token

# ---- images ------------------------------------------------------------------------------
APP=$T/app
APP_D=$("$LIB_DIR/mkimage.sh" -n 2 -s 64K,12M -t v1 "$APP") || bail_out "cannot build the app image"
SHOP=$T/shop
SHOP_D=$(fixture_shop_image "$SHOP") || bail_out "cannot build the shop image"
OKIMG=$T/okimg
fixture_debian_base "$T/okroot" 3.0.13-1~deb12u1 ok
"$LIB_DIR/mkimage.sh" -n 2 -s 32K -l "$T/okroot" -l "$T/okroot" -t v1 "$OKIMG" >/dev/null || bail_out "ok image"
OK_D=$(jq -r '.manifests[0].digest' "$OKIMG/index.json")
fixture_critical_osv "$T/osv.json"
MT_ACCEPT="application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json"

# push DEST_HOSTPORT REPO:TAG OCI_DIR [SKOPEO ARGS]: skopeo push of tag v1, quiet
push() {
    local dst=$1 ref=$2 img=$3
    shift 3
    forget_blob_locations
    timeout 180 skopeo copy -q --dest-tls-verify=false "$@" "oci:$img:v1" "docker://$dst/$ref" >"$T/skopeo.out" 2>&1
}
# pull SRC_HOSTPORT REPO:TAG OCI_DIR [SKOPEO ARGS]
pull() {
    local src=$1 ref=$2 out=$3
    shift 3
    rm -rf "$out"
    timeout 180 skopeo copy -q --src-tls-verify=false "$@" "docker://$src/$ref" "oci:$out:x" >"$T/skopeo.out" 2>&1
}
# refused: skopeo's last output says the registry refused the credentials
refused() { grep -qiE 'unauthorized|authentication required|denied|insufficient_scope|401' "$T/skopeo.out" || { diag "$(cat "$T/skopeo.out")"; return 1; }; }
pulled_digest() { jq -r '.manifests[0].digest' "$1/index.json" 2>/dev/null; }
# origin_digest REPO TAG: the manifest digest at the origin (alice's token)
origin_digest() {
    curl -s -m 10 -o /dev/null -D "$T/od.h" -H "Accept: $MT_ACCEPT" \
        -H "Authorization: Bearer $(token alice "$PW_ALICE" "repository:$1:pull")" "$HA_URL/v2/$1/manifests/$2"
    header_value "$T/od.h" Docker-Content-Digest
}

# ==== a. the origin alone =====================================================================
IFS='|' read -r st wa n <<<"$(www_auth "$HA_URL/v2/")"
is "$st $n" "401 1" "a. origin: GET /v2/ without credentials is a 401 with one WWW-Authenticate"
is "$wa" "Bearer realm=\"$HA_REALM\",service=\"$SERVICE\"" "a. origin: the challenge names the realm on the origin and the service"
is "$(curl -s -o /dev/null -w '%{http_code}' -u "alice:wrong" "$HA_URL/oauth2/token?service=$SERVICE")" 401 \
    "a. token server: a wrong password is a 401"
push "$HA" team/app:v1 "$APP" --dest-no-creds
ok '[ $? != 0 ] && refused' "a. origin: an anonymous push is refused"
push "$HA" team/app:v1 "$APP" --dest-creds "alice:$PW_ALICE"
is "$?" 0 "a. origin: alice pushes team/app:v1 (a 12 MiB layer through haproxy)" || diag "$(cat "$T/skopeo.out")"
is "$(origin_digest team/app v1)" "$APP_D" "a. origin: the registry serves team/app:v1 with alice's token"
is "$(jwt_claims "$(token alice "$PW_ALICE" repository:team/app:pull,push)" | jq -c '[.sub, .aud, .access]')" \
    "$(jq -cn --arg s "$SERVICE" '["alice", $s, [{type: "repository", name: "team/app", actions: ["pull", "push"]}]]')" \
    "a. token server: alice's JWT grants pull,push on team/app for the service"

# ==== b. customs without proxy_auth =============================================================
CUS_UPSTREAM=$HA_URL start_customs
B_PORT=$CUS_PORT B_URL=$CUS_URL B_LOG=$CUS_LOG
B=127.0.0.1:$B_PORT
for p in /v2/ /v2/team/app/manifests/v1 /v2/team/app/blobs/sha256:0000000000000000000000000000000000000000000000000000000000000000; do
    up=$(www_auth "$HA_URL$p")
    is "$(www_auth "$B_URL$p")" "$up" "b. GET $p: status and WWW-Authenticate through customs identical to the origin's"
done
like "$up" "^401\|Bearer realm=\"$HA_REALM\",service=\"$SERVICE\",scope=\"repository:team/app:pull\"\|1$" \
    "b. (the origin's challenge names the realm, the service and the scope)"
ANON=$(curl -s "$TOK_URL/oauth2/token?service=$SERVICE&scope=repository:team/app:pull" | jq -r .token)
up=$(www_auth "$HA_URL/v2/team/app/manifests/v1" -H "Authorization: Bearer $ANON")
like "$up" 'error="insufficient_scope"' "b. origin: an anonymous token is refused with insufficient_scope"
is "$(www_auth "$B_URL/v2/team/app/manifests/v1" -H "Authorization: Bearer $ANON")" "$up" \
    "b. the same through customs, byte-identical"
n0=$(tlog_lines)
push "$B" team/via-b:v1 "$APP" --dest-creds "alice:$PW_ALICE"
is "$?" 0 "b. alice pushes team/via-b:v1 through customs" || diag "$(cat "$T/skopeo.out")"
is "$(origin_digest team/via-b v1)" "$APP_D" "b. the origin holds it"
ok '[ "$(tlog_count "$n0" '"'"'.user == "alice" and .grant == "basic-get" and .status == 200'"'"')" -ge 1 ]' \
    "b. skopeo got alice's tokens from the realm on the origin"
pull "$B" team/via-b:v1 "$T/pb" --src-creds "alice:$PW_ALICE"
is "$? $(pulled_digest "$T/pb")" "0 $APP_D" "b. alice pulls it back through customs"
pull "$B" team/via-b:v1 "$T/pb-anon" --src-no-creds
ok '[ $? != 0 ] && refused' "b. an anonymous pull through customs is refused"
is "$(curl -s -o /dev/null -w '%{http_code}' -H "Accept: $MT_ACCEPT" "$B_URL/v2/team/via-b/manifests/v1")" 401 \
    "b. an anonymous manifest GET through customs is a 401"
pull "$B" team/via-b:v1 "$T/pr" --src-creds "reader:$PW_READER"
is "$? $(pulled_digest "$T/pr")" "0 $APP_D" "b. reader pulls through customs"
push "$B" team/by-reader:v1 "$APP" --dest-creds "reader:$PW_READER"
ok '[ $? != 0 ] && refused' "b. reader cannot push through customs"
is "$(origin_digest team/by-reader v1)" "" "b. and the origin has no team/by-reader:v1"

# ==== c. customs with proxy_auth ================================================================
printf 'upstream:\n  proxy_auth: true\n' >"$T/customs-c.yaml"
CUS_UPSTREAM=$HA_URL start_customs -c "$T/customs-c.yaml"
C_PORT=$CUS_PORT C_URL=$CUS_URL C_LOG=$CUS_LOG
C=127.0.0.1:$C_PORT
C_REALM=$C_URL/oauth2/token
for p in /v2/ /v2/team/app/manifests/v1; do
    up=$(www_auth "$HA_URL$p")
    want=${up//"realm=\"$HA_REALM\""/"realm=\"$C_REALM\""}
    isnt "$want" "$up" "c. GET $p: (the origin's realm is the one to rewrite)"
    is "$(www_auth "$C_URL$p")" "$want" "c. GET $p: the realm names customs, service and scope unchanged"
done
up=$(www_auth "$HA_URL/v2/team/app/manifests/v1" -H "Authorization: Bearer $ANON")
is "$(www_auth "$C_URL/v2/team/app/manifests/v1" -H "Authorization: Bearer $ANON")" \
    "${up//"realm=\"$HA_REALM\""/"realm=\"$C_REALM\""}" "c. insufficient_scope: realm rewritten, the rest kept"
n0=$(tlog_lines)
c0=$(grep -c '/oauth2/token' "$C_LOG")
push "$C" team/via-c:v1 "$APP" --dest-creds "alice:$PW_ALICE"
is "$?" 0 "c. alice pushes team/via-c:v1 through customs (realm on customs)" || diag "$(cat "$T/skopeo.out")"
is "$(origin_digest team/via-c v1)" "$APP_D" "c. the origin holds it"
ok '[ "$(tlog_count "$n0" '"'"'.user == "alice" and .grant == "basic-get" and (.scopes | join(" ") | test("team/via-c"))'"'"')" -ge 1 ]' \
    "c. the token server issued alice's tokens for team/via-c during the push"
ok '[ "$(grep -c "/oauth2/token" "$C_LOG")" -gt "$c0" ]' "c. customs' log shows the token requests it forwarded"
n0=$(tlog_lines)
pull "$C" team/via-c:v1 "$T/pc" --src-creds "alice:$PW_ALICE"
is "$? $(pulled_digest "$T/pc")" "0 $APP_D" "c. alice pulls it back through customs"
ok '[ "$(tlog_count "$n0" '"'"'.user == "alice" and (.scopes | join(" ") | test("team/via-c:pull"))'"'"')" -ge 1 ]' \
    "c. with a token requested during the pull"
pull "$C" team/via-c:v1 "$T/pc-anon" --src-no-creds
ok '[ $? != 0 ] && refused' "c. an anonymous pull through customs is refused"

# the token endpoints through customs, byte for byte
Q="service=$SERVICE&scope=repository%3Ateam%2Fvia-c%3Apull&client_id=curl%2Btest"
body=$(curl -s -u "alice:$PW_ALICE" "$C_URL/oauth2/token?$Q")
ATOK=$(jq -r '.token // empty' <<<"$body")
like "$ATOK" '^ey[^.]+\.[^.]+\.[^.]+$' "c. GET /oauth2/token through customs: a JWT"
is "$(tlog_last '[.method, .path, .query, .grant, .user]')" \
    "$(jq -cn --arg q "$Q" '["GET", "/oauth2/token", $q, "basic-get", "alice"]')" \
    "c. it reached the token server with the query unchanged and alice's Basic credentials"
is "$(curl -s -o /dev/null -w '%{http_code}' -H "Accept: $MT_ACCEPT" -H "Authorization: Bearer $ATOK" \
    "$C_URL/v2/team/via-c/manifests/v1")" 200 "c. and that token pulls the manifest through customs"
FORM="grant_type=password&username=alice&password=$PW_ALICE&service=$SERVICE&scope=repository%3Ateam%2Fvia-c%3Apull&client_id=curl"
code=$(curl -s -o "$T/post.json" -w '%{http_code}' --data-raw "$FORM" "$C_URL/oauth2/token")
is "$code $(jq -r '.access_token | length > 0' "$T/post.json")" "200 true" "c. POST /oauth2/token grant_type=password through customs"
is "$(tlog_last '[.method, .path, .grant, .user, .body_sha256]')" \
    "$(jq -cn --arg s "sha256:$(sha_hex "$FORM")" '["POST", "/oauth2/token", "password", "alice", $s]')" \
    "c. the form reached the token server unchanged"
EX="grant_type=access_token&service=$SERVICE&access_token=$ATOK"
code=$(curl -s -o "$T/exchange.json" -w '%{http_code}' --data-raw "$EX" "$C_URL/oauth2/exchange")
RT=$(jq -r '.refresh_token // empty' "$T/exchange.json")
is "$code $([ -n "$RT" ] && echo yes)" "200 yes" "c. POST /oauth2/exchange through customs: a refresh token"
is "$(tlog_last '[.method, .path, .query, .grant, .user, .body_sha256, .form.access_token, .form.service]')" \
    "$(jq -cn --arg s "sha256:$(sha_hex "$EX")" --arg a "sha256:$(sha_hex "$ATOK")" --arg sv "$SERVICE" \
        '["POST", "/oauth2/exchange", "", "exchange", "alice", $s, $a, $sv]')" \
    "c. the exchange reached the token server unchanged"
RF="grant_type=refresh_token&refresh_token=$RT&service=$SERVICE&scope=repository%3Ateam%2Fvia-c%3Apull"
RTOK=$(curl -s --data-raw "$RF" "$C_URL/oauth2/token" | jq -r '.access_token // empty')
is "$(tlog_last '[.grant, .user, .status]')" '["refresh_token","alice",200]' "c. grant_type=refresh_token through customs"
is "$(curl -s -o /dev/null -w '%{http_code}' -H "Accept: $MT_ACCEPT" -H "Authorization: Bearer $RTOK" \
    "$C_URL/v2/team/via-c/manifests/v1")" 200 "c. that token pulls the manifest through customs"
AQ="n=5&orderby=time_desc&last=a%2Fb%20c"
code=$(curl -s -o "$T/acr.json" -w '%{http_code}' -u "alice:$PW_ALICE" "$C_URL/acr/v1/app/_tags?$AQ")
is "$code $(jq -c '[.method, .path, .query, .authorization]' "$T/acr.json")" \
    "200 $(jq -cn --arg q "$AQ" '["GET", "/acr/v1/app/_tags", $q, true]')" \
    "c. GET /acr/v1/app/_tags through customs: path, query and Authorization reach the token server"
is "$(tlog_last '[.path, .query]')" "$(jq -cn --arg q "$AQ" '["/acr/v1/app/_tags", $q]')" "c. (and its log agrees)"

# ==== d. a realm on another origin passes unchanged ============================================
start_token_registry "$TOK_URL/oauth2/token"
REG2_PORT=$TREG_PORT
CUS_UPSTREAM=http://127.0.0.1:$REG2_PORT start_customs -c "$T/customs-c.yaml"
D_URL=$CUS_URL D=127.0.0.1:$CUS_PORT
for p in /v2/ /v2/team/app/manifests/v1; do
    up=$(www_auth "http://127.0.0.1:$REG2_PORT$p")
    like "$up" "realm=\"$TOK_URL/oauth2/token\"" "d. GET $p: the registry's realm is the token server's own port"
    is "$(www_auth "$D_URL$p")" "$up" "d. GET $p: through customs with proxy_auth, unchanged"
done
push "$D" team/via-d:v1 "$APP" --dest-creds "alice:$PW_ALICE"
is "$?" 0 "d. alice pushes through customs, tokens straight from the token server" || diag "$(cat "$T/skopeo.out")"
pull "$D" team/via-d:v1 "$T/pd" --src-creds "alice:$PW_ALICE"
is "$? $(pulled_digest "$T/pd")" "0 $APP_D" "d. and pulls it back"

# ==== e. customs' own credentials ================================================================
POL=$T/policy.yaml
fixture_policy_no_critical "$POL" head=auto
printf '%s\n' "$PW_SCANNER" >"$T/scanner.pw"
# a refresh token for scanner, the ACR way: an access token exchanged at /oauth2/exchange
STOK=$(token scanner "$PW_SCANNER" "repository:scan/x:pull")
SRT=$(curl -s --data-urlencode grant_type=access_token --data-urlencode "service=$SERVICE" \
    --data-urlencode "access_token=$STOK" "$TOK_URL/oauth2/exchange" | jq -r '.refresh_token // empty')
[ -n "$SRT" ] || bail_out "no refresh token for scanner from /oauth2/exchange"
printf '%s\n' "$SRT" >"$T/scanner.rt"
ADMIN_PORTS=()
for G in basic password password-405 refresh_token; do
    repo=scan/${G//_/-}
    push "$HA" "$repo:v1" "$SHOP" --dest-creds "alice:$PW_ALICE" || bail_out "push of $repo to the origin: $(cat "$T/skopeo.out")"
    push "$HA" "$repo-ok:v1" "$OKIMG" --dest-creds "alice:$PW_ALICE" || bail_out "push of $repo-ok to the origin"
    grant=${G%-405} pwf=$T/scanner.pw
    [ "$G" = refresh_token ] && pwf=$T/scanner.rt
    if [ "$G" = password-405 ]; then echo 405 >"$TOKD/post_status"; else rm -f "$TOKD/post_status"; fi
    APORT=$(free_port) || bail_out "no free port"
    ADMIN_PORTS+=("$APORT")
    printf 'upstream:\n  username: scanner\n  password_file: %s\n  token_grant: %s\nadmin:\n  listen: 127.0.0.1:%s\n' \
        "$pwf" "$grant" "$APORT" >"$T/customs-e-$G.yaml"
    CUS_UPSTREAM=$HA_URL CUSTOMS_POLICY=$POL start_customs -c "$T/customs-e-$G.yaml"
    "$CUSTOMS_BIN" db import --db "$(cus_db $_CUS_N)" "$T/osv.json" >"$T/import.out" 2>&1 ||
        bail_out "import: $(cat "$T/import.out")"
    E_URL=$CUS_URL
    RTOK=$(token reader "$PW_READER" "repository:$repo:pull")
    n0=$(tlog_lines) h0=$(wc -l <"$T/haproxy.log")
    code=$(curl -s -m 120 -o "$T/deny.json" -w '%{http_code}' -H "Accept: $MT_ACCEPT" \
        -H "Authorization: Bearer $RTOK" "$E_URL/v2/$repo/manifests/v1")
    is "$code" 403 "e[$G]: reader's first pull of $repo:v1 (pushed to the origin directly) is refused: 403" ||
        diag "$(head -c 600 "$T/deny.json")" "$(tail -5 "$CUS_LOG")"
    like "$(cat "$T/deny.json")" "CVE-2099-0001" "e[$G]: the refusal names CVE-2099-0001 (the layers were scanned)"
    S="repository:$repo:pull"
    case $G in
        basic) f='.grant == "basic-get" and .status == 200' ;;
        password) f='.grant == "password" and .status == 200 and .form.username == "scanner" and .form.client_id == "customs"' ;;
        password-405) f='.grant == "basic-get" and .status == 200' ;;
        refresh_token) f=".grant == \"refresh_token\" and .status == 200 and .form.refresh_token == \"sha256:$(sha_hex "$SRT")\"" ;;
    esac
    nt=$(tlog_count "$n0" ".user == \"scanner\" and (.scopes | join(\" \") | split(\" \") | index(\"$S\") != null) and $f")
    ok '[ "$nt" -ge 1 ] && [ "$nt" -le 2 ]' "e[$G]: scanner's tokens for $S came with grant $grant: $nt request(s) (1..2: cached)"
    is "$(tlog_count "$n0" ".user == \"scanner\" and (.scopes | join(\" \") | test(\"repository:$repo:\") | not)")" 0 \
        "e[$G]: scanner asked for no token outside $repo" ||
        diag "$(tail -n "+$((n0 + 1))" "$TLOG" | jq -c '[.method, .grant, .user, .scopes, .status]')"
    if [ "$G" = password-405 ]; then
        ok '[ "$(tlog_count "$n0" '"'"'.method == "POST" and .status == 405 and .form.username == "scanner"'"'"')" -ge 1 ]' \
            "e[$G]: customs tried the POST first, got 405, then fell back to GET"
    fi
    # the blob GETs of $repo at the origin since the pull: every one that carried a
    # credential carried a token issued to scanner (a first one without any is the
    # challenge), and at least the two layers came back
    jq -r 'select(.user == "scanner") | .issued[]' "$TLOG" | sed 's/^sha256://' >"$T/scanner.sha"
    tail -n "+$((h0 + 1))" "$T/haproxy.log" | grep -E "^registry GET /v2/$repo/blobs/sha256:[0-9a-f]{64} " |
        grep -v ' cred=-$' >"$T/blobgets"
    nb=$(wc -l <"$T/blobgets")
    n200=$(grep -c ' 200 scheme=' "$T/blobgets")
    ns=$(sed -n 's/.* scheme=Bearer cred=\([0-9A-F]*\)$/\1/p' "$T/blobgets" | tr A-F a-f | grep -c -F -x -f "$T/scanner.sha")
    ok '[ "$n200" -ge 2 ] && [ "$ns" = "$nb" ]' \
        "e[$G]: customs fetched $repo's blobs with scanner's tokens ($ns of $nb blob GETs with credentials, $n200 answered 200)" ||
        diag "$(cat "$T/blobgets")"
    # the clean image: allowed for reader, and nothing customs fetched reaches a client without credentials
    RTOK=$(token reader "$PW_READER" "repository:$repo-ok:pull")
    is "$(curl -s -m 120 -o /dev/null -w '%{http_code}' -H "Accept: $MT_ACCEPT" -H "Authorization: Bearer $RTOK" \
        "$E_URL/v2/$repo-ok/manifests/v1")" 200 "e[$G]: reader's first pull of the clean $repo-ok:v1: 200 after its scan"
    is "$(curl -s -o /dev/null -w '%{http_code}' -H "Accept: $MT_ACCEPT" "$E_URL/v2/$repo-ok/manifests/v1")" 401 \
        "e[$G]: without credentials that manifest is a 401"
    L=$(jq -r '.layers[0].digest' "$OKIMG/blobs/sha256/${OK_D#sha256:}")
    is "$(curl -s -o /dev/null -w '%{http_code}' "$E_URL/v2/$repo-ok/blobs/$L")" 401 "e[$G]: and so is its layer"
    NTOK=$(token nobody "$PW_NOBODY" "repository:$repo-ok:pull")
    is "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $NTOK" "$E_URL/v2/$repo-ok/blobs/$L")" 401 \
        "e[$G]: and for a user without rights on the repository"
done
rm -f "$TOKD/post_status"

# e[wrong]: customs' own password is wrong, so the realm refuses it a token: the
# scan falls back to the pulling client's token, and says so once without secrets
repo=scan/wrong
push "$HA" "$repo:v1" "$SHOP" --dest-creds "alice:$PW_ALICE" || bail_out "push of $repo to the origin"
printf 'not-%s\n' "$PW_SCANNER" >"$T/scanner.bad"
printf 'upstream:\n  username: scanner\n  password_file: %s\n' "$T/scanner.bad" >"$T/customs-e-wrong.yaml"
CUS_UPSTREAM=$HA_URL CUSTOMS_POLICY=$POL start_customs -c "$T/customs-e-wrong.yaml"
"$CUSTOMS_BIN" db import --db "$(cus_db $_CUS_N)" "$T/osv.json" >"$T/import.out" 2>&1 ||
    bail_out "import: $(cat "$T/import.out")"
RTOK=$(token reader "$PW_READER" "repository:$repo:pull")
h0=$(wc -l <"$T/haproxy.log")
code=$(curl -s -m 120 -o "$T/deny.json" -w '%{http_code}' -H "Accept: $MT_ACCEPT" \
    -H "Authorization: Bearer $RTOK" "$CUS_URL/v2/$repo/manifests/v1")
is "$code" 403 "e[wrong]: customs' token refused, reader's first pull is still judged: 403" ||
    diag "$(head -c 600 "$T/deny.json")" "$(tail -5 "$CUS_LOG")"
like "$(cat "$T/deny.json")" "CVE-2099-0001" "e[wrong]: the layers were scanned with reader's token"
RSHA=$(printf '%s' "$RTOK" | sha256sum | cut -c1-64)
tail -n "+$((h0 + 1))" "$T/haproxy.log" | grep -E "^registry GET /v2/$repo/blobs/sha256:[0-9a-f]{64} 200 " >"$T/blobgets"
ok '[ -s "$T/blobgets" ] && [ "$(sed -n "s/.* cred=\([0-9A-F]*\)$/\1/p" "$T/blobgets" | tr A-F a-f | grep -c -v -x "$RSHA")" = 0 ]' \
    "e[wrong]: every blob answered 200 came with reader's token ($(wc -l <"$T/blobgets") of them)" ||
    diag "$(cat "$T/blobgets")"
like "$(grep -m1 "refused customs' own credentials" "$CUS_LOG")" "token: .*credentials refused" \
    "e[wrong]: customs says its own credentials got no token, once"
ok '! grep -qF -- "not-$PW_SCANNER" "$CUS_LOG"' "e[wrong]: without printing the password"

# ==== f. no secrets in customs' logs or admin API ===============================================
A_OUT=$T/admin-answers.txt
: >"$A_OUT"
for AP in "${ADMIN_PORTS[@]}"; do
    for p in /api/summary /api/repositories /api/images /api/decisions /api/policy /api/vulndb \
        "/api/image?repository=scan/basic&reference=v1" "/api/image?repository=scan/basic-ok&reference=v1"; do
        curl -s -m 10 "http://127.0.0.1:$AP$p" >>"$A_OUT"
        echo >>"$A_OUT"
    done
done
like "$(grep -c 'scan/basic' "$A_OUT")" '^[1-9]' "f. the admin API answered (it knows scan/basic)"
SECRETS=$T/secrets.txt
{
    cat "$T/passwords.txt" "$TOKENS"
    for u in alice scanner reader nobody; do
        pw=$(jq -r --arg u "$u" '.[$u].password' "$TOKD/users.json")
        printf '%s:%s' "$u" "$pw" | base64 -w0
        echo
    done
} | sed '/^$/d' >"$SECRETS"
ok '[ "$(wc -l <"$SECRETS")" -ge 20 ]' "f. $(wc -l <"$SECRETS") secrets to look for (passwords, Basic values, issued tokens)"
leaks=$(grep -F -o -f "$SECRETS" "$T"/customs*.log "$A_OUT" | cut -c1-120)
is "$leaks" "" "f. no password, Basic value or issued token in customs' logs or admin answers"
ok '[ "$(cat "$T"/customs*.log | wc -l)" -ge 10 ]' "f. (the logs are not empty)"

done_testing
