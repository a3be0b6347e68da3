#!/bin/bash
# bench/loop_latency.sh - does anything stall customs' event loop? Measures
# `GET /v2/` latency through customs (p50, p99, max) with bench/latency_probe
# (one keep-alive HTTP/1.1 connection, one request every INTERVAL ms) in four
# phases:
#   idle         nothing else running (the baseline);
#   import       `customs db import` of a large synthetic OSV set into the
#                daemon's database (it writes, then re-matches every image);
#   judgements   first pulls (manifest GETs) of images pushed through customs
#                but never judged, with a policy: matching, verdicts and
#                decision writes;
#   both         a second import and first judgements of other images at once
#                (the case issue 8 saw stall the loop for 730 ms).
# Goal (issue 8, item 7): p99 < 20 ms and max < 100 ms under load on a 2-core
# machine. No assertions: figures only (see bench/README.md).
#
# usage: bench/loop_latency.sh [-r OSV_RECORDS] [-k IMAGES_PER_SET] [-s IDLE_SECONDS] [-i INTERVAL_MS]
#   env: CUSTOMS_BIN, LATENCY_PROBE (default: bench/latency_probe next to
#        CUSTOMS_BIN, else compiled with cc into the temp dir), KEEP_TMP=1.
# Everything is generated here (OSV records, images); nothing is downloaded.

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../tests/integration/lib.sh"
. "$HERE/../tests/integration/mkimage.sh"

RECORDS=20000
IMAGES=30
IDLE_S=10
INTERVAL_MS=10
DPKG_PACKAGES=300    # per image: each one named by some synthetic OSV record
PULL_PAR=2           # concurrent first pulls
while getopts "r:k:s:i:" opt; do
    case $opt in
        r) RECORDS=$OPTARG ;;
        k) IMAGES=$OPTARG ;;
        s) IDLE_S=$OPTARG ;;
        i) INTERVAL_MS=$OPTARG ;;
        *) echo "usage: $0 [-r OSV_RECORDS] [-k IMAGES_PER_SET] [-s IDLE_SECONDS] [-i INTERVAL_MS]" >&2; exit 2 ;;
    esac
done
direct_mode && { echo "loop_latency.sh measures customs: unset CUSTOMS_TEST_DIRECT" >&2; exit 2; }
for c in jq skopeo python3 sqlite3; do command -v $c >/dev/null || { echo "$c is required" >&2; exit 1; }; done

# ---- the probe -----------------------------------------------------------------
PROBE=${LATENCY_PROBE:-$(dirname "$CUSTOMS_BIN")/bench/latency_probe}
if [ ! -x "$PROBE" ]; then
    PROBE=$T/latency_probe
    ${CC:-cc} -O2 -std=c11 -D_GNU_SOURCE -o "$PROBE" "$HERE/latency_probe.c" ||
        { echo "cannot build the latency probe" >&2; exit 1; }
fi

# ---- data: OSV sets and images -------------------------------------------------
echo "# generating 2 x $RECORDS OSV records and 2 x $IMAGES images of $DPKG_PACKAGES dpkg packages..." >&2
make_osv_set "$T/osv1" "$RECORDS" SYNTHA && zip_dir "$T/osv1" "$T/osv1.zip" && rm -rf "$T/osv1" ||
    { echo "cannot generate OSV data" >&2; exit 1; }
make_osv_set "$T/osv2" "$RECORDS" SYNTHB && zip_dir "$T/osv2" "$T/osv2.zip" && rm -rf "$T/osv2" ||
    { echo "cannot generate OSV data" >&2; exit 1; }

# dpkg_hook ROOTFS INDEX: a Debian 12 base whose packages the OSV sets name
# (make_osv_set uses synthpkg-(i % 5000), Debian:12 for i % 4 == 0).
dpkg_hook() {
    [ "$2" = 0 ] || return 0
    mkdir -p "$1/etc" "$1/var/lib/dpkg"
    printf 'ID=debian\nVERSION_ID="12"\nNAME="Debian GNU/Linux"\n' >"$1/etc/os-release"
    awk -v n="$DPKG_PACKAGES" -v img="$IMG_N" 'BEGIN { for (p = 0; p < n; p++) {
        printf "Package: synthpkg-%d\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.0-%d\n\n",
            (p * 4 + img * 40) % 5000, img } }' >"$1/var/lib/dpkg/status"
}
POL=$T/policy.yaml
printf '%s\n' "mode: enforce" "unscanned: scan" "on_error: deny" "head: auto" "rules:" \
    "  - name: no-critical" '    repositories: ["**"]' "    deny:" "      severity: critical" >"$POL"
start_registry
CUSTOMS_POLICY=$POL start_customs
DB=$T/customs-1.db
H=127.0.0.1:$CUS_PORT
for set in a b; do
    for i in $(seq 1 "$IMAGES"); do
        IMG_N=$i
        [ $set = b ] && IMG_N=$((i + IMAGES))
        mkimage_build -n 1 -s 4K -H dpkg_hook -t v1 "$T/img-$set$i" >/dev/null &&
            skopeo_push "$T/img-$set$i" v1 "$H" "bench/$set$i:v1" 2>>"$T/push.err" ||
            { echo "push of bench/$set$i failed: $(tail -2 "$T/push.err")" >&2; exit 1; }
        rm -rf "$T/img-$set$i"
    done
done
judged=$(sqlite3 "$DB" "SELECT count(*) FROM decisions" 2>/dev/null)
echo "# pushed $((2 * IMAGES)) images through customs; decisions recorded so far: ${judged:-?}" >&2

# ---- phases --------------------------------------------------------------------
# first_pulls SET: GET every manifest of SET once (each a first judgement).
first_pulls() {
    local i pids=()
    for i in $(seq 1 "$IMAGES"); do
        curl -s -m 60 -o /dev/null -w '%{http_code}\n' \
            -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
            "$CUS_URL/v2/bench/$1$i/manifests/v1" >>"$T/pulls-$1.codes" &
        pids+=($!)
        if [ ${#pids[@]} -ge $PULL_PAR ]; then wait "${pids[@]}"; pids=(); fi
    done
    [ ${#pids[@]} = 0 ] || wait "${pids[@]}"
}

# probe_while LABEL PID: probe until PID exits; record the probe's line.
probe_while() {
    "$PROBE" -i "$INTERVAL_MS" -d 600 -w "$2" "$CUS_PORT" /v2/ >"$T/probe-$1.out"
    wait "$2" 2>/dev/null
}

declare -A WALL
echo "# phase idle ($IDLE_S s)" >&2
"$PROBE" -i "$INTERVAL_MS" -d "$IDLE_S" "$CUS_PORT" /v2/ >"$T/probe-idle.out"

echo "# phase import ($RECORDS records)" >&2
t0=$(date +%s.%N)
"$CUSTOMS_BIN" db import --db "$DB" "$T/osv1.zip" >"$T/import1.out" 2>&1 &
probe_while import $!
WALL[import]=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')

echo "# phase judgements ($IMAGES first pulls)" >&2
t0=$(date +%s.%N)
first_pulls a &
probe_while judgements $!
WALL[judgements]=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')

echo "# phase both (import of $RECORDS more records + $IMAGES first pulls)" >&2
t0=$(date +%s.%N)
("$CUSTOMS_BIN" db import --db "$DB" "$T/osv2.zip" >"$T/import2.out" 2>&1 &
 ip=$!
 sleep 0.3   # let the import take its write lock first
 first_pulls b
 wait $ip) &
probe_while both $!
WALL[both]=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')

# ---- report --------------------------------------------------------------------
field() { sed -n "s/.*\b$2=\([^ ]*\).*/\1/p" "$T/probe-$1.out"; }
printf '\ncustoms event-loop latency: GET /v2/ every %s ms over one keep-alive connection\n' "$INTERVAL_MS"
printf '%-12s %7s %6s %8s %8s %8s %10s %10s %8s\n' phase n errors p50_ms p99_ms max_ms sched_p99 sched_max wall_s
for ph in idle import judgements both; do
    printf '%-12s %7s %6s %8s %8s %8s %10s %10s %8s\n' "$ph" "$(field $ph n)" "$(field $ph errors)" \
        "$(field $ph p50_ms)" "$(field $ph p99_ms)" "$(field $ph max_ms)" "$(field $ph sched_p99_ms)" \
        "$(field $ph sched_max_ms)" "${WALL[$ph]:-$IDLE_S}"
done
printf 'goal under load: p99 < 20 ms, max < 100 ms\n'
printf 'import 1: %s\n' "$(grep -h 'added' "$T/import1.out" | head -1)"
printf 'import 2: %s\n' "$(grep -h 'added' "$T/import2.out" | head -1)"
printf 'first pulls: %s\n' "$(cat "$T"/pulls-*.codes 2>/dev/null | sort | uniq -c | awk '{ printf "%s x %s  ", $1, $2 }')"
printf 'decisions recorded: %s\n' "$(sqlite3 "$DB" "SELECT count(*) FROM decisions" 2>/dev/null)"
printf 'customs peak RSS (VmHWM): %s KiB\n' "$(peak_rss_kib "$CUS_PID")"
exit 0
