#!/bin/bash
# bench/replicas.sh - what do replicas cost or gain? Times skopeo push and
# pull of a multi-MB image through haproxy in front of two customs replicas
# sharing one PostgreSQL database (a pair per balancing, one database), with
# round-robin balancing (rr: the
# requests of one push spread over both replicas) and with the documented
# repository hash (deploy/replicas/haproxy.cfg: a push stays on one
# replica), against one customs on its own database of the same PostgreSQL
# cluster; K interleaved rounds (a fresh image each round, pushed to every
# side, the sides' order rotating), per-case medians and the ratios to the
# single customs. Then the verdict-propagation delay: N imports (the CLI on
# the shared database), each flipping a clean image's verdict (vulnerable,
# then fixed again), timed until both replicas serve the new verdict
# (polled every 20 ms). Reports figures only, asserts nothing; see
# bench/README.md for how to read them.
#
# usage: bench/replicas.sh [-k ROUNDS] [-s LAYER_MIB] [-n IMPORTS]
#   env: CUSTOMS_BIN, KEEP_TMP (as for the integration tests),
#        STEP_TIMEOUT (seconds allowed per push/pull, default 300)

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../tests/integration/lib.sh"
. "$HERE/../tests/integration/pglib.sh"
. "$HERE/../tests/integration/replicalib.sh"
. "$HERE/../tests/integration/mkimage.sh"
. "$HERE/../tests/integration/fixtures.sh"
. "$HERE/bench_lib.sh"

ROUNDS=5
LAYER_MIB=8
IMPORTS=9
STEP_TIMEOUT=${STEP_TIMEOUT:-300}
POLL_MS=20          # verdict polling period
POLL_MAX_MS=10000   # a flip not seen within this is recorded as failed
while getopts "k:s:n:" opt; do
    case $opt in
        k) ROUNDS=$OPTARG ;;
        s) LAYER_MIB=$OPTARG ;;
        n) IMPORTS=$OPTARG ;;
        *) echo "usage: $0 [-k ROUNDS] [-s LAYER_MIB] [-n IMPORTS]" >&2; exit 2 ;;
    esac
done
MT=application/vnd.oci.image.manifest.v1+json

push() { # HOSTPORT REPO IMG
    forget_blob_cache
    timeout "$STEP_TIMEOUT" skopeo copy --quiet --dest-tls-verify=false "oci:$3:v1" "docker://$1/$2:v1"
}
pull() { # HOSTPORT REPO
    rm -rf "$T/pulled"
    timeout "$STEP_TIMEOUT" skopeo copy --quiet --src-tls-verify=false "docker://$1/$2:v1" "oci:$T/pulled:v1"
}

pg_start
start_registry
fixture_critical_osv "$T/osv1.json"
fixture_policy_no_critical "$T/policy.yaml"
"$CUSTOMS_BIN" db import --db "$PG_URL" "$T/osv1.json" >/dev/null 2>&1 || bail_out "import"
# the single customs: its own database in the same cluster
"$PG_BIN/createdb" -h "$PG_SOCK" -p "$PG_PORT" -U postgres -O customs customs_single || bail_out "createdb"
SINGLE_DB="${PG_URL%/*}/customs_single"
"$CUSTOMS_BIN" db import --db "$SINGLE_DB" "$T/osv1.json" >/dev/null 2>&1 || bail_out "import"
CUSTOMS_POLICY=$T/policy.yaml start_customs --db "$SINGLE_DB"
SINGLE=$(url_hostport "$CUS_URL") SINGLE_PID=$CUS_PID SINGLE_LOG=$CUS_LOG
# a pair of replicas per balancing, so that one's effects (split uploads
# under round-robin) cannot slow the other's figures; one database for all
CUSTOMS_POLICY=$T/policy.yaml rep_start 2
hap_config_rr "$T/hap-rr.cfg"
hap_start "$T/hap-rr.cfg"
RR=127.0.0.1:$HAP_PORT
CUSTOMS_POLICY=$T/policy.yaml rep_start 2
STICKY_PORT=$(free_port) || bail_out "no free port"
sed -e "s|^\(\s*bind\s\+\)\S*:5000|\1127.0.0.1:$STICKY_PORT|" \
    -e "s|customs1:5000|127.0.0.1:${REP_PORT[3]}|" -e "s|customs2:5000|127.0.0.1:${REP_PORT[4]}|" \
    -e '/^resolvers/,/^$/d' -e 's/ resolvers docker//' "$HERE/../deploy/replicas/haproxy.cfg" >"$T/hap-sticky.cfg"
HAP_PORT=$STICKY_PORT hap_start "$T/hap-sticky.cfg"
STICKY=127.0.0.1:$STICKY_PORT

# one image per round: a Debian base layer (packages to judge) and three
# incompressible layers of LAYER_MIB each
echo "# building $ROUNDS images of 3 x $LAYER_MIB MiB + a base layer..." >&2
for r in $(seq 1 "$ROUNDS"); do
    fixture_debian_base "$T/base-$r" 3.0.13-1~deb12u1 "bench-$r" && oci_init "$T/img-$r" &&
        oci_add_layer "$T/img-$r" "$T/base-$r" || bail_out "image $r"
    for k in 1 2 3; do
        mkimage_rootfs "$T/root-$r-$k" "$k" $((LAYER_MIB * 1048576)) random &&
            oci_add_layer "$T/img-$r" "$T/root-$r-$k" 1 || bail_out "image $r layer $k"
        rm -rf "$T/root-$r-$k"
    done
    oci_finish "$T/img-$r" v1 >/dev/null || bail_out "image $r"
done
IMG_BYTES=$(du -sb "$T/img-1/blobs" | cut -f1)

sides=(single rr sticky)
for r in $(seq 1 "$ROUNDS"); do
    echo "# round $r/$ROUNDS" >&2
    # rotate the order so that disk and cache warm-up favour no side
    order=()
    for i in 0 1 2; do order+=("${sides[(i + r) % 3]}"); done
    for side in "${order[@]}"; do
        case $side in single) hp=$SINGLE ;; rr) hp=$RR ;; sticky) hp=$STICKY ;; esac
        timed "push-$side" push "$hp" "bench/$side-$r" "$T/img-$r"
    done
    for side in "${order[@]}"; do
        case $side in single) hp=$SINGLE ;; rr) hp=$RR ;; sticky) hp=$STICKY ;; esac
        timed "pull-$side" pull "$hp" "bench/$side-$r"
    done
done
rm -rf "$T/pulled"
fetched_rr=$(cat "${REP_LOG[1]}" "${REP_LOG[2]}" | grep -c 'scan layer=.* repo=bench/rr-.* via=fetch')
fetched_sticky=$(cat "${REP_LOG[3]}" "${REP_LOG[4]}" | grep -c 'scan layer=.* repo=bench/sticky-.* via=fetch')
stalled() { cat "$@" | grep -c 'manifests/v1: scan not finished'; }
stalled_rr=$(stalled "${REP_LOG[1]}" "${REP_LOG[2]}") stalled_sticky=$(stalled "${REP_LOG[3]}" "${REP_LOG[4]}")
stalled_single=$(stalled "$SINGLE_LOG")
fetched_single=$(grep -c 'scan layer=.* repo=bench/single-.* via=fetch' "$SINGLE_LOG")

# ---- verdict propagation ------------------------------------------------------
# the round-1 image (clean openssl, bash 5.2.15-2+b2), pushed through rr
# (replicas 1 and 2):
# CVE-2099-0003 is imported as affecting its bash, then as fixed before it
osv_bash() { # FILE FIXED_VERSION MODIFIED
    cat >"$1" <<X
{"schema_version": "1.6.0", "id": "CVE-2099-0003", "modified": "$3",
 "summary": "made-up critical bash flaw (bench)",
 "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
 "affected": [{"package": {"ecosystem": "Debian:12", "name": "bash"},
   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "$2"}]}]}]}
X
}
code_of() { # URL
    curl -s -m 10 -o /dev/null -w '%{http_code}' -H "Accept: $MT" "$1/v2/bench/rr-1/manifests/v1"
}
want=403
for i in $(seq 1 "$IMPORTS"); do
    if [ "$want" = 403 ]; then fixed=5.2.15-3; else fixed=5.2.15-1; fi
    osv_bash "$T/osv-flip.json" "$fixed" "2099-02-$(printf %02d "$i")T00:00:00Z"
    # both replicas serve the old verdict first (a cache would hold it)
    code_of "${REP_URL[1]}" >/dev/null; code_of "${REP_URL[2]}" >/dev/null
    t0=$(ms_now)
    "$CUSTOMS_BIN" db import --db "$PG_URL" "$T/osv-flip.json" >"$T/flip.out" 2>&1 ||
        { echo "# import $i failed: $(tail -1 "$T/flip.out")" >&2; continue; }
    t1=$(ms_now)
    echo "$((t1 - t0))" >>"$T/t.import_ms"
    seen1="" seen2=""
    while [ -z "$seen1" ] || [ -z "$seen2" ]; do
        # the time the answer arrived (its request's own time included)
        [ -z "$seen1" ] && [ "$(code_of "${REP_URL[1]}")" = "$want" ] && seen1=$(($(ms_now) - t1))
        [ -z "$seen2" ] && [ "$(code_of "${REP_URL[2]}")" = "$want" ] && seen2=$(($(ms_now) - t1))
        [ $(($(ms_now) - t1)) -lt $POLL_MAX_MS ] || break
        sleep "0.0$POLL_MS"
    done
    if [ -n "$seen1" ] && [ -n "$seen2" ]; then
        echo $((seen1 > seen2 ? seen1 : seen2)) >>"$T/t.prop_ms"
    else
        echo "# import $i: verdict $want not served by both replicas within $POLL_MAX_MS ms" >&2
        echo x >>"$T/f.prop_ms"
    fi
    if [ "$want" = 403 ]; then want=200; else want=403; fi
done

max_of() { [ -s "$T/t.$1" ] && sort -n "$T/t.$1" | tail -n 1 || echo -; }
conns=$(pg_psql -d postgres -tA -c "SELECT count(*) FROM pg_stat_activity WHERE datname = 'customs' AND usename = 'customs'")

printf '\ncustoms replicas benchmark: %s rounds, image %s MB (4 layers), a pair of replicas per balancing, one PostgreSQL database\n' \
    "$ROUNDS" "$((IMG_BYTES / 1000000))"
printf '%-44s %10s %10s %8s\n' case single_s side_s ratio
row() {
    local label=$1 s=$2 o=$3 sm om
    sm=$(median "$s") om=$(median "$o")
    awk -v l="$label" -v a="$sm" -v b="$om" 'BEGIN {
        r = (a != "-" && b != "-" && a > 0) ? sprintf("%.2f", b / a) : "-"
        printf "%-44s %10s %10s %8s\n", l, a, b, r }'
}
row "push, haproxy round-robin + 2 replicas" push-single push-rr
row "push, haproxy repository hash + 2 replicas" push-single push-sticky
row "pull, haproxy round-robin + 2 replicas" pull-single pull-rr
row "pull, haproxy repository hash + 2 replicas" pull-single pull-sticky
printf 'layers fetched back from the registry (via=fetch): single %s, round-robin %s, repository hash %s (of %s pushed per side)\n' \
    "$fetched_single" "$fetched_rr" "$fetched_sticky" "$((ROUNDS * 4))"
printf 'manifest PUTs answered before their scans were done (scan.wait_ms): single %s, round-robin %s, repository hash %s\n' \
    "$stalled_single" "$stalled_rr" "$stalled_sticky"
printf 'verdict propagation over %s imports: median %s ms, max %s ms (import CLI itself: median %s ms)\n' \
    "$IMPORTS" "$(median prop_ms)" "$(max_of prop_ms)" "$(median import_ms)"
printf 'PostgreSQL sessions of the four replicas (idle, after the runs): %s\n' "${conns:-?}"
printf 'peak RSS (VmHWM, KiB): single %s, round-robin pair %s %s, repository-hash pair %s %s\n' \
    "$(peak_rss_kib "$SINGLE_PID")" "$(peak_rss_kib "${REP_PID[1]}")" "$(peak_rss_kib "${REP_PID[2]}")" \
    "$(peak_rss_kib "${REP_PID[3]}")" "$(peak_rss_kib "${REP_PID[4]}")"
fails=$(cat "$T"/f.* 2>/dev/null | wc -l)
[ "$fails" = 0 ] || printf 'FAILED runs: %s (see messages above; their times are excluded)\n' "$fails"
exit 0
