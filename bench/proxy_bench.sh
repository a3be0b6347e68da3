#!/bin/bash
# bench/proxy_bench.sh - what does customs cost? Times skopeo push/pull of a
# ~130 MB 3-layer image and 256 MiB blob uploads with curl, directly against
# docker-registry and through customs, interleaved over K rounds, and prints
# per-case medians, the proxied/direct ratio and customs' peak RSS.
# No assertions: see bench/README.md for how to read the numbers.
#
# usage: bench/proxy_bench.sh [-k ROUNDS] [-b BLOB_MIB] [-p random|zero] [-B]
#   -p zero: the blob is zeros (an uncompressed "layer" customs hashes and
#            walks in full) instead of random bytes
#   -B:      blob uploads only (no skopeo push/pull)
#   env: CUSTOMS_BIN, CUSTOMS_POLICY, KEEP_TMP (as for the integration tests),
#        STEP_TIMEOUT (seconds allowed per push/pull/upload, default 300)

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../tests/integration/lib.sh"
. "$HERE/bench_lib.sh"
. "$HERE/../tests/integration/mkimage.sh"

ROUNDS=5
BLOB_MIB=256
BLOB_KIND=random
BLOBS_ONLY=0
STEP_TIMEOUT=${STEP_TIMEOUT:-300}   # seconds; a hung step fails instead of blocking
while getopts "k:b:p:B" opt; do
    case $opt in
        k) ROUNDS=$OPTARG ;;
        b) BLOB_MIB=$OPTARG ;;
        p) BLOB_KIND=$OPTARG ;;
        B) BLOBS_ONLY=1 ;;
        *) echo "usage: $0 [-k ROUNDS] [-b BLOB_MIB] [-p random|zero] [-B]" >&2; exit 2 ;;
    esac
done
case $BLOB_KIND in random | zero) ;; *) echo "$0: -p random or zero" >&2; exit 2 ;; esac

# curl_upload BASE REPO FILE DIGEST CURL_OPTS...: blob_upload (lib.sh) that
# succeeds only on a final 201.
curl_upload() {
    [ "$(blob_upload "$@" -m "$STEP_TIMEOUT")" = 201 ]
}

# pull DEST_URL_HOSTPORT REPO DIR: skopeo pull into a fresh OCI dir.
pull() {
    rm -rf "$3"
    timeout "$STEP_TIMEOUT" skopeo copy --quiet --src-tls-verify=false "docker://$1/$2:v1" "oci:$3:v1"
}

# skopeo remembers where blobs were seen (blob-info cache) and mounts them
# from another repository instead of uploading: forget that before every
# push, or later pushes upload nothing and the comparison means nothing.
forget_blob_locations() {
    rm -f /var/lib/containers/cache/blob-info-cache-v1.* \
        "${HOME:-/root}"/.local/share/containers/cache/blob-info-cache-v1.* 2>/dev/null
}

push() {
    forget_blob_locations
    timeout "$STEP_TIMEOUT" skopeo copy --quiet --dest-tls-verify=false "oci:$T/img:v1" "docker://$1/$2:v1"
}

start_registry
start_customs
D=$(url_hostport "$REG_URL")
P=$(url_hostport "$CUS_URL")

echo "# building a ~130 MB 3-layer image and a $BLOB_MIB MiB $BLOB_KIND blob..." >&2
IMG_BYTES=0
if [ "$BLOBS_ONLY" = 0 ]; then
    mkimage_build -n 3 -s 40M,40M,50M -p random -z 1 -t v1 "$T/img" >/dev/null ||
        bail_out "mkimage failed"
    IMG_BYTES=$(du -sb "$T/img/blobs" | cut -f1)
fi
if [ "$BLOB_KIND" = zero ]; then
    head -c $((BLOB_MIB * 1024 * 1024)) /dev/zero >"$T/blob"
else
    make_random_file "$T/blob" $((BLOB_MIB * 1024 * 1024))
fi
BLOB_D=$(sha256_of "$T/blob")

# Each round uses fresh repositories so every push really uploads (the
# registry links blobs per repository) and runs the cases in alternating order
# so that cache warm-up and disk state favour neither side.
for r in $(seq 1 "$ROUNDS"); do
    echo "# round $r/$ROUNDS" >&2
    if [ $((r % 2)) = 1 ]; then order="direct proxy"; else order="proxy direct"; fi
    for side in $order; do
        [ "$BLOBS_ONLY" = 1 ] && break
        if [ $side = direct ]; then hp=$D base=$REG_URL; else hp=$P base=$CUS_URL; fi
        timed "push-$side" push "$hp" "bench/$side-$r"
    done
    for side in $order; do
        [ "$BLOBS_ONLY" = 1 ] && break
        if [ $side = direct ]; then hp=$D; else hp=$P; fi
        timed "pull-$side" pull "$hp" "bench/$side-$r" "$T/pulled"
    done
    for side in $order; do
        if [ $side = direct ]; then base=$REG_URL; else base=$CUS_URL; fi
        timed "blob-h1-$side" curl_upload "$base" "bench/blob-h1-$side-$r" "$T/blob" "$BLOB_D" --http1.1
    done
    # The registry speaks only HTTP/1.1 on cleartext: h2 through customs is
    # compared with h1 direct.
    timed "blob-h2-proxy" curl_upload "$CUS_URL" "bench/blob-h2-$r" "$T/blob" "$BLOB_D" \
        --http2-prior-knowledge
done
rm -rf "$T/pulled"

RSS=$(peak_rss_kib "$CUS_PID")
direct_mode && echo "# CUSTOMS_TEST_DIRECT=1: the 'proxied' side is the registry itself" >&2

# Report: one line per case with medians (seconds), ratio and throughput.
printf '\ncustoms proxy benchmark: %s rounds, image %s MB, blob %s MiB (%s)\n' \
    "$ROUNDS" "$((IMG_BYTES / 1000000))" "$BLOB_MIB" "$BLOB_KIND"
printf '%-38s %10s %10s %8s %12s\n' case direct_s proxied_s ratio proxied_MB/s
row() {
    local label=$1 dcase=$2 pcase=$3 bytes=$4 dm pm
    dm=$(median "$dcase")
    pm=$(median "$pcase")
    awk -v l="$label" -v d="$dm" -v p="$pm" -v b="$bytes" 'BEGIN {
        r = (d != "-" && p != "-" && d > 0) ? sprintf("%.2f", p / d) : "-"
        t = (p != "-" && p > 0) ? sprintf("%.0f", b / p / 1e6) : "-"
        printf "%-38s %10s %10s %8s %12s\n", l, d, p, r, t }'
}
if [ "$BLOBS_ONLY" = 0 ]; then
    row "skopeo push (3 layers)" push-direct push-proxy "$IMG_BYTES"
    row "skopeo pull (3 layers)" pull-direct pull-proxy "$IMG_BYTES"
fi
row "blob upload h1 (curl)" blob-h1-direct blob-h1-proxy $((BLOB_MIB * 1048576))
row "blob upload h2c proxied vs h1 direct" blob-h1-direct blob-h2-proxy $((BLOB_MIB * 1048576))
printf 'customs peak RSS (VmHWM): %s KiB\n' "${RSS:-?}"
fails=$(cat "$T"/f.* 2>/dev/null | wc -l)
[ "$fails" = 0 ] || printf 'FAILED runs: %s (see messages above; their times are excluded)\n' "$fails"
exit 0
