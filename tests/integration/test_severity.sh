#!/bin/bash
# tests/integration/test_severity.sh - severity of OS findings from CVE
# scores: a Debian record without a score (naming its CVE as upstream, with
# Debian's urgency) gives a finding without severity, which the policy's
# severity rule cannot deny and which `db status` and the report count; an
# NVD CVE 2.0 feed (.json.gz, served by a local http.server through
# db.sources, picked up by a refresh) lends the CVE's CVSS score, and the
# next pull is denied for severity.  TAP output.

. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/mkimage.sh"
. "$LIB_DIR/fixtures.sh"

command -v jq >/dev/null || bail_out "jq is required"
command -v skopeo >/dev/null || bail_out "skopeo is required"
command -v python3 >/dev/null || bail_out "python3 is required (http server, gzip)"
command -v sqlite3 >/dev/null || bail_out "sqlite3 is required"
direct_mode && { echo "1..0 # SKIP needs customs (CUSTOMS_TEST_DIRECT=1)"; exit 0; }

# ---- data: a Debian record without a score, served locally; the feed later --
cat >"$T/debian.json" <<'X'
{"schema_version": "1.6.0", "id": "DEBIAN-CVE-2099-4242", "modified": "2099-01-01T00:00:00Z",
 "upstream": ["CVE-2099-4242"],
 "affected": [{"package": {"ecosystem": "Debian:12", "name": "openssl"},
   "ecosystem_specific": {"urgency": "medium"},
   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.0.13-1~deb12u1"}]}]}]}
X
mkdir -p "$T/www"
HPORT=$(free_port)
(cd "$T/www" && exec python3 -m http.server --bind 127.0.0.1 "$HPORT") >"$T/http.log" 2>&1 &
_LIB_PIDS+=("$!")
echo ok >"$T/www/ready"
wait_http "http://127.0.0.1:$HPORT/ready" "$!" || bail_out "http server did not start"
FEED_URL=http://127.0.0.1:$HPORT/nvdcve-2.0-2099.json.gz
cat >"$T/customs.yaml" <<X
db:
  sources:
    - $T/debian.json
    - $FEED_URL
  refresh: 2s
X
POL=$T/policy.yaml
fixture_policy_no_critical "$POL"

start_registry
CUSTOMS_POLICY=$POL start_customs -c "$T/customs.yaml"
DB=$(cus_db 1)
H=127.0.0.1:$CUS_PORT
wait_until 15 'grep -q "db refresh: 1 source(s): 1 added" "$CUS_LOG"'
ok 'grep -q "db refresh: 1 source(s): 1 added" "$CUS_LOG"' "the Debian record is imported at start"
ok 'grep -q "nvdcve-2.0-2099.json.gz: download failed" "$CUS_LOG"' "the feed, not there yet, is said to fail"

# ---- an image with the affected openssl -----------------------------------------
R=$T/rootfs IMG=$T/img
fixture_debian_base "$R" 3.0.11-1~deb12u2
oci_init "$IMG" && oci_add_layer "$IMG" "$R" && oci_finish "$IMG" v1 >/dev/null || bail_out "image"
skopeo copy -q --dest-tls-verify=false "oci:$IMG:v1" "docker://$H/os/app:v1" >"$T/push.out" 2>&1
is "$?" 0 "push through customs"

skopeo copy -q --src-tls-verify=false "docker://$H/os/app:v1" "oci:$T/pulled1:v1" >"$T/pull1.out" 2>&1
is "$?" 0 "pull allowed: the finding has no severity for the rule to match"
"$CUSTOMS_BIN" report --db "$DB" --format json os/app:v1 >"$T/r1.json" 2>"$T/r1.err"
is "$?" 0 "customs report"
is "$(jq -r '[.vulnerabilities[] | .id + " " + .severity] | join(",")' "$T/r1.json")" \
    "DEBIAN-CVE-2099-4242 unknown" "one finding, without severity"
is "$(jq -r '.vulnerabilities_without_severity' "$T/r1.json")" 1 "the JSON report counts it"
"$CUSTOMS_BIN" report --db "$DB" os/app:v1 >"$T/r1.txt" 2>>"$T/r1.err"
like "$(cat "$T/r1.txt")" "Without severity: 1 of 1" "the text report says so"
is "$(jq -r '.vulnerabilities[0].vendor_rating' "$T/r1.json")" "Debian urgency: medium" \
    "the JSON report shows Debian's urgency"
like "$(grep DEBIAN-CVE-2099-4242 "$T/r1.txt")" "Debian urgency: medium" "so does the text report"
"$CUSTOMS_BIN" db status --db "$DB" >"$T/status1.out" 2>&1
is "$?" 0 "customs db status"
like "$(cat "$T/status1.out")" "cve scores: +0" "no CVE scores loaded"
like "$(cat "$T/status1.out")" "findings without severity: 1 of 1" "status counts the finding without severity"
is "$(db_sql "SELECT kind || '=' || rating FROM vuln_ratings WHERE vuln = 'DEBIAN-CVE-2099-4242'")" \
    "Debian urgency=medium" "Debian's urgency kept beside the record"

# ---- the NVD feed appears: the next refresh lends the CVE's score ---------------------
python3 - "$T/www/nvdcve-2.0-2099.json.gz" <<'X' || bail_out "cannot write the feed"
import gzip, json, sys
metric = lambda src, typ, vec, score: {"source": src, "type": typ,
    "cvssData": {"version": vec[5:8], "vectorString": vec, "baseScore": score}}
feed = {"resultsPerPage": 3, "startIndex": 0, "totalResults": 3, "format": "NVD_CVE", "version": "2.0",
        "timestamp": "2099-01-02T00:00:00.000", "vulnerabilities": [
    {"cve": {"id": "CVE-2099-4241", "metrics": {}}},
    {"cve": {"id": "CVE-2099-4242", "descriptions": [{"lang": "en", "value": "made-up openssl flaw"}],
             "metrics": {"cvssMetricV31": [
                 metric("cna@example.org", "Secondary", "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:L/A:N", 4.2),
                 metric("nvd@nist.gov", "Primary", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8)]}}},
    {"cve": {"id": "CVE-2099-4243", "metrics": {"cvssMetricV2": [
        metric("nvd@nist.gov", "Primary", "AV:N/AC:L/Au:N/C:P/I:P/A:P", 7.5)]}}}]}
with gzip.open(sys.argv[1], "wt") as f:
    json.dump(feed, f)
X
wait_until 20 '[ "$(db_sql "SELECT count(*) FROM cve_scores" 2>/dev/null)" = 2 ]'
is "$(db_sql "SELECT count(*) FROM cve_scores")" 2 "the feed's two scored CVEs are stored"
ok 'grep -q "\"GET /nvdcve-2.0-2099.json.gz HTTP/1.1\" 200" "$T/http.log"' "downloaded from the local server"
is "$(db_sql "SELECT vector || ' ' || score || ' ' || scored_by FROM cve_scores WHERE cve = 'CVE-2099-4242'")" \
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H 9.8 nvd@nist.gov" "NVD's Primary v3.1 metric chosen"
wait_until 10 'grep -q "db refresh: 2 source(s)" "$CUS_LOG"'

"$CUSTOMS_BIN" report --db "$DB" --format json os/app:v1 >"$T/r2.json" 2>>"$T/r1.err"
is "$(jq -r '[.vulnerabilities[] | .id + " " + .severity + " " + (.score | tostring)] | join(",")' "$T/r2.json")" \
    "DEBIAN-CVE-2099-4242 critical 9.8" "the finding has the CVE's score and severity"
is "$(jq -r '.vulnerabilities_without_severity' "$T/r2.json")" 0 "none without severity any more"
"$CUSTOMS_BIN" report --db "$DB" os/app:v1 >"$T/r2.txt" 2>>"$T/r1.err"
like "$(grep DEBIAN-CVE-2099-4242 "$T/r2.txt")" "critical .*Debian urgency: medium" \
    "the text report shows the severity, the vendor's rating beside it"
is "$(jq -r '.vulnerabilities[0].vendor_rating' "$T/r2.json")" "Debian urgency: medium" "and the JSON report"
ok '! grep -q "Without severity" "$T/r2.txt"' "and no longer a count of findings without one"

skopeo copy -q --src-tls-verify=false "docker://$H/os/app:v1" "oci:$T/pulled2:v1" >"$T/pull2.out" 2>&1
isnt "$?" 0 "the pull is now denied for severity"
like "$(cat "$T/pull2.out")" "DEBIAN-CVE-2099-4242" "the refusal names the finding"
like "$(cat "$T/pull2.out")" "no-critical" "and the rule"

"$CUSTOMS_BIN" db status --db "$DB" >"$T/status2.out" 2>&1
like "$(cat "$T/status2.out")" "cve scores: +2" "status: two CVE scores loaded"
like "$(cat "$T/status2.out")" "findings without severity: 0 of 1" "status: none without severity"
like "$(cat "$T/status2.out")" "last run: 2 added, 0 updated, 1 unchanged" "status lists the feed's import"

# ---- the same feed through `customs db import`, plain: nothing changes ---------------
gunzip -c "$T/www/nvdcve-2.0-2099.json.gz" >"$T/feed.json"
"$CUSTOMS_BIN" db import --db "$DB" "$T/feed.json" >"$T/import.out" 2>&1
is "$?" 0 "customs db import of the plain feed"
like "$(cat "$T/import.out")" "0 added, 0 updated, 3 unchanged, 0 withdrawn, 0 malformed \\(NVD feed: 2 CVE scores\\)" \
    "the summary counts CVE scores"
head -c 300 "$T/feed.json" >"$T/cut.json"
"$CUSTOMS_BIN" db import --db "$DB" "$T/cut.json" >"$T/cut.out" 2>&1
isnt "$?" 0 "a truncated feed is refused"
is "$(db_sql "SELECT count(*) FROM cve_scores")" 2 "and changes nothing"
done_testing
