#!/bin/bash
# tests/integration/test_watch.sh - watched upstream bases (issue 11, test 4).
#
# Registry A is customs' upstream; registry B is the "public" one, never
# behind customs.  Bases are pushed straight to B (base:12, a single image;
# multi:1, an OCI index of amd64 and arm64 images); applications built on
# them (same layers plus one) and an unrelated image are pushed THROUGH
# customs to A.  customs watches B's tags (--watch, --watch-interval 1, the
# webhook from customs.yaml).  Then the bases move on B, and:
#   - a signed base-image-updated webhook arrives within seconds, naming the
#     watched repository and tag, the old and new digests and the local
#     application (repository, tag, digest), and not the unrelated image;
#   - nothing is sent while nothing moves, for several intervals;
#   - with B down the check error is recorded, customs keeps serving, and
#     after B comes back checks work again and a later move is recorded;
#   - SIGTERM stops customs promptly, also while a check waits on a
#     registry that never answers;
#   - a malformed --watch entry stops customs at start with a clear error.
# TAP output.

. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/mkimage.sh"
for c in skopeo jq sqlite3 openssl python3; do
    command -v "$c" >/dev/null || bail_out "$c is required"
done
direct_mode && bail_out "test_watch needs customs itself (CUSTOMS_TEST_DIRECT=1 makes no sense here)"

SECRET=watch-test-secret
W=$T/work
RCV=$T/rcv
mkdir -p "$W"

# rootfs DIR IDX: a made-up layer root with its own random payload.
rootfs() { mkdir -p "$1" && mkimage_rootfs "$1" "$2" 4096 random; }

# image OUT TAG ARCH DIR...: an OCI layout (OUT may already hold images)
# with one more image over the given layer roots; prints its digest.
image() {
    local out=$1 tag=$2 arch=$3 d
    shift 3
    oci_init "$out" || return 1
    for d in "$@"; do oci_add_layer "$out" "$d" || return 1; done
    oci_finish "$out" "$tag" "$arch"
}

# index OUT TAG DIGEST_AMD64 DIGEST_ARM64: an OCI index of two images of
# the layout OUT under TAG.
index() {
    local out=$1 tag=$2 a=$3 b=$4 size_a size_b f hex
    size_a=$(stat -c %s "$out/blobs/sha256/${a#sha256:}")
    size_b=$(stat -c %s "$out/blobs/sha256/${b#sha256:}")
    f=$out/index.tmp
    jq -cn --arg a "$a" --argjson sa "$size_a" --arg b "$b" --argjson sb "$size_b" '{
        schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json",
        manifests: [
          { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $a, size: $sa,
            platform: { os: "linux", architecture: "amd64" } },
          { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $b, size: $sb,
            platform: { os: "linux", architecture: "arm64", variant: "v8" } } ] }' | tr -d '\n' >"$f"
    hex=$(sha256sum "$f") && hex=${hex%% *}
    mv "$f" "$out/blobs/sha256/$hex"
    jq -c --arg d "sha256:$hex" --argjson s "$(stat -c %s "$out/blobs/sha256/$hex")" --arg t "$tag" '
        .manifests += [ { mediaType: "application/vnd.oci.image.index.v1+json", digest: $d, size: $s,
                          annotations: { "org.opencontainers.image.ref.name": $t } } ]' \
        "$out/index.json" >"$out/index.json.tmp" && mv "$out/index.json.tmp" "$out/index.json"
}

# push_all OCI_DIR TAG HOSTPORT REPO:TAG: an index with every child.
push_all() {
    timeout 120 skopeo copy -q --all --dest-tls-verify=false "oci:$1:$2" "docker://$3/$4" >&2
}

nbodies() { find "$RCV" -name '*.body' | wc -l; }

# ---- layers ----
rootfs "$W/b0" 0; rootfs "$W/b1" 1; rootfs "$W/b1x" 1; rootfs "$W/b1y" 1
rootfs "$W/a2" 2; rootfs "$W/o0" 0
rootfs "$W/m1" 1; rootfs "$W/m1x" 1; rootfs "$W/c0" 0; rootfs "$W/c1" 1; rootfs "$W/c1x" 1; rootfs "$W/a3" 2

# ---- registries ----
start_registry
A_URL=$REG_URL
REG_STORAGE=$T/regB start_registry
B_PORT=$REG_PORT B_PID=$REG_PID
B=127.0.0.1:$B_PORT

# ---- the bases on B, first versions ----
image "$W/base1" 12 amd64 "$W/b0" "$W/b1" >/dev/null || bail_out "base image not built"
skopeo_push "$W/base1" 12 "$B" base:12 || bail_out "push base:12 to B"
BASE1=$(reg_digest "$B_PORT" base 12)
like "$BASE1" '^sha256:[0-9a-f]{64}$' "base:12 is on registry B"
MA=$(image "$W/multi1" amd amd64 "$W/b0" "$W/m1") && MB=$(image "$W/multi1" arm arm64 "$W/c0" "$W/c1") &&
    index "$W/multi1" 1 "$MA" "$MB" || bail_out "multi-platform base not built"
push_all "$W/multi1" 1 "$B" multi:1 || bail_out "push multi:1 to B"
MULTI1=$(reg_digest "$B_PORT" multi 1)
ok '[ "$MULTI1" != "$MA" ] && [ -n "$MULTI1" ]' "multi:1 on registry B is an index"

# ---- customs in front of A, watching B ----
start_receiver "$RCV"
cat >"$T/customs.yaml" <<X
webhooks:
  - url: $RCV_URL/hook
    events: [base-image-updated]
    secret: $SECRET
X
CUS_UPSTREAM=$A_URL start_customs -c "$T/customs.yaml" --log-level info \
    --watch "http://$B/base:12" --watch "http://$B/multi:1" --watch-interval 1
DB=$(cus_db 1)
CUS=127.0.0.1:$CUS_PORT
CUS_PID_MAIN=$CUS_PID
watched() { db_sql "select coalesce(digest,'') || '|' || coalesce(error,'') from watched where repo='$B/$1' and tag='$2'" 2>/dev/null; }
wait_until 15 '[ "$(watched base 12)" = "$BASE1|" ] && [ "$(watched multi 1)" = "$MULTI1|" ]'
is "$(watched base 12)" "$BASE1|" "customs resolved the watched base:12 at start"
is "$(watched multi 1)" "$MULTI1|" "customs resolved the watched index multi:1 at start"
is "$(db_sql "select count(*) from chain_children where parent='$MULTI1'")" 2 "both platforms of multi:1 recorded"
is "$(db_sql "select platform from chain_children where parent='$MULTI1' order by platform" | paste -sd' ')" \
    "linux/amd64 linux/arm64/v8" "with their platforms"

# ---- local images pushed through customs to A ----
forget_blob_locations
APP=$(image "$W/app" 1 amd64 "$W/b0" "$W/b1" "$W/a2") || bail_out "app image not built"
skopeo_push "$W/app" 1 "$CUS" app:1 || bail_out "push app:1 through customs"
OTHER=$(image "$W/other" 1 amd64 "$W/o0") || bail_out "other image not built"
skopeo_push "$W/other" 1 "$CUS" other:1 || bail_out "push other:1 through customs"
APPM=$(image "$W/appm" 1 amd64 "$W/b0" "$W/m1" "$W/a3") || bail_out "app-multi image not built"
skopeo_push "$W/appm" 1 "$CUS" app-multi:1 || bail_out "push app-multi:1 through customs"
is "$(reg_digest "$CUS_PORT" app 1)" "$APP" "app:1 is served through customs"
local_chain() { db_sql "select origin || ':' || nlayers from chain_images where digest='$1'" 2>/dev/null; }
wait_until 20 '[ "$(local_chain "$APP")" = local:3 ] && [ "$(local_chain "$OTHER")" = local:1 ] && [ "$(local_chain "$APPM")" = local:3 ]'
is "$(local_chain "$APP")" local:3 "app:1's chain recorded by the push"
is "$(local_chain "$APPM")" local:3 "app-multi:1's chain recorded by the push"
is "$(local_chain "$BASE1")" watch:2 "base:12 is known only as a watched chain"
ok '[ "$(curl -s "http://127.0.0.1:$B_PORT/v2/_catalog" | jq -r ".repositories | index(\"app\")")" = null ]' \
    "the application never reached registry B"
sleep 2
is "$(nbodies)" 0 "no event before anything moves"

# ---- base:12 moves on B ----
image "$W/base2" 12 amd64 "$W/b0" "$W/b1x" >/dev/null || bail_out "new base not built"
skopeo_push "$W/base2" 12 "$B" base:12 || bail_out "push the new base:12 to B"
BASE2=$(reg_digest "$B_PORT" base 12)
isnt "$BASE2" "$BASE1" "base:12 moved on registry B"
t0=$SECONDS
wait_until 15 '[ -n "$(events_for "$B/base")" ]'
EV=$(events_for "$B/base" | head -1)
ok '[ -n "$EV" ]' "a base-image-updated webhook arrived ($((SECONDS - t0)) s after the push)"
[ -n "$EV" ] || { diag "customs log:" "$(tail -30 "$CUS_LOG")"; done_testing; }
H=${EV%.body}.headers
is "$(jq -r .type "$EV")" base-image-updated "event type"
is "$(jq -r .base.repository "$EV")" "$B/base" "names the watched repository"
is "$(jq -r .base.tag "$EV")" 12 "names the watched tag"
is "$(jq -r .base.old_digest "$EV")" "$BASE1" "old digest"
is "$(jq -r .base.new_digest "$EV")" "$BASE2" "new digest"
is "$(jq -c --arg d "$APP" '[.images[] | select(.repository == "app" and .tag == "1" and .digest == $d)] | length' "$EV")" 1 \
    "names the local application app:1 with its digest"
is "$(jq -c '[.images[] | select(.repository == "other" or .repository == "app-multi")] | length' "$EV")" 0 \
    "names no image that is not built on base:12"
# the old base's layers came through customs inside app:1; the new one's
# top layer is fetched from B and scanned (random files: nothing to fix)
is "$(jq -r '.fixes_known' "$EV")" true "fixes known: the new base's layer was scanned, the old one's came with app:1"
is "$(jq -r '.fixes_total' "$EV")" 0 "random files fix nothing"
like "$(jq -r .id "$EV")" '^.{8,}$' "the event has an id"
SIG=$(header_value "$H" X-Customs-Signature)
WANT="sha256=$(openssl dgst -sha256 -hmac "$SECRET" -r <"$EV" | cut -d' ' -f1)"
is "$SIG" "$WANT" "X-Customs-Signature is the HMAC-SHA256 of the body"
is "$(header_value "$H" X-Customs-Event)" base-image-updated "X-Customs-Event header"
like "$(cat "$CUS_LOG")" "watch: $B/base:12 moved $BASE1 -> $BASE2: 1 image" "the move is logged"
is "$(db_sql "select count(*) from tag_history where origin='watch' and repo='$B/base' and tag='12'")" 2 \
    "tag history: first sighting and the move"

# ---- multi:1 moves on B ----
MA2=$(image "$W/multi2" amd amd64 "$W/b0" "$W/m1x") && MB2=$(image "$W/multi2" arm arm64 "$W/c0" "$W/c1x") &&
    index "$W/multi2" 1 "$MA2" "$MB2" || bail_out "new multi-platform base not built"
push_all "$W/multi2" 1 "$B" multi:1 || bail_out "push the new multi:1 to B"
MULTI2=$(reg_digest "$B_PORT" multi 1)
isnt "$MULTI2" "$MULTI1" "multi:1 moved on registry B"
wait_until 15 '[ -n "$(events_for "$B/multi")" ]'
EVM=$(events_for "$B/multi" | head -1)
ok '[ -n "$EVM" ]' "a webhook arrived for the index base"
if [ -n "$EVM" ]; then
    is "$(jq -r '.base.old_digest + " " + .base.new_digest' "$EVM")" "$MULTI1 $MULTI2" "index digests, old and new"
    is "$(jq -c '[.images[] | .repository + ":" + .tag + "@" + .digest]' "$EVM")" "[\"app-multi:1@$APPM\"]" \
        "names only app-multi:1, built on the amd64 child"
    is "$(jq -r .fixes_known "$EVM")" true "fixes known: the new amd64 child was scanned"
    like "$(cat "$CUS_LOG")" "watch $B/multi:1: new base $MULTI2: 1 image\(s\), 1 layer\(s\) known, 1 scanned" \
        "only the platform app-multi:1 is built on was fetched (its shared layer known by diff_id)"
    HM=${EVM%.body}.headers
    is "$(header_value "$HM" X-Customs-Signature)" "sha256=$(openssl dgst -sha256 -hmac "$SECRET" -r <"$EVM" | cut -d' ' -f1)" \
        "signed too"
fi

# ---- nothing moves: no event for several intervals ----
N=$(nbodies)
sleep 5
is "$(nbodies)" "$N" "no event while nothing moves (5 intervals)"
is "$(db_sql "select count(*) from tag_history where origin='watch'")" 4 "no history row while nothing moves"
ok '[ "$(db_sql "select max(checked_at) from watched")" -ge $(($(date +%s) - 3)) ]' "checks keep running"

# ---- registry B down, then back ----
stop_pid "$B_PID"
wait_until 10 '[ -n "$(watched base 12 | cut -d"|" -f2)" ]'
ERR=$(watched base 12)
like "$ERR" "^$BASE2\|.+" "with B down: the error is recorded and the last digest kept ($ERR)"
ok 'kill -0 "$CUS_PID"' "customs is still running"
is "$(http_code "$CUS_URL/v2/app/manifests/1" -H 'Accept: application/vnd.oci.image.manifest.v1+json')" 200 \
    "customs still serves pulls"
sleep 3
is "$(grep -c "watch $B/base:12: check failed" "$CUS_LOG")" 1 "the failure is logged once, not every interval"
is "$(nbodies)" "$N" "no event from a failing check"
REG_STORAGE=$T/regB start_registry "$B_PORT"
wait_until 10 '[ "$(watched base 12)" = "$BASE2|" ]'
is "$(watched base 12)" "$BASE2|" "B back: the error is cleared, the digest unchanged"
ok 'grep -q "watch $B/base:12: checks work again" "$CUS_LOG"' "recovery is logged"
image "$W/base3" 12 amd64 "$W/b0" "$W/b1y" >/dev/null || bail_out "third base not built"
skopeo_push "$W/base3" 12 "$B" base:12 || bail_out "push the third base:12 to B"
BASE3=$(reg_digest "$B_PORT" base 12)
wait_until 10 '[ "$(watched base 12)" = "$BASE3|" ]'
is "$(watched base 12)" "$BASE3|" "a move after the recovery is recorded"
sleep 2
is "$(nbodies)" "$N" "no event for it: nothing local is built on the base it left"
is "$(db_sql "select count(*) from tag_history where origin='watch' and repo='$B/base'")" 3 "history has the third digest"

# ---- shutdown is prompt, also with a check hanging on a registry that never answers ----
HANG_PORT=$(free_port)
python3 -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64); open(sys.argv[2], "w").close(); time.sleep(600)' \
    "$HANG_PORT" "$T/hang.ready" &
_LIB_PIDS+=("$!")
wait_until 10 '[ -e "$T/hang.ready" ]'
cat >"$T/hang.yaml" <<X
lineage:
  watch:
    - http://127.0.0.1:$HANG_PORT/x:1
  watch_interval: 1s
X
CUS_UPSTREAM=$A_URL start_customs -c "$T/hang.yaml" --log-level info
HUNG_PID=$CUS_PID HUNG_LOG=$CUS_LOG
sleep 2 # the first check is now waiting for an answer (idle timeout 30 s)
ok 'grep -q "watch 127.0.0.1:$HANG_PORT/x:1 via http://127.0.0.1:$HANG_PORT, every 1 s" "$HUNG_LOG"' \
    "lineage.watch and lineage.watch_interval from customs.yaml"
ok '[ -z "$(db_sql 2 "select checked_at from watched")" ]' "the check on the silent registry is in flight"
t0=$(date +%s%N)
stop_pid "$HUNG_PID"
ms=$((($(date +%s%N) - t0) / 1000000))
ok '[ $ms -lt 3000 ]' "SIGTERM stops customs in $ms ms with a watch request in flight"
ok 'grep -q "customs stopped" "$HUNG_LOG"' "it stopped cleanly"
t0=$(date +%s%N)
stop_pid "$CUS_PID_MAIN"
ms=$((($(date +%s%N) - t0) / 1000000))
ok '[ $ms -lt 3000 ] && grep -q "customs stopped" "$T/customs.log"' "the first customs stops cleanly too ($ms ms)"

# ---- a malformed entry stops customs at start ----
"$CUSTOMS_BIN" serve --listen "127.0.0.1:$(free_port)" --upstream "$A_URL" --db "$T/bad.db" \
    --watch "http://$B/Bad_Repo:1" >"$T/bad.log" 2>&1 </dev/null &
BAD=$!
_LIB_PIDS+=("$BAD")
wait_until 10 '! kill -0 $BAD 2>/dev/null'
ok '! kill -0 $BAD 2>/dev/null' "customs refuses to start with a malformed --watch entry"
like "$(cat "$T/bad.log")" "lineage.watch: 'http://$B/Bad_Repo:1': bad repository" "and says which entry and why"
timeout 10 "$CUSTOMS_BIN" serve --watch-interval 10x >"$T/bad2.log" 2>&1 </dev/null
RC=$?
ok '[ $RC != 0 ] && [ $RC != 124 ] && grep -q "watch-interval" "$T/bad2.log"' "a bad --watch-interval is refused"
done_testing
