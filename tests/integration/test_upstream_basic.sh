#!/bin/bash
# tests/integration/test_upstream_basic.sh - customs in front of a
# docker-registry that wants basic authentication (htpasswd), with its own
# identity at the registry (upstream.username / upstream.password_file),
# issue 13:
#   a. skopeo push and pull through customs with a client's credentials
#      (the pulled bytes are the pushed ones; the registry saw the client's
#      user, not customs'); without credentials or with a wrong password the
#      push and the pull are refused with the registry's 401 and its
#      WWW-Authenticate unchanged, also for an image customs already holds
#      (manifest by tag and digest, HEAD, blob, tags, catalog);
#   b. an image with a critical CVE pushed straight to the registry is
#      scanned on its first pull through customs and refused (403 naming the
#      CVE, also in skopeo's error); the registry saw the config and layer
#      GETs made by customs' own user, none by the client; a client without
#      credentials or with a wrong password gets the 401, not the verdict,
#      before and after the scan; a clean image pushed straight pulls fine;
#   c. customs' annotations (SBOM, vulnerability report) are pushed with its
#      own credentials; a client without credentials can neither list the
#      referrers through customs (although customs stored them) nor read
#      the SBOM;
#   d. customs' own password wrong: the scan-on-pull falls back to the
#      client's Authorization, the image is judged, and customs' log says its
#      credentials were refused without printing them;
#   e. no password and no Basic value in customs' logs (level debug), its
#      databases, the admin API (JSON, /metrics, /readyz), any answer a
#      client got, or the errors of a bad configuration; customs' own
#      password has a colon, quotes, a backslash, %41 and UTF-8 in it, and
#      is given inline (upstream.password) to the sync instance;
#   f. background sync (sync.interval 2s, 20 requests/s): images pushed
#      straight (one repository with 106 tags) get verdicts without any pull,
#      one `sync round:` line per round with the registry's exact counts, a
#      second round scans nothing, the rate limit holds, and the denied image
#      is refused on its first pull at once, without a new fetch.
# The registry runs at log level debug here: docker-registry 2.8 names the
# user (auth.user.name) only on error lines at level info, but on every
# storage trace line at debug, which is how the tests tell customs' own
# requests from a client's (reg_reqs in authlib.sh).  TAP.

. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/mkimage.sh"
. "$LIB_DIR/fixtures.sh"
. "$LIB_DIR/authlib.sh"

for c in jq skopeo curl htpasswd sqlite3 base64; do command -v $c >/dev/null || bail_out "$c is required"; done
direct_mode && bail_out "customs' own credentials need customs (CUSTOMS_TEST_DIRECT=1 has none)"
[ -x "$CUSTOMS_BIN" ] || bail_out "customs binary not found: $CUSTOMS_BIN"

MT=application/vnd.oci.image.manifest.v1+json
IDX=application/vnd.oci.image.index.v1+json
SBOM_T=application/vnd.cyclonedx+json
rnd() { head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
PWA=pa-$(rnd)       # alice, the client
PWS="ps-$(rnd):a \"b\\ %41#x'y-é" # scanner, customs' own identity (a colon, quotes, UTF-8...)
BADA=wa-$(rnd)      # a wrong password a client sends
BADS=ws-$(rnd)      # a wrong password customs is configured with
b64() { printf '%s' "$1" | base64 -w0; }
SECRETS=$T/secrets
printf '%s\n' "$PWA" "$PWS" "$BADA" "$BADS" "$(b64 "alice:$PWA")" "$(b64 "scanner:$PWS")" \
    "$(b64 "alice:$BADA")" "$(b64 "scanner:$BADS")" >"$SECRETS"

# ---- the registry: htpasswd (authlib.sh: log level debug) ------------------------
make_htpasswd "$T/htpasswd" alice "$PWA" scanner "$PWS"
start_htpasswd_registry "$T/htpasswd"
RH=127.0.0.1:$AREG_PORT

# sk SKOPEO-ARGS...: skopeo bounded in time, cleartext both ways
# (its own auth file: no login state from elsewhere; not REGISTRY_AUTH_FILE in
# the environment, which docker-registry would read as a config override)
sk() { timeout 120 skopeo copy -q --authfile "$T/skopeo-auth.json" --src-tls-verify=false --dest-tls-verify=false "$@"; }
echo "{}" >"$T/skopeo-auth.json"
# same_blobs OCI_A OCI_B: the two layouts hold the same set of blobs, byte for
#   byte, apart from the index (skopeo rewrites index.json only)
same_blobs() {
    local a b
    a=$(cd "$1/blobs/sha256" && sha256sum * | sort) || return 1
    b=$(cd "$2/blobs/sha256" && sha256sum * | sort) || return 1
    [ -n "$a" ] && [ "$a" = "$b" ]
}
# reg_digest_auth REPO TAG: the digest the registry serves alice for REPO:TAG
reg_digest_auth() {
    curl -s -o /dev/null -D "$T/rd.h" -u "alice:$PWA" -H "Accept: $MT" "$AREG_URL/v2/$1/manifests/$2" &&
        header_value "$T/rd.h" docker-content-digest
}
manifest_of() { jq -r '.manifests[0].digest' "$1/index.json"; }
blobs_of() { # OCI_DIR: the config and layer digests of its (only) manifest
    local m
    m=$(manifest_of "$1") || return 1
    jq -r '.config.digest, .layers[].digest' "$1/blobs/sha256/${m#sha256:}"
}

# ---- images -------------------------------------------------------------------------
# clean: libssl3 at the fixed version; shop: the vulnerable one (CVE-2099-0001)
clean_image() { # DIR MARK: a one-layer clean image tagged v1, prints its digest
    rm -rf "$T/root-$2"
    fixture_debian_base "$T/root-$2" 3.0.13-1~deb12u1 "$2"
    oci_init "$1" && oci_add_layer "$1" "$T/root-$2" && oci_finish "$1" v1
}
CLEAN=$(clean_image "$T/clean" clean) || bail_out "clean image"
STRAIGHT=$(clean_image "$T/straight" straight) || bail_out "second clean image"
SHOP=$(fixture_shop_image "$T/shop") || bail_out "shop image"
fixture_critical_osv "$T/osv.json"

POL=$T/policy.yaml
fixture_policy_no_critical "$POL"
printf '%s\n' "$PWS" >"$T/scanner.pass"
printf '%s\n' "$BADS" >"$T/scanner-bad.pass"
chmod 600 "$T/scanner.pass" "$T/scanner-bad.pass"
# customs_yaml FILE PASSWORD_FILE ADMIN_PORT [EXTRA YAML LINES...]
# (PASSWORD_FILE "inline:PW": the password inline, upstream.password)
customs_yaml() {
    local f=$1 pf=$2 ap=$3
    shift 3
    {
        printf 'log:\n  level: debug\n'
        case $pf in
            inline:*) pf=${pf#inline:} # YAML single quotes: only ' is escaped, as ''
                printf "upstream:\n  username: scanner\n  password: '%s'\n" "${pf//\'/\'\'}" ;;
            *) printf 'upstream:\n  username: scanner\n  password_file: %s\n' "$pf" ;;
        esac
        printf 'admin:\n  listen: 127.0.0.1:%s\n' "$ap"
        printf '%s\n' "$@"
    } >"$f"
}
# new_db N: customs N's database with the vulnerability data, before customs opens it
new_db() {
    "$CUSTOMS_BIN" db import --db "$(cus_db "$1")" "$T/osv.json" >"$T/import-$1.out" 2>&1 ||
        bail_out "db import: $(cat "$T/import-$1.out")"
}

AP1=$(free_port) || bail_out "no free port"
customs_yaml "$T/c1.yaml" "$T/scanner.pass" "$AP1"
new_db 1
CUS_UPSTREAM=$AREG_URL CUSTOMS_POLICY=$POL start_customs -c "$T/c1.yaml"
C1_LOG=$CUS_LOG C1=127.0.0.1:$CUS_PORT C1_URL=$CUS_URL DB1=$(cus_db 1) A1=http://127.0.0.1:$AP1
wait_http "$A1/healthz" "$CUS_PID" || bail_out "admin listener did not start: $(tail -5 "$C1_LOG")"
diag "registry $AREG_URL, customs $C1_URL (admin $A1)"

# =====================================================================================
# a. push and pull with credentials; refused without them
# =====================================================================================
forget_blob_locations
sk --dest-creds "alice:$PWA" "oci:$T/clean:v1" "docker://$C1/app/clean:v1" 2>"$T/a-push.err"
is "$?" 0 "a: skopeo push through customs with alice's credentials"
[ -s "$T/a-push.err" ] && diag "$(head -5 "$T/a-push.err")"
is "$(curl -s -o /dev/null -w '%{http_code}' -u "alice:$PWA" -H "Accept: $MT" "$AREG_URL/v2/app/clean/manifests/v1")" 200 \
    "a: the registry holds app/clean:v1"
is "$(reg_digest_auth app/clean v1)" "$CLEAN" "a: with the pushed digest"
sk --src-creds "alice:$PWA" "docker://$C1/app/clean:v1" "oci:$T/pulled-clean:v1" 2>"$T/a-pull.err"
is "$?" 0 "a: skopeo pull through customs with alice's credentials"
is "$(manifest_of "$T/pulled-clean")" "$CLEAN" "a: the pulled manifest is the pushed one"
ok 'same_blobs "$T/clean" "$T/pulled-clean"' "a: the pulled blobs are the pushed bytes"
# the client's own Authorization went upstream, not customs' identity
ok '[ "$(reg_reqs alice PUT /v2/app/clean/manifests/v1)" -ge 1 ]' "a: the registry saw alice PUT the manifest"
is "$(reg_reqs scanner PUT /v2/app/clean/manifests/v1)" 0 "a: not scanner"
ok '[ "$(reg_reqs alice GET /v2/app/clean/manifests/v1)" -ge 1 ]' "a: the registry saw alice GET it on the pull"
is "$(reg_reqs scanner GET /v2/app/clean/manifests/v1)" 0 "a: not scanner"

# the registry's own challenge, to compare with what customs passes on
curl -s -D "$T/reg401.h" -o /dev/null "$AREG_URL/v2/"
REG_WWW=$(header_value "$T/reg401.h" www-authenticate)
is "$REG_WWW" 'Basic realm="customs-test"' "a: (the registry's challenge)"

forget_blob_locations
sk "oci:$T/clean:v1" "docker://$C1/app/anon:v1" 2>"$T/a-anon-push.err"
isnt "$?" 0 "a: skopeo push without credentials is refused"
like "$(cat "$T/a-anon-push.err")" '(unauthorized|authentication required|401)' "a: skopeo says why ($(head -c 150 "$T/a-anon-push.err" | tr '\n' ' '))"
is "$(curl -s -o /dev/null -w '%{http_code}' -u "alice:$PWA" "$AREG_URL/v2/app/anon/tags/list")" 404 \
    "a: nothing reached the registry under app/anon"
sk "docker://$C1/app/clean:v1" "oci:$T/pulled-anon:v1" 2>"$T/a-anon-pull.err"
isnt "$?" 0 "a: skopeo pull without credentials is refused"
like "$(cat "$T/a-anon-pull.err")" '(unauthorized|authentication required|401)' "a: skopeo says why"
forget_blob_locations
sk --dest-creds "alice:$BADA" "oci:$T/clean:v1" "docker://$C1/app/wrong:v1" 2>"$T/a-wrong-push.err"
isnt "$?" 0 "a: skopeo push with a wrong password is refused"
sk --src-creds "alice:$BADA" "docker://$C1/app/clean:v1" "oci:$T/pulled-wrong:v1" 2>"$T/a-wrong-pull.err"
isnt "$?" 0 "a: skopeo pull with a wrong password is refused"

# what a client without credentials gets, request by request
n=0
check_401() { # DESC CURL-ARGS...: 401 with the registry's WWW-Authenticate, body saved
    local desc=$1 code
    shift
    n=$((n + 1))
    code=$(curl -s -D "$T/e401-$n.h" -o "$T/e401-$n.body" -w '%{http_code}' "$@")
    is "$code" 401 "$desc: 401"
    is "$(header_value "$T/e401-$n.h" www-authenticate)" "$REG_WWW" "$desc: WWW-Authenticate unchanged"
}
check_401 "a: GET /v2/ without credentials" "$C1_URL/v2/"
check_401 "a: manifest GET of an image customs scanned, no credentials" -H "Accept: $MT" "$C1_URL/v2/app/clean/manifests/v1"
ok '! grep -q schemaVersion "$T/e401-$n.body"' "a: the 401 body does not carry the manifest"
check_401 "a: manifest GET by digest, no credentials" -H "Accept: $MT" "$C1_URL/v2/app/clean/manifests/$CLEAN"
check_401 "a: manifest HEAD, no credentials" -I -H "Accept: $MT" "$C1_URL/v2/app/clean/manifests/v1"
LAYER_CLEAN=$(blobs_of "$T/clean" | tail -1)
check_401 "a: layer GET, no credentials" "$C1_URL/v2/app/clean/blobs/$LAYER_CLEAN"
ok '! cmp -s "$T/e401-$n.body" "$T/clean/blobs/sha256/${LAYER_CLEAN#sha256:}"' "a: the 401 body is not the layer"
check_401 "a: upload POST, no credentials" -X POST -H 'Content-Length: 0' "$C1_URL/v2/app/anon/blobs/uploads/"
check_401 "a: manifest GET with a wrong password" -u "alice:$BADA" -H "Accept: $MT" "$C1_URL/v2/app/clean/manifests/v1"
check_401 "a: tags/list without credentials" "$C1_URL/v2/app/clean/tags/list"
check_401 "a: _catalog without credentials" "$C1_URL/v2/_catalog"

# =====================================================================================
# b. pushed straight to the registry, scanned on the first pull with customs' own user
# =====================================================================================
sk --dest-creds "alice:$PWA" "oci:$T/shop:v1" "docker://$RH/app/shop:v1" 2>"$T/b-push.err" || bail_out "push straight: $(cat "$T/b-push.err")"
sk --dest-creds "alice:$PWA" "oci:$T/straight:v1" "docker://$RH/app/straight:v1" 2>"$T/b-push2.err" || bail_out "push straight 2"
is "$(reg_reqs scanner GET /v2/app/shop/blobs/)" 0 "b: before the pull the scanner user fetched nothing of app/shop"
is "$(db_sql 1 "SELECT count(*) FROM images WHERE digest='$SHOP'" 2>&1)" 0 "b: and customs does not know the image"
ALICE_SHOP_BLOBS0=$(reg_reqs alice GET /v2/app/shop/blobs/)
t0=$(date +%s%3N)
code=$(curl -s -o "$T/b-403.body" -D "$T/b-403.h" -w '%{http_code}' -u "alice:$PWA" -H "Accept: $MT" \
    "$C1_URL/v2/app/shop/manifests/v1")
is "$code" 403 "b: first pull (manifest GET, alice) of the vulnerable image: 403"
diag "scanned and refused in $(( $(date +%s%3N) - t0 )) ms; body: $(head -c 300 "$T/b-403.body")"
like "$(cat "$T/b-403.body")" 'CVE-2099-0001' "b: the answer names CVE-2099-0001"
is "$(jq -r '.errors[0].code' "$T/b-403.body" 2>/dev/null)" DENIED "b: as a registry error DENIED"
for b in $(blobs_of "$T/shop"); do
    ok '[ "$(reg_reqs scanner GET "/v2/app/shop/blobs/$b")" -ge 1 ]' "b: the registry saw user scanner GET blob ${b:7:12}"
done
is "$(reg_reqs alice GET /v2/app/shop/blobs/)" "$ALICE_SHOP_BLOBS0" "b: and no blob GET by alice (customs used its own user)"
sk --src-creds "alice:$PWA" "docker://$C1/app/shop:v1" "oci:$T/pulled-shop:v1" 2>"$T/b-skopeo.err"
isnt "$?" 0 "b: skopeo pull of it through customs fails"
like "$(cat "$T/b-skopeo.err")" 'CVE-2099-0001' "b: and skopeo shows the reason"
check_401 "b: manifest GET of the denied image without credentials (the registry's 401, not the verdict)" \
    -H "Accept: $MT" "$C1_URL/v2/app/shop/manifests/v1"
ok '! grep -q CVE-2099 "$T/e401-$n.body"' "b: the anonymous answer does not reveal the finding"
# an unscanned vulnerable image asked for first by clients that may not pull it:
# they get the registry's 401, never customs' verdict (found with its own user)
sk --dest-creds "alice:$PWA" "oci:$T/shop:v1" "docker://$RH/app/secret:v1" 2>"$T/b-push3.err" || bail_out "push straight 3"
check_401 "b: first manifest GET of an unscanned vulnerable image, no credentials" -H "Accept: $MT" "$C1_URL/v2/app/secret/manifests/v1"
ok '! grep -q CVE-2099 "$T/e401-$n.body"' "b: no finding in it"
check_401 "b: manifest HEAD of it, no credentials" -I -H "Accept: $MT" "$C1_URL/v2/app/secret/manifests/v1"
check_401 "b: manifest GET of it with a wrong password" -u "alice:$BADA" -H "Accept: $MT" "$C1_URL/v2/app/secret/manifests/v1"
ok '! grep -q CVE-2099 "$T/e401-$n.body"' "b: no finding in it"
diag "blob GETs by scanner for app/secret after those: $(reg_reqs scanner GET /v2/app/secret/blobs/)"
is "$(curl -s -o /dev/null -w '%{http_code}' -u "alice:$PWA" -H "Accept: $MT" "$C1_URL/v2/app/secret/manifests/v1")" 403 \
    "b: (alice gets the 403 for it)"
sk --src-creds "alice:$PWA" "docker://$C1/app/straight:v1" "oci:$T/pulled-straight:v1" 2>"$T/b-pull2.err"
is "$?" 0 "b: a clean image pushed straight pulls through customs"
is "$(manifest_of "$T/pulled-straight" 2>/dev/null)" "$STRAIGHT" "b: with its digest"
ok 'same_blobs "$T/straight" "$T/pulled-straight"' "b: and its bytes"
for b in $(blobs_of "$T/straight" | head -1); do
    ok '[ "$(reg_reqs scanner GET "/v2/app/straight/blobs/$b")" -ge 1 ]' "b: its config was scanned with the scanner user"
done

# =====================================================================================
# c. annotations pushed with customs' own credentials; referrers need credentials
# =====================================================================================
idx_count() { # REPO DIGEST: entries of the referrers tag index, as alice
    local c
    c=$(curl -sf -m 5 -u "alice:$PWA" -H "Accept: $IDX" "$AREG_URL/v2/$1/manifests/sha256-${2#sha256:}" |
        jq '.manifests | length' 2>/dev/null)
    echo "${c:-0}"
}
wait_until 20 '[ "$(idx_count app/clean "$CLEAN")" = 2 ]'
is "$(idx_count app/clean "$CLEAN")" 2 "c: the registry holds customs' two artifacts for app/clean"
ok '[ "$(reg_reqs scanner PUT /v2/app/clean/manifests/)" -ge 3 ]' \
    "c: the registry saw the manifest PUTs (2 artifacts, the tag index) made by user scanner ($(reg_reqs scanner PUT /v2/app/clean/manifests/))"
ok '[ "$(reg_reqs scanner PUT /v2/app/clean/blobs/uploads/)" -ge 1 ]' "c: and blob uploads by scanner"
is "$(reg_reqs alice PUT /v2/app/clean/manifests/sha256-)" 0 "c: none of them with alice's credentials"
is "$(db_sql 1 "SELECT count(*) FROM referrers WHERE subject='$CLEAN' AND origin='customs'")" 2 \
    "c: customs stored both as referrers"
check_401 "c: referrers list without credentials" "$C1_URL/v2/app/clean/referrers/$CLEAN"
SBOM=$(db_sql 1 "SELECT digest FROM referrers WHERE subject='$CLEAN' AND origin='customs' AND artifact_type='$SBOM_T'" 2>/dev/null)
[ -n "$SBOM" ] || SBOM=$(curl -sf -u "alice:$PWA" -H "Accept: $IDX" "$AREG_URL/v2/app/clean/manifests/sha256-${CLEAN#sha256:}" |
    jq -r --arg t "$SBOM_T" '[.manifests[] | select(.artifactType == $t)][0].digest')
like "$SBOM" '^sha256:' "c: (the SBOM's digest)"
ok '! grep -qF "$SBOM" "$T/e401-$n.body"' "c: the 401 does not list the SBOM"
code=$(curl -s -o "$T/c-ref.json" -w '%{http_code}' -u "alice:$PWA" "$C1_URL/v2/app/clean/referrers/$CLEAN")
is "$code" 200 "c: with alice's credentials: 200"
is "$(jq -r --arg d "$SBOM" '[.manifests[] | select(.digest == $d)] | length' "$T/c-ref.json")" 1 "c: listing the SBOM"
check_401 "c: the SBOM manifest without credentials" -H "Accept: $MT" "$C1_URL/v2/app/clean/manifests/$SBOM"

# =====================================================================================
# d. customs' own password wrong: falls back to the client's Authorization
# =====================================================================================
AP3=$(free_port) || bail_out "no free port"
customs_yaml "$T/c3.yaml" "$T/scanner-bad.pass" "$AP3"
new_db 2
CUS_UPSTREAM=$AREG_URL CUSTOMS_POLICY=$POL start_customs -c "$T/c3.yaml"
C3_LOG=$CUS_LOG C3_URL=$CUS_URL DB3=$(cus_db 2)
sk --dest-creds "alice:$PWA" "oci:$T/shop:v1" "docker://$RH/app/shop-d:v1" 2>"$T/d-push.err" || bail_out "push straight (d)"
a0=$(reg_reqs alice GET /v2/app/shop-d/blobs/)
code=$(curl -s -o "$T/d-403.body" -w '%{http_code}' -u "alice:$PWA" -H "Accept: $MT" "$C3_URL/v2/app/shop-d/manifests/v1")
is "$code" 403 "d: own credentials refused: the vulnerable image is still judged (403)"
like "$(cat "$T/d-403.body")" 'CVE-2099-0001' "d: naming the CVE"
is "$(db_sql 2 "SELECT count(*) FROM images WHERE digest='$SHOP'" 2>&1)" 1 "d: customs recorded the scanned image"
for b in $(blobs_of "$T/shop"); do
    ok '[ "$(reg_reqs alice GET "/v2/app/shop-d/blobs/$b")" -ge 1 ]' "d: the registry saw alice GET blob ${b:7:12} (the client's Authorization)"
done
diag "alice's blob GETs of app/shop-d: before $a0, after $(reg_reqs alice GET /v2/app/shop-d/blobs/)"
is "$(reg_reqs scanner GET /v2/app/shop-d/blobs/)" 0 "d: none as scanner"
CRED_LINES=$(grep -iE 'credential|password|upstream.username|scanner' "$C3_LOG" | grep -iE 'refused|rejected|denied|invalid|401|403|unauthori' | head -5)
diag "customs' log about its credentials:" "${CRED_LINES:-(nothing)}"
isnt "$CRED_LINES" "" "d: customs' log says its own credentials were refused"
ok '! grep -qF -f "$SECRETS" <<<"$CRED_LINES"' "d: without printing them"
# the same image with no client credentials: the registry's 401, no verdict
check_401 "d: manifest GET without credentials (own ones wrong)" -H "Accept: $MT" "$C3_URL/v2/app/shop-d/manifests/v1"

# =====================================================================================
# f. background sync: verdicts without any pull
# =====================================================================================
# sync/many: 105 tags t000..t104 of one clean image and zz-page2 of another
# (docker-registry 2.8 ignores n= on tags/list and answers all 106 at once, so
# this is not a pagination test: test_sync.sh pages _catalog, which needs 100
# repositories, too slow here at 20 requests/s); sync/bad: the vulnerable
# image; sync/ok: a clean one
MANY=$(clean_image "$T/many" many) || bail_out "image many"
PAGE2=$(clean_image "$T/page2" page2) || bail_out "image page2"
SOK=$(clean_image "$T/sok" sok) || bail_out "image sok"
sk --dest-creds "alice:$PWA" "oci:$T/many:v1" "docker://$RH/sync/many:t000" 2>"$T/f-push.err" || bail_out "push sync/many"
urls=()
for i in $(seq 1 104); do urls+=("$AREG_URL/v2/sync/many/manifests/t$(printf %03d "$i")"); done
curl -sf -o /dev/null -u "alice:$PWA" -X PUT -H "Content-Type: $MT" \
    --data-binary "@$T/many/blobs/sha256/${MANY#sha256:}" "${urls[@]}" || bail_out "tagging sync/many"
sk --dest-creds "alice:$PWA" "oci:$T/page2:v1" "docker://$RH/sync/many:zz-page2" 2>>"$T/f-push.err" || bail_out "push page2"
sk --dest-creds "alice:$PWA" "oci:$T/shop:v1" "docker://$RH/sync/bad:v1" 2>>"$T/f-push.err" || bail_out "push sync/bad"
sk --dest-creds "alice:$PWA" "oci:$T/sok:v1" "docker://$RH/sync/ok:v1" 2>>"$T/f-push.err" || bail_out "push sync/ok"
is "$(curl -s -u "alice:$PWA" "$AREG_URL/v2/sync/many/tags/list" | jq '.tags | length')" 106 "f: (sync/many has 106 tags)"
NREPOS=$(curl -s -u "alice:$PWA" "$AREG_URL/v2/_catalog?n=1000" | jq '.repositories | length')
NTAGS=0
for r in $(curl -s -u "alice:$PWA" "$AREG_URL/v2/_catalog?n=1000" | jq -r '.repositories[]'); do
    NTAGS=$((NTAGS + $(curl -s -u "alice:$PWA" "$AREG_URL/v2/$r/tags/list" |
        jq '[.tags[] | select(test("^sha256-[0-9a-f]{64}$") | not)] | length')))
done
# (tags of the referrers tag schema, the first customs' SBOMs and reports, are
# referrer indexes, not images: the sync skips them)
diag "the registry lists $NREPOS repositories, $NTAGS tags of images"

AP2=$(free_port) || bail_out "no free port"
# this one has its password inline (upstream.password), and no annotations: its SBOMs would replace the first
# customs' in the registry
customs_yaml "$T/c2.yaml" "inline:$PWS" "$AP2" "sync:" "  interval: 2s" "  requests_per_second: 20" \
    "annotations:" "  enabled: false"
new_db 3
SYNC_LINE0=$(($(wc -l <"$AREG_LOG") + 1))
tsync=$(date +%s)
CUS_UPSTREAM=$AREG_URL CUSTOMS_POLICY=$POL start_customs -c "$T/c2.yaml"
C2_LOG=$CUS_LOG C2_URL=$CUS_URL DB2=$(cus_db 3) A2=http://127.0.0.1:$AP2
wait_http "$A2/healthz" "$CUS_PID" || bail_out "admin listener 2 did not start"
verdict() { curl -s "$A2/api/image?repository=$1&reference=$2" | jq -r '.verdict.decision // empty' 2>/dev/null; }
wait_until 45 '[ -n "$(verdict sync/many "$PAGE2")" ] && [ -n "$(verdict sync/bad "$SHOP")" ] &&
    [ -n "$(verdict sync/ok "$SOK")" ] && [ -n "$(verdict sync/many "$MANY")" ]'
diag "verdicts known $(( $(date +%s) - tsync )) s after customs started"
is "$(verdict sync/bad "$SHOP")" deny "f: sync/bad: deny, without any pull"
is "$(verdict sync/ok "$SOK")" allow "f: sync/ok: allow"
is "$(verdict sync/many "$MANY")" allow "f: sync/many (105 tags of one image): allow"
is "$(verdict sync/many "$PAGE2")" allow "f: the other image of sync/many (tag zz-page2 of 106): allow"
is "$(verdict app/straight "$STRAIGHT")" allow \
    "f: an image pushed earlier (app/straight) has a verdict too"
is "$(grep -c 'access .* /v2/sync/' "$C2_LOG")" 0 "f: no client request for sync/* reached customs"
is "$(reg_reqs alice GET /v2/sync/bad/manifests/) $(reg_reqs alice GET /v2/sync/bad/blobs/)" "0 0" \
    "f: the registry saw no manifest or blob GET of sync/bad by alice"
ok '[ "$(reg_reqs scanner "" /v2/_catalog)" -ge 1 ]' "f: the registry saw _catalog listed by user scanner"
ok '[ "$(reg_reqs scanner GET "/v2/sync/many/tags/list")" -ge 1 ]' "f: and sync/many's tags"
wait_until 10 'grep -q "sync round: repositories=" "$C2_LOG"'
ROUND=$(grep -m1 'sync round: repositories=' "$C2_LOG")
diag "first round: ${ROUND:-(none)}"
like "$ROUND" 'sync round: repositories=[0-9]+ tags=[0-9]+ images=[0-9]+ scanned=[0-9]+ known=[0-9]+ failed=[0-9]+ ms=[0-9]+' \
    "f: a 'sync round:' line with its counts"
like "$ROUND" "repositories=$NREPOS " "f: the round saw every repository of the catalog ($NREPOS)"
like "$ROUND" " tags=$NTAGS " "f: and every tag ($NTAGS)"
like "$ROUND" ' failed=0 ' "f: nothing failed"
# the next round, 2 s after this one ended (a round takes its requests / 20 s)
wait_until 30 '[ "$(grep -c "sync round: repositories=" "$C2_LOG")" -ge 2 ]'
ok '[ "$(grep -c "sync round: repositories=" "$C2_LOG")" -ge 2 ]' \
    "f: rounds repeat ($(grep -c 'sync round: repositories=' "$C2_LOG") so far, $(( $(date +%s) - tsync )) s)"
LAST=$(grep 'sync round: repositories=' "$C2_LOG" | sed -n 2p)
like "$LAST" ' scanned=0 ' "f: the second round scans nothing new (${LAST#* info })"
like "$LAST" ' failed=0 ' "f: and fails nothing"
RMAX=$(reg_rate_max scanner "$SYNC_LINE0")
# 20/s, with room for a bucket's burst at the start of a second: unlimited,
# the 106 manifests of sync/many alone would come within a second or two
ok '[ "$RMAX" -ge 1 ] && [ "$RMAX" -le 40 ]' "f: the scanner user made at most 40 GET/HEAD in any second while syncing (rate 20/s): $RMAX"
# the shop image is in app/shop too: the sync fetched its blobs from whichever
# repository it met first
shop_gets() { local b n=0; for b in $(blobs_of "$T/shop"); do n=$((n + $(reg_reqs scanner GET "/blobs/$b" "$SYNC_LINE0"))); done; echo $n; }
SCAN_BAD1=$(shop_gets)
t0=$(date +%s%3N)
code=$(curl -s -o "$T/f-403.body" -w '%{http_code}' -u "alice:$PWA" -H "Accept: $MT" "$C2_URL/v2/sync/bad/manifests/v1")
ms=$(( $(date +%s%3N) - t0 ))
is "$code" 403 "f: the first pull of sync/bad is refused"
like "$(cat "$T/f-403.body")" 'CVE-2099-0001' "f: naming the CVE"
ok '[ "$ms" -lt 2000 ]' "f: at once (${ms} ms)"
is "$(shop_gets)" "$SCAN_BAD1" "f: with no new blob fetch (no scan on the pull)"
is "$(reg_reqs alice GET /v2/sync/bad/blobs/)" 0 "f: nor any by alice"
ok '[ "$SCAN_BAD1" -ge 2 ]' "f: the sync had fetched its config and layers as scanner ($SCAN_BAD1 GETs)"
sk --src-creds "alice:$PWA" "docker://${C2_URL#http://}/sync/many:zz-page2" "oci:$T/f-pull:v1" 2>"$T/f-pull.err"
is "$(manifest_of "$T/f-pull" 2>/dev/null)" "$PAGE2" "f: a synced clean image pulls through customs"

# =====================================================================================
# e. no secret anywhere customs speaks
# =====================================================================================
: >"$T/admin-all.txt"
for p in /api/summary /api/images /api/repositories '/api/image?repository=app/shop&reference=v1' \
    '/api/image?repository=app/clean&reference=v1' '/api/decisions?limit=500' /api/events /api/vulndb /api/policy \
    /readyz /metrics; do
    for a in "$A1" "$A2"; do
        c=$(curl -s -o "$T/admin.out" -w '%{http_code}' "$a$p")
        [ "$c" = 200 ] || diag "admin $a$p: $c"
        cat "$T/admin.out" >>"$T/admin-all.txt"
    done
done
ok '[ "$(grep -c . "$T/admin-all.txt")" -gt 20 ]' "e: (the admin API answered: $(wc -c <"$T/admin-all.txt") bytes)"
like "$(cat "$T/admin-all.txt")" 'CVE-2099-0001' "e: (and says what it knows)"
is "$(curl -s "$A1/readyz" | jq -c '[.ready, .checks.upstream]')" '[true,"ok"]' \
    "e: /readyz: ready, the upstream ok (its 401 on /v2/ is an answer)"
leaks() { grep -lF -f "$SECRETS" "$@" 2>/dev/null; }
is "$(leaks "$T/admin-all.txt")" "" "e: no password or Basic value in the admin API's answers"
is "$(leaks "$C1_LOG" "$C2_LOG" "$C3_LOG")" "" "e: none in customs' logs (level debug)"
ok '[ "$(wc -l <"$C1_LOG")" -gt 20 ]' "e: (customs logged: $(wc -l <"$C1_LOG") lines)"
is "$(leaks "$T"/*.body "$T"/*.h "$T"/*.err)" "" "e: none in the error bodies and headers clients got"
for n in 1 2 3; do db_dump "$n" >"$T/db-$n.dump" 2>"$T/db-$n.dump.err" || diag "db_dump $n: $(cat "$T/db-$n.dump.err")"; done
ok '[ -s "$T/db-1.dump" ] && [ -s "$T/db-2.dump" ] && [ -s "$T/db-3.dump" ]' "e: customs' three databases dumped"
is "$(leaks "$T/db-1.dump" "$T/db-2.dump" "$T/db-3.dump")" "" "e: none in customs' databases"
for s in $(cat "$SECRETS"); do
    if grep -qF "$s" "$C1_LOG" "$C2_LOG" "$C3_LOG" "$T/admin-all.txt" "$T/db-1.dump" "$T/db-2.dump" "$T/db-3.dump" 2>/dev/null; then
        diag "leaked: ${s:0:6}... in $(grep -lF "$s" "$C1_LOG" "$C2_LOG" "$C3_LOG" "$T/admin-all.txt" "$T/db-1.dump" "$T/db-2.dump" "$T/db-3.dump" | tr '\n' ' ')"
    fi
done
# a config error next to an inline password does not print the password
printf "upstream:\n  url: %s\n  username: scanner\n  password: '%s'\n  pasword_file: /nonexistent\n" \
    "$AREG_URL" "${PWS//\'/\'\'}" >"$T/bad.yaml"
timeout 10 "$CUSTOMS_BIN" serve --listen "127.0.0.1:$(free_port)" --db "$T/bad.db" -c "$T/bad.yaml" >"$T/bad-config.err" 2>&1
rc=$?
ok '[ "$rc" != 0 ] && [ "$rc" != 124 ]' "e: a misspelt key next to an inline password: customs refuses to start (rc=$rc)"
like "$(cat "$T/bad-config.err")" 'pasword_file' "e: naming the key"
is "$(leaks "$T/bad-config.err")" "" "e: without the password"
printf 'upstream:\n  url: %s\n  username: scanner\n  password_file: %s\n' "$AREG_URL" "$T/nonexistent.pass" >"$T/nofile.yaml"
timeout 10 "$CUSTOMS_BIN" serve --listen "127.0.0.1:$(free_port)" --db "$T/nofile.db" -c "$T/nofile.yaml" >"$T/nofile.err" 2>&1
rc=$?
ok '[ "$rc" != 0 ] && [ "$rc" != 124 ]' "e: a password file that does not exist: customs refuses to start (rc=$rc)"
like "$(cat "$T/nofile.err")" 'nonexistent.pass' "e: naming the file ($(head -c 160 "$T/nofile.err"))"
# a sanity check of the check: the secrets are where they must be
ok '[ "$(leaks "$T/scanner.pass")" = "$T/scanner.pass" ]' "e: (the secret list matches the password file)"

done_testing
