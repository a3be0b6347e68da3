#!/bin/bash
# bench/manifest_bench.sh - manifest GET rate with h2load, directly against
# docker-registry and through customs (verdict check included: customs runs
# with conf/policy.yaml), by digest (cacheable) and by tag, interleaved over
# K rounds; prints median requests/s and the ratio proxied/direct.
# docker-registry speaks only HTTP/1.1 on cleartext, so "direct" is HTTP/1.1
# with the same number of concurrent requests (-c clients, 1 in flight each
# for h1; for h2 the same total spread as -c 4 -m 25).  No assertions.
#
# usage: bench/manifest_bench.sh [-k ROUNDS] [-n REQUESTS]
. "$(dirname "$0")/../tests/integration/lib.sh"
. "$LIB_DIR/mkimage.sh"
K=3 N=20000
while getopts "k:n:" o; do case $o in k) K=$OPTARG ;; n) N=$OPTARG ;; *) exit 2 ;; esac; done
command -v h2load >/dev/null || bail_out "h2load (nghttp2-client) is required"

CUSTOMS_POLICY=$TOP_DIR/conf/policy.yaml
start_registry
CUSTOMS_POLICY=$CUSTOMS_POLICY start_customs --log-level warn
D=$(bash "$LIB_DIR/mkimage.sh" -n 2 -s 4K "$T/img") || bail_out "image"
skopeo copy -q --dest-tls-verify=false "oci:$T/img:latest" "docker://127.0.0.1:$CUS_PORT/bench/app:v1" ||
    bail_out "push"
MT=application/vnd.oci.image.manifest.v1+json
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "Accept: $MT" "$CUS_URL/v2/bench/app/manifests/$D")" = 200 ] ||
    bail_out "the image must be allowed for this benchmark"

# rate NAME ARGS...: one h2load run, appends req/s to $T/r.NAME
rate() {
    local name=$1
    shift
    h2load -n "$N" -H "Accept: $MT" "$@" 2>&1 |
        awk '/^finished in/ { gsub(",", "", $4); print $4 }' >>"$T/r.$name"
}
for ((i = 1; i <= K; i++)); do
    echo "# round $i/$K" >&2
    rate digest-direct-h1 --h1 -c 100 -m 1 "$REG_URL/v2/bench/app/manifests/$D"
    rate digest-customs-h1 --h1 -c 100 -m 1 "$CUS_URL/v2/bench/app/manifests/$D"
    rate digest-customs-h2 -c 4 -m 25 "$CUS_URL/v2/bench/app/manifests/$D"
    rate tag-direct-h1 --h1 -c 100 -m 1 "$REG_URL/v2/bench/app/manifests/v1"
    rate tag-customs-h1 --h1 -c 100 -m 1 "$CUS_URL/v2/bench/app/manifests/v1"
    rate tag-customs-h2 -c 4 -m 25 "$CUS_URL/v2/bench/app/manifests/v1"
done
med() { sort -n "$T/r.$1" | awk '{a[NR]=$1} END {print (NR ? a[int((NR+1)/2)] : 0)}'; }
printf '\nmanifest GET rate: %d requests per run, %d rounds, 100 concurrent requests\n' "$N" "$K"
printf '%-34s %12s %12s %8s\n' case direct_rps customs_rps ratio
for ref in digest tag; do
    d=$(med "$ref-direct-h1")
    for p in h1 h2; do
        c=$(med "$ref-customs-$p")
        printf '%-34s %12.0f %12.0f %8.2f\n' "by $ref, customs $p vs direct h1" "$d" "$c" \
            "$(awk -v c="$c" -v d="$d" 'BEGIN { print (d > 0 ? c / d : 0) }')"
    done
done
printf 'customs peak RSS (VmHWM): %s KiB\n' "$(peak_rss_kib "$CUS_PID")"
