#!/bin/sh
# scan_bench.sh BINARY LAYER.tar.gz [ROUNDS]
# Compares the in-process scan (BINARY = a built bench/scan_bench) with
# `igzip -dc | tar -t` and `gzip -dc | tar -t`, interleaving the three
# ROUNDS times (default 3) and reporting medians and ratios.  Builds nothing.
set -eu
bin=$1; layer=$2; rounds=${3:-3}
[ -x "$bin" ] && [ -r "$layer" ] || { echo "usage: $0 BINARY LAYER [ROUNDS]" >&2; exit 2; }
t() { s=$(date +%s.%N); "$@" > /dev/null 2>&1 || true; e=$(date +%s.%N); echo "$e - $s" | bc; }
scan=""; ig=""; gz=""
i=0
while [ $i -lt "$rounds" ]; do
  scan="$scan $(t "$bin" "$layer")"
  ig="$ig $(t sh -c "igzip -dc '$layer' | tar -t")"
  gz="$gz $(t sh -c "gzip -dc '$layer' | tar -t")"
  i=$((i + 1))
done
med() { echo "$@" | tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ms=$(med $scan); mi=$(med $ig); mg=$(med $gz)
size=$(stat -c %s "$layer")
printf 'layer: %s (%d bytes compressed)\n' "$layer" "$size"
printf 'scan          median %6.3f s  %7.1f MB/s\n' "$ms" "$(echo "$size / $ms / 1000000" | bc -l)"
printf 'igzip|tar -t  median %6.3f s  %7.1f MB/s\n' "$mi" "$(echo "$size / $mi / 1000000" | bc -l)"
printf 'gzip|tar -t   median %6.3f s  %7.1f MB/s\n' "$mg" "$(echo "$size / $mg / 1000000" | bc -l)"
printf 'speed ratio scan/igzip-pipe: %.2fx   scan/gzip-pipe: %.2fx\n' \
  "$(echo "$mi / $ms" | bc -l)" "$(echo "$mg / $ms" | bc -l)"
