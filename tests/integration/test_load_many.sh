#!/bin/bash
# tests/integration/test_load_many.sh - customs under many clients (issue 8,
# "Load"): 50 parallel skopeo pushes of distinct images, then 1,000
# concurrent HTTP/2 manifest GETs with h2load (50 connections x 20 streams),
# then every image pulled back through customs. Asserts 0 push failures,
# 0 h2load errors, 0 non-2xx answers and 0 digest mismatches; customs' peak
# RSS is printed as a diag line (no timing asserts). TAP output.
#
# Env: LOAD_IMAGES (default 50), LOAD_STREAMS_PER_CONN (default 20).

. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/mkimage.sh"

command -v jq >/dev/null || bail_out "jq is required"
command -v skopeo >/dev/null || bail_out "skopeo is required"
command -v h2load >/dev/null || bail_out "h2load is required (nghttp2-client)"

N=${LOAD_IMAGES:-50}
CONNS=50                                # h2load connections
STREAMS=${LOAD_STREAMS_PER_CONN:-20}    # concurrent streams per connection
REQS=$((CONNS * STREAMS))               # every request in flight at once
PULL_PAR=10                             # skopeo pulls at a time
STEP_SECS=150                           # bound on any one client run
MT=application/vnd.oci.image.manifest.v1+json

# A policy, so every GET carries a verdict (nothing here is vulnerable).
POL=$T/policy.yaml
printf '%s\n' "mode: enforce" "unscanned: scan" "on_error: deny" "head: auto" "rules:" \
    "  - name: no-critical" '    repositories: ["**"]' "    deny:" "      severity: critical" >"$POL"
start_registry
CUSTOMS_POLICY=$POL start_customs
H=127.0.0.1:$CUS_PORT

# ---- N distinct small images (2 layers each: 16 KiB random payloads) ----
# (never a bare `wait` or `jobs -p` here: the daemons are our children too)
build() { mkimage_build -n 2 -s 16K -t v1 "$T/img$1" >"$T/img$1.digest"; }
bp=()
for i in $(seq 1 "$N"); do
    build "$i" &
    bp+=($!)
    if [ ${#bp[@]} -ge 4 ]; then wait "${bp[@]}"; bp=(); fi
done
[ ${#bp[@]} = 0 ] || wait "${bp[@]}"
built=0
for i in $(seq 1 "$N"); do [[ $(cat "$T/img$i.digest" 2>/dev/null) == sha256:* ]] && built=$((built + 1)); done
[ "$built" = "$N" ] || bail_out "only $built of $N images built"
is "$(cat "$T"/img*.digest | sort -u | wc -l)" "$N" "$N distinct images built"

# ---- N parallel pushes ----------------------------------------------------
forget_blob_locations
t0=$SECONDS
pids=()
for i in $(seq 1 "$N"); do
    (skopeo_push "$T/img$i" v1 "$H" "load/app$i:v1" "$STEP_SECS" 2>"$T/push$i.err"
     echo $? >"$T/push$i.rc") &
    pids+=($!)
done
wait "${pids[@]}"   # not a bare wait: the daemons are our children too
diag "$N parallel pushes took $((SECONDS - t0)) s"
failed=0
for i in $(seq 1 "$N"); do
    if [ "$(cat "$T/push$i.rc" 2>/dev/null)" != 0 ]; then
        failed=$((failed + 1))
        [ $failed -le 3 ] && diag "push $i: $(tail -2 "$T/push$i.err")"
    fi
done
is "$failed" 0 "$N parallel skopeo pushes through customs: 0 failures"
scanned=$(grep -c 'scan layer=.*repo=load/app.*status=ok' "$CUS_LOG")
ok '[ "$scanned" -ge $((2 * N)) ]' "every pushed layer was scanned ($scanned scan lines for $((2 * N)) layers)"
ok 'kill -0 "$CUS_PID" 2>/dev/null' "customs is still running after the pushes"

# ---- 1,000 concurrent HTTP/2 manifest GETs --------------------------------
urls=()
for i in $(seq 1 "$N"); do
    urls+=("$CUS_URL/v2/load/app$i/manifests/v1")
    urls+=("$CUS_URL/v2/load/app$i/manifests/$(cat "$T/img$i.digest")")
done
timeout "$STEP_SECS" h2load -n "$REQS" -c "$CONNS" -m "$STREAMS" -H "Accept: $MT" \
    "${urls[@]}" >"$T/h2load.out" 2>&1
rc=$?
is "$rc" 0 "h2load -n $REQS -c $CONNS -m $STREAMS (h2c) exits 0"
diag "$(grep -E '^(finished in|requests:|status codes:|traffic:|time for request:)' "$T/h2load.out")"
reqline=$(grep '^requests:' "$T/h2load.out")
like "$reqline" "$REQS succeeded, 0 failed, 0 errored, 0 timeout" "all $REQS requests succeeded, 0 errors"
like "$(grep '^status codes:' "$T/h2load.out")" "^status codes: $REQS 2xx, 0 3xx, 0 4xx, 0 5xx" "all $REQS answers are 2xx"
ok 'kill -0 "$CUS_PID" 2>/dev/null' "customs is still running after the GETs"

# ---- every image pullable, with the digest that was pushed ----------------
mism=0 pullfail=0 pp=()
for i in $(seq 1 "$N"); do
    (skopeo_pull "$H" "load/app$i:v1" "$T/pulled$i" "$STEP_SECS" 2>"$T/pull$i.err"
     echo $? >"$T/pull$i.rc") &
    pp+=($!)
    if [ ${#pp[@]} -ge $PULL_PAR ]; then wait "${pp[@]}"; pp=(); fi
done
[ ${#pp[@]} = 0 ] || wait "${pp[@]}"
for i in $(seq 1 "$N"); do
    if [ "$(cat "$T/pull$i.rc" 2>/dev/null)" != 0 ]; then
        pullfail=$((pullfail + 1))
        [ $pullfail -le 3 ] && diag "pull $i: $(tail -2 "$T/pull$i.err")"
        continue
    fi
    got=$(jq -r '.manifests[0].digest' "$T/pulled$i/index.json" 2>/dev/null)
    [ "$got" = "$(cat "$T/img$i.digest")" ] || mism=$((mism + 1))
    rm -rf "$T/pulled$i"
done
is "$pullfail" 0 "every pushed image pulls back through customs (skopeo verifies each blob)"
is "$mism" 0 "0 manifest digest mismatches"
# and over HTTP/2, the bytes of each manifest by tag
mism=0
for i in $(seq 1 "$N"); do
    curl -s -m 30 --http2-prior-knowledge -H "Accept: $MT" -o "$T/m$i" "$CUS_URL/v2/load/app$i/manifests/v1"
    [ "$(sha256_of "$T/m$i")" = "$(cat "$T/img$i.digest")" ] || mism=$((mism + 1))
done
is "$mism" 0 "0 digest mismatches on manifests fetched by tag over h2c"

rss=$(peak_rss_kib "$CUS_PID")
diag "customs peak RSS (VmHWM) after $N pushes, $REQS concurrent h2 GETs and $N pulls: ${rss:-?} KiB"
ok '[ -n "$rss" ]' "peak RSS readable (${rss:-?} KiB)"

done_testing
