#!/bin/bash
# tests/integration/test_upstream_docker.sh - the real docker CLI and a real
# dockerd against customs in front of a docker-registry with basic
# authentication (htpasswd), customs holding its own identity at the
# registry (upstream.username / upstream.password_file), issue 13:
#   - `docker login` through customs works with alice's password and fails
#     with a wrong one;
#   - `docker push` and `docker pull` through customs work (the pulled image
#     is the pushed one);
#   - after `docker logout` the pull and the push are refused;
#   - an image with a critical CVE pushed straight to the registry is
#     refused on `docker pull` through customs, the reason (the CVE) in
#     docker's error output, scanned with customs' own user;
#   - no password and no Basic value in customs' log.
# dockerd runs per test in $T (dockerlib.sh: vfs storage, no bridge, no
# iptables, its own socket), is stopped at the end and on any exit (bail_out
# included).  TAP.

. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/mkimage.sh"
. "$LIB_DIR/fixtures.sh"
. "$LIB_DIR/authlib.sh"
. "$LIB_DIR/dockerlib.sh"

for c in jq curl htpasswd base64; do
    command -v "$c" >/dev/null || bail_out "$c is required"
done
docker_require
direct_mode && bail_out "customs' own credentials need customs (CUSTOMS_TEST_DIRECT=1 has none)"
[ -x "$CUSTOMS_BIN" ] || bail_out "customs binary not found: $CUSTOMS_BIN"

rnd() { head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
PWA=pa-$(rnd) PWS=ps-$(rnd) BADA=wa-$(rnd)
b64() { printf '%s' "$1" | base64 -w0; }
SECRETS=$T/secrets
printf '%s\n' "$PWA" "$PWS" "$BADA" "$(b64 "alice:$PWA")" "$(b64 "scanner:$PWS")" "$(b64 "alice:$BADA")" >"$SECRETS"

# ---- the registry (log level debug: see test_upstream_basic.sh) and customs --------------
make_htpasswd "$T/htpasswd" alice "$PWA" scanner "$PWS"
start_htpasswd_registry "$T/htpasswd"
RH=127.0.0.1:$AREG_PORT

POL=$T/policy.yaml
fixture_policy_no_critical "$POL"
printf '%s\n' "$PWS" >"$T/scanner.pass"
chmod 600 "$T/scanner.pass"
printf 'log:\n  level: debug\nupstream:\n  username: scanner\n  password_file: %s\n' "$T/scanner.pass" >"$T/customs.yaml"
fixture_critical_osv "$T/osv.json"
"$CUSTOMS_BIN" db import --db "$(cus_db 1)" "$T/osv.json" >"$T/import.out" 2>&1 || bail_out "db import: $(cat "$T/import.out")"
CUS_UPSTREAM=$AREG_URL CUSTOMS_POLICY=$POL start_customs -c "$T/customs.yaml"
CH=127.0.0.1:$CUS_PORT

start_dockerd "$CH" "$RH"
diag "registry $AREG_URL, customs $CUS_URL"

# ---- images: docker import of fixture root filesystems -------------------------------------
# clean: libssl3 at the fixed version; bad: fixture_shop's first layer (CVE-2099-0001)
fixture_debian_base "$T/clean-root" 3.0.13-1~deb12u1 docker-clean
fixture_debian_base "$T/straight-root" 3.0.13-1~deb12u1 docker-straight
fixture_shop "$T/shop0" "$T/shop1"
tar -C "$T/clean-root" -cf "$T/clean.tar" . || bail_out "tar"
tar -C "$T/straight-root" -cf "$T/straight.tar" . || bail_out "tar"
tar -C "$T/shop0" -cf "$T/bad.tar" . || bail_out "tar"
CLEAN_ID=$(dk import "$T/clean.tar" "$CH/dock/clean:v1" 2>"$T/import1.err") || bail_out "docker import: $(cat "$T/import1.err")"
BAD_ID=$(dk import "$T/bad.tar" "$RH/dock/bad:v1" 2>"$T/import2.err") || bail_out "docker import 2: $(cat "$T/import2.err")"
STRAIGHT_ID=$(dk import "$T/straight.tar" "$RH/dock/straight:v1" 2>"$T/import3.err") || bail_out "docker import 3: $(cat "$T/import3.err")"
diag "imported $CLEAN_ID and $BAD_ID"

# ---- login -----------------------------------------------------------------------------------
printf '%s\n' "$BADA" | dk login "$CH" -u alice --password-stdin >"$T/login-bad.out" 2>&1
isnt "$?" 0 "docker login through customs with a wrong password fails"
like "$(cat "$T/login-bad.out")" '(unauthorized|401|incorrect|denied)' "and says why ($(tail -1 "$T/login-bad.out"))"
ok '! grep -q "\"$CH\"" "$DOCKER_CONFIG/config.json" 2>/dev/null' "no credentials stored for customs after the failed login"
printf '%s\n' "$PWA" | dk login "$CH" -u alice --password-stdin >"$T/login.out" 2>&1
is "$?" 0 "docker login 127.0.0.1:$CUS_PORT -u alice --password-stdin through customs"
like "$(cat "$T/login.out")" 'Login Succeeded' "Login Succeeded"

# ---- push and pull ------------------------------------------------------------------------------
dk push "$CH/dock/clean:v1" >"$T/push.out" 2>&1
is "$?" 0 "docker push through customs"
PUSHED=$(sed -n 's/.*digest: \(sha256:[0-9a-f]\{64\}\).*/\1/p' "$T/push.out" | tail -1)
like "$PUSHED" '^sha256:' "docker names the pushed digest"
curl -s -o /dev/null -D "$T/reg.h" -u "alice:$PWA" \
    -H "Accept: application/vnd.docker.distribution.manifest.v2+json" "$AREG_URL/v2/dock/clean/manifests/v1"
is "$(header_value "$T/reg.h" docker-content-digest)" "$PUSHED" "the registry holds dock/clean:v1 with that digest"
dk rmi "$CH/dock/clean:v1" >/dev/null 2>&1
ok '! dk image inspect "$CH/dock/clean:v1" >/dev/null 2>&1' "(the local image is gone)"
dk pull "$CH/dock/clean:v1" >"$T/pull.out" 2>&1
is "$?" 0 "docker pull through customs"
[ -s "$T/pull.out" ] && diag "$(tail -3 "$T/pull.out")"
is "$(dk image inspect -f '{{.Id}}' "$CH/dock/clean:v1" 2>/dev/null)" "$CLEAN_ID" "the pulled image is the pushed one (same image id)"
is "$(dk image inspect -f '{{index .RepoDigests 0}}' "$CH/dock/clean:v1" 2>/dev/null)" "$CH/dock/clean@$PUSHED" \
    "and the same manifest digest"

# ---- logout: refused ------------------------------------------------------------------------------
dk logout "$CH" >"$T/logout.out" 2>&1
is "$?" 0 "docker logout"
dk rmi "$CH/dock/clean:v1" >/dev/null 2>&1
dk pull "$CH/dock/clean:v1" >"$T/pull-anon.out" 2>&1
isnt "$?" 0 "after logout the pull through customs is refused"
like "$(cat "$T/pull-anon.out")" '(unauthorized|authentication required|no basic auth credentials|401)' \
    "docker says why ($(tail -1 "$T/pull-anon.out"))"
dk import "$T/clean.tar" "$CH/dock/anon:v1" >/dev/null 2>&1
dk push "$CH/dock/anon:v1" >"$T/push-anon.out" 2>&1
isnt "$?" 0 "after logout a push through customs is refused"
is "$(curl -s -o /dev/null -w '%{http_code}' -u "alice:$PWA" "$AREG_URL/v2/dock/anon/tags/list")" 404 \
    "nothing of it reached the registry"

# ---- a vulnerable image pushed straight, refused on docker pull through customs --------------------
printf '%s\n' "$PWA" | dk login "$RH" -u alice --password-stdin >"$T/login-reg.out" 2>&1 || bail_out "login to the registry: $(cat "$T/login-reg.out")"
dk push "$RH/dock/bad:v1" >"$T/push-bad.out" 2>&1
is "$?" 0 "the vulnerable image pushed straight to the registry"
printf '%s\n' "$PWA" | dk login "$CH" -u alice --password-stdin >/dev/null 2>&1 || bail_out "login again"
is "$(reg_reqs scanner GET /v2/dock/bad/blobs/)" 0 "(customs fetched nothing of it yet)"
dk pull "$CH/dock/bad:v1" >"$T/pull-bad.out" 2>&1
isnt "$?" 0 "docker pull of it through customs is refused"
diag "docker: $(cat "$T/pull-bad.out" | head -c 600)"
like "$(cat "$T/pull-bad.out")" 'CVE-2099-0001' "docker's error output names CVE-2099-0001"
like "$(cat "$T/pull-bad.out")" 'no-critical' "and the policy rule"
ok '[ "$(reg_reqs scanner GET /v2/dock/bad/blobs/)" -ge 2 ]' \
    "customs scanned it with its own user (config and layer GETs by scanner: $(reg_reqs scanner GET /v2/dock/bad/blobs/))"
ok '! dk image inspect "$CH/dock/bad:v1" >/dev/null 2>&1' "no image dock/bad in dockerd through customs"
dk push "$RH/dock/straight:v1" >"$T/push-straight.out" 2>&1
is "$?" 0 "a clean image pushed straight to the registry"
dk pull "$CH/dock/straight:v1" >"$T/pull-straight.out" 2>&1
is "$?" 0 "docker pull of it through customs (scanned on this first pull)"
is "$(dk image inspect -f '{{.Id}}' "$CH/dock/straight:v1" 2>/dev/null)" "$STRAIGHT_ID" "the pulled image is the pushed one"
ok '[ "$(reg_reqs scanner GET /v2/dock/straight/blobs/)" -ge 1 ]' "scanned with customs' own user"

# ---- no secret in customs' log ----------------------------------------------------------------------
ok '[ "$(grep -c "access " "$CUS_LOG")" -gt 10 ]' "(customs logged the traffic: $(grep -c 'access ' "$CUS_LOG") requests)"
is "$(grep -cF -f "$SECRETS" "$CUS_LOG")" 0 "no password or Basic value in customs' log"
is "$(cat "$T"/*.out | grep -cF -f "$SECRETS")" 0 "none in what docker printed"

DK=$DOCKERD_PID
stop_dockerd
ok '! kill -0 "$DK" 2>/dev/null' "dockerd stopped"
alive_any() { local p; for p in "$@"; do kill -0 "$p" 2>/dev/null && return 0; done; return 1; }
ok '[ -n "$DOCKERD_CHILDREN" ] && ! alive_any $DOCKERD_CHILDREN' "and its containerd (${DOCKERD_CHILDREN:-none})"
done_testing
