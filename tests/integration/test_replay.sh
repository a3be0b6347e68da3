#!/bin/bash
# tests/integration/test_replay.sh - `customs policy replay`: pulls recorded
# by a real customs under a lenient policy, re-judged with a strict
# candidate: the flips and their reason (table and JSON), --since, an image
# gone from the store reported as not judgeable, a broken candidate, and
# the exit codes (0 no flip, 3 flips, 1 error).  TAP.

. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/mkimage.sh"
. "$LIB_DIR/fixtures.sh"

command -v jq >/dev/null || bail_out "jq is required"
command -v skopeo >/dev/null || bail_out "skopeo is required"
command -v sqlite3 >/dev/null || bail_out "sqlite3 is required"

LENIENT=$T/lenient.yaml STRICT=$T/strict.yaml POL=$T/policy.yaml
# lenient: the only rule applies to a repository nobody pulls
cat >"$LENIENT" <<'X'
mode: enforce
unscanned: scan
on_error: deny
rules:
  - name: elsewhere
    repositories: ["elsewhere/**"]
    deny:
      severity: critical
X
fixture_policy_no_critical "$STRICT"
cp "$LENIENT" "$POL"

start_registry
CUSTOMS_POLICY=$POL start_customs
DB=$(cus_db 1)
H=127.0.0.1:$CUS_PORT
replay() { "$CUSTOMS_BIN" policy replay --db "$DB" "$@"; }

# A: the shop image (openssl with CVE-2099-0001); B: a base with the fixed
# openssl; C: a vulnerable base that will be removed from the store.
A=$T/imgA B=$T/imgB C=$T/imgC
DA=$(fixture_shop_image "$A") || bail_out "image A"
fixture_debian_base "$T/rootB" 3.0.13-1~deb12u1 b
oci_init "$B" && oci_add_layer "$B" "$T/rootB" && DBB=$(oci_finish "$B" v1) || bail_out "image B"
fixture_debian_base "$T/rootC" 3.0.11-1~deb12u2 c
oci_init "$C" && oci_add_layer "$C" "$T/rootC" && DC=$(oci_finish "$C" v1) || bail_out "image C"
fixture_critical_osv "$T/osv.json"
"$CUSTOMS_BIN" db import --db "$DB" "$T/osv.json" >"$T/import.out" 2>&1 || bail_out "import"

ok 'skopeo_push "$A" v1 "$H" shop/app:v1 2>"$T/push.err" && skopeo_push "$B" v1 "$H" shop/base:v1 2>>"$T/push.err" &&
    skopeo_push "$C" v1 "$H" gone/app:v1 2>>"$T/push.err" && skopeo_push "$A" v1 "$H" old/app:v1 2>>"$T/push.err"' \
    "four pushes through customs (A twice, B, C)"
ok 'skopeo_pull "$H" shop/app:v1 "$T/p1" 2>"$T/pull.err" && skopeo_pull "$H" shop/app:v1 "$T/p2" 2>>"$T/pull.err" &&
    skopeo_pull "$H" shop/base:v1 "$T/p3" 2>>"$T/pull.err" && skopeo_pull "$H" gone/app:v1 "$T/p4" 2>>"$T/pull.err" &&
    skopeo_pull "$H" old/app:v1 "$T/p5" 2>>"$T/pull.err"' "pulls under the lenient policy pass (A vulnerable or not)"
ndec() { db_sql "select count(*) from decisions where repository = '$1' ${2:-}"; }
wait_until 10 '[ "$(ndec old/app)" -ge 1 ] && [ "$(ndec gone/app)" -ge 1 ]' || diag "decisions not recorded in time"
is "$(ndec shop/app "and verdict != 'allow'")" 0 "shop/app pulls were recorded as allow"
NA=$(ndec shop/app "and digest = '$DA'")
ok '[ "$NA" -ge 2 ]' "two pulls of shop/app recorded ($NA decisions)"

# old/app's decisions 30 days back; C removed from the store (as a gc would)
db_sql "update decisions set at = at - 30*86400 where repository = 'old/app'"
# SQLite enforces the cascades only when asked; PostgreSQL always does
fk=""; [ "$CUSTOMS_TEST_DB" = sqlite ] && fk="PRAGMA foreign_keys=ON; "
db_sql "${fk}delete from images where digest = '$DC'"
is "$(db_sql "select count(*) from images where digest = '$DC'")" 0 "image C is gone from the store"

# ---- the same policy: nothing flips ----------------------------------------------
replay --policy "$LENIENT" >"$T/same.out" 2>"$T/same.err"
is "$?" 0 "replaying the policy in force: exit 0"
like "$(cat "$T/same.out")" "no pull would flip" "and says so"

# ---- strict candidate, table ------------------------------------------------------
replay --policy "$STRICT" --since 7d >"$T/strict.out" 2>"$T/strict.err"
is "$?" 3 "a candidate that would deny pulls: exit 3"
out=$(cat "$T/strict.out")
like "$out" "shop/app" "the repository is named"
like "$out" "$DA  $NA pull\\(s\\), last [0-9T:-]+Z: allow -> deny" "A's pulls would flip allow -> deny, counted"
like "$out" "rule no-critical: CVE-2099-0001 \\(libssl3\\)" "with the candidate's rule and the finding"
like "$out" "gone/app" "the image gone from the store is listed"
like "$out" "$DC .*no longer in the store" "as not judgeable"
ok '! grep -q "$DBB" "$T/strict.out"' "an image that does not flip is not listed"
ok '! grep -q "old/app" "$T/strict.out"' "--since 7d leaves out the 30-day-old decisions"
WEEK_AGO=$(($(date +%s) - 7 * 86400))
DIST=$(db_sql "select count(distinct repository || digest) from decisions where at >= $WEEK_AGO")
NDEC=$(db_sql "select count(*) from decisions where at >= $WEEK_AGO")
like "$out" "summary: $NDEC decision\\(s\\), $DIST image\\(s\\), 2 judged, 1 not judgeable" \
    "summary: $NDEC decisions, $DIST distinct images, 1 not judgeable"
like "$out" "flips allow -> deny: 1 image\\(s\\), $NA pull\\(s\\)" "flips per direction"

# ---- strict candidate, JSON ---------------------------------------------------------
replay --policy "$STRICT" --format json >"$T/strict.json" 2>"$T/strictj.err"
is "$?" 3 "JSON: exit 3 as well"
ok 'jq -e . "$T/strict.json" >/dev/null' "valid JSON"
is "$(jq -r '[.decisions, .images, .judged, .not_judgeable] | @tsv' "$T/strict.json")" "$NDEC	$DIST	2	1" "counts"
is "$(jq -c '.flips' "$T/strict.json")" "{\"allow->deny\":{\"images\":1,\"pulls\":$NA}}" "flips per direction"
sel() { jq -r ".repositories[] | select(.repository == \"$1\") | .images[] | $2" "$T/strict.json"; }
is "$(sel shop/app '[.digest, .was, .now, .rule, .flip, .pulls] | @tsv')" "$DA	allow	deny	no-critical	true	$NA" \
    "shop/app: allow -> deny by no-critical"
like "$(sel shop/app '[.reasons[].finding] | join(",")')" "CVE-2099-0001" "the reason names the CVE"
is "$(sel shop/base '[.was, .now, .flip] | @tsv')" "allow	allow	false" "shop/base: unchanged"
is "$(sel gone/app '[.judgeable, (.now == null), .flip] | @tsv')" "false	true	false" "gone/app: not judged (now: null), not guessed"
like "$(sel gone/app '.why_not')" "no longer in the store" "with why"
is "$(jq -r '[.repositories[].repository] | join(",")' "$T/strict.json")" "gone/app,shop/app,shop/base" \
    "repositories sorted, old/app left out by the default --since 7d"

replay --policy "$STRICT" --since 60d --format json >"$T/since60.json"
is "$?" 3 "--since 60d: exit 3"
is "$(jq -r '.flips["allow->deny"].images' "$T/since60.json")" 2 "--since 60d takes in old/app: 2 images flip"
sleep 2 # decisions are in whole seconds: the newest is now at least 2 s old
replay --policy "$STRICT" --since 1s --format json >"$T/since1.json"
rc=$?
is "$(jq -r '.decisions' "$T/since1.json")" 0 "--since 1s: no decisions"
is "$rc" 0 "and exit 0"

# ---- deny -> allow: pulls denied under the strict policy, a lenient candidate ---------
cp "$STRICT" "$POL"
kill -HUP "$CUS_PID"
sleep 0.5
skopeo_pull "$H" shop/app:v1 "$T/p6" 2>"$T/pull6.err"
isnt "$?" 0 "under the strict policy the pull is refused"
wait_until 10 '[ "$(ndec shop/app "and verdict = '"'deny'"'")" -ge 1 ]' || diag "deny not recorded in time"
replay --policy "$LENIENT" --format json >"$T/loose.json"
is "$?" 3 "a looser candidate flips too: exit 3"
is "$(jq -r '.flips | keys | join(",")' "$T/loose.json")" "deny->allow" "deny -> allow"
is "$(jq -r '.repositories[] | select(.repository == "shop/app") | .images[0] | [.was, .now] | @tsv' "$T/loose.json")" \
    "deny	allow" "shop/app's newest verdict deny would become allow"

# ---- errors ----------------------------------------------------------------------------
printf 'mode: enforce\nrules:\n  - name: x\n    repositories: ["**"]\n    deny:\n      severity: critcal\n' >"$T/bad.yaml"
replay --policy "$T/bad.yaml" >"$T/bad.out" 2>"$T/bad.err"
is "$?" 1 "a broken candidate: exit 1"
like "$(cat "$T/bad.err")" "bad\\.yaml:6:[0-9]+" "reported as file:line:column"
is "$(wc -c <"$T/bad.out")" 0 "and nothing on stdout"
replay --policy "$STRICT" --since 7x >/dev/null 2>"$T/since.err"
is "$?" 1 "a bad --since: exit 1"
"$CUSTOMS_BIN" policy replay --policy "$STRICT" --db "$T/nosuch.db" >/dev/null 2>"$T/nodb.err"
is "$?" 1 "a missing database: exit 1"
ok '[ ! -e "$T/nosuch.db" ]' "and none is created"

done_testing
