#!/bin/bash
# tests/integration/test_upstream_redirect.sh - customs' scan-on-pull in
# front of a registry that answers blob GETs with 307 to another host (ACR,
# S3- or Azure-backed registries: signed URLs on object storage).
#
# The upstream is redirect_front.py: a reverse proxy in front of a
# docker-registry with htpasswd auth (users alice and scanner) that answers
# every authorized blob GET with a 307 to a "blob store" on two other
# loopback ports (other origins); both log every request as JSON.
#   1. images pushed STRAIGHT to the registry (never through customs or the
#      front): one with a critical CVE, clean ones, and two vulnerable ones
#      for the loop;
#   2. customs (upstream.username scanner, upstream.password_file) scans on
#      first pull: it follows the 307s, the blob store sees its GETs for the
#      config and every layer with NO credential header, the front saw them
#      WITH one (scanner's); the vulnerable image is refused with the CVE,
#      a clean one pulls byte-exact;
#   3. a client's own blob GET through customs gets the 307 back unchanged,
#      and customs does not follow it;
#   4. other redirect shapes: a relative Location on the front's own origin,
#      a relative Location on the store's origin (must resolve against the
#      store, not the front), a chain of two hops across two origins; a loop:
#      the scan fails naming the reason, customs stays up, the policy's
#      on_error decides (deny, then allow: served but marked unscanned);
#      once the loop is gone, the next pull scans what could not be fetched
#      (the loop images are vulnerable: they must be refused then);
#   5. no password (nor its Basic encoding) in customs' log.
# TAP.

. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/mkimage.sh"
. "$LIB_DIR/fixtures.sh"
. "$LIB_DIR/authlib.sh"

for c in jq skopeo python3 curl htpasswd base64; do command -v $c >/dev/null || bail_out "$c is required"; done
direct_mode && bail_out "the redirect checks need customs (CUSTOMS_TEST_DIRECT=1 has none)"

MT=application/vnd.oci.image.manifest.v1+json
FIXED=3.0.13-1~deb12u1                       # openssl without CVE-2099-0001
VULN=3.0.11-1~deb12u2                        # openssl with it
# random passwords: finding one in a log can only be a leak
APW=alice-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
SPW=scanner-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
A_B64=$(printf 'alice:%s' "$APW" | base64 -w0)
S_B64=$(printf 'scanner:%s' "$SPW" | base64 -w0)

make_htpasswd "$T/htpasswd" alice "$APW" scanner "$SPW"
start_htpasswd_registry "$T/htpasswd"

# ---- the redirecting front and its blob store ---------------------------------------
RF=$T/redirect
mkdir -p "$RF"
python3 "$LIB_DIR/redirect_front.py" --registry "$AREG_URL" --storage "$AREG_DIR/data" --dir "$RF" \
    >"$RF/stderr" 2>&1 &
RF_PID=$!
_LIB_PIDS+=("$RF_PID")
wait_until "$WAIT_SECS" '[ -e "$RF/ready" ] || ! kill -0 "$RF_PID" 2>/dev/null'
[ -e "$RF/ready" ] || bail_out "redirect_front.py did not start: $(tail -5 "$RF/stderr")"
read -r FRONT_PORT STORE_A STORE_B <"$RF/ports"
FRONT=http://127.0.0.1:$FRONT_PORT
set_mode() { echo "$1" >"$RF/mode"; }
set_mode absolute

# ---- log queries -----------------------------------------------------------------------
# JSON lines of a log (a line being written is skipped, not an error)
jl() { jq -cR 'fromjson? // empty' "$1" 2>/dev/null; }
# store_n LISTENER KIND DIGEST STATUS: customs' requests to the blob store
#   for /KIND/DIGEST answered STATUS
store_n() {
    jl "$RF/store.log" | jq -c --arg l "$1" --arg p "/$2/$3?" --argjson s "$4" \
        'select((.ua | startswith("customs/")) and .listener == $l and (.path | startswith($p)) and .status == $s)' | wc -l
}
# store_customs_total: every request customs made to the blob store
store_customs_total() { jl "$RF/store.log" | jq -c 'select(.ua | startswith("customs/"))' | wc -l; }
# store_leaks: customs' blob-store requests that carried a credential header,
#   or whose headers hold a password or its Basic encoding anywhere
store_leaks() {
    jl "$RF/store.log" | jq -c --arg a "$APW" --arg s "$SPW" --arg ab "$A_B64" --arg sb "$S_B64" '
        select(.ua | startswith("customs/")) |
        select(any(.headers[]; (.[0] | ascii_downcase) as $n |
            $n == "authorization" or $n == "proxy-authorization" or $n == "cookie" or
            (.[1] | contains($a) or contains($s) or contains($ab) or contains($sb))))' | wc -l
}
# front_customs PATH STATUS [AUTH]: customs' requests to the front for PATH
#   (exact, query ignored) answered STATUS [with auth true/false]
front_customs() {
    jl "$RF/front.log" | jq -c --arg p "$1" --argjson s "$2" --arg a "${3:-any}" '
        select((.ua | startswith("customs/")) and ((.path | split("?"))[0] == $p) and .status == $s
               and ($a == "any" or (.auth | tostring) == $a))' | wc -l
}
# blobs_of OCI_DIR: the config digest, then every layer digest
blobs_of() {
    local m
    m=$(jq -r '.manifests[0].digest' "$1/index.json")
    jq -r '.config.digest, .layers[].digest' "$1/blobs/sha256/${m#sha256:}"
}
# pull_manifest REPO [CURL ARGS]: GET REPO:v1's manifest through customs as
#   alice; body in $T/m.body, headers in $T/m.hdr; prints the status
pull_manifest() {
    local repo=$1
    shift
    curl -s -m 90 -u "alice:$APW" -H "Accept: $MT" -D "$T/m.hdr" -o "$T/m.body" -w '%{http_code}' "$@" \
        "$CUS_URL/v2/$repo/manifests/v1"
}

# ---- 1. images pushed straight to the authenticated registry ----------------------------
IMG_SHOP=$T/img-shop
fixture_shop_image "$IMG_SHOP" >/dev/null || bail_out "cannot build the shop image"
# deb_image NAME OPENSSL_VERSION: Debian 12 with that openssl, marked NAME so
#   that no two images share a layer (a layer scanned once is never fetched
#   again)
deb_image() {
    fixture_debian_base "$T/root-$1" "$2" "$1" &&
        oci_init "$T/img-$1" && oci_add_layer "$T/img-$1" "$T/root-$1" && oci_finish "$T/img-$1" v1 >/dev/null
}
IMAGES="clean rel rels chain loop loop2"
for n in clean rel rels chain; do deb_image "$n" "$FIXED" || bail_out "cannot build image $n"; done
# the loop images are vulnerable: once the loop is gone, a scan must find it
for n in loop loop2; do deb_image "$n" "$VULN" || bail_out "cannot build image $n"; done

direct_push() { # OCI_DIR REPO
    timeout 120 skopeo copy -q --dest-tls-verify=false --dest-creds "alice:$APW" \
        "oci:$1:v1" "docker://127.0.0.1:$AREG_PORT/$2:v1" >"$T/push.out" 2>&1
}
direct_push "$IMG_SHOP" team/shop
is "$?" 0 "team/shop:v1 (libssl3 with CVE-2099-0001) pushed straight to the htpasswd registry"
failed=""
for n in $IMAGES; do direct_push "$T/img-$n" "team/$n" || failed="$failed $n"; done
is "$failed" "" "the other images pushed straight too ($IMAGES)"
is "$(reg_digest "$AREG_PORT" team/shop v1)" "" "the registry refuses an anonymous manifest GET (authentication is on)"
# (customs' requests are told apart by the front's log of the Basic user)
ok 'grep "msg=\"response completed\"" "$AREG_LOG" | grep "method=PUT" | grep "uri=/v2/team/shop/manifests/v1 " | grep -q "status=201"' \
    "the registry logged the manifest PUT of team/shop:v1 (201)"
is "$(jl "$RF/front.log" | wc -l)" 0 "nothing went through the front yet"

# the front: a blob GET with credentials is a 307 to the store, without is the registry's 401
L0=$(blobs_of "$IMG_SHOP" | sed -n 2p)
code=$(curl -s -o /dev/null -D "$T/f.hdr" -w '%{http_code}' "$FRONT/v2/team/shop/blobs/$L0")
is "$code $(header_value "$T/f.hdr" www-authenticate)" '401 Basic realm="customs-test"' \
    "front: an anonymous blob GET gets the registry's 401 and challenge"
code=$(curl -s -o /dev/null -D "$T/f.hdr" -w '%{http_code}' -u "alice:$APW" "$FRONT/v2/team/shop/blobs/$L0")
like "$code $(header_value "$T/f.hdr" location)" "^307 http://127\.0\.0\.1:$STORE_A/blob/$L0\?sig=[0-9a-f]{32}\$" \
    "front: alice's blob GET is a 307 to the store (another origin) with a signature"
is "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$STORE_A/blob/$L0?sig=forged")" 403 \
    "store: a forged signature is refused (the 307 is the only way in)"

# ---- 2. customs with its own credentials, scan on first pull ------------------------------
POL=$T/policy.yaml
write_policy() { # ON_ERROR
    printf '%s\n' "mode: enforce" "unscanned: scan" "on_error: $1" "rules:" "  - name: no-critical" \
        "    repositories: [\"**\"]" "    deny:" "      severity: critical" >"$POL.tmp" && mv "$POL.tmp" "$POL"
}
write_policy deny
printf '%s\n' "$SPW" >"$T/scanner.pass"
chmod 600 "$T/scanner.pass"
cat >"$T/customs.yaml" <<YAML
upstream:
  url: $FRONT
  username: scanner
  password_file: $T/scanner.pass
YAML
CUS_UPSTREAM=$FRONT CUSTOMS_POLICY=$POL start_customs -c "$T/customs.yaml"
DB=$(cus_db 1)
fixture_critical_osv "$T/osv.json"
"$CUSTOMS_BIN" db import --db "$DB" "$T/osv.json" >"$T/import.out" 2>&1 || bail_out "import: $(cat "$T/import.out")"

code=$(pull_manifest team/shop)
is "$code" 403 "alice's first pull of team/shop:v1 through customs: refused after the scan"
like "$(jq -r '.errors[0].message' "$T/m.body" 2>/dev/null)" "CVE-2099-0001" "the answer names CVE-2099-0001"
for d in $(blobs_of "$IMG_SHOP"); do
    is "$(store_n A blob "$d" 200)" 1 "store: customs fetched ${d:7:12} (config or layer) once, via the 307"
    ok '[ "$(front_customs "/v2/team/shop/blobs/$d" 307 true)" -ge 1 ]' \
        "front: customs' GET of ${d:7:12} carried Authorization and was redirected"
done
users=$(jl "$RF/front.log" | jq -r 'select((.ua | startswith("customs/")) and .status == 307) | .auth_user' | sort -u | tr '\n' ' ')
is "$users" "scanner " "front: customs' blob GETs used its own identity (scanner)"
ok '[ "$(store_customs_total)" -ge 3 ]' "store: customs' requests are in its log (the leak check below has data)"
is "$(store_leaks)" 0 "store: none of customs' requests carried Authorization, Proxy-Authorization, Cookie or a password"
skopeo copy -q --src-tls-verify=false --src-creds "alice:$APW" "docker://127.0.0.1:$CUS_PORT/team/shop:v1" \
    "oci:$T/pulled-shop:x" >"$T/pull-shop.out" 2>&1
isnt "$?" 0 "skopeo's pull of team/shop:v1 through customs fails"
like "$(cat "$T/pull-shop.out")" "CVE-2099-0001" "and skopeo's error names the CVE"

# the clean image: scanned the same way, then pulled whole and byte-exact
CLEAN_D=$(jq -r '.manifests[0].digest' "$T/img-clean/index.json")
rm -rf "$T/pulled-clean"
timeout 120 skopeo copy -q --src-tls-verify=false --src-creds "alice:$APW" \
    "docker://127.0.0.1:$CUS_PORT/team/clean:v1" "oci:$T/pulled-clean:x" >"$T/pull-clean.out" 2>&1
is "$?" 0 "skopeo pulls the clean team/clean:v1 through customs"
is "$(jq -r '.manifests[0].digest' "$T/pulled-clean/index.json" 2>/dev/null)" "$CLEAN_D" \
    "the pulled manifest is the pushed one, byte for byte"
for d in $(blobs_of "$T/img-clean"); do
    is "$(sha256_of "$T/pulled-clean/blobs/sha256/${d#sha256:}" 2>/dev/null)" "$d" "pulled blob ${d:7:12} has its digest"
    is "$(store_n A blob "$d" 200)" 1 "store: customs fetched ${d:7:12} of team/clean for the scan"
done
code=$(pull_manifest team/clean)
is "$code $(header_value "$T/m.hdr" x-customs-verdict)" "200 allow" "team/clean:v1: 200, X-Customs-Verdict: allow"

# ---- 3. a client's blob GET: the 307 goes back to the client, unfollowed -----------------
CL=$(blobs_of "$T/img-clean" | sed -n 2p)
before=$(store_customs_total)
code=$(curl -s -m 30 -u "alice:$APW" -D "$T/c.hdr" -o "$T/c.body" -w '%{http_code}' "$CUS_URL/v2/team/clean/blobs/$CL")
loc=$(header_value "$T/c.hdr" location)
is "$code" 307 "alice's blob GET through customs is answered 307"
front_loc=$(jl "$RF/front.log" | jq -r --arg p "/v2/team/clean/blobs/$CL" 'select(.path == $p and .status == 307) | .location' | tail -1)
is "$loc" "$front_loc" "with the front's Location, unchanged (signature included)"
like "$loc" "^http://127\.0\.0\.1:$STORE_A/blob/$CL\?sig=" "which points at the blob store"
sleep 1 # a follow would be immediate; give a wrong one the chance to show
is "$(store_customs_total)" "$before" "customs did not fetch the redirect target itself"
curl -s -m 30 -L -u "alice:$APW" -o "$T/c.blob" "$CUS_URL/v2/team/clean/blobs/$CL"
is "$(sha256_of "$T/c.blob")" "$CL" "the client following the 307 gets the blob's bytes"

# ---- 4. other redirect shapes ------------------------------------------------------------
# relative Location on the front's own origin: followed (Authorization may go: same origin)
set_mode relative
code=$(pull_manifest team/rel)
is "$code $(header_value "$T/m.hdr" x-customs-verdict)" "200 allow" "relative Location (same origin): scanned, allowed"
n=0
for d in $(blobs_of "$T/img-rel"); do
    [ "$(jl "$RF/front.log" | jq -c --arg p "/_signed/$d?" 'select((.ua | startswith("customs/")) and (.path | startswith($p)) and .status == 200)' | wc -l)" = 1 ] && n=$((n + 1))
done
is "$n" "$(blobs_of "$T/img-rel" | wc -l)" "front: customs resolved /_signed/<digest> against the front, for config and layer"

# relative Location on the store's origin: must resolve against the store
set_mode relative-store
code=$(pull_manifest team/rels)
is "$code $(header_value "$T/m.hdr" x-customs-verdict)" "200 allow" "relative Location on the store: scanned, allowed"
for d in $(blobs_of "$T/img-rels"); do
    is "$(store_n A r "$d" 307) $(store_n A blob "$d" 200)" "1 1" "store: /r/ then /blob/ for ${d:7:12}"
done
is "$(jl "$RF/front.log" | jq -c 'select(.path | startswith("/blob/"))' | wc -l)" 0 \
    "the relative Location was never resolved against the front"

# a chain of two hops over two foreign origins
set_mode chain
code=$(pull_manifest team/chain)
is "$code $(header_value "$T/m.hdr" x-customs-verdict)" "200 allow" "a 2-hop chain: scanned, allowed"
for d in $(blobs_of "$T/img-chain"); do
    is "$(store_n A hop "$d" 307) $(store_n B blob "$d" 200)" "1 1" "store: A's /hop/ then B's /blob/ for ${d:7:12}"
done
is "$(store_leaks)" 0 "no credential reached either store over any hop so far"

# a loop: the scan fails, customs says why, stays up; on_error decides
set_mode loop
code=$(pull_manifest team/loop)
is "$code" 403 "a redirect loop under on_error: deny: the pull is refused"
is "$(jq -r '.errors[0].code' "$T/m.body" 2>/dev/null)" DENIED "with the registry error code DENIED"
diag "loop answer: $(head -c 300 "$T/m.body")"
LOOP_C=$(blobs_of "$T/img-loop" | head -1)
loops=$(jl "$RF/store.log" | jq -c --arg p "/loop/$LOOP_C?" 'select((.ua | startswith("customs/")) and (.path | startswith($p)))' | wc -l)
ok '[ "$loops" -ge 2 ] && [ "$loops" -le 20 ]' "customs followed the loop a bounded number of times ($loops hops)"
wait_until 5 'grep -q "team/loop@.*redirects" "$CUS_LOG"'
like "$(grep 'team/loop@' "$CUS_LOG" | grep -m1 'redirects')" "more than [0-9]+ redirects" \
    "customs' log names the reason (too many redirects) for team/loop"
ok 'kill -0 "$CUS_PID" 2>/dev/null' "customs is still running"
is "$(curl -s -m 10 -o /dev/null -w '%{http_code}' -u "alice:$APW" "$CUS_URL/v2/")" 200 "and answers the next request"
code=$(pull_manifest team/clean)
is "$code" 200 "an already scanned image still pulls"
is "$(store_leaks)" 0 "no credential reached the store during the loop"

write_policy allow
kill -HUP "$CUS_PID"
wait_until 10 '[ "$(grep -c "policy .* loaded" "$CUS_LOG")" -ge 2 ]'
code=$(pull_manifest team/loop2)
is "$code" 200 "a redirect loop under on_error: allow: the image is served"
is "$(header_value "$T/m.hdr" x-customs-verdict)" unscanned \
    "marked X-Customs-Verdict: unscanned (customs could not look inside it), not allow"
ok 'grep "team/loop2@" "$CUS_LOG" | grep -q "more than [0-9]* redirects"' "the log names the loop for team/loop2 too"

# the loop is gone: the layers that could not be fetched are scanned now
set_mode absolute
code=$(pull_manifest team/loop2)
is "$code" 403 "after the loop ends, team/loop2 (vulnerable) is scanned and refused, even under on_error: allow"
like "$(jq -r '.errors[0].message' "$T/m.body" 2>/dev/null)" "CVE-2099-0001" "naming the CVE"
diag "team/loop2 after the loop ended: $(head -c 300 "$T/m.body")"
write_policy deny
kill -HUP "$CUS_PID"
wait_until 10 '[ "$(grep -c "policy .* loaded" "$CUS_LOG")" -ge 3 ]'
code=$(pull_manifest team/loop)
like "$code $(jq -r '.errors[0].message' "$T/m.body" 2>/dev/null)" "^403 .*CVE-2099-0001" \
    "team/loop, refused on the scan error before, is refused for the CVE now (rescanned, not stuck on the error)"
is "$(store_leaks)" 0 "no credential reached the store at any point"

# ---- 5. no secret in customs' log -------------------------------------------------------
for v in APW SPW A_B64 S_B64; do
    ok '! grep -qF -- "${!v}" "$CUS_LOG"' "customs' log holds no $v (password or its Basic encoding)"
done

done_testing
