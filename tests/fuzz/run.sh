#!/usr/bin/env bash
# tests/fuzz/run.sh - builds customs' libFuzzer targets with clang-14
# (-fsanitize=fuzzer,address,undefined), replays every regression input under
# tests/fuzz/regress/<target>/, then fuzzes each target for SECONDS seconds
# from the seed corpus tests/fuzz/corpus/<target>/.
#
# Usage: tests/fuzz/run.sh [--builddir DIR] [--out DIR] [--regress-only]
#                          [SECONDS] [TARGET...]
#   SECONDS   per target (default $FUZZ_SECONDS, else 60); 0 = build + regress only
#   TARGET    names as in TARGETS below (default: all)
#   --builddir  a configured build tree: its config.h is used, output goes to
#               DIR/fuzz.  Without it, the source tree's config.h is used when
#               there is one, else configure runs once in OUT/cfg.
#   --out     where objects, binaries, working corpora and crashes go
#             (default BUILDDIR/fuzz, else /tmp/customs-fuzz-$UID)
# Environment: FUZZ_ORACLE=0 turns off the semantic assertions (route
# canonical form, Go JSON key folding) and keeps the memory-safety ones;
# FUZZ_JOBS (default 2) parallel compiles; FUZZ_PAR (default 2) targets
# fuzzed side by side.
#
# Output, one line per target and a summary ("FUZZ PASS t" / "FUZZ FAIL t" lines
# are what .ci/run counts):
#   route      execs/s 51234  cov 812  ft 2301  corpus 210  OK
# Exit status: 0 when everything built, every regression input ran clean and
# no target crashed; 1 otherwise.  Crashing inputs stay in OUT/artifacts/<t>/.
#
# Sources are compiled directly (not through automake) because libFuzzer
# needs every object built with -fsanitize=fuzzer-no-link; the flags follow
# Makefile.am (-std=c11 -D_GNU_SOURCE -include config.h -Iproxy -Iscanner and
# the pkg-config flags of the dependencies).  A source that does not compile
# (another engineer's edit in progress) is reported; only targets that need it
# fail to link.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
builddir=""
out=""
regress_only=0
secs="${FUZZ_SECONDS:-60}"
only=()
while [ $# -gt 0 ]; do
  case "$1" in
    --builddir) builddir=$(cd "$2" && pwd); shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --regress-only) regress_only=1; shift ;;
    [0-9]*) secs="$1"; shift ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    *) only+=("$1"); shift ;;
  esac
done
[ -n "$out" ] || { [ -n "$builddir" ] && out="$builddir/fuzz" || out="/tmp/customs-fuzz-$(id -u)"; }
mkdir -p "$out/obj" "$out/bin" "$out/work" "$out/artifacts" "$out/logs"
out=$(cd "$out" && pwd)

# name:max_len (bytes).  max_len fits the inputs each parser really sees,
# small enough that libFuzzer spends its time on structure, not size.
TARGETS="route:4096 manifest:65536 layer:262144 osv:65536 version:1024 policy:32768
cat_os:4096 cat_dpkg:32768 cat_apk:32768 cat_rpm:65536 cat_python:16384 cat_npm:16384
cat_go:65536 cat_java:65536 cat_secrets:32768 nvd:65536
cat_ruby:32768 cat_rust:65536 cat_rust_lock:65536 cat_dotnet:65536 cat_php:65536 cat_rpm_bdb:65536 cat_rpm_ndb:65536"
RSS_LIMIT_MB=2048
TIMEOUT_S=10

CC=${FUZZ_CC:-clang-14}
command -v "$CC" >/dev/null || CC=clang
command -v "$CC" >/dev/null || { echo "fuzz: clang not found (scripts/deps.sh installs clang-14)"; exit 1; }

# ---- config.h ----
if [ -n "$builddir" ] && [ -f "$builddir/config.h" ]; then
  cfgdir="$builddir"
elif [ -f "$top/config.h" ]; then
  cfgdir="$top"
else
  cfgdir="$out/cfg"
  if [ ! -f "$cfgdir/config.h" ]; then
    mkdir -p "$cfgdir"
    echo "fuzz: configuring in $cfgdir"
    (cd "$cfgdir" && "$top/configure" CC="$CC" >configure.log 2>&1) ||
      { echo "fuzz: configure failed, see $cfgdir/configure.log"; exit 1; }
  fi
fi

PKGS="libnghttp2 libevent libevent_openssl libevent_pthreads openssl libarchive sqlite3 libpq jansson yaml-0.1 libzstd zlib libcurl libhs"
pkg-config --exists libisal && PKGS="$PKGS libisal"
DEP_CFLAGS=$(pkg-config --cflags $PKGS)
DEP_LIBS="$(pkg-config --libs $PKGS) -lhttp_parser -lpthread -lm"
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
CFLAGS="-g -O1 -std=c11 -D_GNU_SOURCE -include $cfgdir/config.h -I$top/proxy -I$top/scanner -I$top/net $DEP_CFLAGS $SAN"

# ---- project objects (incremental: rebuilt when the source or any header is newer) ----
newest_h=$(ls -t "$top"/proxy/*.h "$top"/scanner/*.h "$top"/net/*.h "$cfgdir/config.h" | head -n 1)
srcs=$(ls "$top"/proxy/*.c "$top"/scanner/*.c "$top"/net/*.c)
build_failed=()
compile_one() { # src obj
  "$CC" $CFLAGS -fsanitize=fuzzer-no-link -c "$1" -o "$2.tmp" 2>"$2.log" && mv "$2.tmp" "$2"
}
pids=()
jobs=${FUZZ_JOBS:-2}
for s in $srcs; do
  o="$out/obj/$(basename "$(dirname "$s")")_$(basename "${s%.c}").o"
  if [ -f "$o" ] && [ "$o" -nt "$s" ] && [ "$o" -nt "$newest_h" ]; then continue; fi
  rm -f "$o"
  compile_one "$s" "$o" &
  pids+=($!)
  if [ ${#pids[@]} -ge "$jobs" ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
done
wait
for s in $srcs; do
  o="$out/obj/$(basename "$(dirname "$s")")_$(basename "${s%.c}").o"
  if [ ! -f "$o" ]; then
    build_failed+=("$s")
    echo "fuzz: $s does not compile:"; head -n 20 "$o.log"
  fi
done
rm -f "$out/libcustoms_fuzz.a"
ar rcs "$out/libcustoms_fuzz.a" "$out"/obj/*.o

# ---- targets ----
selected=()
for t in $TARGETS; do
  n=${t%%:*}
  if [ ${#only[@]} -gt 0 ]; then
    keep=0; for o in "${only[@]}"; do [ "$o" = "$n" ] && keep=1; done
    [ $keep = 1 ] || continue
  fi
  selected+=("$t")
done
[ ${#selected[@]} -gt 0 ] || { echo "fuzz: no such target: ${only[*]}"; exit 1; }

# One target: build, regressions, then fuzzing.  Its summary line goes to
# $out/logs/$n.line and its "FUZZ PASS|FAIL" result to $out/logs/$n.result,
# so that targets can run side by side (FUZZ_PAR) and still print in order.
fuzz_one() {
  local t=$1 n maxlen bin src rfail rcount log rc execs last cov ft corp verdict art r
  n=${t%%:*}
  maxlen=${t##*:}
  : >"$out/logs/$n.line"
  echo "FUZZ FAIL $n (did not finish)" >"$out/logs/$n.result"
  bin="$out/bin/fuzz_$n"
  src="$here/fuzz_$n.c"
  if ! "$CC" $CFLAGS -fsanitize=fuzzer -I"$here" "$src" "$out/libcustoms_fuzz.a" $DEP_LIBS -o "$bin" \
      >"$out/logs/$n.build.log" 2>&1; then
    { echo "fuzz: $n does not build:"; head -n 30 "$out/logs/$n.build.log"; } >>"$out/logs/$n.line"
    echo "FUZZ FAIL $n (build)" >"$out/logs/$n.result"; return
  fi
  common=(-rss_limit_mb=$RSS_LIMIT_MB -timeout=$TIMEOUT_S -max_len="$maxlen")
  # FUZZ_SEED (CI sets it): the same inputs every run, so a red CI names a
  # crash anyone can replay; without it each run explores new ground.
  seed=(); [ -n "${FUZZ_SEED:-}" ] && seed=(-seed="$FUZZ_SEED")

  # Regressions: every input a past crash left behind must now run clean.
  rfail=0; rcount=0
  if [ -d "$here/regress/$n" ]; then
    for r in "$here/regress/$n"/*; do
      [ -f "$r" ] || continue
      rcount=$((rcount + 1))
      if ! "$bin" "${common[@]}" "$r" >"$out/logs/$n.regress.log" 2>&1; then
        rfail=1
        { echo "fuzz: $n regression $(basename "$r") fails:"
          grep -E 'ERROR|SUMMARY|#[0-9]+ 0x|oracle' "$out/logs/$n.regress.log" | head -n 25; } >>"$out/logs/$n.line"
      fi
    done
  fi
  if [ "$regress_only" = 1 ] || [ "$secs" = 0 ]; then
    if [ $rfail = 0 ]; then echo "FUZZ PASS $n (regress $rcount)"; else echo "FUZZ FAIL $n (regress)"; fi \
      >"$out/logs/$n.result"
    return
  fi

  mkdir -p "$out/work/$n" "$out/artifacts/$n"
  log="$out/logs/$n.log"
  dict=(); [ -f "$here/dict/$n.dict" ] && dict=(-dict="$here/dict/$n.dict")
  "$bin" "${common[@]}" "${seed[@]}" "${dict[@]}" -max_total_time="$secs" -print_final_stats=1 \
    -artifact_prefix="$out/artifacts/$n/" "$out/work/$n" "$here/corpus/$n" >"$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
  cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
  ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
  corp=$(echo "$last" | sed -n 's/.* corp: \([0-9]*\).*/\1/p')
  verdict=OK
  if [ $rc -ne 0 ] || grep -qE '^==[0-9]+==ERROR|^SUMMARY: |deadly signal|Test unit written to' "$log"; then
    art=$(sed -n 's/.*Test unit written to \(.*\)/\1/p' "$log" | tail -n 1)
    verdict="CRASH ${art:-(see $log)}"
  fi
  [ $rfail = 1 ] && verdict="$verdict, REGRESSION FAILED"
  printf '%-12s execs/s %-7s cov %-6s ft %-6s corpus %-5s %s\n' "$n" "${execs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" \
    "$verdict" >>"$out/logs/$n.line"
  if [ "$verdict" = OK ]; then echo "FUZZ PASS $n" >"$out/logs/$n.result"; else
    echo "FUZZ FAIL $n" >"$out/logs/$n.result"
    grep -E '^==[0-9]+==ERROR|^SUMMARY|runtime error|oracle:|#[0-9]+ 0x' "$log" | head -n 20 | sed 's/^/    /' \
      >>"$out/logs/$n.line"
  fi
}

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
# FUZZ_PAR targets at a time (default 2, one per core of our machines):
# each libFuzzer process is single-threaded, so two side by side get the
# same executions per second each and the suite takes half the wall time.
par=${FUZZ_PAR:-2}
pids=()
for t in "${selected[@]}"; do
  fuzz_one "$t" &
  pids+=($!)
  if [ ${#pids[@]} -ge "$par" ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
done
wait
status=0
results=()
for t in "${selected[@]}"; do
  n=${t%%:*}
  cat "$out/logs/$n.line"
  r=$(cat "$out/logs/$n.result" 2>/dev/null || echo "FUZZ FAIL $n (no result)")
  results+=("$r")
  case $r in "FUZZ PASS"*) ;; *) status=1 ;; esac
done

[ ${#build_failed[@]} -gt 0 ] && echo "fuzz: sources that did not compile: ${build_failed[*]}"
printf '%s\n' "${results[@]}"
exit $status
