#!/bin/bash
# tests/integration/test_policy_gate.sh - pulls blocked by the policy, with
# the reason; pushes never blocked; HEAD rules; exceptions with expiry;
# reloads (SIGHUP and file change); audit mode; unscanned images; the real
# docker CLI (a dockerd of its own, dockerlib.sh): `docker pull` of a denied
# image refused with the reason, of an allowed one served.  TAP.

. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/mkimage.sh"
. "$LIB_DIR/fixtures.sh"
. "$LIB_DIR/dockerlib.sh"

command -v jq >/dev/null || bail_out "jq is required"
command -v skopeo >/dev/null || bail_out "skopeo is required"
docker_require

POL=$T/policy.yaml
write_policy() { # MODE UNSCANNED [EXCEPTION_EXPIRY]
    {
        echo "mode: $1"
        echo "unscanned: $2"
        echo "on_error: deny"
        echo "head: auto"
        echo "rules:"
        echo "  - name: no-critical"
        echo "    repositories: [\"**\"]"
        echo "    deny:"
        echo "      severity: critical"
        echo "      secrets: true"
        if [ -n "${3:-}" ]; then
            echo "exceptions:"
            echo "  - vulnerability: CVE-2099-0001"
            echo "    repositories: [\"shop/**\"]"
            echo "    expires: $3"
            echo "    reason: \"test exception\""
        fi
    } >"$POL.tmp" && mv "$POL.tmp" "$POL"
}
write_policy enforce scan

printf 'gate:\n  blobs: true\n' >"$T/customs.yaml"
start_registry
CUSTOMS_POLICY=$POL start_customs -c "$T/customs.yaml"
DB=$(cus_db 1)
H=127.0.0.1:$CUS_PORT
MT=application/vnd.oci.image.manifest.v1+json

# an image whose openssl (source of libssl3) has a critical, fixable CVE
R0=$T/rootfs0 R1=$T/unused IMG=$T/shop
fixture_shop "$R0" "$R1"
oci_init "$IMG" && oci_add_layer "$IMG" "$R0" && DIGEST=$(oci_finish "$IMG" v1) || bail_out "image"
fixture_critical_osv "$T/osv.json"

skopeo copy -q --dest-tls-verify=false "oci:$IMG:v1" "docker://$H/shop/app:v1" >"$T/push.out" 2>&1
is "$?" 0 "push of the image is not blocked"
"$CUSTOMS_BIN" db import --db "$DB" "$T/osv.json" >"$T/import.out" 2>&1
is "$?" 0 "vulnerability data imported after the push"

# ---- pull refused, with the reason -------------------------------------------
skopeo copy -q --src-tls-verify=false "docker://$H/shop/app:v1" "oci:$T/pulled:v1" >"$T/pull1.out" 2>&1
isnt "$?" 0 "pull of the image is refused"
like "$(cat "$T/pull1.out")" "CVE-2099-0001" "the client's error names the finding"
like "$(cat "$T/pull1.out")" "no-critical" "and the rule"
code=$(curl -s -o "$T/get.json" -w '%{http_code}' -H "Accept: $MT" "$CUS_URL/v2/shop/app/manifests/$DIGEST")
is "$code" 403 "GET by digest is refused too"
is "$(jq -r '.errors[0].code' "$T/get.json")" DENIED "registry error code DENIED"
LAYER=$(jq -r '.manifests[0].digest' "$IMG/index.json" | sed 's/sha256://' | xargs -I{} jq -r '.layers[0].digest' "$IMG/blobs/sha256/{}")
code=$(curl -s -o "$T/blob.json" -w '%{http_code}' "$CUS_URL/v2/shop/app/blobs/$LAYER")
is "$code" 403 "gate.blobs: a layer that belongs only to denied images is refused too"
like "$(jq -r '.errors[0].message' "$T/blob.json")" "CVE-2099-0001" "naming why"
like "$(jq -r '.errors[0].message' "$T/get.json")" "libssl3 3\.0\.11-1~deb12u2 -> 3\.0\.13-1~deb12u1" \
    "message shows package, installed and fixed versions"
curl -s -D "$T/head.h" -o /dev/null -I -H "Accept: $MT" "$CUS_URL/v2/shop/app/manifests/v1"
like "$(head -1 "$T/head.h")" " 200" "HEAD without credentials still answers (pushers HEAD first)"
is "$(header_value "$T/head.h" docker-content-digest)" "$DIGEST" "HEAD gives the digest"
is "$(header_value "$T/head.h" x-customs-verdict)" deny "HEAD carries X-Customs-Verdict: deny"
like "$(header_value "$T/head.h" warning)" "CVE-2099-0001" "and the reason in a Warning header"
b64() { printf '%s' "$1" | base64 -w0 | tr '+/' '-_' | tr -d '='; }
PULLTOK="$(b64 '{"alg":"none"}').$(b64 '{"access":[{"type":"repository","name":"shop/app","actions":["pull"]}]}').sig"
PUSHTOK="$(b64 '{"alg":"none"}').$(b64 '{"access":[{"type":"repository","name":"shop/app","actions":["pull","push"]}]}').sig"
is "$(curl -s -o /dev/null -w '%{http_code}' -I -H "Accept: $MT" -H "Authorization: Bearer $PULLTOK" "$CUS_URL/v2/shop/app/manifests/v1")" \
    403 "HEAD with a pull-only token is refused (a puller resolving a tag)"
is "$(curl -s -o /dev/null -w '%{http_code}' -I -H "Accept: $MT" -H "Authorization: Bearer $PUSHTOK" "$CUS_URL/v2/shop/app/manifests/v1")" \
    200 "HEAD with a push token passes (a pusher checking before pushing)"
ok '! grep -q "$PULLTOK" "$CUS_LOG"' "tokens are never logged"

# ---- exception, SIGHUP ---------------------------------------------------------
write_policy enforce scan "$(date -u -d '+30 days' +%F)"
kill -HUP "$CUS_PID"
sleep 0.5
skopeo copy -q --src-tls-verify=false "docker://$H/shop/app:v1" "oci:$T/pulled:v1" >"$T/pull2.out" 2>&1
is "$?" 0 "an exception lets the pull through after SIGHUP"
curl -s -D "$T/get2.h" -o /dev/null -H "Accept: $MT" "$CUS_URL/v2/shop/app/manifests/v1"
is "$(header_value "$T/get2.h" x-customs-verdict)" allow "X-Customs-Verdict: allow"
code=$(curl -s -o "$T/blob2" -w '%{http_code}' "$CUS_URL/v2/shop/app/blobs/$LAYER")
is "$code" 200 "gate.blobs: the layer of an allowed image is served"
is "$(sha256_of "$T/blob2")" "$LAYER" "byte-exact"
curl -s -o "$T/byd1" -H "Accept: $MT" "$CUS_URL/v2/shop/app/manifests/$DIGEST"
curl -s -D "$T/byd2.h" -o "$T/byd2" -H "Accept: $MT" "$CUS_URL/v2/shop/app/manifests/$DIGEST"
is "$(header_value "$T/byd2.h" x-customs-cache)" hit "a repeated GET by digest is served from the manifest cache"
is "$(sha256_of "$T/byd2")" "$DIGEST" "the cached manifest is byte-exact"
is "$(header_value "$T/byd2.h" etag)" "\"$DIGEST\"" "the cached answer carries the registry's ETag"
ok 'grep -qi "^date: " "$T/byd2.h"' "and a Date"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Accept: $MT" -H "Authorization: Bearer other" \
    "$CUS_URL/v2/shop/app/manifests/$DIGEST" -D "$T/byd3.h")
ok '! grep -qi "x-customs-cache" "$T/byd3.h"' "other credentials never get the cached copy"

# ---- expiry moved into the past: refused again, no signal -------------------------
write_policy enforce scan "$(date -u -d '-2 days' +%F)"
sleep 3
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Accept: $MT" "$CUS_URL/v2/shop/app/manifests/v1")
is "$code" 403 "an expired exception no longer applies (file change picked up without a signal)"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Accept: $MT" "$CUS_URL/v2/shop/app/manifests/$DIGEST")
is "$code" 403 "the manifest cache never bypasses the verdict"

# ---- broken policy: the previous one stays in force --------------------------------
printf 'mode: enforce\nrules:\n  - name: x\n    repositories: ["**"]\n    deny:\n      severity: critcal\n' >"$POL"
kill -HUP "$CUS_PID"
sleep 0.5
like "$(grep 'refused' "$CUS_LOG" | tail -1)" "policy.yaml:6:[0-9]+" "the broken file is refused with line:column"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Accept: $MT" "$CUS_URL/v2/shop/app/manifests/v1")
is "$code" 403 "the previous policy stays in force"

# ---- audit mode ------------------------------------------------------------------------
write_policy audit scan
kill -HUP "$CUS_PID"
sleep 0.5
code=$(curl -s -D "$T/get3.h" -o /dev/null -w '%{http_code}' -H "Accept: $MT" "$CUS_URL/v2/shop/app/manifests/v1")
is "$code" 200 "audit mode lets the image through"
is "$(header_value "$T/get3.h" x-customs-verdict)" warn "with X-Customs-Verdict: warn"

# ---- an image pushed straight to the registry ---------------------------------------------
# another image (its own digest) that customs never saw
IMG2=$T/around R2=$T/rootfs2
mkdir -p "$R2/srv" && echo "around" >"$R2/srv/note.txt"
oci_init "$IMG2" && oci_add_layer "$IMG2" "$R0" && oci_add_layer "$IMG2" "$R2" && oci_finish "$IMG2" v1 >/dev/null ||
    bail_out "second image"
skopeo copy -q --dest-tls-verify=false "oci:$IMG2:v1" "docker://127.0.0.1:$REG_PORT/around/app:v1" >>"$T/push.out" 2>&1
is "$?" 0 "push straight to the registry"
write_policy enforce deny
kill -HUP "$CUS_PID"
sleep 0.5
skopeo copy -q --src-tls-verify=false "docker://$H/around/app:v1" "oci:$T/pulled2:v1" >"$T/pull3.out" 2>&1
isnt "$?" 0 "unscanned: deny refuses an image customs never saw"
like "$(cat "$T/pull3.out")" "never scanned" "with that reason"
write_policy enforce scan
kill -HUP "$CUS_PID"
sleep 0.5
skopeo copy -q --src-tls-verify=false "docker://$H/around/app:v1" "oci:$T/pulled2:v1" >"$T/pull4.out" 2>&1
isnt "$?" 0 "unscanned: scan scans it on the pull, then judges it"
like "$(cat "$T/pull4.out")" "CVE-2099-0001" "naming the finding"
ok 'grep -q "around/app@.*was never scanned: scanning it now" "$CUS_LOG"' "the log shows the scan on pull"

# ---- the docker CLI: docker pull of a denied image refused with the reason --------------
# (a dockerd of its own: dockerlib.sh; policy: enforce, scan, no exception)
start_dockerd "$H"
R3=$T/rootfs3
fixture_debian_base "$R3" 3.0.13-1~deb12u1 gate-clean
tar -C "$R3" -cf "$T/dclean.tar" . && tar -C "$R0" -cf "$T/dbad.tar" . || bail_out "tar"
DCLEAN_ID=$(dk import "$T/dclean.tar" "$H/dock/clean:v1" 2>"$T/dimport.err") &&
    dk import "$T/dbad.tar" "$H/dock/bad:v1" >/dev/null 2>>"$T/dimport.err" || bail_out "docker import: $(cat "$T/dimport.err")"
dk push "$H/dock/bad:v1" >"$T/dpush-bad.out" 2>&1
is "$?" 0 "docker push of the vulnerable image through customs is not blocked"
dk push "$H/dock/clean:v1" >"$T/dpush-clean.out" 2>&1
is "$?" 0 "docker push of a clean image"
dk rmi "$H/dock/bad:v1" "$H/dock/clean:v1" >/dev/null 2>&1
dk pull "$H/dock/bad:v1" >"$T/dpull-bad.out" 2>&1
isnt "$?" 0 "docker pull of the vulnerable image is refused"
diag "docker: $(head -c 400 "$T/dpull-bad.out")"
like "$(cat "$T/dpull-bad.out")" "CVE-2099-0001" "docker's error names the finding"
like "$(cat "$T/dpull-bad.out")" "no-critical" "and the rule"
ok '! dk image inspect "$H/dock/bad:v1" >/dev/null 2>&1' "no image dock/bad in dockerd"
dk pull "$H/dock/clean:v1" >"$T/dpull-clean.out" 2>&1
is "$?" 0 "docker pull of the clean image works"
is "$(dk image inspect -f '{{.Id}}' "$H/dock/clean:v1" 2>/dev/null)" "$DCLEAN_ID" "the pulled image is the pushed one"
stop_dockerd

# ---- decisions are recorded -------------------------------------------------------------
sleep 0.5
n=$(db_sql "select count(*) from decisions where repository = 'shop/app' and verdict = 'deny'")
ok '[ "${n:-0}" -ge 3 ]' "decisions recorded in the database ($n denials for shop/app)"
kill -0 "$CUS_PID"
is "$?" 0 "customs still running"

done_testing
