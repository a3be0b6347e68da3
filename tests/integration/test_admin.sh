#!/bin/bash
# tests/integration/test_admin.sh - the admin listener (--admin-listen):
# the JSON API over a real registry with an allowed and a denied image
# (verdicts, the denied image's reason and findings with fixed versions,
# paging of decisions, the policy's exceptions with expiry, vulndb), the
# bearer token, refusal of a non-loopback address without one, /healthz and
# /readyz (503 while the upstream is down, 200 after it is back), no
# registry traffic on the admin port, bad parameters, methods, security
# headers, and admin traffic running while pulls go through the proxy.  TAP.

. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/mkimage.sh"
. "$LIB_DIR/fixtures.sh"

command -v jq >/dev/null || bail_out "jq is required"
command -v skopeo >/dev/null || bail_out "skopeo is required"
direct_mode && bail_out "the admin listener needs customs (CUSTOMS_TEST_DIRECT=1 makes no sense here)"
[ -x "$CUSTOMS_BIN" ] || bail_out "customs binary not found: $CUSTOMS_BIN"

EXP=$(date -u -d '+30 days' +%F)
POL=$T/policy.yaml
cat >"$POL" <<X
mode: enforce
unscanned: scan
on_error: deny
rules:
  - name: no-critical
    repositories: ["**"]
    deny:
      severity: critical
exceptions:
  - vulnerability: CVE-2099-0002
    repositories: ["shop/**"]
    expires: $EXP
    reason: "vendor fix pending"
X
TOKEN=adm-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '%s\n' "$TOKEN" >"$T/admin.token"
APORT=$(free_port) || bail_out "no free port"
printf 'admin:\n  listen: 127.0.0.1:%s\n  token_file: %s\n' "$APORT" "$T/admin.token" >"$T/customs.yaml"

# ---- a non-loopback address without a token refuses to start ---------------------
BPORT=$(free_port) || bail_out "no free port"
timeout 10 "$CUSTOMS_BIN" serve --listen "127.0.0.1:$(free_port)" --upstream http://127.0.0.1:9 \
    --db "$T/refused.db" --admin-listen "0.0.0.0:$BPORT" >"$T/refused.log" 2>&1
rc=$?
ok '[ "$rc" != 0 ] && [ "$rc" != 124 ]' "customs refuses to start with a non-loopback admin address and no token (rc=$rc)"
like "$(cat "$T/refused.log")" "not a loopback address.*token_file" "and says why"

start_registry
CUSTOMS_POLICY=$POL start_customs -c "$T/customs.yaml"
DB=$(cus_db 1)
H=127.0.0.1:$CUS_PORT
A=http://127.0.0.1:$APORT
wait_http "$A/healthz" "$CUS_PID" || bail_out "admin listener did not start: $(tail -5 "$CUS_LOG")"
api() { # PATH [CURL ARGS]: GET with the token, body to stdout
    local p=$1
    shift
    curl -s -H "Authorization: Bearer $TOKEN" "$@" "$A$p"
}
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

# ---- images: one denied (openssl with CVE-2099-0001), one allowed -------------------
R0=$T/rootfs0 R1=$T/unused IMG=$T/shop
fixture_shop "$R0" "$R1"
oci_init "$IMG" && oci_add_layer "$IMG" "$R0" && DENIED=$(oci_finish "$IMG" v1) || bail_out "image"
OK_ROOT=$T/okroot OKIMG=$T/okimg
fixture_debian_base "$OK_ROOT" 3.0.13-1~deb12u1 ok
oci_init "$OKIMG" && oci_add_layer "$OKIMG" "$OK_ROOT" && ALLOWED=$(oci_finish "$OKIMG" v1) || bail_out "image 2"
fixture_critical_osv "$T/osv.json"
skopeo_push "$IMG" v1 "$H" shop/app:v1 2>"$T/push1.err"
is "$?" 0 "push of the image with the critical CVE"
skopeo_push "$OKIMG" v1 "$H" shop/ok:v1 2>"$T/push2.err"
is "$?" 0 "push of the clean image"
"$CUSTOMS_BIN" db import --db "$DB" "$T/osv.json" >"$T/import.out" 2>&1 || bail_out "import: $(cat "$T/import.out")"

# ---- token ---------------------------------------------------------------------------------
is "$(code "$A/api/images")" 401 "no token: 401"
is "$(code -H "Authorization: Bearer wrong" "$A/api/images")" 401 "a wrong token: 401"
is "$(code -H "Authorization: Bearer $TOKEN" "$A/api/images")" 200 "the token: 200"
is "$(code -H "Authorization: Bearer $TOKEN" "$A/readyz")" 200 "readyz with the token: 200"
is "$(code "$A/readyz")" 401 "readyz without the token: 401"
is "$(code "$A/healthz")" 200 "healthz needs no token"
is "$(curl -s "$A/healthz")" ok "healthz says ok"
ok '! grep -q "$TOKEN" "$CUS_LOG"' "the token is never logged"

# ---- images and verdicts -------------------------------------------------------------------
api /api/images >"$T/images.json"
is "$(jq -r '.total' "$T/images.json")" 2 "the API lists both images"
is "$(jq -r '.images[] | select(.repository == "shop/app") | .verdict' "$T/images.json")" deny "shop/app: deny"
is "$(jq -r '.images[] | select(.repository == "shop/app") | .rule' "$T/images.json")" no-critical "by rule no-critical"
is "$(jq -r '.images[] | select(.repository == "shop/app") | .digest' "$T/images.json")" "$DENIED" "with its digest"
is "$(jq -r '.images[] | select(.repository == "shop/app") | .tag' "$T/images.json")" v1 "and its tag"
is "$(jq -r '.images[] | select(.repository == "shop/app") | .counts.critical' "$T/images.json")" 1 "one critical finding"
is "$(jq -r '.images[] | select(.repository == "shop/ok") | .verdict' "$T/images.json")" allow "shop/ok: allow"
is "$(jq -r '.images[] | select(.repository == "shop/ok") | .counts.critical' "$T/images.json")" 0 "no critical finding"
is "$(jq -r '.images[0].repository' "$T/images.json")" shop/ok "newest first"
api '/api/images?verdict=deny' >"$T/denied.json"
is "$(jq -c '[.images[].repository]' "$T/denied.json")" '["shop/app"]' "?verdict=deny: only the denied image"
api '/api/images?verdict=allow' >"$T/allowed.json"
is "$(jq -c '[.images[].repository]' "$T/allowed.json")" '["shop/ok"]' "?verdict=allow: only the allowed one"
api '/api/images?repository=shop/ok' >"$T/repo.json"
is "$(jq -c '[.images[].digest]' "$T/repo.json")" "[\"$ALLOWED\"]" "?repository= filters"
api '/api/images?per_page=1&page=2' >"$T/page2.json"
is "$(jq -r '.images | length' "$T/page2.json")" 1 "per_page=1 page=2: one image"
is "$(jq -r '.images[0].repository, .more' "$T/page2.json" | tr '\n' ' ')" "shop/app false " "the older one, no more pages"
api '/api/images?q=OK' >"$T/q.json"
is "$(jq -r '.total' "$T/q.json")" 1 "?q= searches names (case-insensitive)"
api '/api/repositories' >"$T/repos.json"
is "$(jq -c '[.repositories[] | [.name, .images, .tags]]' "$T/repos.json")" '[["shop/app",1,1],["shop/ok",1,1]]' \
    "repositories with their counts"

# ---- one image -------------------------------------------------------------------------------
api '/api/image?repository=shop/app&reference=v1' >"$T/image.json"
is "$(jq -r '.verdict.decision' "$T/image.json")" deny "/api/image: the verdict"
like "$(jq -r '.verdict.message' "$T/image.json")" "CVE-2099-0001" "the reason names the CVE"
is "$(jq -r '[.verdict.reasons[] | select(.finding == "CVE-2099-0001")] | length > 0' "$T/image.json")" true \
    "and so do the structured reasons"
is "$(jq -r '.findings[] | select(.id == "CVE-2099-0001") | .fixed' "$T/image.json")" 3.0.13-1~deb12u1 \
    "the finding with its fixed version"
is "$(jq -r '.findings[] | select(.id == "CVE-2099-0001") | .severity' "$T/image.json")" critical "and severity"
is "$(jq -r '[.packages[].name] | index("libssl3") != null' "$T/image.json")" true "the inventory lists libssl3"
is "$(jq -r '.layers | length' "$T/image.json")" 1 "one layer"
# customs' own SBOM and report are pushed asynchronously: wait for them
wait_until 15 '[ "$(api "/api/image?repository=shop/app&reference=v1" |
    jq -r "[.annotations[] | select(.origin == \"customs\" and .digest != null)] | length")" = 2 ]'
api '/api/image?repository=shop/app&reference=v1' >"$T/image-ann.json"
is "$(jq -r '[.annotations[] | select(.origin == "customs" and .digest != null) | .artifactType] | sort | join(",")' "$T/image-ann.json")" \
    "application/vnd.customs.vulnerability-report.v1+json,application/vnd.cyclonedx+json" \
    "annotations: the SBOM and the vulnerability report pushed as referrers"
is "$(jq -r '.layers[0].status' "$T/image.json")" ok "scanned"
is "$(jq -r '.digest' "$T/image.json")" "$DENIED" "the digest the tag resolves to"
api "/api/image?repository=shop/app&reference=$DENIED" >"$T/image2.json"
is "$(jq -r '.verdict.decision' "$T/image2.json")" deny "by digest too"
is "$(code -H "Authorization: Bearer $TOKEN" "$A/api/image?repository=shop/app&reference=nope")" 404 \
    "an unknown tag: 404"

# ---- decisions, paginated ------------------------------------------------------------------
for i in 1 2 3; do curl -s -o /dev/null -H "Accept: application/vnd.oci.image.manifest.v1+json" "$CUS_URL/v2/shop/app/manifests/v1"; done
skopeo_pull "$H" shop/ok:v1 "$T/pulled-ok" 2>"$T/pull-ok.err"
is "$?" 0 "the allowed image pulls through the proxy"
wait_until 10 '[ "$(api "/api/decisions?limit=500" | jq ".decisions | length")" -ge 4 ]'
api '/api/decisions?limit=2' >"$T/d1.json"
is "$(jq -r '.decisions | length' "$T/d1.json")" 2 "limit=2: two decisions"
NB=$(jq -r '.next_before' "$T/d1.json")
ok '[ "$NB" != null ] && [ "$NB" = "$(jq -r ".decisions[1].id" "$T/d1.json")" ]' "next_before is the last id of the page"
ok '[ "$(jq -r ".decisions[0].id" "$T/d1.json")" -gt "$(jq -r ".decisions[1].id" "$T/d1.json")" ]' "newest first"
api "/api/decisions?limit=2&before=$NB" >"$T/d2.json"
ok '[ "$(jq -r ".decisions[0].id" "$T/d2.json")" -lt "$NB" ]' "the next page starts below it"
api '/api/decisions?verdict=deny&repository=shop/app&limit=500' >"$T/d3.json"
is "$(jq -r '.decisions | length' "$T/d3.json")" 3 "the three refused GETs, filtered by verdict and repository"
is "$(jq -r '.decisions[0].rule' "$T/d3.json")" no-critical "with their rule"
is "$(jq -r '.next_before' "$T/d3.json")" null "and no next page"

# ---- policy, vulndb, summary, events, lineage --------------------------------------------------
api /api/policy >"$T/policy.json"
is "$(jq -r '.exceptions[0].vulnerability' "$T/policy.json")" CVE-2099-0002 "/api/policy lists the exception"
is "$(jq -r '.exceptions[0].expires' "$T/policy.json")" "$EXP" "with its expiry"
is "$(jq -r '.exceptions[0].expires_in_days, .exceptions[0].expired' "$T/policy.json" | tr '\n' ' ')" "30 false " \
    "in 30 days, not expired"
is "$(jq -r '.exceptions[0].reason' "$T/policy.json")" "vendor fix pending" "and its reason"
is "$(jq -r '.generation, .mode, .last_error' "$T/policy.json" | tr '\n' ' ')" "1 enforce null " \
    "generation, mode, no reload error"
printf 'mode: enforce\nrules: [{name: x, repositories: ["**"], deny: {severity: critcal}}]\n' >"$POL.bad"
cp "$POL" "$POL.good" && cp "$POL.bad" "$POL" && kill -HUP "$CUS_PID" && sleep 0.5
like "$(api /api/policy | jq -r '.last_error')" "policy.yaml" "a refused reload shows as last_error"
cp "$POL.good" "$POL" && kill -HUP "$CUS_PID" && sleep 0.5
is "$(api /api/policy | jq -r '.last_error, .generation' | tr '\n' ' ')" "null 2 " "cleared by the next good load"
api /api/vulndb >"$T/vulndb.json"
is "$(jq -r '.records' "$T/vulndb.json")" 1 "/api/vulndb: one record"
ok '[ "$(jq -r ".generation" "$T/vulndb.json")" -ge 1 ]' "a generation"
is "$(jq -r '.ecosystems["Debian:12"]' "$T/vulndb.json")" 1 "per ecosystem"
api /api/summary >"$T/summary.json"
is "$(jq -c '[.images, .repositories, .denied, .allowed, .verdicts_complete]' "$T/summary.json")" '[2,2,1,1,true]' \
    "/api/summary counts images, repositories and verdicts"
is "$(code -H "Authorization: Bearer $TOKEN" "$A/api/events")" 200 "/api/events answers"
is "$(code -H "Authorization: Bearer $TOKEN" "$A/api/lineage?repository=shop/app&reference=v1")" 200 "/api/lineage answers"

# ---- bad requests, methods, headers, no registry traffic ----------------------------------
is "$(code -H "Authorization: Bearer $TOKEN" "$A/api/images?per_page=1000")" 400 "per_page over 200: 400"
is "$(code -H "Authorization: Bearer $TOKEN" "$A/api/images?page=abc")" 400 "page=abc: 400"
is "$(code -H "Authorization: Bearer $TOKEN" "$A/api/images?verdict=maybe")" 400 "verdict=maybe: 400"
is "$(code -H "Authorization: Bearer $TOKEN" "$A/api/images?colour=red")" 400 "an unknown parameter: 400"
is "$(code -H "Authorization: Bearer $TOKEN" "$A/api/decisions?limit=501")" 400 "limit over 500: 400"
is "$(code -H "Authorization: Bearer $TOKEN" "$A/api/image?repository=shop/app")" 400 "reference missing: 400"
is "$(api '/api/images?page=abc' | jq -r '.error')" 'parameter "page" must be an integer from 1 to 100000' \
    "the error is JSON and says why"
is "$(code -X POST -H "Authorization: Bearer $TOKEN" "$A/api/images")" 405 "POST: 405"
is "$(code -X DELETE -H "Authorization: Bearer $TOKEN" "$A/api/images")" 405 "DELETE: 405"
is "$(code -I -H "Authorization: Bearer $TOKEN" "$A/api/summary")" 200 "HEAD: 200"
is "$(code -H "Authorization: Bearer $TOKEN" "$A/v2/")" 404 "GET /v2/ on the admin port: 404 (no proxying)"
is "$(code -H "Authorization: Bearer $TOKEN" "$A/v2/shop/app/manifests/v1")" 404 "nor a manifest"
curl -s -D "$T/h.txt" -o /dev/null -H "Authorization: Bearer $TOKEN" "$A/api/summary"
is "$(header_value "$T/h.txt" x-content-type-options)" nosniff "X-Content-Type-Options: nosniff"
is "$(header_value "$T/h.txt" cache-control)" no-store "Cache-Control: no-store"
is "$(header_value "$T/h.txt" x-frame-options)" DENY "X-Frame-Options: DENY"
like "$(header_value "$T/h.txt" content-security-policy)" "default-src" "a Content-Security-Policy"
like "$(header_value "$T/h.txt" content-type)" "application/json" "JSON"
curl -s -D "$T/h401.txt" -o /dev/null "$A/api/summary"
is "$(header_value "$T/h401.txt" x-content-type-options)" nosniff "a 401 carries the headers too"
is "$(code -H "Authorization: Bearer $TOKEN" "$A/metrics")" 200 "/metrics answers"

# ---- clients that leave before their answer -------------------------------------------------
seq 1 40 | sed "s|.*|$A/api/image?repository=shop/app\&reference=v1|" |
    xargs -P 20 -n 1 curl -s -o /dev/null -m 0.005 -H "Authorization: Bearer $TOKEN" 2>/dev/null
sleep 1
is "$(code "$A/healthz")" 200 "40 clients that left before their answer do no harm"
is "$(api /api/summary | jq -r '.denied')" 1 "and the API still answers"

# ---- admin traffic while pulls go through the proxy -------------------------------------------
# 200 API requests, 16 at a time, while the clean image is pulled: the pull
# must succeed while they run, and every API request must answer 200
seq 1 200 | sed "s|.*|$A/api/image?repository=shop/app\&reference=v1|" >"$T/urls"
date +%s.%N >"$T/burst.start"
(xargs -P 16 -n 1 curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $TOKEN" <"$T/urls" >"$T/burst.codes"
 date +%s.%N >"$T/burst.end") &
BURST=$!
sleep 0.2
date +%s.%N >"$T/pull.start"
skopeo_pull "$H" shop/ok:v1 "$T/pulled-ok2" 2>"$T/pull-ok2.err"
prc=$?
date +%s.%N >"$T/pull.end"
v2=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' "$CUS_URL/v2/")
wait "$BURST"
is "$prc" 0 "a pull through the proxy works while admin requests run"
ok '[ ! -s "$T/burst.end" ] || awk -v p="$(cat "$T/pull.start")" -v e="$(cat "$T/burst.end")" "BEGIN{exit !(p < e)}"' \
    "the pull started before the API burst ended ($(cat "$T/pull.start") < $(cat "$T/burst.end"))"
is "$(sort -u "$T/burst.codes" | tr '\n' ' ')" "200 " "all 200 API requests answered 200"
like "$v2" "^(200|401) " "GET /v2/ through the proxy answered during it ($v2 s)"
diag "burst: $(awk -v s="$(cat "$T/burst.start")" -v e="$(cat "$T/burst.end")" 'BEGIN{printf "%.2f", e-s}') s; pull: $(awk -v s="$(cat "$T/pull.start")" -v e="$(cat "$T/pull.end")" 'BEGIN{printf "%.2f", e-s}') s"

# ---- readyz follows the upstream ---------------------------------------------------------------
api /readyz >"$T/ready1.json"
is "$(jq -r '.ready' "$T/ready1.json")" true "readyz: ready"
is "$(jq -c '.checks' "$T/ready1.json")" '{"database":"ok","policy":"ok","upstream":"ok"}' "every check ok"
stop_pid "$REG_PID"
sleep 6 # past the cached probe (5 s)
is "$(code -H "Authorization: Bearer $TOKEN" "$A/readyz")" 503 "readyz: 503 while the registry is stopped"
like "$(api /readyz | jq -r '.checks.upstream')" "unreachable" "naming the upstream"
is "$(api /readyz | jq -r '.checks.database')" ok "the database is still ok"
for i in $(seq 1 20); do curl -s -o /dev/null -H "Authorization: Bearer $TOKEN" "$A/readyz"; done
is "$(grep -c 'readyz: upstream' "$CUS_LOG")" 1 "23 readyz within the cache time probed the upstream once"
start_registry "$REG_PORT"
sleep 6
is "$(code -H "Authorization: Bearer $TOKEN" "$A/readyz")" 200 "readyz: 200 again after the registry restarts"

done_testing
