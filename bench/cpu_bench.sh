#!/bin/bash
# bench/cpu_bench.sh - customs' CPU per pushed gigabyte on a real image.
# Builds (or reuses) the Debian + Python/npm image of bench/real_image.sh,
# starts two docker-registry instances with separate storage (one reached
# directly, one behind customs), and over K interleaved rounds times
#   - skopeo push direct vs through customs (fresh repository each round, the
#     blob-info cache forgotten before every push so every blob is uploaded),
#   - skopeo pull direct vs through customs,
#   - offline `customs scan layer:BIGGEST_LAYER` vs `igzip -dc LAYER | tar -t`.
# customs' CPU (utime+stime of its process, /proc/PID/stat) is summed over the
# proxied pushes only, and reported per GB of compressed image pushed.
# Prints medians and ratios; no assertions (see bench/README.md).
#
# usage: bench/cpu_bench.sh [-k ROUNDS]
#   env: CUSTOMS_BIN (default the build's ./customs), CUSTOMS_POLICY, KEEP_TMP
#        (as for the integration tests), REAL_IMAGE_DIR (cache of
#        real_image.sh, default /tmp/customs-real-image), STEP_TIMEOUT
#        (seconds allowed per push/pull/scan, default 300).
# Needs root (to build the image the first time), docker-registry, skopeo,
# igzip, tar, and the tools of real_image.sh.

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../tests/integration/lib.sh"
. "$HERE/bench_lib.sh"

ROUNDS=5
STEP_TIMEOUT=${STEP_TIMEOUT:-300}   # seconds; a hung step fails instead of blocking
REAL_IMAGE_DIR=${REAL_IMAGE_DIR:-/tmp/customs-real-image}
SETTLE_SECS=1                       # wait after a push to catch scan work still running
while getopts "k:" opt; do
    case $opt in
        k) ROUNDS=$OPTARG ;;
        *) echo "usage: $0 [-k ROUNDS]" >&2; exit 2 ;;
    esac
done
CLK_TCK=$(getconf CLK_TCK)

push() {
    forget_blob_cache
    timeout "$STEP_TIMEOUT" skopeo copy --quiet --dest-tls-verify=false \
        "oci:$IMG:app" "docker://$1/$2:v1"
}

pull() {
    rm -rf "$3"
    timeout "$STEP_TIMEOUT" skopeo copy --quiet --src-tls-verify=false \
        "docker://$1/$2:v1" "oci:$3:v1"
}

# proxied_push REPO: push through customs, adding customs' CPU ticks over the
# push to $T/cpu.push and those of the following SETTLE_SECS to $T/cpu.tail.
proxied_push() {
    local c0 c1 c2 n0 n1
    n0=$(cat "$T/t.push-proxy" 2>/dev/null | wc -l)
    c0=$(cpu_ticks "$CUS_PID")
    timed push-proxy push "$P" "$1"
    c1=$(cpu_ticks "$CUS_PID")
    sleep "$SETTLE_SECS"
    c2=$(cpu_ticks "$CUS_PID")
    n1=$(cat "$T/t.push-proxy" 2>/dev/null | wc -l)
    # A failed push moved an unknown number of bytes: its CPU is not counted.
    [ "$n1" -gt "$n0" ] || return 0
    echo $((c1 - c0)) >>"$T/cpu.push"
    echo $((c2 - c1)) >>"$T/cpu.tail"
}

scan_layer() {
    timeout "$STEP_TIMEOUT" "$CUSTOMS_BIN" scan --db "$T/scan.db" "layer:$BIG" >/dev/null
}
igzip_tar() {
    igzip -dc "$BIG" | tar -t >/dev/null
}

# --- the image -------------------------------------------------------------
if [ ! -e "$REAL_IMAGE_DIR/layout/index.json" ]; then
    echo "# building the real image in $REAL_IMAGE_DIR (first run: a few minutes)..." >&2
fi
"$HERE/real_image.sh" "$REAL_IMAGE_DIR" >"$T/image.txt" || bail_out "real_image.sh failed"
cat "$T/image.txt" >&2
IMG=$REAL_IMAGE_DIR/layout
IMG_BYTES=$(find "$IMG/blobs" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }')
BIG=$(find "$IMG/blobs" -type f -printf '%s %p\n' | sort -n | tail -1 | cut -d' ' -f2)
BIG_BYTES=$(stat -c %s "$BIG")

# --- servers: each registry on its own storage -----------------------------
export REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY=$T/storage-direct
start_registry
D=$(url_hostport "$REG_URL")
export REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY=$T/storage-proxied
start_registry
unset REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY
start_customs                       # in front of the second registry
P=$(url_hostport "$CUS_URL")
direct_mode && bail_out "CUSTOMS_TEST_DIRECT=1 makes no sense here: there is no customs CPU to measure"

echo "# load before: $(cut -d' ' -f1-3 /proc/loadavg); busiest other processes:" >&2
ps -eo pcpu,comm --sort=-pcpu | sed -n 2,4p | sed 's/^/#   /' >&2

# --- rounds: alternate which side goes first --------------------------------
CPU0=$(cpu_ticks "$CUS_PID")
for r in $(seq 1 "$ROUNDS"); do
    echo "# round $r/$ROUNDS" >&2
    if [ $((r % 2)) = 1 ]; then order="direct proxy"; else order="proxy direct"; fi
    for side in $order; do
        if [ $side = direct ]; then timed push-direct push "$D" "bench/direct-$r"
        else proxied_push "bench/proxy-$r"; fi
    done
    for side in $order; do
        if [ $side = direct ]; then hp=$D; else hp=$P; fi
        timed "pull-$side" pull "$hp" "bench/$side-$r" "$T/pulled"
    done
    for side in $order; do
        if [ $side = direct ]; then timed igzip-tar igzip_tar; else timed scan scan_layer; fi
    done
done
rm -rf "$T/pulled"
CPU_ALL=$(($(cpu_ticks "$CUS_PID") - CPU0))
RSS=$(peak_rss_kib "$CUS_PID")

# --- report -------------------------------------------------------------------
ratio() {
    awk -v p="$1" -v d="$2" 'BEGIN { print (p != "-" && d != "-" && d > 0) ? sprintf("%.2f", p / d) : "-" }'
}
sum_file() { awk '{ s += $1 } END { print s + 0 }' "$1" 2>/dev/null || echo 0; }
PUSH_TICKS=$(sum_file "$T/cpu.push")
TAIL_TICKS=$(sum_file "$T/cpu.tail")
NPUSH=$(wc -l <"$T/t.push-proxy" 2>/dev/null || echo 0)
printf '\ncustoms CPU benchmark: %s rounds, image %s bytes (%s MB) compressed, biggest layer %s bytes\n' \
    "$ROUNDS" "$IMG_BYTES" "$((IMG_BYTES / 1000000))" "$BIG_BYTES"
awk -v t="$PUSH_TICKS" -v tl="$TAIL_TICKS" -v hz="$CLK_TCK" -v b="$IMG_BYTES" -v n="$NPUSH" -v all="$CPU_ALL" 'BEGIN {
    gb = b * n / 1e9
    printf "customs CPU over %d proxied pushes: %.2f s = %.2f CPU-s/GB pushed\n", n, t / hz, (gb > 0 ? t / hz / gb : 0)
    printf "  + %.2f s in the %d s after each push (scan tails): %.2f CPU-s/GB with them\n", tl / hz, '"$SETTLE_SECS"', (gb > 0 ? (t + tl) / hz / gb : 0)
    printf "  (customs CPU over the whole run, pulls included: %.2f s)\n", all / hz }'
printf '%-34s %10s %10s %8s\n' case direct_s proxied_s ratio
for c in push pull; do
    d=$(median "$c-direct") p=$(median "$c-proxy")
    printf '%-34s %10s %10s %8s\n' "skopeo $c (3 layers)" "$d" "$p" "$(ratio "$p" "$d")"
done
s=$(median scan) g=$(median igzip-tar)
printf '%-34s %10s %10s %8s\n' "customs scan layer: vs igzip|tar -t" "$g" "$s" "$(ratio "$s" "$g")"
awk -v s="$s" -v g="$g" 'BEGIN { if (s != "-" && s > 0) printf "  customs scan speed / igzip -dc | tar -t speed: %.2fx (above 1 = scan faster)\n", g / s }'
# The raw values behind the medians, in round order.
for c in push-direct push-proxy pull-direct pull-proxy scan igzip-tar; do
    printf '  %-12s %s\n' "$c" "$(tr '\n' ' ' <"$T/t.$c" 2>/dev/null)"
done
printf '  %-12s %s\n' "cpu-s/push" "$(awk -v hz="$CLK_TCK" '{ printf "%.2f ", $1 / hz }' "$T/cpu.push" 2>/dev/null)"
printf 'customs peak RSS (VmHWM): %s KiB\n' "${RSS:-?}"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
fails=$(cat "$T"/f.* 2>/dev/null | wc -l)
[ "$fails" = 0 ] || printf 'FAILED runs: %s (see messages above; their times are excluded)\n' "$fails"
exit 0
