#!/bin/bash
# tests/integration/test_faults.sh - customs under faults (issue 8, "Faults"):
#   1. customs SIGKILLed in the middle of a layer upload, restarted on the
#      same database: the database is intact, a denied image stays denied and
#      the re-push is scanned;
#   2. the registry killed and restarted in the middle of an upload: customs
#      keeps serving, the client gets an error (not a hang), a re-push
#      succeeds and is scanned;
#   3. the spool directory full (a 1 MiB tmpfs, filled): with on_error: deny
#      the image whose layer could not be scanned is refused on pull, and the
#      registry holds the right bytes;
#   4. the policy file replaced by garbage (file change and SIGHUP): the
#      error is logged and the previous policy stays in force;
#   5. a truncated OSV zip: `customs db import` fails, imports nothing, the
#      database stays intact and verdicts do not change.
# Needs root for part 3 (mount -t tmpfs); without it part 3 is skipped with
# the reason (scan.spool_max_bytes does not make a fetch fail, so it cannot
# stand in for a full disk). TAP output.

. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/mkimage.sh"
. "$LIB_DIR/fixtures.sh"

command -v jq >/dev/null || bail_out "jq is required"
command -v skopeo >/dev/null || bail_out "skopeo is required"
command -v sqlite3 >/dev/null || bail_out "sqlite3 is required"
command -v python3 >/dev/null || bail_out "python3 is required"
direct_mode && { echo "1..0 # SKIP needs customs (CUSTOMS_TEST_DIRECT=1)"; exit 0; }

# db_intact DESC: SQLite's PRAGMA integrity_check on customs' file says ok.
# PostgreSQL keeps no file of customs' (the server's own WAL makes a killed
# client harmless), so there the check is skipped, saying so.
db_intact() {
    if [ "$CUSTOMS_TEST_DB" = sqlite ]; then
        is "$(db_integrity "$DB")" ok "$1"
    else
        skip "$1" "PostgreSQL: PRAGMA integrity_check is SQLite's"
    fi
}

UPLOAD_SECS=60          # bound on any single client upload: a hang fails the test
ERROR_WITHIN_SECS=30    # the client must see the failure within this after a kill
DRIPS=8                 # px_scan starts at least 8 layer workers: keep them all busy
MT=application/vnd.oci.image.manifest.v1+json

# ---- cleanup: the tmpfs of part 3 is unmounted before lib.sh removes $T ----
SPOOL_MNT=""
DRIP_PIDS=()
_faults_cleanup() {
    local rc=$? p
    for p in "${DRIP_PIDS[@]}"; do kill "$p" 2>/dev/null; done
    if [ -n "$SPOOL_MNT" ]; then
        # customs keeps unlinked spool files open: stop it before unmounting
        for p in "${_LIB_PIDS[@]}"; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
        umount "$SPOOL_MNT" 2>/dev/null || umount -l "$SPOOL_MNT" 2>/dev/null
    fi
    (exit $rc)
    _lib_cleanup
}
trap _faults_cleanup EXIT

POL=$T/policy.yaml
write_policy() { # ON_ERROR
    {
        echo "mode: enforce"
        echo "unscanned: scan"
        echo "on_error: ${1:-deny}"
        echo "head: auto"
        echo "rules:"
        echo "  - name: no-critical"
        echo "    repositories: [\"**\"]"
        echo "    deny:"
        echo "      severity: critical"
    } >"$POL.tmp" && mv "$POL.tmp" "$POL"
}
write_policy deny
# short holds: part 3 makes scans wait for a worker on purpose
printf 'scan:\n  wait_ms: 3000\n' >"$T/customs.yaml"

start_registry
CUSTOMS_POLICY=$POL start_customs -c "$T/customs.yaml"
DB=$(cus_db 1)
H=127.0.0.1:$CUS_PORT

# The denied image: openssl with a critical CVE (the record is imported below).
fixture_shop "$T/rootfs0" "$T/unused"
oci_init "$T/shop" && oci_add_layer "$T/shop" "$T/rootfs0" && SHOP=$(oci_finish "$T/shop" v1) ||
    bail_out "cannot build the shop image"
# An allowed image: nothing vulnerable in it.
OKIMG=$(mkimage_build -n 1 -s 16K -t v1 "$T/okimg") || bail_out "cannot build the ok image"
fixture_critical_osv "$T/osv-critical.json"

forget_blob_locations
skopeo_push "$T/shop" v1 "$H" shop/app:v1 2>"$T/push-shop.err"
is "$?" 0 "push of the to-be-denied image through customs"
skopeo_push "$T/okimg" v1 "$H" ok/app:v1 2>"$T/push-ok.err"
is "$?" 0 "push of a clean image through customs"
"$CUSTOMS_BIN" db import --db "$DB" "$T/osv-critical.json" >"$T/import0.out" 2>&1
is "$?" 0 "import of the critical record into the daemon's database"

# verdicts VIA_URL LABEL: the two verdicts every part checks again.
verdicts() {
    local c
    c=$(http_code "$1/v2/shop/app/manifests/v1" -H "Accept: $MT")
    is "$c" 403 "$2: the denied image is refused by tag"
    c=$(http_code "$1/v2/shop/app/manifests/$SHOP" -H "Accept: $MT")
    is "$c" 403 "$2: and by digest"
    c=$(http_code "$1/v2/ok/app/manifests/v1" -H "Accept: $MT")
    is "$c" 200 "$2: the clean image is served"
}
verdicts "$CUS_URL" "before any fault"

# =========================================================================
# 1. customs SIGKILLed mid-push, restarted on the same database
# =========================================================================
# A 24 MiB single-layer image; its layer goes up with curl, slowly, so that
# the kill lands in the middle of the stream (and of its scan).
BIGD=$(mkimage_build -n 1 -s 24M -p random -z 1 -t v1 "$T/big") || bail_out "cannot build the big image"
BIGL=$(jq -r '.layers[0].digest' "$T/big/blobs/sha256/${BIGD#sha256:}")
(blob_upload "$CUS_URL" big/app "$T/big/blobs/sha256/${BIGL#sha256:}" "$BIGL" \
    --limit-rate 4M -m "$UPLOAD_SECS" >"$T/kill-upload.code") &
upl=$!
# and, at the same time, pushes of small images keep the database busy
(for i in 1 2 3 4 5 6; do
    mkimage_build -n 1 -s 8K -t v1 "$T/busy$i" >/dev/null &&
        skopeo_push "$T/busy$i" v1 "$H" "busy/app$i:v1" 30 2>/dev/null
done) &
busy=$!
sleep 2.5
kill -9 "$CUS_PID"
wait "$CUS_PID" 2>/dev/null
t0=$SECONDS
wait "$upl"
wait "$busy"
code=$(cat "$T/kill-upload.code")
ok '[ "${code:0:1}" != 2 ]' "the upload in flight when customs was killed does not succeed (got $code)"
ok '[ $((SECONDS - t0)) -le $ERROR_WITHIN_SECS ]' "and the client learns it at once ($((SECONDS - t0)) s)"
if [ "$CUSTOMS_TEST_DB" = sqlite ]; then
    ok '[ -s "$DB-wal" ] || [ -s "$DB" ]' "the database (and its WAL) survived the kill"
else
    skip "the database (and its WAL) survived the kill" "PostgreSQL: no database file of customs' own"
fi
db_intact "PRAGMA integrity_check after SIGKILL"

# Restart on the same database (the later --db wins over start_customs' own).
CUSTOMS_POLICY=$POL start_customs -c "$T/customs.yaml" --db "$DB"
H=127.0.0.1:$CUS_PORT
verdicts "$CUS_URL" "after the restart"
skopeo_pull "$H" shop/app:v1 "$T/pulled-shop" 2>"$T/pull-shop.err"
isnt "$?" 0 "skopeo pull of the denied image fails after the restart"
like "$(cat "$T/pull-shop.err")" "CVE-2099-0001" "naming the finding (the verdict came from the old database)"

forget_blob_locations
skopeo_push "$T/big" v1 "$H" big/app:v1 2>"$T/repush.err"
is "$?" 0 "re-push of the interrupted image succeeds"
ok 'grep -q "scan layer=$BIGL .*via=upload.*status=ok" "$CUS_LOG"' "its layer is scanned as it streams"
"$CUSTOMS_BIN" report --db "$DB" --format json big/app:v1 >"$T/report-big.json" 2>"$T/report-big.err"
is "$?" 0 "customs report big/app:v1"
is "$(jq -r .digest "$T/report-big.json")" "$BIGD" "the report names the re-pushed manifest"
is "$(jq -r '[.layers[].digest] | join(" ")' "$T/report-big.json")" "$BIGL" "and its layer"
is "$(http_code "$CUS_URL/v2/big/app/manifests/v1" -H "Accept: $MT")" 200 "the re-pushed clean image is served"
db_intact "integrity_check after the re-push"

# =========================================================================
# 2. the registry killed and restarted mid-upload
# =========================================================================
MIDD=$(mkimage_build -n 1 -s 16M -p random -z 1 -t v1 "$T/mid") || bail_out "cannot build the mid image"
MIDL=$(jq -r '.layers[0].digest' "$T/mid/blobs/sha256/${MIDD#sha256:}")
(blob_upload "$CUS_URL" mid/app "$T/mid/blobs/sha256/${MIDL#sha256:}" "$MIDL" \
    --limit-rate 2M -m "$UPLOAD_SECS" >"$T/reg-upload.code") &
upl=$!
sleep 2
OLD_REG_PORT=$REG_PORT
kill -9 "$REG_PID"
wait "$REG_PID" 2>/dev/null
t0=$SECONDS
wait "$upl"
code=$(cat "$T/reg-upload.code")
ok '[ "${code:0:1}" != 2 ]' "upload whose registry died does not succeed (got $code)"
ok '[ $((SECONDS - t0)) -le $ERROR_WITHIN_SECS ]' "the client gets the error, not a hang ($((SECONDS - t0)) s)"
ok 'kill -0 "$CUS_PID" 2>/dev/null' "customs is still running"
like "$(http_code "$CUS_URL/v2/")" '^(502|503|504)$' "GET /v2/ through customs answers 502/503/504 while the registry is down"
start_registry "$OLD_REG_PORT"
c=000
for _ in $(seq 1 50); do
    c=$(http_code "$CUS_URL/v2/")
    [ "$c" = 200 ] && break
    sleep 0.2
done
is "$c" 200 "customs serves again once the registry is back"
forget_blob_locations
skopeo_push "$T/mid" v1 "$H" mid/app:v1 2>"$T/push-mid.err"
is "$?" 0 "re-push after the registry restart succeeds"
ok 'grep -q "scan layer=$MIDL .*via=upload.*status=ok" "$CUS_LOG"' "and its layer is scanned"
"$CUSTOMS_BIN" report --db "$DB" --format json mid/app:v1 >"$T/report-mid.json" 2>/dev/null
is "$(jq -r .digest "$T/report-mid.json" 2>/dev/null)" "$MIDD" "customs report knows the re-pushed image"
verdicts "$CUS_URL" "after the registry restart"

# =========================================================================
# 3. the spool directory full
# =========================================================================
SP=$T/spool
mkdir -p "$SP"
if mount -t tmpfs -o size=1m,mode=0700 customs-test-spool "$SP" 2>"$T/mount.err"; then
    SPOOL_MNT=$SP
    diag "spool: a 1 MiB tmpfs at $SP, filled before the push"
    head -c 2M /dev/zero >"$SP/fill" 2>/dev/null
    ok '[ "$(df -k --output=avail "$SP" | tail -1 | tr -d " ")" = 0 ]' "the spool filesystem is full"
    printf 'scan:\n  spool_dir: %s\n  wait_ms: 3000\n' "$SP" >"$T/spool.yaml"
    SAVE_PID=$CUS_PID SAVE_URL=$CUS_URL SAVE_LOG=$CUS_LOG
    CUSTOMS_POLICY=$POL start_customs -c "$T/spool.yaml"
    SPH=127.0.0.1:$CUS_PORT
    # Spilling happens only when the scanner falls behind the network: keep
    # every layer worker busy with slow uploads, so that the next layer's
    # bytes queue up (4 MiB in memory), then go to the full spool.
    # (20 KiB/s: above scan.min_rate_bytes' default, so they keep their workers)
    make_random_file "$T/drip" $((4 * 1024 * 1024))
    for i in $(seq 1 $DRIPS); do
        (blob_upload "$CUS_URL" drip/app "$T/drip" "$(sha256_of "$T/drip")" --limit-rate 20K -m 300 \
            >/dev/null) &
        DRIP_PIDS+=($!)
    done
    sleep 2
    SPD=$(mkimage_build -n 1 -s 12M -p random -z 1 -t v1 "$T/spimg") || bail_out "cannot build the spool image"
    SPL=$(jq -r '.layers[0].digest' "$T/spimg/blobs/sha256/${SPD#sha256:}")
    forget_blob_locations
    skopeo_push "$T/spimg" v1 "$SPH" spool/app:v1 180 2>"$T/push-spool.err"
    is "$?" 0 "a push is not refused because the spool is full"
    for p in "${DRIP_PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    DRIP_PIDS=()
    sleep 1
    code=$(curl -s -m 60 -D "$T/sp.h" -o "$T/sp.json" -w '%{http_code}' -H "Accept: $MT" \
        "$CUS_URL/v2/spool/app/manifests/v1")
    is "$code" 403 "on_error: deny: the image whose layer could not be scanned is refused"
    is "$(header_value "$T/sp.h" x-customs-verdict)" deny "with X-Customs-Verdict: deny"
    diag "reason given: $(jq -r '.errors[0].message' "$T/sp.json" 2>/dev/null)"
    ok 'grep -Eq "spool|No space|Failed writing" "$CUS_LOG"' "the log says the spool failed"
    is "$(http_code "$CUS_URL/v2/spool/app/manifests/$SPD" -H "Accept: $MT")" 403 "refused by digest too"
    # The upload itself is intact: read it back from the registry directly.
    curl -s -m 60 -o "$T/sp.layer" "$REG_URL/v2/spool/app/blobs/$SPL"
    is "$(sha256_of "$T/sp.layer")" "$SPL" "the registry holds the layer byte-exact"
    curl -s -m 60 -o "$T/sp.manifest" -H "Accept: $MT" "$REG_URL/v2/spool/app/manifests/v1"
    is "$(sha256_of "$T/sp.manifest")" "$SPD" "and the manifest"
    skopeo_pull "127.0.0.1:$REG_PORT" spool/app:v1 "$T/sp-direct" 2>"$T/sp-direct.err"
    is "$?" 0 "a direct pull from the registry verifies every digest"
    rm -f "$T/sp.layer"
    ok 'kill -0 "$CUS_PID" 2>/dev/null' "customs with a full spool is still running"
    stop_pid "$CUS_PID" KILL
    umount "$SP" && SPOOL_MNT=""
    CUS_PID=$SAVE_PID CUS_URL=$SAVE_URL CUS_LOG=$SAVE_LOG
else
    skip "spool full: refused on pull, registry bytes intact" \
        "cannot mount a tmpfs here ($(head -1 "$T/mount.err")); needs root"
fi

# =========================================================================
# 4. the policy file replaced by garbage
# =========================================================================
nref=$(grep -c 'refused' "$CUS_LOG")
head -c 3000 /dev/urandom >"$POL"
sleep 3   # the file is polled every 2 s
ok '[ "$(grep -c "refused" "$CUS_LOG")" -gt "$nref" ]' "random bytes over the policy: the change is refused in the log"
like "$(grep 'refused' "$CUS_LOG" | tail -1)" "previous policy stays in force" "saying the previous policy stays"
verdicts "$CUS_URL" "garbage policy (file change)"
nref=$(grep -c 'refused' "$CUS_LOG")
kill -HUP "$CUS_PID"
sleep 0.5
ok '[ "$(grep -c "refused" "$CUS_LOG")" -gt "$nref" ]' "SIGHUP with the garbage policy: refused again"
verdicts "$CUS_URL" "garbage policy (SIGHUP)"
# half a policy, as a crashed editor leaves it: valid YAML up to the cut
write_policy deny
sleep 3
head -c 40 "$POL" >"$POL.cut" && mv "$POL.cut" "$POL"
kill -HUP "$CUS_PID"
sleep 0.5
diag "policy cut to: $(tr '\n' '|' <"$POL")"
verdicts "$CUS_URL" "truncated policy"
# an empty file: the previous policy must not turn into "allow everything"
: >"$POL"
kill -HUP "$CUS_PID"
sleep 0.5
verdicts "$CUS_URL" "empty policy file"
ok 'kill -0 "$CUS_PID" 2>/dev/null' "customs survived every bad policy"
write_policy deny
kill -HUP "$CUS_PID"
sleep 0.5
like "$(grep 'policy .* loaded' "$CUS_LOG" | tail -1)" "SIGHUP" "a good policy loads again after the bad ones"

# =========================================================================
# 5. a truncated OSV zip
# =========================================================================
# A zip of 2000 records whose first member withdraws the critical record: an
# importer that applied the readable part of a truncated zip would let the
# denied image out.
make_osv_set "$T/osvset" 2000 TRUNC
jq -c '. + {withdrawn: "2099-02-01T00:00:00Z", modified: "2099-02-01T00:00:00Z"}' \
    "$T/osv-critical.json" >"$T/osvset/0000-CVE-2099-0001.json"
zip_dir "$T/osvset" "$T/full.zip" || bail_out "cannot zip"
size=$(stat -c %s "$T/full.zip")
head -c $((size / 2)) "$T/full.zip" >"$T/half.zip"
head -c $((size - 30)) "$T/full.zip" >"$T/nocd.zip"   # only the end-of-directory record lost
snap() {
    db_sql "SELECT (SELECT count(*) FROM vulns) || ' ' || (SELECT count(*) FROM vuln_sources) || ' ' ||
        (SELECT value FROM meta WHERE key = 'vulndb_generation')"
}
before=$(snap)
for z in half nocd; do
    "$CUSTOMS_BIN" db import --db "$DB" "$T/$z.zip" >"$T/import-$z.out" 2>&1
    isnt "$?" 0 "truncated zip ($z): customs db import fails"
    diag "$z: $(tail -2 "$T/import-$z.out")"
    is "$(snap)" "$before" "truncated zip ($z): no record, source or generation change"
    is "$(db_sql "SELECT count(*) FROM vulns WHERE id LIKE 'TRUNC-%'")" 0 "truncated zip ($z): none of its records imported"
    db_intact "truncated zip ($z): integrity_check"
done
verdicts "$CUS_URL" "after the truncated imports"
ok 'kill -0 "$CUS_PID" 2>/dev/null' "customs is still running"

done_testing
