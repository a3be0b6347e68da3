#!/bin/sh
# scan_bench.sh BINARY LAYER.tar.gz [ROUNDS] [BASE_BINARY]
# Compares the in-process scan (BINARY = a built bench/scan_bench) with
# `igzip -dc | tar -t` and `gzip -dc | tar -t`, interleaving them ROUNDS
# times (default 3), and reports medians and ratios: wall time, and the
# scan's CPU (user+system of both threads) per compressed GB.  With
# BASE_BINARY (a scan_bench built from another tree, e.g. HEAD), that one is
# interleaved too and compared.  Builds nothing; the machine may be shared,
# so only medians of interleaved runs mean anything.
set -eu
bin=$1; layer=$2; rounds=${3:-3}; base=${4:-}
[ -x "$bin" ] && [ -r "$layer" ] || { echo "usage: $0 BINARY LAYER [ROUNDS] [BASE_BINARY]" >&2; exit 2; }
[ -z "$base" ] || [ -x "$base" ] || { echo "$0: $base is not executable" >&2; exit 2; }
t() { s=$(date +%s.%N); "$@" > /dev/null 2>&1 || true; e=$(date +%s.%N); echo "$e - $s" | bc; }
# one scan: "wall cpu-s/GB" from scan_bench's own line (fields 1 and 8)
sc() { "$1" "$layer" 1 | awk '{print $1, $8}'; }
scan=""; scpu=""; bscan=""; bcpu=""; ig=""; gz=""
i=0
while [ $i -lt "$rounds" ]; do
  r=$(sc "$bin"); scan="$scan ${r% *}"; scpu="$scpu ${r#* }"
  if [ -n "$base" ]; then r=$(sc "$base"); bscan="$bscan ${r% *}"; bcpu="$bcpu ${r#* }"; fi
  ig="$ig $(t sh -c "igzip -dc '$layer' | tar -t")"
  gz="$gz $(t sh -c "gzip -dc '$layer' | tar -t")"
  i=$((i + 1))
done
med() { echo "$@" | tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ms=$(med $scan); mi=$(med $ig); mg=$(med $gz); mc=$(med $scpu)
size=$(stat -c %s "$layer")
printf 'layer: %s (%d bytes compressed), %d interleaved rounds\n' "$layer" "$size" "$rounds"
printf 'scan          median %6.3f s  %7.1f MB/s  %6.2f CPU-s/GB\n' "$ms" "$(echo "$size / $ms / 1000000" | bc -l)" "$mc"
if [ -n "$base" ]; then
  mb=$(med $bscan); mbc=$(med $bcpu)
  printf 'base scan     median %6.3f s  %7.1f MB/s  %6.2f CPU-s/GB\n' "$mb" "$(echo "$size / $mb / 1000000" | bc -l)" "$mbc"
fi
printf 'igzip|tar -t  median %6.3f s  %7.1f MB/s\n' "$mi" "$(echo "$size / $mi / 1000000" | bc -l)"
printf 'gzip|tar -t   median %6.3f s  %7.1f MB/s\n' "$mg" "$(echo "$size / $mg / 1000000" | bc -l)"
printf 'speed ratio scan/igzip-pipe: %.2fx   scan/gzip-pipe: %.2fx\n' \
  "$(echo "$mi / $ms" | bc -l)" "$(echo "$mg / $ms" | bc -l)"
if [ -n "$base" ]; then
  printf 'base ratio    scan/igzip-pipe: %.2fx   scan vs base: %.2fx faster, CPU %.2fx\n' \
    "$(echo "$mi / $mb" | bc -l)" "$(echo "$mb / $ms" | bc -l)" "$(echo "$mc / $mbc" | bc -l)"
fi
printf 'scan runs:%s\n' "$scan"
[ -z "$base" ] || printf 'base runs:%s\n' "$bscan"
printf 'igzip runs:%s\n' "$ig"
