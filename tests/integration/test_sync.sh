#!/bin/bash
# tests/integration/test_sync.sh - the background sync (sync.interval,
# sync.requests_per_second) against a plain docker-registry (no auth; the
# htpasswd case is test_upstream_basic.sh), with images pushed STRAIGHT to
# the registry, never through customs:
#   1. verdicts without any pull: the vulnerable shop image is denied, a
#      clean image with 30 tags and in 100 more repositories (103 in all: two
#      pages of _catalog?n=100) allowed, and the two children of a
#      multi-platform index judged;
#   2. the first `sync round:` line counts what was there; the second page of
#      the catalog was asked for; a later round scans nothing (scanned=0);
#   3. the rate limit holds: in the registry's access log, no second holds
#      more than rps + burst requests from customs;
#   4. the denied image's first pull is refused 403 at once, with no scan on
#      the pull and no blob fetched for it;
#   5. SIGTERM in the middle of a round (a slow rate): customs exits promptly.
# TAP.

. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/mkimage.sh"
. "$LIB_DIR/fixtures.sh"

for c in jq skopeo curl; do command -v $c >/dev/null || bail_out "$c is required"; done
direct_mode && bail_out "test_sync needs customs itself (CUSTOMS_TEST_DIRECT=1 has no sync)"

RPS=40
BURST=1 # PX_SYNC_BURST_REQUESTS
MT=application/vnd.oci.image.manifest.v1+json
W=$T/work
mkdir -p "$W"

# ---- a registry with its access log on (one line per request, second resolution) ----
RPORT=$(free_port) || bail_out "no free port"
mkdir -p "$T/sreg"
cat >"$T/sreg/config.yml" <<X
version: 0.1
log:
  level: error
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: $T/sreg/storage
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$RPORT
X
RLOG=$T/sreg/registry.log
"$REGISTRY_BIN" serve "$T/sreg/config.yml" >"$RLOG" 2>&1 &
RPID=$!
_LIB_PIDS+=("$RPID")
wait_http "http://127.0.0.1:$RPORT/v2/" "$RPID" || bail_out "registry did not start: $(tail -5 "$RLOG")"
REG_URL=http://127.0.0.1:$RPORT REG_PORT=$RPORT
R=127.0.0.1:$RPORT

# customs_reqs [SINCE_LINE]: the registry's access-log lines of customs' own
#   requests (its user agent) from line SINCE_LINE on
customs_reqs() { tail -n "+${1:-1}" "$RLOG" | grep -E '"(GET|HEAD) [^"]*" [0-9]+ [0-9-]+ "[^"]*" "customs/'; }
# rate_max [SINCE_LINE]: the most requests of customs within one second
rate_max() { customs_reqs "${1:-1}" | sed -n 's/.*\[\([^]]*\)\].*/\1/p' | sort | uniq -c | sort -rn | awk 'NR == 1 { print $1 } END { if (NR == 0) print 0 }'; }

# ---- images, pushed straight to the registry ----
SHOP=$(fixture_shop_image "$W/shop") || bail_out "shop image"
mkimage_rootfs "$W/c0" 0 4096 random && oci_init "$W/clean" && oci_add_layer "$W/clean" "$W/c0" &&
    CLEAN=$(oci_finish "$W/clean" v1) || bail_out "clean image"
mkimage_rootfs "$W/m0" 0 4096 random && mkimage_rootfs "$W/m1" 1 4096 random && mkimage_rootfs "$W/n1" 1 4096 random &&
    oci_init "$W/multi" && oci_add_layer "$W/multi" "$W/m0" && oci_add_layer "$W/multi" "$W/m1" &&
    MA=$(oci_finish "$W/multi" amd amd64) && oci_init "$W/multi" && oci_add_layer "$W/multi" "$W/m0" &&
    oci_add_layer "$W/multi" "$W/n1" && MB=$(oci_finish "$W/multi" arm arm64) || bail_out "multi-platform images"
# an OCI index of the two under tag 1 (as test_watch.sh builds one)
{
    sa=$(stat -c %s "$W/multi/blobs/sha256/${MA#sha256:}") && sb=$(stat -c %s "$W/multi/blobs/sha256/${MB#sha256:}") &&
        jq -cn --arg a "$MA" --argjson sa "$sa" --arg b "$MB" --argjson sb "$sb" '{
        schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json",
        manifests: [
          { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $a, size: $sa,
            platform: { os: "linux", architecture: "amd64" } },
          { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $b, size: $sb,
            platform: { os: "linux", architecture: "arm64", variant: "v8" } } ] }' | tr -d '\n' >"$W/index.tmp" &&
        hex=$(sha256sum "$W/index.tmp") && hex=${hex%% *} && mv "$W/index.tmp" "$W/multi/blobs/sha256/$hex" &&
        jq -c --arg d "sha256:$hex" --argjson s "$(stat -c %s "$W/multi/blobs/sha256/$hex")" '
        .manifests += [ { mediaType: "application/vnd.oci.image.index.v1+json", digest: $d, size: $s,
                          annotations: { "org.opencontainers.image.ref.name": "1" } } ]' \
            "$W/multi/index.json" >"$W/multi/index.json.tmp" && mv "$W/multi/index.json.tmp" "$W/multi/index.json"
} || bail_out "index"
INDEX=sha256:$hex

skopeo_push "$W/shop" v1 "$R" sync/bad:v1 || bail_out "push sync/bad"
skopeo_push "$W/clean" v1 "$R" sync/many:t000 || bail_out "push sync/many"
# more tags of the same image, and the same image in sync/r000..r099 (its blobs mounted)
urls=()
for i in $(seq 1 29); do urls+=("$REG_URL/v2/sync/many/manifests/t$(printf %03d "$i")"); done
for i in $(seq 0 99); do urls+=("$REG_URL/v2/sync/r$(printf %03d "$i")/manifests/v1"); done
murls=()
for b in $(jq -r '.config.digest, .layers[].digest' "$W/clean/blobs/sha256/${CLEAN#sha256:}"); do
    for i in $(seq 0 99); do murls+=("$REG_URL/v2/sync/r$(printf %03d "$i")/blobs/uploads/?mount=$b&from=sync/many"); done
done
curl -sf -o /dev/null -X POST -H "Content-Length: 0" "${murls[@]}" || bail_out "mounting blobs"
curl -sf -o /dev/null -X PUT -H "Content-Type: $MT" --data-binary "@$W/clean/blobs/sha256/${CLEAN#sha256:}" \
    "${urls[@]}" || bail_out "tagging sync/many, pushing sync/r*"
timeout 120 skopeo copy -q --all --dest-tls-verify=false "oci:$W/multi:1" "docker://$R/sync/multi:1" >&2 ||
    bail_out "push sync/multi"
is "$(curl -s "$REG_URL/v2/sync/many/tags/list" | jq '.tags | length')" 30 "(sync/many has 30 tags in the registry)"
is "$(curl -s "$REG_URL/v2/_catalog?n=1000" | jq '.repositories | length')" 103 "(the registry lists 103 repositories)"
is "$(reg_digest "$RPORT" sync/multi 1)" "$INDEX" "(sync/multi:1 is the index)"
is "$(customs_reqs | wc -l)" 0 "(customs has made no request yet)"

# ---- customs with a policy, the vulnerability data, the sync ----
fixture_critical_osv "$T/osv.json"
POL=$T/policy.yaml
printf 'mode: enforce\nunscanned: scan\non_error: deny\nrules:\n  - name: no-critical\n    repositories: ["**"]\n    deny:\n      severity: critical\n' >"$POL"
"$CUSTOMS_BIN" db import --db "$(cus_db 1)" "$T/osv.json" >"$T/import.out" 2>&1 || bail_out "db import: $(cat "$T/import.out")"
AP=$(free_port) || bail_out "no free port"
cat >"$T/c1.yaml" <<X
log:
  level: info
annotations:
  enabled: false
sync:
  interval: 2s
  requests_per_second: $RPS
X
LINE0=$(($(wc -l <"$RLOG") + 1))
t0=$(date +%s)
CUSTOMS_POLICY=$POL start_customs -c "$T/c1.yaml" --admin-listen "127.0.0.1:$AP"
A=http://127.0.0.1:$AP
wait_http "$A/healthz" "$CUS_PID" || bail_out "admin listener did not start"
verdict() { curl -s -m 5 "$A/api/image?repository=$1&reference=$2" | jq -r '.verdict.decision // empty' 2>/dev/null; }

# ---- 1. verdicts without any pull ----
wait_until 60 '[ -n "$(verdict sync/bad "$SHOP")" ] && [ -n "$(verdict sync/many "$CLEAN")" ] &&
    [ -n "$(verdict sync/multi "$MA")" ] && [ -n "$(verdict sync/multi "$MB")" ] && grep -q "sync round: " "$CUS_LOG"'
diag "verdicts $(( $(date +%s) - t0 )) s after customs started"
is "$(verdict sync/bad "$SHOP")" deny "sync/bad: deny, without any pull"
is "$(verdict sync/many "$CLEAN")" allow "sync/many: allow"
is "$(verdict sync/many t029)" allow "sync/many:t029 resolves and is allowed"
is "$(verdict sync/r099 v1)" allow "sync/r099:v1 (second page of the catalog) resolves and is allowed"
is "$(verdict sync/multi "$MA")" allow "the index's amd64 child is judged"
is "$(verdict sync/multi "$MB")" allow "the index's arm64 child is judged"
is "$(verdict sync/multi 1)" allow "the index itself, by its tag"
is "$(grep -c 'access .*/v2/sync/' "$CUS_LOG")" 0 "no client request reached customs meanwhile"

# ---- 2. the rounds ----
ROUND=$(grep -m1 'sync round: ' "$CUS_LOG")
diag "first round: $ROUND"
like "$ROUND" 'sync round: repositories=103 tags=132 images=134 scanned=5 known=129 failed=0 ms=[0-9]+' \
    "round 1: 103 repositories, 132 tags, 134 images (2 children); 5 scanned, 129 tags of a known digest"
ok '[ "$(customs_reqs "$LINE0" | grep -cE "GET /v2/_catalog\?[^ ]*last=sync(/|%2F)r096[& ]")" -ge 1 ]' \
    "the second page of the catalog was asked for (the registry's Link followed)"
ok '[ "$(customs_reqs "$LINE0" | grep -c "GET /v2/_catalog?n=100 ")" -ge 1 ]' "the catalog was listed"
wait_until 20 '[ "$(grep -c "sync round: " "$CUS_LOG")" -ge 3 ]'
LAST=$(grep 'sync round: ' "$CUS_LOG" | tail -1)
diag "round $(grep -c 'sync round: ' "$CUS_LOG"): $LAST"
# (the index stored whole with its children counts as one image now)
like "$LAST" 'sync round: repositories=103 tags=132 images=132 scanned=0 known=132 failed=0 ' \
    "a round after nothing changed scans nothing"
curl -s "$A/metrics" >"$T/metrics.txt"
ok '[ "$(awk "/^customs_sync_rounds_total /{print \$2}" "$T/metrics.txt")" -ge 3 ]' "/metrics counts the rounds"
is "$(awk '/^customs_sync_images_total\{result="scanned"\} /{print $2}' "$T/metrics.txt")" 5 \
    "/metrics: 5 images scanned by the sync in all (the first round's)"
is "$(awk '/^customs_sync_images_total\{result="failed"\} /{print $2}' "$T/metrics.txt")" 0 "/metrics: none failed"

# ---- 3. the rate limit ----
NREQ=$(customs_reqs "$LINE0" | wc -l)
RMAX=$(rate_max "$LINE0")
diag "$NREQ requests by customs, at most $RMAX in one second (limit $RPS + $BURST)"
ok '[ "$NREQ" -gt $((3 * RPS)) ]' "customs made $NREQ requests (enough for the limit to matter)"
ok '[ "$RMAX" -ge 1 ] && [ "$RMAX" -le $((RPS + BURST)) ]' "no second held more than $RPS + $BURST of them ($RMAX)"
ok '[ "$RMAX" -ge $((RPS / 2)) ]' "and the rate is used ($RMAX in the busiest second)"

# ---- 4. the denied image's first pull ----
BLOBS0=$(customs_reqs | grep -c "GET /v2/sync/bad/blobs/")
ok '[ "$BLOBS0" -ge 3 ]' "the sync fetched sync/bad's config and layers ($BLOBS0)"
t1=$(date +%s%3N)
code=$(curl -s -m 30 -o "$T/pull.body" -w '%{http_code}' -H "Accept: $MT" "$CUS_URL/v2/sync/bad/manifests/v1")
ms=$(( $(date +%s%3N) - t1 ))
is "$code" 403 "the first pull of sync/bad is refused"
like "$(cat "$T/pull.body")" 'CVE-2099-0001' "naming the CVE"
ok '[ "$ms" -lt 2000 ]' "at once ($ms ms)"
is "$(grep -c 'sync/bad@.*was never scanned' "$CUS_LOG")" 0 "no scan on the pull"
is "$(customs_reqs | grep -c "GET /v2/sync/bad/blobs/")" "$BLOBS0" "and no blob fetched for it"
code=$(curl -s -m 30 -o /dev/null -w '%{http_code}' -H "Accept: $MT" "$CUS_URL/v2/sync/r042/manifests/v1")
is "$code" 200 "a synced clean image pulls"
stop_pid "$CUS_PID"

# ---- 5. SIGTERM in the middle of a round ----
"$CUSTOMS_BIN" db import --db "$(cus_db 2)" "$T/osv.json" >"$T/import2.out" 2>&1 || bail_out "db import 2"
printf 'log:\n  level: info\nannotations:\n  enabled: false\nsync:\n  interval: 1h\n  requests_per_second: 2\n' >"$T/c2.yaml"
LINE1=$(($(wc -l <"$RLOG") + 1))
CUSTOMS_POLICY=$POL start_customs -c "$T/c2.yaml"
wait_until 30 '[ "$(customs_reqs "$LINE1" | wc -l)" -ge 8 ]'
ok '[ "$(customs_reqs "$LINE1" | wc -l)" -ge 8 ]' "the second customs is walking (slowly: 2 a second)"
is "$(grep -c 'sync round: ' "$CUS_LOG")" 0 "(its first round is not over)"
t2=$(date +%s%3N)
kill -TERM "$CUS_PID"
for _ in $(seq 1 100); do kill -0 "$CUS_PID" 2>/dev/null || break; sleep 0.05; done
gone=0
kill -0 "$CUS_PID" 2>/dev/null || gone=1
ms=$(( $(date +%s%3N) - t2 ))
wait "$CUS_PID" 2>/dev/null
rc=$?
is "$gone" 1 "customs exited on SIGTERM in the middle of a round"
ok '[ "$ms" -lt 3000 ]' "promptly ($ms ms)"
is "$rc" 0 "with status 0"
like "$(cat "$CUS_LOG")" 'sync: stopped in the middle of a round' "the log says the round was cut short"

done_testing
