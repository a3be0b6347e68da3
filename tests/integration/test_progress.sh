#!/bin/bash
# tests/integration/test_progress.sh - progress on a terminal: `customs db
# import` of a large export rewrites one line (records, MiB read) while it
# works and `customs scan` names the layer it is on, when stderr is a
# terminal (util-linux `script` gives them one); piped or logged runs print
# no progress at all, only the line-oriented summary.  TAP output.

. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/mkimage.sh"
. "$LIB_DIR/fixtures.sh"

command -v script >/dev/null || bail_out "script (util-linux) is required"

make_osv_set "$T/osv" 3000 PROG
zip_dir "$T/osv" "$T/osv.zip"
# on a terminal: stdout and stderr both go to script's pty, captured in a file
# two databases (files, or PostgreSQL with CUSTOMS_TEST_DB): both imports add everything
TTY_DB=$(cus_db 1) PIPE_DB=$(cus_db 2)
script -qec "'$CUSTOMS_BIN' db import --db '$TTY_DB' '$T/osv.zip'" /dev/null >"$T/tty.out" 2>&1
is "$?" 0 "db import on a terminal"
ok 'grep -q "records, [0-9.]* MiB read" "$T/tty.out"' "shows records and MiB read while it imports"
ok 'grep -q $'"'"'\r'"'"' "$T/tty.out"' "on one line rewritten in place (carriage returns)"
like "$(tr '\r' '\n' <"$T/tty.out" | grep 'osv.zip: 3000 added')" "osv.zip: 3000 added" "then the summary line"
"$CUSTOMS_BIN" db import --db "$PIPE_DB" "$T/osv.zip" >"$T/pipe.out" 2>"$T/pipe.err"
is "$?" 0 "db import into a pipe"
ok '! grep -q "MiB read" "$T/pipe.out" "$T/pipe.err" && ! grep -q $'"'"'\r'"'"' "$T/pipe.out" "$T/pipe.err"' \
    "prints no progress and no carriage return when not on a terminal"
is "$(cat "$T/pipe.err")" "" "and nothing on stderr"

DIGEST=$(fixture_shop_image "$T/shop") || bail_out "image"
script -qec "'$CUSTOMS_BIN' scan --format json 'oci:$T/shop:v1'" /dev/null >"$T/scan-tty.out" 2>&1
ok 'grep -q "scanning layer 1/2" "$T/scan-tty.out" && grep -q "scanning layer 2/2" "$T/scan-tty.out"' \
    "scan on a terminal names each layer as it goes (1/2, 2/2)"
"$CUSTOMS_BIN" scan --format json "oci:$T/shop:v1" >"$T/scan.json" 2>"$T/scan.err"
ok '! grep -q "scanning layer" "$T/scan.err"' "scan into a pipe prints no progress"
is "$(jq -r .digest "$T/scan.json")" "$DIGEST" "and its JSON is intact"

done_testing
