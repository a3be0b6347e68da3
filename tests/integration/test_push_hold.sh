#!/bin/bash
# test_push_hold.sh - what a push waits for, through customs.
#
# A blob PUT is answered as the registry answers it: its scan goes on while
# the client uploads the next blob.  The manifest PUT waits (scan.wait_ms) for
# the scans of every layer it names, so the verdict exists when the push
# returns (X-Customs-Scan: done).  When the scans cannot finish in time the
# manifest PUT says X-Customs-Scan: pending, every pull of the image is
# refused while it is being scanned, and the verdict that follows is the
# scan's own (the layer scanned from the upload's bytes, not fetched again).
#
# Pushes are done step by step with curl (POST, PATCH, PUT ?digest=, manifest
# PUT) so that each response's headers and time can be checked.  Part 2 keeps
# every layer worker busy with slow uploads so that a scan cannot start.
# TAP output.

. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/mkimage.sh"
. "$LIB_DIR/fixtures.sh"

command -v jq >/dev/null || bail_out "jq is required"
command -v sqlite3 >/dev/null || bail_out "sqlite3 is required"
direct_mode && { echo "1..0 # SKIP needs customs (CUSTOMS_TEST_DIRECT=1)"; exit 0; }

WAIT_MS=4000   # scan.wait_ms of this test's customs
QUICK_S=2.5    # a blob PUT that waited for a held scan would take >= WAIT_MS
DRIPS=8        # px_scan starts at least 8 layer workers: keep them all busy
MT=application/vnd.oci.image.manifest.v1+json

DRIP_PIDS=()
_hold_cleanup() {
    local rc=$? p
    pkill -f -- "-T $T/drip" 2>/dev/null
    for p in "${DRIP_PIDS[@]}"; do kill "$p" 2>/dev/null; done
    (exit $rc)
    _lib_cleanup
}
trap _hold_cleanup EXIT

POL=$T/policy.yaml
cat >"$POL" <<'X'
mode: enforce
unscanned: scan
on_error: deny
head: auto
rules:
  - name: no-critical
    repositories: ["**"]
    deny:
      severity: critical
X
printf 'scan:\n  wait_ms: %d\n' "$WAIT_MS" >"$T/customs.yaml"
start_registry
CUSTOMS_POLICY=$POL start_customs -c "$T/customs.yaml"
DB=$(cus_db 1)
fixture_critical_osv "$T/osv-critical.json"
"$CUSTOMS_BIN" db import --db "$DB" "$T/osv-critical.json" >"$T/import.out" 2>&1 ||
    bail_out "cannot import the critical record: $(tail -1 "$T/import.out")"

# push_blob LAYOUT DIGEST REPO TAGFILE: uploads one blob of LAYOUT with curl;
# the final PUT's headers go to TAGFILE.h, its time (s) to TAGFILE.t; prints
# the final status code.
push_blob() {
    local lay=$1 dig=$2 repo=$3 out=$4 loc code
    code=$(curl -sS -m 60 -X POST -H 'Content-Length: 0' -D "$out.post" -o /dev/null -w '%{http_code}' \
        "$CUS_URL/v2/$repo/blobs/uploads/")
    [ "$code" = 202 ] || { echo "POST:$code"; return; }
    loc=$(abs_url "$CUS_URL" "$(header_value "$out.post" Location)")
    code=$(curl -sS -m 60 -X PATCH -T "$lay/blobs/sha256/${dig#sha256:}" \
        -H 'Content-Type: application/octet-stream' -D "$out.patch" -o /dev/null -w '%{http_code}' "$loc")
    [ "$code" = 202 ] || { echo "PATCH:$code"; return; }
    loc=$(abs_url "$CUS_URL" "$(header_value "$out.patch" Location)")
    case $loc in *\?*) loc="$loc&digest=$dig" ;; *) loc="$loc?digest=$dig" ;; esac
    curl -sS -m 60 -X PUT -H 'Content-Length: 0' -D "$out.h" -o /dev/null \
        -w '%{http_code} %{time_total}' "$loc" >"$out.ct"
    read -r code t <"$out.ct"
    echo "$t" >"$out.t"
    echo "$code"
}

# push_manifest LAYOUT MANIFEST_DIGEST REPO TAG OUT: PUT the manifest; headers
# in OUT.h, time in OUT.t; prints the status code.
push_manifest() {
    local lay=$1 dig=$2 repo=$3 tag=$4 out=$5 code t
    curl -sS -m 60 -X PUT -H "Content-Type: $MT" --data-binary "@$lay/blobs/sha256/${dig#sha256:}" \
        -D "$out.h" -o "$out.body" -w '%{http_code} %{time_total}' "$CUS_URL/v2/$repo/manifests/$tag" >"$out.ct"
    read -r code t <"$out.ct"
    echo "$t" >"$out.t"
    echo "$code"
}

manifest_of() { jq -r '.manifests[0].digest' "$1/index.json"; }
layers_of() { jq -r '.layers[].digest' "$1/blobs/sha256/${2#sha256:}"; }
config_of() { jq -r '.config.digest' "$1/blobs/sha256/${2#sha256:}"; }
faster_than() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }
stored_layers() { # DIGEST...: how many of these layers the store has
    local n=0 d
    for d in "$@"; do
        [ "$(db_sql "SELECT count(*) FROM layers WHERE digest = '$d'")" = 1 ] && n=$((n + 1))
    done
    echo $n
}

# ---- images: a clean one with 3 layers, a denied one, and a denied one
# ---- whose layers nothing has seen yet (for part 2)
OKD=$(mkimage_build -n 3 -s 2M -p random -z 1 -t v1 "$T/ok") || bail_out "cannot build the clean image"
fixture_shop "$T/r0" "$T/r1"
oci_init "$T/shop" && oci_add_layer "$T/shop" "$T/r0" && SHOPD=$(oci_finish "$T/shop" v1) ||
    bail_out "cannot build the denied image"
fixture_shop "$T/s0" "$T/s1"
head -c 3M /dev/urandom >"$T/s0/nonce.bin" # a layer digest nothing has seen, and a scan that takes a moment
oci_init "$T/slow" && oci_add_layer "$T/slow" "$T/s0" 1 && SLOWD=$(oci_finish "$T/slow" v1) ||
    bail_out "cannot build the second denied image"

# =========================================================================
# 1. an idle scanner: blob PUTs pass, the manifest PUT carries the verdict
# =========================================================================
mapfile -t OKL < <(layers_of "$T/ok" "$OKD")
i=0
for d in $(config_of "$T/ok" "$OKD") "${OKL[@]}"; do
    i=$((i + 1))
    is "$(push_blob "$T/ok" "$d" ok/app "$T/ok-b$i")" 201 "clean image: blob $i PUT is answered 201"
    ok '! grep -qi "^x-customs-scan" "$T/ok-b$i.h"' "blob $i PUT is not held for its scan (no X-Customs-Scan)"
done
is "$(push_manifest "$T/ok" "$OKD" ok/app v1 "$T/ok-m")" 201 "clean image: manifest PUT 201"
is "$(header_value "$T/ok-m.h" x-customs-scan)" done "the manifest PUT waited for the scans: X-Customs-Scan: done"
is "$(stored_layers "${OKL[@]}")" 3 "every layer's scan is stored when the manifest PUT returns"
is "$(db_sql "SELECT count(*) FROM images WHERE digest = '$OKD'")" 1 "and the image is recorded"
for d in "${OKL[@]}"; do
    ok "grep -q 'scan layer=$d .*via=upload' '$CUS_LOG'" "layer ${d:7:12} was scanned from the upload's bytes"
    ok "! grep -q 'scan layer=$d .*via=fetch' '$CUS_LOG'" "and not fetched again"
done
c=$(curl -s -m 30 -o /dev/null -D "$T/ok-get.h" -w '%{http_code}' -H "Accept: $MT" "$CUS_URL/v2/ok/app/manifests/v1")
is "$c" 200 "the clean image is served right after the push"
is "$(header_value "$T/ok-get.h" x-customs-verdict)" allow "with X-Customs-Verdict: allow"

mapfile -t SHOPL < <(layers_of "$T/shop" "$SHOPD")
for d in $(config_of "$T/shop" "$SHOPD") "${SHOPL[@]}"; do
    push_blob "$T/shop" "$d" shop/app "$T/shop-b" >/dev/null
done
is "$(push_manifest "$T/shop" "$SHOPD" shop/app v1 "$T/shop-m")" 201 "denied image: manifest PUT 201"
is "$(header_value "$T/shop-m.h" x-customs-scan)" done "X-Customs-Scan: done"
c=$(curl -s -m 30 -o "$T/shop-get.json" -w '%{http_code}' -H "Accept: $MT" "$CUS_URL/v2/shop/app/manifests/v1")
is "$c" 403 "the denied image is refused right after the push"
like "$(jq -r '.errors[0].message' "$T/shop-get.json")" "CVE-2099-0001" "for the critical CVE"

# =========================================================================
# 2. every worker busy: the blob PUT still answers at once, the manifest PUT
#    says pending, the image stays refused until its own scan decides
# =========================================================================
make_random_file "$T/drip" $((4 * 1024 * 1024))
for i in $(seq 1 $DRIPS); do
    # 20 KiB/s: above scan.min_rate_bytes' default, so each keeps its worker
    (blob_upload "$CUS_URL" drip/app "$T/drip" "$(sha256_of "$T/drip")" --limit-rate 20K -m 300 >/dev/null) &
    DRIP_PIDS+=($!)
done
sleep 2
mapfile -t SLOWL < <(layers_of "$T/slow" "$SLOWD")
for d in $(config_of "$T/slow" "$SLOWD") "${SLOWL[@]}"; do
    is "$(push_blob "$T/slow" "$d" slow/app "$T/slow-b")" 201 "busy scanner: blob ${d:7:12} PUT 201"
    t=$(cat "$T/slow-b.t")
    ok "faster_than $t $QUICK_S" "answered in ${t}s, without waiting for a worker (scan.wait_ms is ${WAIT_MS} ms)"
done
is "$(push_manifest "$T/slow" "$SLOWD" slow/app v1 "$T/slow-m")" 201 "busy scanner: manifest PUT 201"
t=$(cat "$T/slow-m.t")
is "$(header_value "$T/slow-m.h" x-customs-scan)" pending "past scan.wait_ms: X-Customs-Scan: pending (after ${t}s)"
ok "! faster_than $t $(awk -v w=$WAIT_MS 'BEGIN { print w / 1000 - 0.5 }')" "the manifest PUT did wait for the scan"
for ref in v1 "$SLOWD"; do
    c=$(curl -s -m 30 -o "$T/slow-get.json" -w '%{http_code}' -H "Accept: $MT" "$CUS_URL/v2/slow/app/manifests/$ref")
    is "$c" 403 "while its layer waits for a worker, the image is refused (${ref:0:12})"
done
# HEAD carries no document: an image not judged yet is announced as such,
# and the GET that follows is judged (refused above)
curl -s -m 30 -I -D "$T/slow-head.h" -o /dev/null -H "Accept: $MT" "$CUS_URL/v2/slow/app/manifests/v1"
is "$(header_value "$T/slow-head.h" x-customs-verdict)" unscanned "a HEAD meanwhile says X-Customs-Verdict: unscanned"
c=$(curl -s -m 30 -o /dev/null -w '%{http_code}' -H "Accept: $MT" "$CUS_URL/v2/slow/app/manifests/v1")
is "$c" 403 "and the GET after that HEAD is refused"
diag "reason while pending: $(jq -r '.errors[0].message' "$T/slow-get.json" 2>/dev/null)"

# the curl processes are grandchildren of the subshells: kill them by their file
pkill -f -- "-T $T/drip" 2>/dev/null
for p in "${DRIP_PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
DRIP_PIDS=()
# the workers come back (the aborted drips break their jobs); the layer's
# queued stream job runs, then the manifest job waiting for it
for _ in $(seq 1 60); do
    [ "$(stored_layers "${SLOWL[@]}")" = 1 ] &&
        [ "$(db_sql "SELECT count(*) FROM images WHERE digest = '$SLOWD'")" = 1 ] && break
    sleep 0.5
done
is "$(stored_layers "${SLOWL[@]}")" 1 "once a worker is free the layer is scanned"
ok "grep -q 'scan layer=${SLOWL[0]} .*via=upload' '$CUS_LOG'" "from the bytes of its upload (spooled while it waited)"
ok "! grep -q 'scan layer=${SLOWL[0]} .*via=fetch' '$CUS_LOG'" "not fetched a second time"
c=$(curl -s -m 30 -o "$T/slow-get2.json" -w '%{http_code}' -H "Accept: $MT" "$CUS_URL/v2/slow/app/manifests/v1")
is "$c" 403 "the scanned image is refused"
like "$(jq -r '.errors[0].message' "$T/slow-get2.json")" "CVE-2099-0001" "now for its critical CVE"
ok 'kill -0 "$CUS_PID" 2>/dev/null' "customs is still running"

done_testing
