# bench/bench_lib.sh - timing helpers shared by the benchmarks (sourced
# after tests/integration/lib.sh, which provides $T).

# timed CASE CMD...: run CMD, append its wall time (s) to $T/t.CASE; a failed
# command is reported and recorded as failed (its time is not used).
timed() {
    local name=$1 t0 t1
    shift
    t0=$(date +%s.%N)
    if "$@" >"$T/last.out" 2>&1; then
        t1=$(date +%s.%N)
        awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }' >>"$T/t.$name"
    else
        echo "# $name failed: $(tail -2 "$T/last.out" | tr '\n' ' ')" >&2
        echo x >>"$T/f.$name"
    fi
}

# median CASE: median of the recorded values ("-" if none).
median() {
    [ -s "$T/t.$1" ] || { echo -; return; }
    sort -n "$T/t.$1" | awk '{ v[NR] = $1 } END {
        if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# cpu_ticks PID: utime + stime of PID in clock ticks (fields 14 and 15 of
# /proc/PID/stat, counted after the ")" that ends the command name).
cpu_ticks() {
    awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}

# forget_blob_cache: skopeo remembers where it saw blobs and mounts them from
# another repository instead of uploading. Its cache is
# blob-info-cache-v1.boltdb (older skopeo) or .sqlite (newer), under
# /var/lib/containers/cache as root and ~/.local/share/containers/cache
# otherwise: forget it before every push that must upload.
forget_blob_cache() {
    rm -f /var/lib/containers/cache/blob-info-cache-v1.* \
        "${HOME:-/root}"/.local/share/containers/cache/blob-info-cache-v1.* 2>/dev/null
    return 0
}
