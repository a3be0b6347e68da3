#!/bin/bash
# tests/integration/test_vex.sh - OpenVEX files under the policy's `vex:` key:
# a not_affected statement on the image digest lets a denied pull through
# (and `policy explain`, `scan --policy` and the 403 say "suppressed by
# VEX"); affected, another digest and an expired statement do not; a
# package purl does; a broken VEX file fails `policy check` with the file and
# the reason, and a reload with it keeps the previous policy.  TAP.

. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/mkimage.sh"
. "$LIB_DIR/fixtures.sh"

command -v jq >/dev/null || bail_out "jq is required"
command -v skopeo >/dev/null || bail_out "skopeo is required"

POL=$T/policy.yaml VEX=$T/vex.json
IMG=$T/shop
DIGEST=$(fixture_shop_image "$IMG") || bail_out "image"
OTHER=sha256:$(printf other | sha256sum | cut -d' ' -f1)
fixture_critical_osv "$T/osv.json"
fixture_policy_no_critical "$POL"
echo 'vex: [vex.json]' >>"$POL" # relative: next to the policy

# write_vex STATUS PRODUCT_ID [EXTRA_JSON]: one statement on CVE-2099-0001
write_vex() {
    local extra=${3:-}
    [ "$1" = not_affected ] && extra="\"justification\": \"vulnerable_code_not_present\", $extra"
    cat >"$VEX.tmp" <<X
{"@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.test/vex/shop-1",
 "author": "shop team", "timestamp": "2026-01-01T00:00:00Z", "version": 1,
 "statements": [{"vulnerability": {"name": "CVE-2099-0001"}, "products": [{"@id": "$2"}],
                 $extra "status": "$1"}]}
X
    mv "$VEX.tmp" "$VEX"
}
reload() { kill -HUP "$CUS_PID" && sleep 0.5; }
MT=application/vnd.oci.image.manifest.v1+json
code_of() { curl -s -o "$T/get.json" -w '%{http_code}' -H "Accept: $MT" "$CUS_URL/v2/shop/app/manifests/v1"; }

write_vex not_affected "$OTHER"
"$CUSTOMS_BIN" policy check "$POL" >"$T/check.out" 2>&1
is "$?" 0 "a policy with a valid VEX file passes policy check"

start_registry
CUSTOMS_POLICY=$POL start_customs
DB=$(cus_db 1) H=127.0.0.1:$CUS_PORT
skopeo copy -q --dest-tls-verify=false "oci:$IMG:v1" "docker://$H/shop/app:v1" >"$T/push.out" 2>&1
is "$?" 0 "push"
"$CUSTOMS_BIN" db import --db "$DB" "$T/osv.json" >"$T/import.out" 2>&1
is "$?" 0 "vulnerability data imported"

# ---- a statement for another image digest: still denied -----------------------
skopeo copy -q --src-tls-verify=false "docker://$H/shop/app:v1" "oci:$T/pulled:v1" >"$T/pull1.out" 2>&1
isnt "$?" 0 "statement for another digest: the pull is refused"
like "$(cat "$T/pull1.out")" "CVE-2099-0001" "naming the finding"

# ---- not_affected on the image digest: allowed, explained ------------------------
write_vex not_affected "$DIGEST"
reload
skopeo copy -q --src-tls-verify=false "docker://$H/shop/app:v1" "oci:$T/pulled:v1" >"$T/pull2.out" 2>&1
is "$?" 0 "not_affected on the image digest: the denied pull is allowed"
curl -s -D "$T/get2.h" -o /dev/null -H "Accept: $MT" "$CUS_URL/v2/shop/app/manifests/v1"
is "$(header_value "$T/get2.h" x-customs-verdict)" allow "X-Customs-Verdict: allow"
"$CUSTOMS_BIN" policy explain --db "$DB" --policy "$POL" shop/app:v1 >"$T/explain.out" 2>&1
is "$?" 0 "policy explain: allow"
like "$(grep '^message:' "$T/explain.out")" \
    "suppressed by VEX: CVE-2099-0001 \(vex\.json, vulnerable_code_not_present\)" "explain says suppressed by VEX (doc, justification)"
like "$(grep '"kind":"vex"' "$T/explain.out")" "\"document\":\"vex.json\".*\"justification\":\"vulnerable_code_not_present\"" \
    "explain lists the VEX reason with its document"
"$CUSTOMS_BIN" scan --db "$DB" --policy "$POL" --format json "oci:$IMG:v1" >"$T/scan.json" 2>"$T/scan.err"
is "$?" 0 "customs scan --policy: passes"
is "$(jq -r '.verdict.reasons[] | select(.kind == "vex") | "\(.finding) \(.status) \(.justification)"' "$T/scan.json")" \
    "CVE-2099-0001 not_affected vulnerable_code_not_present" "the scan report's verdict carries the VEX reason"
"$CUSTOMS_BIN" report --db "$DB" --policy "$POL" --format json shop/app:v1 >"$T/report.json" 2>"$T/report.err"
is "$?" 0 "customs report --policy: passes (exit 0)"
is "$(jq -r '.verdict.decision' "$T/report.json")" allow "the stored image's report: verdict allow, as the gate said"
is "$(jq -r '.verdict.reasons[] | select(.kind == "vex") | "\(.finding) \(.document) \(.justification)"' "$T/report.json")" \
    "CVE-2099-0001 vex.json vulnerable_code_not_present" "report --policy carries the VEX reason with its document"
"$CUSTOMS_BIN" report --db "$DB" --policy "$POL" shop/app:v1 >"$T/report.txt" 2>&1
like "$(cat "$T/report.txt")" "suppressed by VEX: CVE-2099-0001 \(vex\.json, vulnerable_code_not_present\)" \
    "the report's table says what VEX suppressed"
"$CUSTOMS_BIN" report --db "$DB" --policy "$T/nope.yaml" shop/app:v1 >"$T/report-bad.txt" 2>&1
is "$?" 1 "report --policy with a missing policy file: error (1)"

# ---- status affected: still denied ------------------------------------------------
write_vex affected "$DIGEST" '"action_statement": "upgrade openssl",'
reload
is "$(code_of)" 403 "affected: denied"
like "$(jq -r '.errors[0].message' "$T/get.json")" "CVE-2099-0001" "the 403 names the finding"
"$CUSTOMS_BIN" report --db "$DB" --policy "$POL" --format json shop/app:v1 >"$T/report2.json" 2>"$T/report2.err"
is "$?" 3 "customs report --policy of the denied image: exit 3"
is "$(jq -r '.verdict.decision' "$T/report2.json")" deny "with verdict deny"
write_vex under_investigation "$DIGEST"
reload
is "$(code_of)" 403 "under_investigation: denied"

# ---- expired statement (customs extension `expires`): denied -------------------------
write_vex not_affected "$DIGEST" "\"expires\": \"$(date -u -d '-2 days' +%F)\","
reload
is "$(code_of)" 403 "expired statement: denied"
like "$(jq -r '.errors[0].message' "$T/get.json")" "the VEX statement for CVE-2099-0001 in vex\.json expired on" \
    "the 403 says the VEX statement expired"
"$CUSTOMS_BIN" policy check "$POL" >"$T/check2.out" 2>&1
like "$(cat "$T/check2.out")" "vex vex\.json statement #1 \(CVE-2099-0001\) expired on" "policy check warns of the expired statement"

# ---- a package purl (any version): allowed --------------------------------------------
PKG=$(jq -r '.verdict.reasons[] | select(.kind == "vex") | .package' "$T/scan.json")
write_vex not_affected "pkg:deb/debian/$PKG"
reload
is "$(code_of)" 200 "not_affected on the package purl pkg:deb/debian/$PKG: allowed"
write_vex not_affected "pkg:deb/debian/openssl@3.0.11-1~deb12u2"
reload
is "$(code_of)" 200 "not_affected on the source package's purl (openssl, $PKG's source): allowed"
write_vex not_affected "pkg:deb/debian/$PKG@0.0.1-1"
reload
is "$(code_of)" 403 "the same purl with another version: denied"
# an edited VEX file is in force without SIGHUP: the daemon watches it (2 s poll)
write_vex not_affected "pkg:deb/debian/$PKG"
for _ in $(seq 50); do [ "$(code_of)" = 200 ] && break; sleep 0.2; done
is "$(code_of)" 200 "allowed again after an edit of the VEX file alone, without SIGHUP"
like "$(grep 'policy .* loaded (file changed)' "$CUS_LOG" | tail -1)" "generation" "the log says the policy was reloaded"

# ---- a broken VEX file: policy check fails, a reload keeps the previous policy ---------
printf '{"@context": "https://openvex.dev/ns/v0.2.0", "statements": [{"vulnerability": {"name": "CVE-2099-0001"}, "status": "not_affected", "products": [{"@id": "%s"}]}]}\n' "$DIGEST" >"$VEX"
"$CUSTOMS_BIN" policy check "$POL" >"$T/check3.out" 2>&1
is "$?" 1 "policy check fails on a broken VEX file"
like "$(cat "$T/check3.out")" "policy\.yaml:[0-9]+:[0-9]+: vex file $T/vex\.json: statement #1: not_affected needs a justification" \
    "with the file and the reason"
echo '{"@context": "https://openvex.dev/ns/v0.2.0", "statements": [' >"$VEX"
"$CUSTOMS_BIN" policy check "$POL" >"$T/check4.out" 2>&1
like "$(cat "$T/check4.out")" "vex file $T/vex\.json: not valid JSON: line [0-9]+" "truncated JSON: file, line and reason"
reload
like "$(grep -i 'refused' "$CUS_LOG" | tail -1)" "vex\.json: not valid JSON" "the daemon refuses the reload, saying why"
is "$(code_of)" 200 "the previous policy (with its VEX) stays in force"
rm -f "$VEX"
"$CUSTOMS_BIN" policy check "$POL" >"$T/check5.out" 2>&1
like "$(cat "$T/check5.out")" "vex file $T/vex\.json: cannot read: No such file" "a missing VEX file: file and reason"

# ---- the 403 of an image VEX only partly covers says what VEX suppressed -----------------
write_vex not_affected "$DIGEST"
sed 's/CVE-2099-0001/CVE-2099-0002/; s/made-up critical/another made-up critical/' "$T/osv.json" >"$T/osv2.json"
"$CUSTOMS_BIN" db import --db "$DB" "$T/osv2.json" >>"$T/import.out" 2>&1
is "$?" 0 "a second critical record imported"
reload
is "$(code_of)" 403 "a finding VEX does not cover still denies"
msg=$(jq -r '.errors[0].message' "$T/get.json")
like "$msg" "CVE-2099-0002" "the 403 names it"
like "$msg" "suppressed by VEX: CVE-2099-0001 \(vex\.json, vulnerable_code_not_present\)" "and what VEX suppressed"

done_testing
