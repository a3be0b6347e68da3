#!/bin/bash
# tests/integration/test_watch_fixes.sh - what a watched upstream base's
# update fixes (issue 11: "what the new base fixes", for a base never
# pushed through customs).
#
# Registry A is customs' upstream; registry B the "public" one.  On B,
# base:12 is Debian 12 with a vulnerable libssl3 (CVE-2099-0001, critical,
# fixed in 3.0.13-1~deb12u1) plus a second layer; an application built on
# it goes THROUGH customs to A, so the base's layers are scanned as the
# app's (same diff_ids).  Then base:12 moves on B to a libssl3 that is
# fixed (same second layer):
#   - customs fetches and scans only the new base's layer it lacks (the
#     shared one is known by its diff_id), before it announces the move;
#   - the base-image-updated webhook says "fixes_known": true, with the
#     CVE, its severity and fixed version.
# And when the new base cannot be fetched (its layer blob gone from B's
# storage; the tag moved by rewriting B's tag link, so customs cannot see
# the move before the blob is gone): the event still arrives, naming the
# application, with "fixes_known": false, and the reason is logged.
# TAP output.

. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/mkimage.sh"
. "$LIB_DIR/fixtures.sh"
for c in skopeo jq sqlite3 curl; do
    command -v "$c" >/dev/null || bail_out "$c is required"
done
direct_mode && bail_out "test_watch_fixes needs customs itself"

W=$T/work
RCV=$T/rcv
mkdir -p "$W"

# image OUT DIR...: an OCI layout over the layer roots; prints its digest.
image() {
    local out=$1 d
    shift
    oci_init "$out" || return 1
    for d in "$@"; do oci_add_layer "$out" "$d" || return 1; done
    oci_finish "$out" v
}

# ---- layers ----
fixture_debian_base "$W/deb1" 3.0.11-1~deb12u2
fixture_debian_base "$W/deb2" 3.0.13-1~deb12u1
fixture_debian_base "$W/gone1" 3.0.11-1~deb12u2 gone
fixture_debian_base "$W/gone2" 3.0.13-1~deb12u1 gone
mkdir -p "$W/extra/usr/share/doc/extra" "$W/applayer/srv" "$W/applayer2/srv"
echo "shared by both versions of the base" >"$W/extra/usr/share/doc/extra/README"
echo "the application" >"$W/applayer/srv/app.txt"
echo "the other application" >"$W/applayer2/srv/app.txt"

# ---- registries, vulnerability data, customs watching B ----
start_registry
A_URL=$REG_URL
REG_STORAGE=$T/regB start_registry
B_PORT=$REG_PORT
B=127.0.0.1:$B_PORT
BREG=$T/regB/docker/registry/v2

image "$W/base1" "$W/deb1" "$W/extra" >/dev/null || bail_out "base 1 not built"
skopeo_push "$W/base1" v "$B" base:12 || bail_out "push base:12 to B"
BASE1=$(reg_digest "$B_PORT" base 12)
image "$W/g1" "$W/gone1" >/dev/null || bail_out "gone 1 not built"
skopeo_push "$W/g1" v "$B" gone:12 || bail_out "push gone:12 to B"
GONE1=$(reg_digest "$B_PORT" gone 12)
like "$BASE1 $GONE1" '^sha256:[0-9a-f]{64} sha256:[0-9a-f]{64}$' "base:12 and gone:12 are on registry B"

start_receiver "$RCV"
cat >"$T/customs.yaml" <<X
webhooks:
  - url: $RCV_URL/hook
    events: [base-image-updated]
X
CUS_UPSTREAM=$A_URL start_customs -c "$T/customs.yaml" --log-level info \
    --watch "http://$B/base:12" --watch "http://$B/gone:12" --watch-interval 1
DB=$(cus_db 1)
CUS=127.0.0.1:$CUS_PORT
fixture_critical_osv "$T/osv.json"
"$CUSTOMS_BIN" db import --db "$DB" "$T/osv.json" >"$T/import.out" 2>&1
is "$?" 0 "vulnerability data imported (CVE-2099-0001 in Debian 12's openssl)"
watched() { db_sql "select coalesce(digest,'') from watched where repo='$B/$1' and tag='$2'" 2>/dev/null; }
wait_until 15 '[ "$(watched base 12)" = "$BASE1" ] && [ "$(watched gone 12)" = "$GONE1" ]'
is "$(watched base 12) $(watched gone 12)" "$BASE1 $GONE1" "customs resolved both watched tags"

# ---- applications built on them, through customs ----
forget_blob_locations
APP=$(image "$W/app" "$W/deb1" "$W/extra" "$W/applayer") || bail_out "app not built"
skopeo_push "$W/app" v "$CUS" app:1 || bail_out "push app:1 through customs"
APP2=$(image "$W/app2" "$W/gone1" "$W/applayer2") || bail_out "app2 not built"
skopeo_push "$W/app2" v "$CUS" app2:1 || bail_out "push app2:1 through customs"
scanned_ok() { db_sql "select count(*) from layers where digest='$1' and status='ok' and diff_id is not null" 2>/dev/null; }
wait_until 20 '[ "$(db_sql "select count(*) from chain_images where digest in ('"'$APP'"', '"'$APP2'"')")" = 2 ]'
is "$(db_sql "select count(*) from chain_images where origin='local' and digest in ('$APP', '$APP2')")" 2 \
    "both applications recorded"
is "$(db_sql "select count(*) from images where digest in ('$BASE1', '$GONE1')")" 0 \
    "the watched bases are not images customs saw pushed"
layers_before=$(db_sql "select count(*) from layers")

# ---- base:12 moves to the fixed libssl3 ----
BASE2=$(image "$W/base2" "$W/deb2" "$W/extra") || bail_out "base 2 not built"
NEWLAYER=$(jq -r '.layers[0].digest' "$W/base2/blobs/sha256/${BASE2#sha256:}")
skopeo_push "$W/base2" v "$B" base:12 || bail_out "push the new base:12 to B"
is "$(reg_digest "$B_PORT" base 12)" "$BASE2" "base:12 moved on registry B"
t0=$SECONDS
wait_until 20 '[ -n "$(events_for "$B/base")" ]'
EV=$(events_for "$B/base" | head -1)
ok '[ -n "$EV" ]' "a base-image-updated webhook arrived ($((SECONDS - t0)) s)"
[ -n "$EV" ] || { diag "customs log:" "$(tail -30 "$CUS_LOG")"; done_testing; }
is "$(jq -r '.base.old_digest + " " + .base.new_digest' "$EV")" "$BASE1 $BASE2" "old and new digests"
is "$(jq -c '[.images[] | .repository + ":" + .tag + "@" + .digest]' "$EV")" "[\"app:1@$APP\"]" "names app:1"
is "$(jq -r .fixes_known "$EV")" true "what the new base fixes is known"
is "$(jq -r .fixes_total "$EV")" 1 "it fixes one finding"
is "$(jq -r '.fixes[0].id' "$EV")" CVE-2099-0001 "fixes[0].id"
is "$(jq -r '.fixes[0].severity' "$EV")" critical "fixes[0].severity"
is "$(jq -r '.fixes[0].fixed' "$EV")" 3.0.13-1~deb12u1 "fixes[0].fixed"
is "$(jq -r '.fixes[0].package' "$EV")" libssl3 "fixes[0].package"
is "$(scanned_ok "$NEWLAYER")" 1 "the new base's layer is stored, scanned, with its diff_id"
is "$(db_sql "select count(*) from layers")" $((layers_before + 1)) "only that layer was added"
like "$(cat "$CUS_LOG")" "watch $B/base:12: scan layer=$NEWLAYER " "its scan is logged"
like "$(cat "$CUS_LOG")" "watch $B/base:12: new base $BASE2: 1 image\(s\), 1 layer\(s\) known, 1 scanned" \
    "the shared layer was known by its diff_id, not fetched"

# ---- gone:12 moves, but its new layer cannot be fetched ----
GONE2=$(image "$W/g2" "$W/gone2") || bail_out "gone 2 not built"
GLAYER=$(jq -r '.layers[0].digest' "$W/g2/blobs/sha256/${GONE2#sha256:}")
skopeo_push "$W/g2" v "$B" gone:next || bail_out "push the new gone to B under another tag"
hex=${GLAYER#sha256:}
rm -f "$BREG/blobs/sha256/${hex:0:2}/$hex/data"
ok '[ "$(curl -s -o /dev/null -w "%{http_code}" "http://$B/v2/gone/blobs/$GLAYER")" != 200 ]' \
    "its layer blob is gone from B"
# the tag moves by its link in B's storage: atomic, after the blob is gone
link=$BREG/repositories/gone/_manifests/tags/12/current/link
printf '%s' "$GONE2" >"$link.tmp" && mv "$link.tmp" "$link"
is "$(reg_digest "$B_PORT" gone 12)" "$GONE2" "gone:12 moved on registry B"
wait_until 20 '[ -n "$(events_for "$B/gone")" ]'
EVG=$(events_for "$B/gone" | head -1)
ok '[ -n "$EVG" ]' "the webhook still arrives"
if [ -n "$EVG" ]; then
    is "$(jq -c '[.images[] | .repository + ":" + .tag + "@" + .digest]' "$EVG")" "[\"app2:1@$APP2\"]" "names app2:1"
    is "$(jq -r '.base.new_digest' "$EVG")" "$GONE2" "new digest"
    is "$(jq -r '.fixes_known' "$EVG")" false "fixes unknown: the new base could not be scanned"
    is "$(jq -c '.fixes' "$EVG")" "[]" "no fixes listed"
fi
like "$(cat "$CUS_LOG")" "watch $B/gone:12: new base $GONE2: .*what it fixes stays unknown: .*$GLAYER" \
    "the reason is logged"
is "$(db_sql "select count(*) from layers where digest='$GLAYER'")" 0 "nothing stored for the missing layer"
ok 'kill -0 "$CUS_PID"' "customs is still running"
t0=$(date +%s%N)
stop_pid "$CUS_PID"
ms=$((($(date +%s%N) - t0) / 1000000))
ok '[ $ms -lt 3000 ] && grep -q "customs stopped" "$CUS_LOG"' "customs stops cleanly ($ms ms)"
done_testing
