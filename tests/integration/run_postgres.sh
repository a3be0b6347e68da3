#!/bin/bash
# tests/integration/run_postgres.sh - the integration suite on PostgreSQL
# (issue 15): runs every test named in postgres.list (next to this script)
# with CUSTOMS_TEST_DB=postgres, so each customs a test starts stores into
# its own database of a throwaway cluster (lib.sh, pglib.sh).
#
# Output is TAP, one line per test file:
#     ok N - test_x.sh (P passed)
#     not ok N - test_x.sh (P passed, F failed, exit S)
#     # test_x.sh: SECS s
# with the failing lines (and a Bail out!) of a failed test as `#` diag lines
# after it; the whole output of each test is kept in $LOG_DIR/test_x.sh.log.
# Exit status 0 only when every listed test passed (a file that exits
# nonzero, bails out or prints no plan fails).  Tests run one after another:
# each starts its own PostgreSQL cluster, registry and customs.
#
# Usage: tests/integration/run_postgres.sh [TEST_FILE...]  (default: all of
# postgres.list; names as in the list).
# Run it from the build tree (as make check runs the suite there).
# Environment: CUSTOMS_BIN (the binary under test; default: ./customs of the
# build tree, else lib.sh's), TMPDIR (where tests and clusters put their files),
# LOG_DIR (default: a new directory under TMPDIR, printed at the end),
# PG_BIN (pglib.sh), top_builddir (default: the current directory when it
# holds a Makefile) and top_srcdir (default: two levels above this script),
# as make check sets them.  Needs Debian's postgresql (initdb, pg_ctl, psql,
# pg_dump).

set -u
HERE=$(cd "$(dirname "$0")" && pwd)
# as make check would: the build tree is the current directory when it has
# a Makefile (test_install.sh installs from it), its ./customs the binary
if [ -z "${top_builddir:-}" ] && [ -f Makefile ]; then top_builddir=$PWD; export top_builddir; fi
if [ -z "${CUSTOMS_BIN:-}" ] && [ -x "${top_builddir:-.}/customs" ]; then
    CUSTOMS_BIN=$(cd "${top_builddir:-.}" && pwd)/customs
    export CUSTOMS_BIN
fi
: "${top_srcdir:=$(cd "$HERE/../.." && pwd)}"
export top_srcdir
LIST=$HERE/postgres.list
LOG_DIR=${LOG_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/customs-pg-suite.XXXXXX")}
mkdir -p "$LOG_DIR" || { echo "Bail out! cannot create $LOG_DIR"; exit 2; }

if [ $# -gt 0 ]; then
    tests=("$@")
else
    [ -r "$LIST" ] || { echo "Bail out! $LIST not found"; exit 2; }
    mapfile -t tests < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' "$LIST" | grep -v '^$')
fi
[ ${#tests[@]} -gt 0 ] || { echo "Bail out! no test to run"; exit 2; }

echo "1..${#tests[@]}"
n=0 failed=0 t0=$SECONDS
for t in "${tests[@]}"; do
    n=$((n + 1))
    log=$LOG_DIR/$t.log
    start=$SECONDS
    if [ -f "$HERE/$t" ]; then
        CUSTOMS_TEST_DB=postgres bash "$HERE/$t" >"$log" 2>&1
        rc=$?
    else
        echo "no such test: $HERE/$t" >"$log"
        rc=127
    fi
    pass=$(grep -c '^ok ' "$log")
    fail=$(grep -c '^not ok ' "$log")
    # a file passes when it exits 0, printed a plan and failed nothing
    if [ "$rc" = 0 ] && [ "$fail" = 0 ] && grep -q '^1\.\.[0-9]' "$log"; then
        echo "ok $n - $t ($pass passed)"
    else
        failed=$((failed + 1))
        echo "not ok $n - $t ($pass passed, $fail failed, exit $rc)"
        # the failing lines with the diagnostics right after them, and any bail out
        awk '/^not ok /  { show = 1; print; next }
             /^(ok |1\.\.)/ { show = 0; next }
             /^Bail out!/ { print; next }
             show && /^#/ { print }' "$log" | head -n 60 | sed 's/^/# /'
        [ "$fail" = 0 ] && tail -n 5 "$log" | sed 's/^/#   | /'
    fi
    echo "# $t: $((SECONDS - start)) s"
done
echo "# $((n - failed)) of $n test files passed on PostgreSQL in $((SECONDS - t0)) s; logs in $LOG_DIR"
[ "$failed" = 0 ]
