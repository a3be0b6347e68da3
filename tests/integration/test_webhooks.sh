#!/bin/bash
# tests/integration/test_webhooks.sh - webhooks through a real registry,
# customs and local receivers (webhook_receiver.py): a push gives a signed
# scan-completed carrying its findings; a denied pull gives one pull-denied
# with its reasons (a burst gives one); a receiver that refuses, then
# recovers, gets the delivery once with the same event id; a delivery
# pending across a restart is delivered once after it; the github and
# azure-pipelines bodies have their documented shapes and credentials; and
# a receiver that never answers does not slow pulls or pushes.  TAP.

. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/mkimage.sh"
. "$LIB_DIR/fixtures.sh"

for c in jq skopeo openssl sqlite3 python3; do command -v $c >/dev/null || bail_out "$c is required"; done
direct_mode && bail_out "webhooks need customs (CUSTOMS_TEST_DIRECT=1 has none)"

SECRET='s3cr3t-webhook-key'
GHTOKEN='ghp_test_token_0123456789'
AZPAT='azure-pat-abcdef'
printf '%s\n' "$GHTOKEN" >"$T/ghtoken"
printf '%s\n' "$AZPAT" >"$T/azpat"
DB=$(cus_db 1)

POL=$T/policy.yaml
cat >"$POL" <<'X'
mode: enforce
unscanned: allow
on_error: deny
rules:
  - name: no-critical
    repositories: ["**"]
    deny:
      severity: critical
X

# bodies_of DIR TYPE: the numbers N of DIR/N.body whose X-Customs-Event is TYPE.
bodies_of() {
    local f
    for f in "$1"/*.headers; do
        [ -e "$f" ] || continue
        grep -qi "^X-Customs-Event: $2\$" "$f" && basename "$f" .headers
    done | sort -n
}
# wait_bodies DIR TYPE COUNT [SECS]: wait until COUNT such bodies arrived.
wait_bodies() {
    local deadline=$((SECONDS + ${4:-15}))
    while [ "$(bodies_of "$1" "$2" | wc -l)" -lt "$3" ]; do
        [ $SECONDS -lt $deadline ] || return 1
        sleep 0.1
    done
}
hdr() { header_value "$1" "$2"; } # FILE NAME
sig_of() { openssl dgst -sha256 -hmac "$1" <"$2" | awk '{print $NF}'; }
# ids_in DIR: event ids of every body received, one a line
ids_in() { cat "$1"/*.headers 2>/dev/null | sed -n 's/^X-Customs-Event-Id: //Ip' | tr -d '\r'; }
now_ms() { date +%s%3N; }

# ---- images and vulnerability data --------------------------------------------
R0=$T/rootfs0 R1=$T/unused
fixture_shop "$R0" "$R1"
IMG=$T/shop
oci_init "$IMG" && oci_add_layer "$IMG" "$R0" && DIGEST=$(oci_finish "$IMG" v1) || bail_out "image"
for i in 2 3 4; do # more images of the same base, one more small layer each
    mkdir -p "$T/extra$i/srv" && echo "build $i" >"$T/extra$i/srv/build"
    oci_init "$T/shop$i" && oci_add_layer "$T/shop$i" "$R0" && oci_add_layer "$T/shop$i" "$T/extra$i" &&
        oci_finish "$T/shop$i" v1 >"$T/shop$i.digest" || bail_out "image $i"
done
mkdir -p "$T/clean/srv" && echo hello >"$T/clean/srv/hello"
oci_init "$T/cleanimg" && oci_add_layer "$T/cleanimg" "$T/clean" && oci_finish "$T/cleanimg" v1 >/dev/null ||
    bail_out "clean image"
fixture_critical_osv "$T/osv.json"
"$CUSTOMS_BIN" db import --db "$DB" "$T/osv.json" >"$T/import.out" 2>&1 || bail_out "import: $(cat "$T/import.out")"

# ---- receivers and customs -----------------------------------------------------
start_registry
start_receiver "$T/ra"; RA_URL=$RCV_URL RA_PID=$RCV_PID RA_PORT=$RCV_PORT
RCV_PORT= start_receiver "$T/rb"; RB_URL=$RCV_URL
write_config() { # FILE [EXTRA_WEBHOOK_URL]
    {
        echo "webhooks:"
        echo "  - url: $RA_URL/hooks/customs?key=path-secret"
        echo "    secret: $SECRET"
        echo "  - url: $RB_URL/gh"
        echo "    format: github"
        echo "    events: [scan-completed]"
        echo "    token_file: $T/ghtoken"
        echo "  - url: $RB_URL/az"
        echo "    format: azure-pipelines"
        echo "    events: [scan-completed]"
        echo "    token_file: $T/azpat"
        echo "    ref: refs/heads/main"
        if [ -n "${2:-}" ]; then
            echo "  - url: $2"
            echo "    secret: other"
        fi
    } >"$1"
}
write_config "$T/customs.yaml"
CUSTOMS_POLICY=$POL start_customs -c "$T/customs.yaml" --db "$DB"
H=127.0.0.1:$CUS_PORT

# ---- (a) push -> a signed scan-completed with its findings ----------------------
t0=$(now_ms)
skopeo_push "$IMG" v1 "$H" shop/app:v1 2>"$T/push.out"
is "$?" 0 "push through customs"
wait_bodies "$T/ra" scan-completed 1 15
ok "$?" "scan-completed arrives at the generic receiver"
t_sc=$(($(now_ms) - t0))
N=$(bodies_of "$T/ra" scan-completed | head -1)
B=$T/ra/$N.body HD=$T/ra/$N.headers
diag "push to scan-completed received: ${t_sc} ms"
is "$(hdr "$HD" x-customs-signature)" "sha256=$(sig_of "$SECRET" "$B")" \
    "X-Customs-Signature is the HMAC-SHA256 of the body (openssl dgst -hmac)"
isnt "$(hdr "$HD" x-customs-signature)" "sha256=$(sig_of "wrong-secret" "$B")" "a wrong secret does not verify"
like "$(hdr "$HD" content-type)" "application/json" "Content-Type: application/json"
EID=$(hdr "$HD" x-customs-event-id)
like "$EID" '^[0-9a-f]{32}$' "X-Customs-Event-Id is 128 random bits in hex"
is "$(jq -r .id "$B")" "$EID" "the body's id is the header's"
is "$(jq -r .type "$B")" scan-completed "type"
like "$(jq -r .at "$B")" '^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$' "at is RFC 3339"
is "$(jq -r '.image.repository + ":" + .image.tag + "@" + .image.digest' "$B")" "shop/app:v1@$DIGEST" "names the image"
is "$(jq -r .verdict.decision "$B")" deny "verdict under the policy in force"
is "$(jq -r .verdict.rule "$B")" no-critical "with its rule"
F='.findings[] | select(.id == "CVE-2099-0001")'
is "$(jq -r "$F | .severity" "$B")" critical "the finding's id and severity"
is "$(jq -r "$F | .fixed" "$B")" "3.0.13-1~deb12u1" "its fixed version"
is "$(jq -r "$F | .version" "$B")" "3.0.11-1~deb12u2" "its installed version"
like "$(jq -r "$F | .package" "$B")" "libssl3|openssl" "its package"
[ "$(jq -r .counts.critical "$B")" -ge 1 ] && [ "$(jq -r .counts.total "$B")" -ge 1 ]; ok $? "counts"
is "$(jq -r '.path // empty' "$B")" "" "no stray keys"
like "$(hdr "$HD" path)" "^/hooks/customs\?key=path-secret$" "posted to the configured URL"

# ---- (e) github and azure-pipelines shapes, and their credentials ---------------
wait_bodies "$T/rb" scan-completed 2 15
ok "$?" "the github and azure-pipelines receivers got it too"
for n in $(bodies_of "$T/rb" scan-completed); do
    case $(hdr "$T/rb/$n.headers" path) in
    /gh) GH=$n ;;
    /az) AZ=$n ;;
    esac
done
GB=$T/rb/${GH:-x}.body AB=$T/rb/${AZ:-x}.body
is "$(jq -r .event_type "$GB")" customs-scan-completed "github: event_type customs-<type>"
is "$(jq -r '.client_payload.id' "$GB")" "$EID" "github: client_payload carries the event (same id)"
[ "$(jq '.client_payload | length' "$GB")" -le 10 ] && [ "$(jq 'keys | length' "$GB")" = 2 ]; ok $? "github: two top-level keys, client_payload within 10"
is "$(jq -r '.client_payload.findings[0].id' "$GB")" CVE-2099-0001 "github: with the findings"
is "$(hdr "$T/rb/$GH.headers" authorization)" "Bearer $GHTOKEN" "github: Authorization Bearer from token_file"
is "$(hdr "$T/rb/$GH.headers" accept)" "application/vnd.github+json" "github: Accept"
is "$(hdr "$T/rb/$GH.headers" x-customs-signature)" "" "no signature without a secret"
is "$(jq -r .resources.repositories.self.refName "$AB")" refs/heads/main "azure: resources.repositories.self.refName"
is "$(jq -r '[.templateParameters[] | type] | unique | join(",")' "$AB")" string "azure: every template parameter is a string"
is "$(jq -r .templateParameters.customsEventId "$AB")" "$EID" "azure: customsEventId"
is "$(jq -r '.templateParameters.customsEvent | fromjson | .image.digest' "$AB")" "$DIGEST" "azure: customsEvent is the event"
is "$(hdr "$T/rb/$AZ.headers" authorization)" "Basic $(printf ':%s' "$AZPAT" | base64 -w0)" "azure: Basic base64(:PAT)"

# ---- (b) denied pulls -> one pull-denied with its reasons -----------------------
t0=$(now_ms)
skopeo_pull "$H" shop/app:v1 "$T/pulled" 2>"$T/pull.out"
isnt "$?" 0 "the pull is denied"
wait_bodies "$T/ra" pull-denied 1 10
ok "$?" "pull-denied arrives"
diag "denied pull to pull-denied received: $(($(now_ms) - t0)) ms"
N=$(bodies_of "$T/ra" pull-denied | head -1)
B=$T/ra/$N.body
is "$(hdr "$T/ra/$N.headers" x-customs-signature)" "sha256=$(sig_of "$SECRET" "$B")" "signed"
is "$(jq -r .pull.repository "$B")" shop/app "names the repository"
is "$(jq -r .pull.digest "$B")" "$DIGEST" "and the digest"
is "$(jq -r .pull.client "$B")" 127.0.0.1 "and the client"
is "$(jq -r .verdict.rule "$B")" no-critical "the rule"
is "$(jq -r '[.reasons[] | select(.finding == "CVE-2099-0001")] | length > 0' "$B")" true "reasons name the finding"
is "$(jq -r '.findings[0].id + " " + .findings[0].severity + " " + .findings[0].fixed' "$B")" \
    "CVE-2099-0001 critical 3.0.13-1~deb12u1" "findings: id, severity, fixed version"
for i in 1 2 3 4 5; do skopeo_pull "$H" shop/app:v1 "$T/pulled" 2>/dev/null; done
sleep 2
is "$(bodies_of "$T/ra" pull-denied | wc -l)" 1 "a burst of denied pulls of the same image by the same client: one event"
denials=$(db_sql "SELECT count(*) FROM decisions WHERE verdict='deny'")
[ "$denials" -ge 6 ]; ok $? "while every denial is in the decisions log ($denials)"

# ---- (c) receiver refuses, then recovers: delivered once, same id ---------------
echo 503 >"$T/ra/status"
skopeo_push "$T/shop2" v1 "$H" shop/two:v1 2>/dev/null
is "$?" 0 "push while the receiver answers 503"
deadline=$((SECONDS + 15))
while [ "$(wc -l <"$T/ra/refused" 2>/dev/null || echo 0)" -lt 3 ] && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
[ "$(wc -l <"$T/ra/refused")" -ge 3 ]; ok $? "retried with backoff ($(wc -l <"$T/ra/refused") refused attempts)"
RID=$(tail -1 "$T/ra/refused")
is "$(sort -u "$T/ra/refused" | wc -l)" 1 "every retry carries the same event id"
echo 200 >"$T/ra/status"
deadline=$((SECONDS + 15))
until ids_in "$T/ra" | grep -qx "$RID" || [ $SECONDS -ge $deadline ]; do sleep 0.2; done
sleep 3 # a duplicate would come now
is "$(ids_in "$T/ra" | grep -cx "$RID")" 1 "after the recovery it arrives exactly once"
row=$(db_sql "SELECT d.status || ' ' || d.attempts || ' ' || d.last_status FROM deliveries d
    WHERE d.event='$RID' AND d.hook LIKE 'generic %'")
like "$row" "^delivered [3-9] 20[0-9]$" "recorded: delivered after several attempts ($row)"

# ---- (d) restart while a delivery is pending: delivered once after it ----------
echo 503 >"$T/ra/status"
: >"$T/ra/refused"
skopeo_push "$T/shop3" v1 "$H" shop/three:v1 2>/dev/null
deadline=$((SECONDS + 15))
until [ -s "$T/ra/refused" ] || [ $SECONDS -ge $deadline ]; do sleep 0.2; done
PID_=$(head -1 "$T/ra/refused")
[ -n "$PID_" ]; ok $? "a delivery is pending (refused once)"
stop_pid "$CUS_PID"
is "$(db_sql "SELECT status FROM deliveries WHERE event='$PID_' AND hook LIKE 'generic %'")" pending \
    "customs stopped with it pending"
echo 200 >"$T/ra/status"
CUSTOMS_POLICY=$POL start_customs -c "$T/customs.yaml" --db "$DB"
H=127.0.0.1:$CUS_PORT
deadline=$((SECONDS + 15))
until ids_in "$T/ra" | grep -qx "$PID_" || [ $SECONDS -ge $deadline ]; do sleep 0.2; done
sleep 2
is "$(ids_in "$T/ra" | grep -cx "$PID_")" 1 "delivered after the restart, exactly once"
is "$(ids_in "$T/ra" | sort | uniq -d | wc -l)" 0 "no event was delivered twice to the generic receiver"

# ---- (f) a receiver that accepts and never answers does not slow the proxy ------
skopeo_push "$T/cleanimg" v1 "$H" clean/app:v1 2>/dev/null || bail_out "clean push"
time_pull() { local a; a=$(now_ms); skopeo_pull "$H" clean/app:v1 "$T/cpull" 2>/dev/null || echo FAIL >&2; echo $(($(now_ms) - a)); }
time_pull >/dev/null # warm
base_ms=$(time_pull)
STALL_PORT=$(free_port)
python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64)
open(sys.argv[2], "w").close()
held = []
while True:
    c, _ = s.accept(); held.append(c)   # accept, read nothing, answer nothing
' "$STALL_PORT" "$T/stall.ready" &
STALL_PID=$!
_LIB_PIDS+=("$STALL_PID")
until [ -e "$T/stall.ready" ]; do sleep 0.05; done
stop_pid "$CUS_PID"
write_config "$T/customs-stall.yaml" "http://127.0.0.1:$STALL_PORT/never"
CUSTOMS_POLICY=$POL start_customs -c "$T/customs-stall.yaml" --db "$DB"
H=127.0.0.1:$CUS_PORT
time_pull >/dev/null # warm the new process
a=$(now_ms)
skopeo_push "$T/shop4" v1 "$H" shop/four:v1 2>/dev/null
push_ms=$(($(now_ms) - a))
# denied pulls from the same client are rate limited: vary nothing, the
# events pile up on the staller anyway (scan-completed of shop/four, pull-denied)
skopeo_pull "$H" shop/four:v1 "$T/p4" 2>/dev/null
worst=0
for i in 1 2 3; do
    ms=$(time_pull)
    [ "$ms" -gt "$worst" ] && worst=$ms
done
diag "pull of clean/app:v1: ${base_ms} ms without the stalled receiver, worst of 3 with it: ${worst} ms; push with it: ${push_ms} ms"
[ "$worst" -lt 2000 ]; ok $? "a pull with a receiver that never answers stays under 2 s (${worst} ms)"
[ "$push_ms" -lt 5000 ]; ok $? "a push too (${push_ms} ms)"
deadline=$((SECONDS + 25))
until grep -q "hook=\"generic http://127.0.0.1:$STALL_PORT\" attempt 1 failed" "$CUS_LOG" || [ $SECONDS -ge $deadline ]; do
    sleep 0.2
done
like "$(grep "127.0.0.1:$STALL_PORT\" attempt" "$CUS_LOG" | head -1)" "attempt 1 failed: .*(imeout|timed out)" \
    "the stalled attempt ends at its deadline, logged by origin"
is "$(grep -c '/never' "$CUS_LOG")" 0 "the log names the origin, not the URL's path"
stalled=$(db_sql "SELECT count(*) FROM deliveries WHERE url LIKE '%:$STALL_PORT/%' AND status='pending'")
[ "$stalled" -ge 1 ]; ok $? "its deliveries stay pending ($stalled) for a later retry"

# ---- secrets never reach the logs -------------------------------------------------
for s in "$SECRET" "$GHTOKEN" "$AZPAT" "path-secret"; do
    is "$(cat "$T"/customs*.log | grep -c -- "$s")" 0 "the log never shows '${s:0:6}...'"
done
a=$(now_ms)
stop_pid "$CUS_PID"
stop_ms=$(($(now_ms) - a))
like "$(tail -3 "$CUS_LOG")" "customs stopped" "customs stops with deliveries to a stalled receiver pending"
[ "$stop_ms" -lt 5000 ]; ok $? "and promptly (${stop_ms} ms)"

done_testing
