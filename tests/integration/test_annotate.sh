#!/bin/bash
# tests/integration/test_annotate.sh - customs' own annotations (OCI
# referrers) in a real docker-registry 2.8, which has no referrers API:
#   1. after a push through customs, the registry itself holds the tag
#      sha256-<hex of the image digest>: an OCI index listing two artifacts
#      (the CycloneDX SBOM and the vulnerability report) whose subject is the
#      image; the SBOM names the planted packages; customs records both as
#      referrers and the jobs as pushed;
#   2. `customs db import` of a record that hits the image replaces the
#      report (new digest in the index, the old one gone from it and from
#      the registry); a second import that changes the record (a new fixed
#      version) replaces it again;
#   3. GET /v2/<repo>/referrers/<digest> through customs lists the SBOM
#      (when the referrers endpoint answers);
#   4. the push is not slowed: manifest PUT times with the annotations
#      going to a silent registry (accepts, never answers) or a stopped one,
#      against a running one;
#   5. a registry down during the annotation push: the failure shows in the
#      table and the log, and the job succeeds once the registry is back.
# TAP.

. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/mkimage.sh"
. "$LIB_DIR/fixtures.sh"

for c in jq skopeo sqlite3 python3 curl; do command -v $c >/dev/null || bail_out "$c is required"; done
direct_mode && bail_out "annotations need customs (CUSTOMS_TEST_DIRECT=1 has none)"

SBOM_T=application/vnd.cyclonedx+json
VULN_T=application/vnd.customs.vulnerability-report.v1+json
IDX_ACCEPT=application/vnd.oci.image.index.v1+json

# idx REGURL REPO DIGEST: the tag-schema index of DIGEST in the registry (or nothing)
idx() { curl -sf -m 5 -H "Accept: $IDX_ACCEPT" "$1/v2/$2/manifests/sha256-${3#sha256:}"; }
# idx_count REGURL REPO DIGEST: entries of that index (0 when there is none)
idx_count() { local n; n=$(idx "$@" | jq '.manifests | length' 2>/dev/null); echo "${n:-0}"; }
# idx_digest REGURL REPO DIGEST ARTIFACT_TYPE: the digest of that entry
idx_digest() { idx "$1" "$2" "$3" | jq -r --arg t "$4" '[.manifests[] | select(.artifactType == $t)][0].digest // empty'; }
# layer_of REGURL REPO MANIFEST_DIGEST: the blob of the artifact's layer
layer_of() {
    local l
    l=$(curl -sf -m 5 -H "Accept: application/vnd.oci.image.manifest.v1+json" "$1/v2/$2/manifests/$3" |
        jq -r '.layers[0].digest') || return 1
    curl -sf -m 5 "$1/v2/$2/blobs/$l"
}
# status_of N REPO DIGEST KIND: the job's status in customs N's database
status_of() { db_sql "$1" "SELECT status FROM annotations WHERE repo='$2' AND image='$3' AND kind='$4'" 2>/dev/null; }
# put_ms LOG REPO: total_ms of the manifest PUT of REPO:v1 in customs' access log
put_ms() { grep "access .* PUT /v2/$2/manifests/v1 status=201" "$1" | tail -1 | sed 's/.*total_ms=\([0-9]*\).*/\1/'; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR ? a[int((NR+1)/2)] : "")}'; }

start_registry
start_customs
DB=$(cus_db 1)
C1_LOG=$CUS_LOG C1_PORT=$CUS_PORT C1_URL=$CUS_URL

IMG=$T/shop
fixture_shop_image "$IMG" >/dev/null || bail_out "cannot build the shop image"

# ---- 1. the SBOM and the report in the registry ---------------------------------
skopeo_push "$IMG" v1 "127.0.0.1:$C1_PORT" team/shop:v1 || bail_out "push through customs failed"
D=$(reg_digest "$REG_PORT" team/shop v1)
[ -n "$D" ] || bail_out "no digest for team/shop:v1"
a=$(date +%s%3N)
wait_until 20 '[ "$(idx_count "$REG_URL" team/shop "$D")" = 2 ]'
is "$(idx_count "$REG_URL" team/shop "$D")" 2 "the registry holds sha256-<hex> listing two artifacts"
diag "both artifacts in the registry $(( $(date +%s%3N) - a )) ms after the push returned"
is "$(idx "$REG_URL" team/shop "$D" | jq -r .mediaType)" "$IDX_ACCEPT" "the tag holds an OCI index"
SBOM=$(idx_digest "$REG_URL" team/shop "$D" "$SBOM_T")
REP1=$(idx_digest "$REG_URL" team/shop "$D" "$VULN_T")
like "$SBOM" '^sha256:' "an entry with artifactType $SBOM_T"
like "$REP1" '^sha256:' "an entry with artifactType $VULN_T"
for m in "$SBOM" "$REP1"; do
    doc=$(curl -sf -m 5 -H "Accept: application/vnd.oci.image.manifest.v1+json" "$REG_URL/v2/team/shop/manifests/$m")
    is "$(jq -r .subject.digest <<<"$doc")" "$D" "artifact ${m:7:12}: subject is the image"
    is "$(jq -r .config.mediaType <<<"$doc")" application/vnd.oci.empty.v1+json "artifact ${m:7:12}: empty config"
    is "$(printf '%s' "$doc" | sha256sum | cut -c1-64)" "${m#sha256:}" "artifact ${m:7:12}: its bytes have its digest"
done
layer_of "$REG_URL" team/shop "$SBOM" >"$T/sbom.json"
is "$(jq -r '.bomFormat + " " + .specVersion' "$T/sbom.json")" "CycloneDX 1.5" "the SBOM blob is CycloneDX 1.5"
for p in libssl3 requests left-pad; do
    is "$(jq --arg p "$p" '[.components[] | select(.name == $p)] | length' "$T/sbom.json")" 1 "the SBOM names $p"
done
layer_of "$REG_URL" team/shop "$REP1" >"$T/report1.json"
is "$(jq -r '.mediaType + " " + .digest' "$T/report1.json")" "$VULN_T $D" "the report names its media type and the image"
is "$(jq '.counts.total' "$T/report1.json")" 0 "no data imported yet: no findings"
is "$(status_of 1 team/shop "$D" sbom) $(status_of 1 team/shop "$D" vulnerabilities)" "pushed pushed" \
    "both jobs recorded as pushed"
is "$(db_sql "SELECT manifest FROM annotations WHERE image='$D' AND kind='sbom'")" "$SBOM" \
    "the job names the SBOM's digest"
is "$(db_sql "SELECT count(*) FROM referrers WHERE subject='$D' AND origin='customs'")" 2 \
    "both recorded as referrers (origin customs)"
like "$(grep -c 'annotation pushed repo=team/shop' "$C1_LOG")" '^2$' "two 'annotation pushed' log lines"

# ---- 2. replaced after a data import, twice ---------------------------------------
fixture_critical_osv "$T/osv.json"
"$CUSTOMS_BIN" db import --db "$DB" "$T/osv.json" >"$T/import.out" 2>&1 || bail_out "import: $(cat "$T/import.out")"
a=$(date +%s%3N)
wait_until 20 'r=$(idx_digest "$REG_URL" team/shop "$D" "$VULN_T"); [ -n "$r" ] && [ "$r" != "$REP1" ]'
REP2=$(idx_digest "$REG_URL" team/shop "$D" "$VULN_T")
isnt "$REP2" "$REP1" "after the import: a new report in the index"
diag "report replaced $(( $(date +%s%3N) - a )) ms after the import"
is "$(idx_count "$REG_URL" team/shop "$D")" 2 "still two entries: the old report left the index"
is "$(idx "$REG_URL" team/shop "$D" | jq --arg d "$REP1" '[.manifests[] | select(.digest == $d)] | length')" 0 \
    "the old report's digest is gone from the index"
is "$(idx_digest "$REG_URL" team/shop "$D" "$SBOM_T")" "$SBOM" "the SBOM (unchanged) stays"
layer_of "$REG_URL" team/shop "$REP2" >"$T/report2.json"
is "$(jq -r '[.findings[].id] | index("CVE-2099-0001") != null' "$T/report2.json")" true "the report lists CVE-2099-0001"
is "$(jq -r '.findings[] | select(.id == "CVE-2099-0001") | .severity + " " + .fixed_version + " " + .package' "$T/report2.json")" \
    "critical 3.0.13-1~deb12u1 libssl3" "with its severity, fixed version and package"
is "$(jq '.counts.critical' "$T/report2.json")" 1 "counts: one critical"
is "$(curl -s -o /dev/null -w '%{http_code}' -H "Accept: application/vnd.oci.image.manifest.v1+json" \
    "$REG_URL/v2/team/shop/manifests/$REP1")" 404 "the old report was deleted from the registry (delete enabled)"
is "$(db_sql "SELECT count(*) FROM referrers WHERE subject='$D' AND digest='$REP1'")" 0 \
    "the old report left customs' referrers"
is "$(db_sql "SELECT count(*) FROM referrers WHERE subject='$D' AND digest='$REP2' AND origin='customs'")" 1 \
    "the new one is recorded"

# a second import that changes the data: the record gets a later fixed version
sed -e 's/"modified": "2099-01-01T00:00:00Z"/"modified": "2099-02-01T00:00:00Z"/' \
    -e 's/3\.0\.13-1~deb12u1/3.0.14-1~deb12u1/' "$T/osv.json" >"$T/osv2.json"
"$CUSTOMS_BIN" db import --db "$DB" "$T/osv2.json" >"$T/import2.out" 2>&1 || bail_out "import 2: $(cat "$T/import2.out")"
wait_until 20 'r=$(idx_digest "$REG_URL" team/shop "$D" "$VULN_T"); [ -n "$r" ] && [ "$r" != "$REP2" ]'
REP3=$(idx_digest "$REG_URL" team/shop "$D" "$VULN_T")
isnt "$REP3" "$REP2" "after the second import: the report is replaced again"
layer_of "$REG_URL" team/shop "$REP3" >"$T/report3.json"
is "$(jq -r '.findings[] | select(.id == "CVE-2099-0001") | .fixed_version' "$T/report3.json")" "3.0.14-1~deb12u1" \
    "the new report has the new fixed version"
is "$(idx "$REG_URL" team/shop "$D" | jq --arg d "$REP2" '[.manifests[] | select(.digest == $d)] | length') $(idx_count "$REG_URL" team/shop "$D")" \
    "0 2" "the previous report is gone from the index, two entries"
# an import that changes nothing for this image pushes nothing
cp "$T/osv2.json" "$T/osv3.json"
sed -i 's/"CVE-2099-0001"/"CVE-2099-0099"/; s/"name": "openssl"/"name": "no-such-package"/' "$T/osv3.json"
"$CUSTOMS_BIN" db import --db "$DB" "$T/osv3.json" >/dev/null 2>&1 || bail_out "import 3"
sleep 3
is "$(idx_digest "$REG_URL" team/shop "$D" "$VULN_T")" "$REP3" "an import that does not change the findings: no new report"

# ---- 3. the referrers API through customs ------------------------------------------
code=$(curl -s -o "$T/referrers.json" -w '%{http_code}' "$C1_URL/v2/team/shop/referrers/$D")
is "$code" 200 "GET /v2/team/shop/referrers/<digest> through customs: 200"
is "$(jq -r --arg t "$SBOM_T" '[.manifests[] | select(.artifactType == $t)][0].digest' "$T/referrers.json")" "$SBOM" \
    "it lists the SBOM"
s=$(curl -s -o "$T/referrers-f.json" -w '%{http_code}' "$C1_URL/v2/team/shop/referrers/$D?artifactType=${SBOM_T/+/%2B}")
is "$s $(jq '.manifests | length' "$T/referrers-f.json")" "200 1" "filtered by artifactType: the SBOM only"
l=$(curl -sf "$C1_URL/v2/team/shop/manifests/$SBOM" -H "Accept: application/vnd.oci.image.manifest.v1+json" | jq -r '.layers[0].digest')
is "$(curl -sf "$C1_URL/v2/team/shop/blobs/$l" | jq '[.components[].name] | (index("libssl3") != null) and (index("requests") != null) and (index("left-pad") != null)')" \
    true "its blob, through customs, is CycloneDX naming the planted packages"

# ---- 4. the push is not slowed by the annotations ----------------------------------
# a silent registry: accepts connections, never answers
SILENT_PORT=$(free_port)
python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64)
held = []
while True:
    c, _ = s.accept(); held.append(c)
' "$SILENT_PORT" >/dev/null 2>&1 &
_LIB_PIDS+=("$!")
STOPPED_PORT=$(free_port)
printf 'annotations:\n  upstream: http://127.0.0.1:%s\n' "$SILENT_PORT" >"$T/silent.yaml"
start_customs -c "$T/silent.yaml"
C2_LOG=$CUS_LOG C2_PORT=$CUS_PORT
printf 'annotations:\n  upstream: http://127.0.0.1:%s\n' "$STOPPED_PORT" >"$T/stopped.yaml"
start_customs -c "$T/stopped.yaml"
C3_LOG=$CUS_LOG C3_PORT=$CUS_PORT DB3=$(cus_db 3)
run_ms=() silent_ms=() stopped_ms=()
for i in 1 2 3; do
    forget_blob_locations
    skopeo_push "$IMG" v1 "127.0.0.1:$C1_PORT" "team/run$i:v1" || bail_out "push run$i"
    forget_blob_locations
    skopeo_push "$IMG" v1 "127.0.0.1:$C2_PORT" "team/silent$i:v1" || bail_out "push silent$i"
    forget_blob_locations
    skopeo_push "$IMG" v1 "127.0.0.1:$C3_PORT" "team/stopped$i:v1" || bail_out "push stopped$i"
    run_ms+=("$(put_ms "$C1_LOG" "team/run$i")")
    silent_ms+=("$(put_ms "$C2_LOG" "team/silent$i")")
    stopped_ms+=("$(put_ms "$C3_LOG" "team/stopped$i")")
done
RUN=$(printf '%s\n' "${run_ms[@]}" | median)
SIL=$(printf '%s\n' "${silent_ms[@]}" | median)
STP=$(printf '%s\n' "${stopped_ms[@]}" | median)
diag "manifest PUT total_ms (3 pushes each): annotations to a running registry: ${run_ms[*]} (median $RUN)," \
    "to a silent one: ${silent_ms[*]} (median $SIL), to a stopped one: ${stopped_ms[*]} (median $STP)"
like "$RUN $SIL $STP" '^[0-9]+ [0-9]+ [0-9]+$' "manifest PUT times measured"
# generous: noise on a shared 2-core machine; a push that waited for the
# silent registry would take 30 s (the annotation request's timeout)
ok "[ $SIL -le $((RUN * 3 + 1500)) ] && [ $STP -le $((RUN * 3 + 1500)) ]" \
    "a silent or stopped annotation target does not slow the manifest PUT (<= 3x + 1.5 s of the running case)"
ok "[ $SIL -lt 10000 ]" "the push with a silent annotation target returned in under 10 s (${SIL} ms)"
is "$(reg_digest "$REG_PORT" team/silent1 v1)" "$D" "the push with a silent annotation target went through"

# ---- 5. a registry down during the annotation push, then back -----------------------
wait_until 10 '[ "$(db_sql 3 "SELECT attempts FROM annotations WHERE repo='"'team/stopped1'"' AND kind='"'sbom'"'")" -ge 1 ] 2>/dev/null'
row=$(db_sql 3 "SELECT status || ' | ' || attempts || ' | ' || coalesce(last_error, '') FROM annotations WHERE repo='team/stopped1' AND kind='sbom'")
diag "while the registry is down: $row"
like "$row" '^pending \| [1-9][0-9]* \| .*(refused|connect|Couldn)' "the failure is visible in the table (pending, attempts, error)"
like "$(grep -m1 'annotation repo=team/stopped1 .*kind=sbom attempt 1 failed' "$C3_LOG")" 'retrying in' \
    "and in the log"
is "$(grep -c 'annotation repo=team/stopped1 .*kind=sbom attempt .* failed' "$C3_LOG" | tr -d ' ')" 1 \
    "logged once while the error stays the same (warn level; debug after)"
is "$(idx_count "$REG_URL" team/stopped1 "$D")" 0 "nothing in the registry for it yet"
start_registry "$STOPPED_PORT" # same storage: the registry comes back
a=$(date +%s)
wait_until 40 '[ "$(status_of 3 team/stopped1 "$D" sbom)" = pushed ] && [ "$(status_of 3 team/stopped1 "$D" vulnerabilities)" = pushed ]'
is "$(status_of 3 team/stopped1 "$D" sbom) $(status_of 3 team/stopped1 "$D" vulnerabilities)" "pushed pushed" \
    "once the registry is back the jobs succeed"
diag "pushed $(( $(date +%s) - a )) s after the registry came back"
is "$(idx_count "$REG_URL" team/stopped1 "$D")" 2 "the registry holds both artifacts for it"
is "$(db_sql 3 "SELECT coalesce(last_error, '') FROM annotations WHERE repo='team/stopped1' AND kind='sbom'")" "" \
    "the error is cleared"

done_testing
