#!/bin/bash
# tests/integration/test_replicas.sh - two customs replicas on one PostgreSQL
# database behind haproxy (replicalib.sh), as issue 15 deploys them:
#  1. a push through round-robin haproxy (its POST, PATCH and PUT spread
#     over both replicas, counted in their access logs) scans every layer
#     exactly once, and both replicas, asked directly, refuse the denied image
#     with the same reasons and allow a clean one; the same image pushed
#     through both replicas at once (both stream every layer) is scanned once;
#  2. an OSV import (the CLI on the shared database) changes the verdict the
#     other replica serves within a second (the delay is printed);
#  3. a replica SIGKILLed in the middle of a push: the client's retry goes
#     through the other one, and the image has its report and its verdict;
#  and deploy/replicas/haproxy.cfg (the documented sticky setup) is valid and
#  keeps every request of one repository's push on one replica.  TAP.

. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/pglib.sh"
. "$LIB_DIR/replicalib.sh"
. "$LIB_DIR/mkimage.sh"
. "$LIB_DIR/fixtures.sh"

command -v jq >/dev/null || bail_out "jq is required"
command -v skopeo >/dev/null || bail_out "skopeo is required"
SRC_DIR=${top_srcdir:-$TOP_DIR}
PROPAGATION_MAX_MS=1000 # issue 15: "within a second"
POLL_MS=20              # verdict polling period while measuring propagation
POLL_MAX_MS=5000        # give up measuring after this (the assertion fails)
MT=application/vnd.oci.image.manifest.v1+json

pg_start
start_registry
fixture_critical_osv "$T/osv1.json"
"$CUSTOMS_BIN" db import --db "$PG_URL" "$T/osv1.json" >"$T/import1.out" 2>&1 ||
    bail_out "import into the shared database: $(cat "$T/import1.out")"
fixture_policy_no_critical "$T/policy.yaml"
# few scanner threads, so that jobs held by uploads split over the replicas
# (a POST or PATCH whose final PUT went to the other one) would show, as
# stalled scans, within the few pushes of this test
SCAN_WORKERS=3
printf 'scan:\n  workers: %s\n' "$SCAN_WORKERS" >"$T/replicas.yaml"
CUSTOMS_POLICY=$T/policy.yaml rep_start 2 -c "$T/replicas.yaml"
hap_config_rr "$T/hap-rr.cfg"
hap_start "$T/hap-rr.cfg"
H=127.0.0.1:$HAP_PORT

# manifest_get URL REPO REF OUT: status of a manifest GET, body in OUT
manifest_get() {
    curl -s -m 30 -o "$4" -w '%{http_code}' -H "Accept: $MT" "$1/v2/$2/manifests/$3"
}

# ---- 1. a round-robin push: scanned once, the same verdict on both ---------
IMG=$T/shop
fixture_shop_image "$IMG" >"$T/digest" || bail_out "cannot build the shop image"
DIGEST=$(cat "$T/digest")
R_CLEAN=$T/rootfs-clean IMG_CLEAN=$T/clean
fixture_debian_base "$R_CLEAN" 3.0.13-1~deb12u1 replicas-clean
oci_init "$IMG_CLEAN" && oci_add_layer "$IMG_CLEAN" "$R_CLEAN" && oci_finish "$IMG_CLEAN" v1 >/dev/null ||
    bail_out "cannot build the clean image"

forget_blob_locations
skopeo_push "$IMG" v1 "$H" shop/app:v1 2>"$T/push1.err"
is "$?" 0 "push of the shop image through round-robin haproxy"
skopeo_push "$IMG_CLEAN" v1 "$H" clean/app:v1 2>>"$T/push1.err"
is "$?" 0 "push of a clean image through it"
[ -s "$T/push1.err" ] && diag "skopeo: $(head -c 600 "$T/push1.err")"

up1=$(rep_access_count 1 '(POST|PATCH|PUT) /v2/shop/app/blobs/uploads/')
up2=$(rep_access_count 2 '(POST|PATCH|PUT) /v2/shop/app/blobs/uploads/')
diag "blob upload requests of shop/app: replica 1: $up1, replica 2: $up2"
ok '[ "$up1" -gt 0 ] && [ "$up2" -gt 0 ]' "the upload requests were split over both replicas"
ok '[ "$(rep_access_count 1 "PUT /v2/shop/app/manifests/") $(rep_access_count 2 "PUT /v2/shop/app/manifests/")" != "0 0" ]' \
    "the manifest PUT reached a replica"

n=0
for layer in $(oci_layers "$IMG"); do
    n=$((n + 1))
    lines=$(rep_scan_lines "$layer")
    [ -n "$lines" ] && diag "layer $n: $(sed 's/.*scan layer=sha256:\(.\{12\}\)[^ ]* /\1 /' <<<"$lines")"
    is "$(grep -c . <<<"$lines")" 1 "layer $n scanned exactly once across both replicas"
    is "$(rep_scan_lines "$layer" ok | grep -c .)" 1 "layer $n: that scan has status=ok"
done
is "$n" 2 "the shop image has two layers"
"$CUSTOMS_BIN" report --db "$PG_URL" --format json shop/app:v1 >"$T/shop.json" 2>"$T/shop.err"
is "$(jq -r '.digest + " " + ([.layers[].status] | join(","))' "$T/shop.json")" "$DIGEST ok,ok" \
    "the shared database holds the image and both layers' results"

for i in 1 2; do
    code=$(manifest_get "${REP_URL[i]}" shop/app v1 "$T/deny$i.json")
    is "$code" 403 "replica $i, asked directly, refuses the vulnerable image"
    like "$(jq -r '.errors[0].message' "$T/deny$i.json")" "CVE-2099-0001" "replica $i names the finding"
    like "$(jq -r '.errors[0].message' "$T/deny$i.json")" "no-critical" "replica $i names the rule"
done
is "$(jq -cS '.errors | map({code, message})' "$T/deny2.json")" \
    "$(jq -cS '.errors | map({code, message})' "$T/deny1.json")" "both refuse with the same reasons and rule"
for i in 1 2; do
    code=$(curl -s -m 30 -o /dev/null -D "$T/clean$i.h" -w '%{http_code}' -H "Accept: $MT" \
        "${REP_URL[i]}/v2/clean/app/manifests/v1")
    is "$code" 200 "replica $i serves the clean image"
    is "$(header_value "$T/clean$i.h" x-customs-verdict)" allow "replica $i: X-Customs-Verdict: allow"
done

# ---- 1b. the same layers streamed to both replicas at once ---------------------
# (two repositories, each pushed straight to one replica at the same time:
# both receive every layer whole.  An upload's digest is known only at its
# last request, so both may scan it in-stream while the bytes pass; the
# claim taken then stops the later replica's scan if it is still running,
# and nothing is fetched back: at most one scan per replica, none fetched).
# First more round-robin pushes, which leave each replica more split uploads
# than it has scanner threads: those must not hold the threads.
for k in 1 2 3; do
    fixture_debian_base "$T/rootfs-rr$k" 3.0.13-1~deb12u1 "replicas-rr$k" && oci_init "$T/rr$k" &&
        oci_add_layer "$T/rr$k" "$T/rootfs-rr$k" && mkimage_rootfs "$T/rootfs-rr$k-2" 1 65536 random &&
        oci_add_layer "$T/rr$k" "$T/rootfs-rr$k-2" && oci_finish "$T/rr$k" v1 >/dev/null || bail_out "rr image $k"
    skopeo_push "$T/rr$k" v1 "$H" "rr/app$k:v1" 2>>"$T/push1.err" || bail_out "round-robin push $k"
done
IMG_TWIN=$T/twin
fixture_debian_base "$T/rootfs-twin" 3.0.13-1~deb12u1 replicas-twin
oci_init "$IMG_TWIN" && oci_add_layer "$IMG_TWIN" "$T/rootfs-twin" || bail_out "twin image"
for k in 1 2; do
    mkimage_rootfs "$T/rootfs-twin$k" "$k" $((12 * 1024 * 1024)) random &&
        oci_add_layer "$IMG_TWIN" "$T/rootfs-twin$k" 1 || bail_out "twin image layer $k"
done
oci_finish "$IMG_TWIN" v1 >/dev/null || bail_out "twin image"
forget_blob_locations
skopeo_push "$IMG_TWIN" v1 "127.0.0.1:${REP_PORT[1]}" twin/a:v1 2>"$T/twin-a.err" &
twin_a=$!
skopeo_push "$IMG_TWIN" v1 "127.0.0.1:${REP_PORT[2]}" twin/b:v1 2>"$T/twin-b.err"
is "$?" 0 "push of an image through replica 2 ..."
wait "$twin_a"
is "$?" 0 "... while the same image is pushed through replica 1"
n=0
for layer in $(oci_layers "$IMG_TWIN"); do
    n=$((n + 1))
    lines=$(rep_scan_lines "$layer")
    [ -n "$lines" ] && diag "twin layer $n: $(sed 's/.*scan layer=sha256:\(.\{12\}\)[^ ]* /\1 /' <<<"$lines")"
    c1=$(grep -c "scan layer=$layer " "${REP_LOG[1]}") c2=$(grep -c "scan layer=$layer " "${REP_LOG[2]}")
    is "$(grep -c 'via=fetch' <<<"$lines")" 0 "twin layer $n: not fetched again (both replicas saw it whole)"
    ok '[ "$c1" -le 1 ] && [ "$c2" -le 1 ] && [ $((c1 + c2)) -ge 1 ]' \
        "twin layer $n: scanned in-stream, at most once per replica (replica 1: $c1, replica 2: $c2)"
done
ok '! grep -h "PUT /v2/twin/./manifests/v1: scan not finished" "${REP_LOG[1]}" "${REP_LOG[2]}"' \
    "both manifest PUTs found their scans done (no scanner thread held by split uploads)"
for repo in twin/a twin/b; do
    "$CUSTOMS_BIN" report --db "$PG_URL" --format json "$repo:v1" >"$T/twin.json" 2>/dev/null
    is "$(jq -r '[.layers[].status] | join(",")' "$T/twin.json")" "ok,ok,ok" "$repo: every layer has its result"
done

# ---- 2. an import seen by the other replica within a second -----------------
# CVE-2099-0002: a critical flaw in bash 5.2.15-2+b2, which the clean image has
cat >"$T/osv2.json" <<'X'
{"schema_version": "1.6.0", "id": "CVE-2099-0002", "modified": "2099-01-02T00:00:00Z",
 "summary": "made-up critical bash flaw",
 "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
 "affected": [{"package": {"ecosystem": "Debian:12", "name": "bash"},
   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "5.2.15-3"}]}]}]}
X
# both replicas have just served the clean verdict (a cache would hold it)
t0=$(ms_now)
"$CUSTOMS_BIN" db import --db "$PG_URL" "$T/osv2.json" >"$T/import2.out" 2>&1
is "$?" 0 "customs db import --db URL of a record that makes the clean image vulnerable"
t1=$(ms_now)
code=200
while [ "$code" != 403 ] && [ $(($(ms_now) - t1)) -lt $POLL_MAX_MS ]; do
    sleep "0.0$POLL_MS"
    code=$(manifest_get "${REP_URL[2]}" clean/app v1 "$T/after2.json")
done
delay=$(($(ms_now) - t1))
diag "verdict propagation: import took $((t1 - t0)) ms; replica 2 refused the image $delay ms after it returned"
is "$code" 403 "replica 2 refuses the newly vulnerable image"
ok '[ "$delay" -lt $PROPAGATION_MAX_MS ]' "within a second of the import ($delay ms)"
like "$(jq -r '.errors[0].message' "$T/after2.json")" "CVE-2099-0002" "naming the new finding"
code=$(manifest_get "${REP_URL[1]}" clean/app v1 "$T/after1.json")
is "$code" 403 "replica 1 refuses it too"

# ---- 3. a replica killed in the middle of a push ----------------------------
IMG_BIG=$T/big
BIG_LAYER_BYTES=$((24 * 1024 * 1024)) # long enough that the kill lands mid-transfer
KILL_AFTER_BYTES=$((4 * 1024 * 1024))  # a replica that read this much is inside a layer upload
R_VULN=$T/rootfs-vuln
fixture_debian_base "$R_VULN" 3.0.11-1~deb12u2 replicas-big
oci_init "$IMG_BIG" && oci_add_layer "$IMG_BIG" "$R_VULN" || bail_out "big image"
for k in 1 2 3; do
    mkimage_rootfs "$T/rootfs-big$k" "$k" "$BIG_LAYER_BYTES" random && oci_add_layer "$IMG_BIG" "$T/rootfs-big$k" 1 ||
        bail_out "big image layer $k"
done
BIG_DIGEST=$(oci_finish "$IMG_BIG" v1) || bail_out "big image"
# a replica's bytes read (/proc/PID/io rchar: sockets included)
rchar() { awk '/^rchar:/ { print $2 }' "/proc/$1/io" 2>/dev/null || echo 0; }
base1=$(rchar "${REP_PID[1]}") base2=$(rchar "${REP_PID[2]}")
forget_blob_locations
timeout 120 skopeo copy -q --dest-tls-verify=false "oci:$IMG_BIG:v1" "docker://$H/big/app:v1" >"$T/push3a.out" 2>&1 &
PUSH_PID=$!
# kill the first replica found in the middle of receiving a big layer
KILLED="" deadline=$((SECONDS + 60))
while [ -z "$KILLED" ] && [ $SECONDS -lt $deadline ] && kill -0 "$PUSH_PID" 2>/dev/null; do
    r1=$(($(rchar "${REP_PID[1]}") - base1)) r2=$(($(rchar "${REP_PID[2]}") - base2))
    if [ "$r1" -gt $KILL_AFTER_BYTES ]; then KILLED=1 SURV=2 got=$r1
    elif [ "$r2" -gt $KILL_AFTER_BYTES ]; then KILLED=2 SURV=1 got=$r2
    else sleep 0.02; fi
done
ok '[ -n "$KILLED" ] && kill -0 "$PUSH_PID" 2>/dev/null' "a replica is receiving the push's layer bytes mid-push"
[ -n "$KILLED" ] || KILLED=1 SURV=2 got=0
kill -KILL "${REP_PID[KILLED]}"
wait "${REP_PID[KILLED]}" 2>/dev/null
diag "SIGKILLed replica $KILLED after it had read $((got / 1048576)) MiB of the push"
wait "$PUSH_PID"
rc_first=$?
diag "first push attempt: exit $rc_first: $(tail -c 300 "$T/push3a.out")"
kept=$(grep -c 'access id=' "${REP_LOG[SURV]}")
sleep 0.5 # haproxy's health check (200 ms, fall 1) marks the dead replica down
forget_blob_locations
skopeo_push "$IMG_BIG" v1 "$H" big/app:v1 2>"$T/push3b.err"
is "$?" 0 "the client's retry succeeds through the other replica"
ok '[ "$(tail -n +$((kept + 1)) "${REP_LOG[SURV]}" | grep -c "access id=.* /v2/big/app/")" -gt 0 ]' \
    "the retry's requests were served by replica $SURV"
"$CUSTOMS_BIN" report --db "$PG_URL" --format json big/app:v1 >"$T/big.json" 2>"$T/big.err"
is "$?" 0 "customs report --db URL big/app:v1"
is "$(jq -r .digest "$T/big.json")" "$BIG_DIGEST" "the report names the pushed digest"
is "$(jq -r '[.packages[] | .name + "@" + .version] | sort | join(" ")' "$T/big.json")" \
    "bash@5.2.15-2+b2 libssl3@3.0.11-1~deb12u2" "the report lists the image's packages"
is "$(jq -r '[.layers[].status] | join(",")' "$T/big.json")" "ok,ok,ok,ok" "every layer stored ok"
code=$(manifest_get "$HAP_URL" big/app v1 "$T/big-pull.json")
is "$code" 403 "its verdict is served through haproxy (refused: vulnerable openssl and bash)"
like "$(jq -r '.errors[0].message' "$T/big-pull.json")" "CVE-2099-000[12]" "naming a finding"
kill -0 "${REP_PID[SURV]}" 2>/dev/null
is "$?" 0 "replica $SURV is still running"

# ---- the documented sticky setup (deploy/replicas/haproxy.cfg) ---------------
DEPLOY_CFG=$SRC_DIR/deploy/replicas/haproxy.cfg
"$HAP_BIN" -c -f "$DEPLOY_CFG" >"$T/deploy-check.out" 2>&1
is "$?" 0 "haproxy -c accepts deploy/replicas/haproxy.cfg"
[ "$?" = 0 ] || diag "$(tail -5 "$T/deploy-check.out")"
"$CUSTOMS_BIN" serve -c "$SRC_DIR/deploy/replicas/customs.yaml" --help >"$T/deploy-yaml.out" 2>&1
is "$?" 0 "customs accepts deploy/replicas/customs.yaml"
[ "$?" = 0 ] || diag "$(tail -3 "$T/deploy-yaml.out")"
# the same file with this test's addresses: a fresh pair of replicas, given
# the password as deploy/replicas does (PGPASSWORD, none in the URL)
NOPW_URL="postgresql://customs@127.0.0.1:$PG_PORT/customs"
PGPASSWORD=$PG_PASSWORD "$CUSTOMS_BIN" db status --db "$NOPW_URL" >"$T/nopw.out" 2>&1
is "$?" 0 "customs db status --db URL-without-password with PGPASSWORD"
PG_URL=$NOPW_URL PGPASSWORD=$PG_PASSWORD CUSTOMS_POLICY=$T/policy.yaml rep_start 2
S1=$((REP_N - 1)) S2=$REP_N
STICKY_PORT=$(free_port) || bail_out "no free port"
sed -e "s|^\(\s*bind\s\+\)\S*:5000|\1127.0.0.1:$STICKY_PORT|" \
    -e "s|customs1:5000|127.0.0.1:${REP_PORT[S1]}|" -e "s|customs2:5000|127.0.0.1:${REP_PORT[S2]}|" \
    -e '/^resolvers/,/^$/d' -e 's/ resolvers docker//' "$DEPLOY_CFG" >"$T/hap-sticky.cfg"
ok 'grep -q "127.0.0.1:$STICKY_PORT" "$T/hap-sticky.cfg" && grep -q "127.0.0.1:${REP_PORT[S2]}" "$T/hap-sticky.cfg"' \
    "the deploy configuration's bind and server lines were retargeted"
HAP_PORT=$STICKY_PORT hap_start "$T/hap-sticky.cfg"
for repo in sticky/one sticky/two/deeper; do
    R=$T/rootfs-${repo//\//-}
    mkimage_rootfs "$R" 1 $((2 * 1024 * 1024)) random && oci_init "$T/img-${repo//\//-}" &&
        fixture_debian_base "$R-base" 3.0.13-1~deb12u1 "$repo" && oci_add_layer "$T/img-${repo//\//-}" "$R-base" &&
        oci_add_layer "$T/img-${repo//\//-}" "$R" 1 &&
        oci_finish "$T/img-${repo//\//-}" v1 >/dev/null || bail_out "sticky image"
    forget_blob_locations
    skopeo_push "$T/img-${repo//\//-}" v1 "127.0.0.1:$STICKY_PORT" "$repo:v1" 2>"$T/push-sticky.err"
    is "$?" 0 "push to $repo through the sticky configuration"
    a=$(rep_access_count "$S1" "[A-Z]+ /v2/$repo/") b=$(rep_access_count "$S2" "[A-Z]+ /v2/$repo/")
    diag "$repo: requests on the two replicas: $a, $b"
    ok '[ $((a + b)) -gt 0 ] && { [ "$a" = 0 ] || [ "$b" = 0 ]; }' "every request of $repo went to one replica"
    for layer in $(oci_layers "$T/img-${repo//\//-}"); do
        is "$({ grep -h "scan layer=$layer .*via=upload.*status=ok" "${REP_LOG[S1]}" "${REP_LOG[S2]}"; } | grep -c .)" 1 \
            "$repo: layer ${layer:7:12} scanned once, in-stream"
    done
done

done_testing
