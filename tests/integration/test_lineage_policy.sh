#!/bin/bash
# tests/integration/test_lineage_policy.sh - issue 11, tests 2 and 3:
# `customs lineage` shows an image's base and its staleness, and the policy
# key stale_base_days refuses (deny) or flags (warn) an image whose base tag
# has moved on.  Through a real docker-registry with customs in front and
# skopeo: push base:12 (a Debian 12 root with openssl, zlib and bash that
# the test's OSV data makes vulnerable), app:1 built on it (the same layer
# plus one), then a new base:12 (openssl and zlib fixed, bash not).  The
# verdict cache must not serve app:1's earlier "allow" after the move.  TAP.

. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/mkimage.sh"
. "$LIB_DIR/fixtures.sh"

command -v jq >/dev/null || bail_out "jq is required"
command -v skopeo >/dev/null || bail_out "skopeo is required"
direct_mode && { echo "1..0 # SKIP needs customs (CUSTOMS_TEST_DIRECT=1)"; exit 0; }

MOVE_WAIT_SECS=5 # how long a tag move may take to reach the gate (it is recorded as the push ends)
MT=application/vnd.oci.image.manifest.v1+json
POL=$T/policy.yaml
write_policy() { # LEVEL DAYS: one rule, LEVEL (deny|warn) {stale_base_days: DAYS}
    printf 'mode: enforce\nrules:\n  - name: fresh-base\n    repositories: ["**"]\n    %s: {stale_base_days: %s}\n' \
        "$1" "$2" >"$POL.tmp" && mv "$POL.tmp" "$POL"
}
reload_policy() { # LEVEL DAYS
    write_policy "$1" "$2"
    kill -HUP "$CUS_PID"
    sleep 0.5
}
# get_manifest REF OUT: GET the app/REPO manifest through customs; prints the status.
get_manifest() {
    curl -s -D "$2.h" -o "$2" -w '%{http_code}' -H "Accept: $MT" "$CUS_URL/v2/$1"
}

# ---- images -----------------------------------------------------------------
# old base: fixture_shop's layer 0 (libssl3 from openssl 3.0.11-1~deb12u2,
# zlib1g 1:1.2.13.dfsg-1, bash 5.2.15-2+b2); new base: openssl and zlib updated.
RB1=$T/rootfs-base1 RB2=$T/rootfs-base2 RA=$T/rootfs-app
fixture_shop "$RB1" "$T/unused"
cp -a "$RB1" "$RB2"
sed -i -e 's/^Version: 3\.0\.11-1~deb12u2$/Version: 3.0.13-1~deb12u1/' \
    -e 's/^Source: zlib (1:1\.2\.13\.dfsg-1)$/Source: zlib (1:1.2.13.dfsg-2)/' \
    -e 's/^Version: 1:1\.2\.13\.dfsg-1$/Version: 1:1.2.13.dfsg-2/' "$RB2/var/lib/dpkg/status"
grep -q '3.0.13-1~deb12u1' "$RB2/var/lib/dpkg/status" && grep -q 'dfsg-2' "$RB2/var/lib/dpkg/status" ||
    bail_out "cannot make the new base's dpkg status"
mkdir -p "$RA/srv/app" && echo "the application" >"$RA/srv/app/README"
build() { # OUT TAG ROOTFS...: an OCI layout; prints the manifest digest
    local out=$1 tag=$2 r
    shift 2
    oci_init "$out" || return 1
    for r in "$@"; do oci_add_layer "$out" "$r" || return 1; done
    oci_finish "$out" "$tag"
}
BASE1=$(build "$T/base1" v "$RB1") || bail_out "old base image"
APP1=$(build "$T/app1" v "$RB1" "$RA") || bail_out "app image"
BASE2=$(build "$T/base2" v "$RB2") || bail_out "new base image"
APP2=$(build "$T/app2" v "$RB2" "$RA") || bail_out "app image on the new base"

# OSV data: the old base has 3 findings; the new one fixes 2 of them (openssl,
# zlib) and keeps the third (bash), so "fixes 2" is a difference, not a count.
OSV=$T/osv
mkdir -p "$OSV"
fixture_critical_osv "$OSV/CVE-2099-0001.json"
cat >"$OSV/CVE-2099-0002.json" <<'X'
{"schema_version": "1.6.0", "id": "CVE-2099-0002", "modified": "2099-01-01T00:00:00Z",
 "summary": "made-up zlib flaw",
 "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"}],
 "affected": [{"package": {"ecosystem": "Debian:12", "name": "zlib"},
   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1:1.2.13.dfsg-2"}]}]}]}
X
cat >"$OSV/CVE-2099-0003.json" <<'X'
{"schema_version": "1.6.0", "id": "CVE-2099-0003", "modified": "2099-01-01T00:00:00Z",
 "summary": "made-up bash flaw, fixed in no base of this test",
 "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:L/I:N/A:N"}],
 "affected": [{"package": {"ecosystem": "Debian:12", "name": "bash"},
   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "5.2.99-1"}]}]}]}
X

# ---- customs with `deny: {stale_base_days: 0}` --------------------------------
write_policy deny 0
"$CUSTOMS_BIN" policy check "$POL" >"$T/check.out" 2>&1
is "$?" 0 "customs policy check accepts stale_base_days"
start_registry
CUSTOMS_POLICY=$POL start_customs
DB=$(cus_db 1)
H=127.0.0.1:$CUS_PORT

skopeo_push "$T/base1" v "$H" base:12 2>"$T/push1.err"
is "$?" 0 "push base:12 through customs"
skopeo_push "$T/app1" v "$H" app:1 2>"$T/push2.err"
is "$?" 0 "push app:1 (built on base:12) through customs"
"$CUSTOMS_BIN" db import --db "$DB" "$OSV"/*.json >"$T/import.out" 2>&1
is "$?" 0 "import the OSV records"
"$CUSTOMS_BIN" report --db "$DB" --format json base:12 >"$T/base1.report" 2>&1
is "$(jq -r '[.vulnerabilities[].id] | unique | join(" ")' "$T/base1.report")" \
    "CVE-2099-0001 CVE-2099-0002 CVE-2099-0003" "the old base has the three findings"

# ---- before the move: the base is current ----------------------------------------
"$CUSTOMS_BIN" lineage --db "$DB" --format json app:1 >"$T/l0.json" 2>"$T/l0.err"
is "$?" 0 "customs lineage --format json app:1"
is "$(jq -r '.digest' "$T/l0.json")" "$APP1" "the image's digest"
is "$(jq -r '[.bases[] | "\(.repository):\(.tag)@\(.digest)"] | join(" ")' "$T/l0.json")" "base:12@$BASE1" \
    "its base chain is base:12 (the old base's digest)"
is "$(jq -r '.bases[0].stale' "$T/l0.json")" false "the base is current"
"$CUSTOMS_BIN" lineage --db "$DB" app:1 >"$T/l0.txt" 2>>"$T/l0.err"
like "$(cat "$T/l0.txt")" "base:12.*status: +current" "table: base:12, current"
"$CUSTOMS_BIN" lineage --db "$DB" --format json base:12 >"$T/b0.json" 2>>"$T/l0.err"
is "$(jq -r '[.built_on_this[] | "\(.repository):\(.tag)@\(.digest)"] | join(" ")' "$T/b0.json")" "app:1@$APP1" \
    "base:12 lists app:1 as built on it"
is "$(jq -r '.bases | length' "$T/b0.json")" 0 "base:12 has no base of its own"

code=$(get_manifest app/manifests/1 "$T/g0")
is "$code" 200 "deny {stale_base_days: 0}: app:1 is allowed while its base is current"
is "$(header_value "$T/g0.h" x-customs-verdict)" allow "X-Customs-Verdict: allow"
is "$(get_manifest app/manifests/1 "$T/g0b")" 200 "and again (the verdict is now in the gate's cache)"

# ---- the base moves -----------------------------------------------------------------
skopeo_push "$T/base2" v "$H" base:12 2>"$T/push3.err"
is "$?" 0 "push the new base:12 through customs"
start=$SECONDS
while code=$(get_manifest app/manifests/1 "$T/g1") && [ "$code" = 200 ] &&
    [ $((SECONDS - start)) -lt "$MOVE_WAIT_SECS" ]; do sleep 0.1; done
is "$code" 403 "app:1 is refused once its base has moved (no stale cached verdict)"
diag "refused $((SECONDS - start)) s after the push of the new base"
MSG=$(jq -r '.errors[0].message' "$T/g1")
is "$(jq -r '.errors[0].code' "$T/g1")" DENIED "registry error code DENIED"
like "$MSG" "its base image base:12 \\($BASE1\\) was superseded 0 days ago" "the message names the stale base"
like "$MSG" "rebuild the image on the new base:12 \\($BASE2\\)" "and says to rebuild on the new one"
is "$(jq -r '.errors[0].detail.rule' "$T/g1")" fresh-base "detail: the rule"
is "$(jq -c '.errors[0].detail.reasons[0] | {kind, action, base, base_digest, new_digest, superseded_days}' "$T/g1")" \
    "{\"kind\":\"stale_base\",\"action\":\"deny\",\"base\":\"base:12\",\"base_digest\":\"$BASE1\",\"new_digest\":\"$BASE2\",\"superseded_days\":0}" \
    "detail: the stale_base reason"
is "$(get_manifest "app/manifests/$APP1" "$T/g2")" 403 "app:1 by digest is refused too"
skopeo_pull "$H" app:1 "$T/pulled" 2>"$T/pull.err"
isnt "$?" 0 "skopeo cannot pull app:1"
like "$(cat "$T/pull.err")" "base:12" "skopeo's error names the stale base"

code=$(get_manifest base/manifests/12 "$T/g3")
is "$code" 200 "the new base:12 is allowed"
is "$(jq -r '.config.digest' "$T/g3")" "$(jq -r '.config.digest' "$T/base2/blobs/sha256/${BASE2#sha256:}")" \
    "and it is the new base"
is "$(get_manifest "base/manifests/$BASE1" "$T/g4")" 200 "the old base itself has no base: allowed"

# ---- customs lineage after the move ------------------------------------------------------
"$CUSTOMS_BIN" lineage --db "$DB" app:1 >"$T/l1.txt" 2>"$T/l1.err"
is "$?" 0 "customs lineage app:1"
like "$(cat "$T/l1.txt")" "1\\. base:12" "table: base:12 is the base"
like "$(cat "$T/l1.txt")" "stale base: superseded 0 days ago.*, fixes 2 findings" \
    "table: stale, superseded 0 days ago, fixes 2 findings"
like "$(cat "$T/l1.txt")" "CVE-2099-0001" "table: lists a fixed finding"
ok '! grep -q "CVE-2099-0003" "$T/l1.txt"' "table: not the finding the new base still has"
like "$(grep 'now:' "$T/l1.txt")" "$BASE2" "table: where the tag points now"
diag "$(cat "$T/l1.txt")"
"$CUSTOMS_BIN" lineage --db "$DB" --format json app:1 >"$T/l1.json" 2>>"$T/l1.err"
is "$?" 0 "customs lineage --format json app:1"
is "$(jq -c '.bases[0] | {repository, tag, digest, stale, superseded_days, new_digest, layers, fixes_known}' "$T/l1.json")" \
    "{\"repository\":\"base\",\"tag\":\"12\",\"digest\":\"$BASE1\",\"stale\":true,\"superseded_days\":0,\"new_digest\":\"$BASE2\",\"layers\":1,\"fixes_known\":true}" \
    "json: the base, stale, superseded 0 days ago, its new digest, 1 layer"
is "$(jq -r '[.bases[0].fixes[].id] | sort | join(" ")' "$T/l1.json")" "CVE-2099-0001 CVE-2099-0002" \
    "json: the new base fixes exactly CVE-2099-0001 and CVE-2099-0002"
is "$(jq -r '.bases | length' "$T/l1.json")" 1 "json: one base in the chain"
now=$(date +%s)
ok '[ "$(jq -r ".bases[0].superseded_at" "$T/l1.json")" -ge $((now - 120)) ] && [ "$(jq -r ".bases[0].superseded_at" "$T/l1.json")" -le "$now" ]' \
    "json: superseded_at is the time of the push"

"$CUSTOMS_BIN" lineage --db "$DB" --format json base:12 >"$T/b1.json" 2>>"$T/l1.err"
is "$(jq -r '.digest' "$T/b1.json")" "$BASE2" "base:12 now resolves to the new base"
is "$(jq -r '.built_on_this | length' "$T/b1.json")" 0 "nothing is built on the new base yet (app:1 is not)"
"$CUSTOMS_BIN" lineage --db "$DB" --format json "base@$BASE1" >"$T/b2.json" 2>>"$T/l1.err"
is "$?" 0 "customs lineage base@OLD_DIGEST"
is "$(jq -r '[.built_on_this[] | "\(.repository):\(.tag)@\(.digest)"] | join(" ")' "$T/b2.json")" "app:1@$APP1" \
    "the old base lists app:1 as built on it"
"$CUSTOMS_BIN" lineage --db "$DB" "base@$BASE1" >"$T/b2.txt" 2>>"$T/l1.err"
like "$(cat "$T/b2.txt")" "built on this image \\(1\\):.*app:1" "table: built on this image: app:1"

# ---- an application rebuilt on the new base ---------------------------------------------------
skopeo_push "$T/app2" v "$H" app:2 2>"$T/push4.err"
is "$?" 0 "push app:2, built on the new base"
is "$(get_manifest app/manifests/2 "$T/g5")" 200 "app:2 is allowed"
is "$(header_value "$T/g5.h" x-customs-verdict)" allow "X-Customs-Verdict: allow"
"$CUSTOMS_BIN" lineage --db "$DB" --format json app:2 >"$T/l2.json" 2>>"$T/l1.err"
is "$(jq -c '.bases[0] | {tag, digest, stale}' "$T/l2.json")" "{\"tag\":\"12\",\"digest\":\"$BASE2\",\"stale\":false}" \
    "app:2's base is the new base:12, current"
"$CUSTOMS_BIN" lineage --db "$DB" --format json base:12 >"$T/b3.json" 2>>"$T/l1.err"
is "$(jq -r '[.built_on_this[] | "\(.repository):\(.tag)"] | join(" ")' "$T/b3.json")" "app:2" \
    "the new base:12 lists app:2 (not app:1)"

# ---- policy explain shares the judgement ----------------------------------------------------
"$CUSTOMS_BIN" policy explain --db "$DB" --policy "$POL" app:1 >"$T/explain.out" 2>&1
is "$?" 3 "customs policy explain app:1: exit 3 (denied)"
like "$(cat "$T/explain.out")" "decision: +deny" "customs policy explain: deny"
like "$(cat "$T/explain.out")" "base:12 \\($BASE1\\) was superseded 0 days ago" "and it names the stale base"

# ---- errors ---------------------------------------------------------------------------------
"$CUSTOMS_BIN" lineage --db "$DB" app:404 >"$T/e1.out" 2>"$T/e1.err"
is "$?" 1 "unknown image: exit 1"
like "$(cat "$T/e1.err")" "app:404: image not found" "with a clear message"
is "$(wc -c <"$T/e1.out")" 0 "and nothing on stdout"
"$CUSTOMS_BIN" lineage --db "$DB" --format yaml app:1 >/dev/null 2>"$T/e2.err"
is "$?" 1 "unknown format: exit 1"
"$CUSTOMS_BIN" lineage --db "$T/nonexistent.db" app:1 >/dev/null 2>"$T/e3.err"
is "$?" 1 "missing database: exit 1"
ok '[ ! -e "$T/nonexistent.db" ]' "and it is not created"

# ---- the number of days counts; warn instead of deny -------------------------------------------
reload_policy deny 1
is "$(get_manifest app/manifests/1 "$T/g6")" 200 "deny {stale_base_days: 1}: a base superseded 0 days ago passes"
reload_policy warn 0
code=$(get_manifest app/manifests/1 "$T/g7")
is "$code" 200 "warn {stale_base_days: 0}: app:1 is allowed"
is "$(header_value "$T/g7.h" x-customs-verdict)" warn "with X-Customs-Verdict: warn"
like "$(header_value "$T/g7.h" warning)" "base:12.*superseded 0 days ago" "and a Warning naming the stale base"
skopeo_pull "$H" app:1 "$T/pulled2" 2>"$T/pull2.err"
is "$?" 0 "skopeo pulls app:1 under the warn policy"
is "$(get_manifest app/manifests/2 "$T/g8")" 200 "app:2 under the warn policy"
is "$(header_value "$T/g8.h" x-customs-verdict)" allow "is not flagged (its base is current)"

done_testing
