#!/bin/bash
# tests/integration/test_vex_referrers.sh - OpenVEX documents attached to an
# image as OCI referrers (artifactType application/vnd.openvex+json),
# pushed through customs with curl as the distribution spec shows: customs
# fetches the VEX blob from the registry and stores it; the policy key
# vex_referrers decides whether they count (off by default: whoever can
# push can attach one).  Checked: off, the denied pull stays denied; on,
# a not_affected statement on the image digest lets it through at once
# (the cached deny is not served), explain and the 403 name the referrer
# digest and the justification; a statement on another digest, an
# `affected` statement and a garbage blob (stored with its error, named in
# the verdict) suppress nothing; a referrer in another repository, or a
# repository the policy's globs do not trust, does not apply; deleting the
# referrer through customs forgets it.  TAP.

. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/mkimage.sh"
. "$LIB_DIR/fixtures.sh"

command -v jq >/dev/null || bail_out "jq is required"
command -v skopeo >/dev/null || bail_out "skopeo is required"
command -v sqlite3 >/dev/null || bail_out "sqlite3 is required"
direct_mode && bail_out "customs reads the VEX referrers: nothing to test against the registry alone"

POL=$T/policy.yaml
IMG=$T/shop
DIGEST=$(fixture_shop_image "$IMG") || bail_out "image"
OTHER=sha256:$(printf other | sha256sum | cut -d' ' -f1)
fixture_critical_osv "$T/osv.json"
MT=application/vnd.oci.image.manifest.v1+json
VEXMT=application/vnd.openvex+json
EMPTY_MT=application/vnd.oci.empty.v1+json

# policy TRUST: the no-critical policy, with `vex_referrers: TRUST` unless TRUST is ""
policy() {
    fixture_policy_no_critical "$POL.tmp"
    [ -n "$1" ] && echo "vex_referrers: $1" >>"$POL.tmp"
    mv "$POL.tmp" "$POL"
}
# reload: SIGHUP, and wait for the daemon to say it loaded the policy
reload() {
    local n
    n=$(grep -c "policy $POL loaded" "$CUS_LOG")
    kill -HUP "$CUS_PID"
    wait_until 10 "[ \$(grep -c 'policy $POL loaded' '$CUS_LOG') -gt $n ]" || bail_out "policy not reloaded"
}
# code_of REPO: the status of a GET of REPO:v1 through customs (body in $T/get.json)
code_of() { curl -s -o "$T/get.json" -w '%{http_code}' -H "Accept: $MT" "$CUS_URL/v2/$1/manifests/v1"; }

# put_blob REPO FILE: POST then PUT ?digest= (registry 2.8 has no monolithic POST); the PUT's status
put_blob() {
    local repo=$1 f=$2 code loc
    code=$(curl -s -o /dev/null -D "$T/post.h" -w '%{http_code}' -X POST "$CUS_URL/v2/$repo/blobs/uploads/")
    [ "$code" = 202 ] || { echo "$code"; return; }
    loc=$(abs_url "$CUS_URL" "$(header_value "$T/post.h" location)")
    case $loc in *\?*) loc="$loc&" ;; *) loc="$loc?" ;; esac
    curl -s -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: application/octet-stream' \
        --data-binary "@$f" "${loc}digest=$(sha256_of "$f")"
}
# write_vex FILE STATUS PRODUCT: an OpenVEX document, one statement on CVE-2099-0001
write_vex() {
    local extra=
    [ "$2" = not_affected ] && extra='"justification": "vulnerable_code_not_present",'
    cat >"$1" <<X
{"@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.test/vex/$(basename "$1")",
 "author": "shop team", "timestamp": "2026-01-01T00:00:00Z", "version": 1,
 "statements": [{"vulnerability": {"name": "CVE-2099-0001"}, "products": [{"@id": "$3"}],
                 $extra "status": "$2"}]}
X
}
# attach REPO VEX_FILE: uploads the blob and an artifact manifest whose
#   subject is the image; prints the referrer's digest (empty on failure)
attach() {
    local repo=$1 f=$2 m=$2.manifest.json c
    [ "$(put_blob "$repo" "$T/empty.json")" = 201 ] || return 1
    [ "$(put_blob "$repo" "$f")" = 201 ] || return 1
    jq -cn --arg mt "$MT" --arg at "$VEXMT" --arg cmt "$EMPTY_MT" --arg cd "$(sha256_of "$T/empty.json")" \
        --arg ld "$(sha256_of "$f")" --argjson ls "$(stat -c %s "$f")" --arg sd "$DIGEST" --argjson ss "$MSIZE" \
        '{schemaVersion: 2, mediaType: $mt, artifactType: $at,
          config: {mediaType: $cmt, digest: $cd, size: 2},
          layers: [{mediaType: $at, digest: $ld, size: $ls}],
          subject: {mediaType: $mt, digest: $sd, size: $ss}}' >"$m"
    c=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H "Content-Type: $MT" --data-binary "@$m" \
        "$CUS_URL/v2/$repo/manifests/$(sha256_of "$m")")
    [ "$c" = 201 ] || return 1
    sha256_of "$m"
}
# row REF: "doc|error" of the stored VEX referrer REF (doc: "yes" or "no")
row() {
    db_sql "SELECT CASE WHEN doc IS NULL THEN 'no' ELSE 'yes' END || '|' || coalesce(error, '')
                   FROM vex_documents WHERE digest = '$1'"
}

policy ""
start_registry
CUSTOMS_POLICY=$POL start_customs
DB=$(cus_db 1) H=127.0.0.1:$CUS_PORT
MSIZE=$(stat -c %s "$IMG/blobs/sha256/${DIGEST#sha256:}")
printf '{}' >"$T/empty.json"
skopeo copy -q --dest-tls-verify=false "oci:$IMG:v1" "docker://$H/shop/app:v1" >"$T/push.out" 2>&1
is "$?" 0 "push of the image"
skopeo copy -q --dest-tls-verify=false "oci:$IMG:v1" "docker://$H/shop/copy:v1" >"$T/push2.out" 2>&1
is "$?" 0 "the same image pushed to a second repository"
"$CUSTOMS_BIN" db import --db "$DB" "$T/osv.json" >"$T/import.out" 2>&1
is "$?" 0 "vulnerability data imported"
is "$(code_of shop/app)" 403 "the image is denied"
like "$(jq -r '.errors[0].message' "$T/get.json")" "CVE-2099-0001" "naming its CVE"

# ---- referrers that must not suppress, with vex_referrers off, then on ----------
write_vex "$T/other.json" not_affected "$OTHER"
write_vex "$T/affected.json" affected "$DIGEST"
printf 'this is not JSON at all\n' >"$T/garbage.json"
R_OTHER=$(attach shop/app "$T/other.json")
isnt "$R_OTHER" "" "a not_affected VEX for another digest attached"
R_AFF=$(attach shop/app "$T/affected.json")
isnt "$R_AFF" "" "an affected VEX for the image attached"
R_BAD=$(attach shop/app "$T/garbage.json")
isnt "$R_BAD" "" "a VEX referrer whose blob is garbage attached"
is "$(row "$R_OTHER")" "yes|" "the VEX for another digest is stored with its document"
is "$(row "$R_AFF")" "yes|" "the affected VEX is stored with its document"
like "$(row "$R_BAD")" "^no\|not a valid OpenVEX document: not valid JSON" "the garbage one is stored with its error"
is "$(code_of shop/app)" 403 "vex_referrers absent: still denied"

policy true
reload
is "$(code_of shop/app)" 403 "vex_referrers: true, but no statement covers: still denied"
msg=$(jq -r '.errors[0].message' "$T/get.json")
like "$msg" "CVE-2099-0001" "the 403 names the CVE"
like "$msg" "VEX referrer not applied: $R_BAD: not a valid OpenVEX document" "and the referrer that could not be read"
"$CUSTOMS_BIN" policy explain --db "$DB" --policy "$POL" shop/app:v1 >"$T/explain0.out" 2>&1
like "$(grep '"kind":"vex_error"' "$T/explain0.out")" "$R_BAD" "explain lists the unusable referrer"

# ---- the statement that covers: allowed at once -----------------------------
write_vex "$T/ok.json" not_affected "$DIGEST"
R_OK=$(attach shop/app "$T/ok.json")
isnt "$R_OK" "" "a not_affected VEX for the image digest attached"
is "$(row "$R_OK")" "yes|" "stored with its document"
is "$(code_of shop/app)" 200 "the next pull is allowed at once (the cached deny is not served)"
curl -s -D "$T/get2.h" -o /dev/null -H "Accept: $MT" "$CUS_URL/v2/shop/app/manifests/v1"
is "$(header_value "$T/get2.h" x-customs-verdict)" allow "X-Customs-Verdict: allow"
skopeo copy -q --src-tls-verify=false "docker://$H/shop/app:v1" "oci:$T/pulled:v1" >"$T/pull.out" 2>&1
is "$?" 0 "skopeo pulls it"
"$CUSTOMS_BIN" policy explain --db "$DB" --policy "$POL" shop/app:v1 >"$T/explain.out" 2>&1
is "$?" 0 "policy explain: allow"
like "$(grep '^message:' "$T/explain.out")" \
    "suppressed by VEX: CVE-2099-0001 \(referrer $R_OK, vulnerable_code_not_present\)" \
    "explain names the referrer digest and the justification"
like "$(grep '"kind":"vex"' "$T/explain.out")" "\"document\":\"referrer $R_OK\".*\"justification\":\"vulnerable_code_not_present\"" \
    "and lists the VEX reason with its source"

# ---- another repository: the referrer is shop/app's -------------------------------
is "$(code_of shop/copy)" 403 "the same image in another repository: still denied (the VEX was pushed to shop/app)"

# ---- trust scoped by repository globs ----------------------------------------------
policy '["team/**"]'
reload
is "$(code_of shop/app)" 403 "vex_referrers: [team/**]: shop/app's referrers are not trusted"
policy '["shop/*"]'
reload
is "$(code_of shop/app)" 200 "vex_referrers: [shop/*]: trusted again"
policy false
reload
is "$(code_of shop/app)" 403 "vex_referrers: false: the stored VEX does not count"
policy true
reload
is "$(code_of shop/app)" 200 "true: allowed"

# ---- the referrer deleted through customs: forgotten, denied at once -----------------
is "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$CUS_URL/v2/shop/app/manifests/$R_OK")" 202 \
    "DELETE of the VEX referrer through customs"
wait_until 5 "[ -z \"\$(row $R_OK)\" ]"
is "$(row "$R_OK")" "" "its document is forgotten"
is "$(code_of shop/app)" 403 "the next pull is denied again"

done_testing
