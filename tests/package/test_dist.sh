#!/bin/bash
# tests/package/test_dist.sh - the release tarball, as automake defines a
# good one: on a clean export of the committed tree (git archive HEAD),
# ./autogen.sh, configure in a separate build directory, then
# `make distcheck` with the unit tests (DIST_TESTS, default '$(UNIT_TESTS)';
# DIST_TESTS='$(TESTS)' runs the integration suite too, ~12 min more).
# distcheck unpacks the tarball read-only, builds it out of tree, runs the
# tests, installs under a temporary prefix (and with DESTDIR), uninstalls,
# and fails if anything is written into the source, left installed, or left
# after distclean. Then: every file git tracks is in the tarball (so a file
# added without an EXTRA_DIST line fails here), and no build product is.
# TAP output. Needs: git, the build dependencies (scripts/deps.sh).
# Run by hand or by CI: bash tests/package/test_dist.sh
# DIST_JOBS (default 2) is make's -j.

. "$(dirname "$0")/../integration/lib.sh"

for c in git autoreconf make tar; do
    command -v "$c" >/dev/null || bail_out "$c is required"
done
SRC=$(cd "$LIB_DIR/../.." && pwd)
git -C "$SRC" rev-parse HEAD >/dev/null 2>&1 || bail_out "$SRC is not a git checkout (the tarball is made from HEAD)"
DIST_TESTS=${DIST_TESTS:-'$(UNIT_TESTS)'}
DIST_JOBS=${DIST_JOBS:-2}
# tracked files that belong to the repository, not to a release:
# CI scaffolding, git's own metadata, and a placeholder keeping build-aux/
# in git (the tarball ships build-aux's real contents).
NOT_DISTRIBUTED='^(\.ci/|\.gitignore$|build-aux/\.keep$)'

W=$T/dist
mkdir -p "$W/src" "$W/build"
git -C "$SRC" archive HEAD | tar -x -C "$W/src" || bail_out "git archive failed"
(cd "$W/src" && ./autogen.sh) >"$W/autogen.log" 2>&1
is "$?" 0 "./autogen.sh generates configure and Makefile.in" || diag "$(tail -20 "$W/autogen.log")"
(cd "$W/build" && "$W/src/configure") >"$W/configure.log" 2>&1
is "$?" 0 "configure (out of tree)" || diag "$(tail -20 "$W/configure.log")"

start=$(date +%s)
make -C "$W/build" -j"$DIST_JOBS" distcheck TESTS="$DIST_TESTS" >"$W/distcheck.log" 2>&1
rc=$?
diag "make distcheck TESTS='$DIST_TESTS' took $(($(date +%s) - start)) s"
is "$rc" 0 "make distcheck TESTS='$DIST_TESTS' passes" || diag "$(grep -E '^(FAIL|ERROR|XPASS):|ERROR:|Error' "$W/distcheck.log" | head -20)
$(tail -30 "$W/distcheck.log")"
like "$(grep 'archives ready for distribution' "$W/distcheck.log")" "^customs-[0-9.]+ archives ready for distribution" \
    "distcheck's verdict: archives ready for distribution"
# the test summary of the build from the tarball: tests ran, none failed
pass=$(grep -E '^# PASS: ' "$W/distcheck.log" | tail -n 1 | awk '{print $3}')
fail=$(grep -E '^# (FAIL|ERROR|XPASS): ' "$W/distcheck.log" | awk '{s += $3} END {print s + 0}')
ok '[ "${pass:-0}" -gt 0 ] && [ "$fail" = 0 ]' "the tests ran from the tarball: ${pass:-0} passed, $fail failed"

TARBALL=$(ls "$W"/build/customs-*.tar.gz 2>/dev/null | head -n 1)
ok '[ -f "$TARBALL" ]' "a tarball came out ($(basename "${TARBALL:-none}"))"
if [ -f "$TARBALL" ]; then
    top=$(basename "$TARBALL" .tar.gz)
    tar -tzf "$TARBALL" | sed -n "s|^$top/||p" | grep -v '/$' | sort >"$W/in-tarball"
    git -C "$SRC" ls-files | grep -Ev "$NOT_DISTRIBUTED" | sort >"$W/tracked"
    missing=$(comm -23 "$W/tracked" "$W/in-tarball")
    is "$missing" "" "every tracked file is in the tarball (list new files in Makefile.am's EXTRA_DIST)"
    diag "the tarball holds $(grep -c . "$W/in-tarball") files"
    for f in configure Makefile.in config.h.in build-aux/tap-driver.sh build-aux/install-sh; do
        ok 'grep -qx "$f" "$W/in-tarball"' "the tarball ships the generated $f (builds without autotools)"
    done
    products=$(grep -E '(\.o|\.a|\.log|\.trs|/\.deps/.*|\.dirstamp)$|^conf/customs\.service$|^proxy/px_dash_assets\.c$|(^|/)Makefile$|^config\.(h|status)$' \
        "$W/in-tarball")
    is "$products" "" "no build product in the tarball (objects, test logs, generated unit and assets)"
fi

done_testing
