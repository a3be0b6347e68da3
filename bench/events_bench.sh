#!/bin/bash
# bench/events_bench.sh - what events and webhooks cost a push.
# Three customs instances, each in front of its own docker-registry, push the
# real image of bench/real_image.sh over K interleaved rounds:
#   plain    no webhooks;
#   hooks    webhooks for every event (scan-completed, pull-denied,
#            base-image-updated) to a live local receiver;
#   stalled  the same webhooks to a receiver that accepts connections and
#            never answers (every delivery attempt runs into its timeout).
# Each round pushes the image to two fresh repositories (every blob uploaded
# and scanned), then moves bench/base:latest to a small other image and back
# (tag history, lineage, a base-image-updated computation).  Reports median
# push times and ratios to plain, customs CPU-seconds per round, and for
# hooks when the scan-completed delivery arrived relative to the end of the
# push (negative: before skopeo returned, the manifest PUT being held for
# the scan).  Prints figures; no assertions.
#
# usage: bench/events_bench.sh [-k ROUNDS]
#   env: CUSTOMS_BIN, REAL_IMAGE_DIR (default /tmp/customs-real-image),
#        STEP_TIMEOUT (default 300), KEEP_TMP.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../tests/integration/lib.sh"
. "$HERE/bench_lib.sh"
ROUNDS=5
STEP_TIMEOUT=${STEP_TIMEOUT:-300}
REAL_IMAGE_DIR=${REAL_IMAGE_DIR:-/tmp/customs-real-image}
while getopts "k:" opt; do
    case $opt in
        k) ROUNDS=$OPTARG ;;
        *) echo "usage: $0 [-k ROUNDS]" >&2; exit 2 ;;
    esac
done
CLK_TCK=$(getconf CLK_TCK)
push() { # HOSTPORT REPO:TAG LAYOUT_REF
    forget_blob_cache
    timeout "$STEP_TIMEOUT" skopeo copy --quiet --dest-tls-verify=false "oci:$3" "docker://$1/$2"
}

"$HERE/real_image.sh" "$REAL_IMAGE_DIR" >"$T/image.txt" || bail_out "real_image.sh failed"
IMG=$REAL_IMAGE_DIR/layout
IMG_BYTES=$(find "$IMG/blobs" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }')
# a small other image, to move base:latest away and back
. "$HERE/../tests/integration/mkimage.sh"
mkdir -p "$T/other/srv" && echo other >"$T/other/srv/x"
oci_init "$T/oth" && oci_add_layer "$T/oth" "$T/other" && oci_finish "$T/oth" v >/dev/null || bail_out "other image"

# the receivers: a live one, and one that accepts and never answers
RCV=$T/rcv
start_receiver "$RCV"
STALL_PORT=$(free_port)
python3 -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64); conns = []
while True:
    c, _ = s.accept(); conns.append(c)' "$STALL_PORT" &
_LIB_PIDS+=($!)
hooks_conf() { # FILE URL
    printf 'webhooks:\n  - url: %s\n    secret: bench-secret\n' "$2" >"$1"
}
hooks_conf "$T/hooks.yaml" "$RCV_URL/hook"
hooks_conf "$T/stalled.yaml" "http://127.0.0.1:$STALL_PORT/hook"

declare -A HP PID
for side in plain hooks stalled; do
    REG_STORAGE=$T/storage-$side start_registry
    if [ $side = plain ]; then start_customs; else start_customs -c "$T/$side.yaml"; fi
    HP[$side]=$(url_hostport "$CUS_URL")
    PID[$side]=$CUS_PID
done

echo "# load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for r in $(seq 1 "$ROUNDS"); do
    echo "# round $r/$ROUNDS" >&2
    case $((r % 3)) in
        1) order="plain hooks stalled" ;;
        2) order="hooks stalled plain" ;;
        0) order="stalled plain hooks" ;;
    esac
    for side in $order; do
        c0=$(cpu_ticks "${PID[$side]}")
        # a fresh repository per push: the registry holds no link to its blobs,
        # so every blob is uploaded (and scanned) again
        timed "push-$side" push "${HP[$side]}" "bench/r$r/base:1" "$IMG:app"
        end=$(date +%s.%N)
        timed "push-$side" push "${HP[$side]}" "bench/r$r/app:1" "$IMG:app"
        push "${HP[$side]}" bench/base:latest "$T/oth:v" >/dev/null 2>&1
        push "${HP[$side]}" bench/base:latest "$IMG:app" >/dev/null 2>&1
        sleep 1
        echo $(($(cpu_ticks "${PID[$side]}") - c0)) >>"$T/cpu.$side"
        if [ $side = hooks ]; then
            # the delivery of the first push's scan-completed: its file's mtime
            f=$(for b in "$RCV"/*.body; do
                jq -e --arg r "bench/r$r/base" 'select(.type == "scan-completed" and .image.repository == $r)' \
                    "$b" >/dev/null 2>&1 && echo "$b"; done | head -1)
            [ -n "$f" ] && echo "$(stat -c %.9Y "$f") - $end" | bc >>"$T/t.delivery"
        fi
    done
done

ratio() { awk -v p="$1" -v d="$2" 'BEGIN { print (p != "-" && d != "-" && d > 0) ? sprintf("%.2f", p / d) : "-" }'; }
printf '\nevents benchmark: %s rounds, image %s MB compressed, 2 timed pushes + 2 tag moves per round and side\n' \
    "$ROUNDS" "$((IMG_BYTES / 1000000))"
printf '%-10s %12s %10s %16s\n' side push_median ratio customs_cpu_s/round
p0=$(median push-plain)
for side in plain hooks stalled; do
    m=$(median "push-$side")
    c=$(awk -v hz="$CLK_TCK" '{ s += $1; n++ } END { if (n) printf "%.2f", s / n / hz; else print "-" }' "$T/cpu.$side")
    printf '%-10s %12s %10s %16s\n' "$side" "$m" "$(ratio "$m" "$p0")" "$c"
done
printf 'scan-completed delivered after the push ended (hooks): median %s s\n' "$(median delivery)"
printf 'deliveries received by the live receiver: %s\n' "$(ls "$RCV"/*.body 2>/dev/null | wc -l)"
for c in push-plain push-hooks push-stalled delivery; do
    printf '  %-14s %s\n' "$c" "$(tr '\n' ' ' <"$T/t.$c" 2>/dev/null)"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
exit 0
