#!/bin/bash
# test_lineage.sh - a base image is updated, and the build system is told
# (issue test 1): push base:12, an application built on it and a new
# base:12 through customs with skopeo; a local webhook receiver gets,
# within seconds, a correctly signed base-image-updated event that names the
# application (repository, tag, digest) and what the new base fixes (the
# old base's critical openssl finding, with its fixed version).  Also: no
# event when the pushed tag does not move, or when nothing is built on the
# digest it left; an event names only images still on the old base.
. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/mkimage.sh"
. "$LIB_DIR/fixtures.sh"

command -v jq >/dev/null || bail_out "jq is required"
command -v skopeo >/dev/null || bail_out "skopeo is required"
command -v openssl >/dev/null || bail_out "openssl is required"

SECRET='base-hook-s3cret'
RCV=$T/rcv
start_receiver "$RCV"
cat >"$T/customs.yaml" <<X
webhooks:
  - url: $RCV_URL/hooks/customs
    events: [base-image-updated]
    secret: $SECRET
X
start_registry
DB=$(cus_db 1)
fixture_critical_osv "$T/osv.json"
start_customs -c "$T/customs.yaml"
"$CUSTOMS_BIN" db import --db "$DB" "$T/osv.json" >"$T/import.out" 2>&1
is "$?" 0 "vulnerability data imported"
H=127.0.0.1:$CUS_PORT

fixture_debian_base "$T/base1" 3.0.11-1~deb12u2
fixture_debian_base "$T/base2" 3.0.13-1~deb12u1
mkdir -p "$T/applayer/srv" "$T/otherlayer/srv"
echo "the application" >"$T/applayer/srv/app.txt"
echo "something else" >"$T/otherlayer/srv/other.txt"

oci_init "$T/b1" && oci_add_layer "$T/b1" "$T/base1" && B1=$(oci_finish "$T/b1" v) || bail_out "base 1"
oci_init "$T/b2" && oci_add_layer "$T/b2" "$T/base2" && B2=$(oci_finish "$T/b2" v) || bail_out "base 2"
# the application: the same base layer (byte-identical), plus its own
oci_init "$T/app" && oci_add_layer "$T/app" "$T/base1" && oci_add_layer "$T/app" "$T/applayer" &&
    APP=$(oci_finish "$T/app" v) || bail_out "app"
# an image on nothing customs knows
oci_init "$T/oth" && oci_add_layer "$T/oth" "$T/otherlayer" && OTH=$(oci_finish "$T/oth" v) || bail_out "other"

nbodies() { ls "$RCV"/*.body 2>/dev/null | wc -l; }

skopeo_push "$T/b1" v "$H" base:12
is "$?" 0 "push base:12 (first)"
skopeo_push "$T/app" v "$H" app:1
is "$?" 0 "push app:1, built on base:12"
skopeo_push "$T/b1" v "$H" base:12
is "$?" 0 "push the same base:12 again"
skopeo_push "$T/oth" v "$H" other:1
is "$?" 0 "push other:1"
skopeo_push "$T/b2" v "$H" other:1
is "$?" 0 "move other:1 (nothing is built on it)"
sleep 2
is "$(nbodies)" 0 "no event: base:12 did not move, and nothing is built on other:1"

START=$(date +%s.%N)
skopeo_push "$T/b2" v "$H" base:12
is "$?" 0 "push the new base:12"
deadline=$((SECONDS + 15))
while [ "$(nbodies)" -lt 1 ] && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
END=$(date +%s.%N)
is "$(nbodies)" 1 "one webhook delivery arrived"
ELAPSED=$(echo "$END - $START" | bc)
diag "event received $ELAPSED s after the push of the new base began"
ok '[ "$(echo "$ELAPSED < 10" | bc)" = 1 ]' "it arrived within seconds of the push (${ELAPSED}s)"
BODY=$RCV/1.body HDRS=$RCV/1.headers
hdr() { sed -n "s/^$1: //Ip" "$HDRS" | tr -d '\r' | head -1; }

is "$(hdr Path)" "/hooks/customs" "posted to the configured URL"
like "$(hdr Content-Type)" "application/json" "JSON body"
is "$(hdr X-Customs-Event)" "base-image-updated" "event type header"
SIG=$(hdr X-Customs-Signature)
WANT="sha256=$(openssl dgst -sha256 -hmac "$SECRET" -r <"$BODY" | cut -d' ' -f1)"
is "$SIG" "$WANT" "X-Customs-Signature is the HMAC-SHA256 of the body with the secret"
BAD="sha256=$(openssl dgst -sha256 -hmac "not-the-secret" -r <"$BODY" | cut -d' ' -f1)"
isnt "$SIG" "$BAD" "and does not verify with another secret"
EID=$(hdr X-Customs-Event-Id)
ok '[ -n "$EID" ]' "event id header present"
is "$(jq -r .id "$BODY")" "$EID" "the body carries the same event id"
is "$(jq -r .type "$BODY")" "base-image-updated" "type in the body"
is "$(jq -r .base.repository "$BODY"):$(jq -r .base.tag "$BODY")" "base:12" "names the base"
is "$(jq -r .base.old_digest "$BODY")" "$B1" "old digest"
is "$(jq -r .base.new_digest "$BODY")" "$B2" "new digest"
is "$(jq -r '.images | length' "$BODY")" 1 "one image to rebuild"
is "$(jq -r '.images[0].repository + ":" + .images[0].tag' "$BODY")" "app:1" "names app:1"
is "$(jq -r '.images[0].digest' "$BODY")" "$APP" "with app:1's digest"
is "$(jq -r '.fixes_known' "$BODY")" "true" "what the new base fixes is known (both were scanned)"
is "$(jq -r '.fixes_total' "$BODY")" 1 "it fixes one finding"
is "$(jq -r '.fixes[0].id' "$BODY")" "CVE-2099-0001" "the critical openssl CVE"
is "$(jq -r '.fixes[0].severity' "$BODY")" "critical" "with its severity"
is "$(jq -r '.fixes[0].package' "$BODY")" "libssl3" "package (the binary package of source openssl)"
is "$(jq -r '.fixes[0].fixed' "$BODY")" "3.0.13-1~deb12u1" "and the version that fixes it"

# the application rebuilt on the new base: a later move of base:12 names
# only what is still on the base it leaves
oci_init "$T/app2" && oci_add_layer "$T/app2" "$T/base2" && oci_add_layer "$T/app2" "$T/applayer" &&
    APP2=$(oci_finish "$T/app2" v) || bail_out "app 2"
skopeo_push "$T/app2" v "$H" app:1
is "$?" 0 "app:1 rebuilt on the new base"
skopeo_push "$T/app" v "$H" app:0
is "$?" 0 "the old app kept as app:0"
skopeo_push "$T/b1" v "$H" base:12
is "$?" 0 "base:12 moved back to the first base"
deadline=$((SECONDS + 15))
while [ "$(nbodies)" -lt 2 ] && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
is "$(nbodies)" 2 "a second event"
is "$(jq -r '[.images[] | .repository + ":" + .tag] | join(",")' "$RCV/2.body")" "app:1" \
    "it names app:1 (now on the base that was left), not app:0"
is "$(jq -r '.images[0].digest' "$RCV/2.body")" "$APP2" "with the rebuilt digest"
is "$(jq -r '.fixes_total' "$RCV/2.body")" 0 "going back fixes nothing"
sleep 1
is "$(nbodies)" 2 "each move is delivered once"
ok '[ "$(grep -c "lineage: base:12 moved" "$CUS_LOG")" -ge 2 ]' "moves are logged"

# the tag's history, and what a rebuild has not reached yet
"$CUSTOMS_BIN" lineage --db "$DB" --format json base:12 >"$T/hist.json"
is "$?" 0 "customs lineage base:12"
is "$(jq -r '[.history[].digest] | join(",")' "$T/hist.json")" "$B1,$B2,$B1" \
    "history, newest first: back on the first base, the second, the first"
is "$(jq -r '.history[0].until' "$T/hist.json")" null "the newest stay is current"
is "$(jq -r '[.history[1].images_on_it[] | .repository + ":" + .tag] | join(",")' "$T/hist.json")" "app:1" \
    "app:1 is still on the base the tag left"
is "$(jq -r '.history[2].images_on_it | length' "$T/hist.json")" 0 \
    "nothing is listed on the first stay: the tag points at that digest again"
like "$("$CUSTOMS_BIN" lineage --db "$DB" base:12)" "still built on it: app:1" "the table says so too"

# what was delivered, as operators see it
"$CUSTOMS_BIN" events --db "$DB" >"$T/events.txt" 2>&1
is "$?" 0 "customs events"
is "$(grep -c 'base-image-updated' "$T/events.txt")" 2 "lists the two deliveries"
is "$(grep -c ' delivered ' "$T/events.txt")" 2 "both delivered"
ok '! grep -q "/hooks/customs" "$T/events.txt"' "the webhook is shown by origin, never its path"
"$CUSTOMS_BIN" events --db "$DB" --format json >"$T/events.json"
is "$(jq -r '[.deliveries[] | .status + "/" + (.last_status|tostring)] | join(",")' "$T/events.json")" \
    "delivered/200,delivered/200" "JSON: both delivered with HTTP 200"
"$CUSTOMS_BIN" events --db "$DB" --event "$EID" --format json >"$T/event1.json"
is "$(jq -r '.event.id + " " + .event.base.old_digest' "$T/event1.json")" "$EID $B1" "--event shows the event itself"
"$CUSTOMS_BIN" events --db "$DB" --event nope >/dev/null 2>&1
is "$?" 1 "an unknown event id is an error"
like "$("$CUSTOMS_BIN" db status --db "$DB")" "webhook deliveries: 0 pending, 2 delivered, 0 failed" \
    "db status counts the deliveries"

kill -0 "$CUS_PID" 2>/dev/null
is "$?" 0 "customs is still running"
done_testing
