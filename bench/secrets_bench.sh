#!/usr/bin/env bash
# bench/secrets_bench.sh - the secrets cataloger before (HEAD's
# scanner/sc_cat_secrets.c, a memmem pass per rule per line) and after (one
# Hyperscan pass), over real trees of text files, medians of interleaved runs.
#
# Usage: bench/secrets_bench.sh BUILDDIR [ROUNDS] [DIR...]
#   BUILDDIR  a configured and built tree (its libscanner.a and config.h)
#   ROUNDS    interleaved rounds (default 9)
#   DIR       trees to load (default: /usr/lib/python3 /usr/share/perl
#             /usr/lib/node_modules, those that exist).  Paths are taken
#             relative to each DIR, so /usr/share/perl is searched although
#             the cataloger skips usr/share/ inside images.
# Builds BUILDDIR/bench/secrets_bench (-O2, as the project) and runs it.
# OLD_REV: the revision whose cataloger is "before" (default b0862f2, the
# last one with the memmem rules; the old file needs no Hyperscan).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
[ $# -ge 1 ] || { sed -n '2,14p' "$0"; exit 2; }
b=$(cd "$1" && pwd); shift
rounds=${1:-9}; [ $# -ge 1 ] && shift
dirs=("$@")
if [ ${#dirs[@]} -eq 0 ]; then
  for d in /usr/lib/python3 /usr/share/perl /usr/lib/node_modules; do [ -d "$d" ] && dirs+=("$d"); done
fi
[ -f "$b/libscanner.a" ] || make -C "$b" libscanner.a >/dev/null
mkdir -p "$b/bench"
git -C "$top" show "${OLD_REV:-b0862f2}:scanner/sc_cat_secrets.c" >"$b/bench/sc_cat_secrets_old.c"
PKGS="libnghttp2 libevent openssl libarchive sqlite3 jansson yaml-0.1 libzstd zlib libcurl libhs"
pkg-config --exists libisal && PKGS="$PKGS libisal"
CC=${CC:-cc}
CFLAGS="-O2 -g -std=c11 -D_GNU_SOURCE -include $b/config.h -I$top/scanner $(pkg-config --cflags $PKGS)"
$CC $CFLAGS -Dsc_cat_secrets=sc_cat_secrets_old -c "$b/bench/sc_cat_secrets_old.c" -o "$b/bench/sc_cat_secrets_old.o"
$CC $CFLAGS "$here/secrets_bench.c" "$b/bench/sc_cat_secrets_old.o" "$b/libscanner.a" \
  $(pkg-config --libs $PKGS) -lhttp_parser -lpthread -lm -o "$b/bench/secrets_bench"
echo "# $(git -C "$top" rev-parse --short "${OLD_REV:-b0862f2}") vs working tree; dirs: ${dirs[*]}; $(nproc) CPUs"
exec "$b/bench/secrets_bench" -r "$rounds" ${VERBOSE:+-v} "${dirs[@]}"
