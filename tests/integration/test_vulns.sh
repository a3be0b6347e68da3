#!/bin/bash
# tests/integration/test_vulns.sh - OSV data imported after a push turns into
# findings for the stored image without rescanning: exact ids, fixed
# versions, severities (own CVSS, text, borrowed through an alias) and the
# layer that brought each package; re-import is a no-op; an updated record
# changes the finding; a version that cannot be compared is counted as
# affected and marked in the stored findings and every report format.  TAP
# output.

. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/mkimage.sh"
. "$LIB_DIR/fixtures.sh"

command -v jq >/dev/null || bail_out "jq is required"
command -v skopeo >/dev/null || bail_out "skopeo is required"
command -v python3 >/dev/null || bail_out "python3 is required"
direct_mode && { echo "1..0 # SKIP needs customs (CUSTOMS_TEST_DIRECT=1)"; exit 0; }

start_registry
start_customs
DB=$(cus_db 1)

IMG=$T/shop
fixture_shop_image "$IMG" >"$T/digest" || bail_out "cannot build the OCI layout"
DIGEST=$(cat "$T/digest")
skopeo copy -q --dest-tls-verify=false "oci:$IMG:v1" "docker://127.0.0.1:$CUS_PORT/shop/app:v1" \
    >"$T/push.out" 2>&1
is "$?" 0 "skopeo push through customs"
"$CUSTOMS_BIN" report --db "$DB" --format json shop/app:v1 >"$T/before.json" 2>"$T/report.err"
is "$(jq '.vulnerabilities | length' "$T/before.json")" 0 "no findings before any vulnerability data"

# ---- OSV records of our own -------------------------------------------------
OSV=$T/osv
mkdir -p "$OSV/a" "$OSV/b"
rec() { cat >"$OSV/$1/$2.json"; }
rec a DEBIAN-CVE-2024-0727 <<'X'
{"schema_version": "1.6.0", "id": "DEBIAN-CVE-2024-0727", "modified": "2024-02-01T00:00:00Z",
 "aliases": ["CVE-2024-0727"],
 "affected": [{"package": {"ecosystem": "Debian:12", "name": "openssl"},
   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.0.13-1~deb12u1"}]}]}]}
X
# no package of ours: lends its critical CVSS to the Debian record (shared alias)
rec a GHSA-9v9h-cgj8-h64p <<'X'
{"id": "GHSA-9v9h-cgj8-h64p", "modified": "2024-02-01T00:00:00Z", "aliases": ["CVE-2024-0727"],
 "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
 "affected": [{"package": {"ecosystem": "npm", "name": "not-installed"},
   "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "9.9.9"}]}]}]}
X
rec a PYSEC-2024-60 <<'X'
{"id": "PYSEC-2024-60", "modified": "2024-05-01T00:00:00Z", "aliases": ["CVE-2024-35195"],
 "database_specific": {"severity": "MODERATE"},
 "affected": [{"package": {"ecosystem": "PyPI", "name": "Requests"},
   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.32.0"}]}]}]}
X
rec a GO-2024-2687 <<'X'
{"id": "GO-2024-2687", "modified": "2024-04-01T00:00:00Z", "aliases": ["CVE-2023-45288"],
 "affected": [{"package": {"ecosystem": "Go", "name": "golang.org/x/net"},
   "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "0.23.0"}]}]},
  {"package": {"ecosystem": "Go", "name": "stdlib"},
   "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.21.9"}]},
              {"type": "SEMVER", "events": [{"introduced": "1.22.0-0"}, {"fixed": "1.22.2"}]}]}]}
X
rec a GHSA-withdrawn-left-pad <<'X'
{"id": "GHSA-withdrawn-left-pad", "modified": "2024-01-01T00:00:00Z", "withdrawn": "2024-01-01T00:00:00Z",
 "affected": [{"package": {"ecosystem": "npm", "name": "left-pad"},
   "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}]}]}]}
X
rec a NPM-fixed-already <<'X'
{"id": "NPM-fixed-already", "modified": "2024-01-01T00:00:00Z",
 "affected": [{"package": {"ecosystem": "npm", "name": "is-odd"},
   "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "3.0.1"}]}]}]}
X
echo '{"id": "BROKEN", "affected": ' >"$OSV/a/broken.json"
(cd "$OSV/a" && python3 -m zipfile -c "$T/first.zip" ./*.json) || bail_out "cannot zip"

"$CUSTOMS_BIN" db import --db "$DB" "$T/first.zip" >"$T/import1.out" 2>&1
is "$?" 0 "customs db import first.zip"
like "$(cat "$T/import1.out")" "5 added, 0 updated, 1 unchanged, 0 withdrawn, 1 malformed" \
    "summary counts (withdrawn-and-absent is unchanged, broken JSON malformed)"
like "$(cat "$T/import1.out")" "re-matched 1 images" "stored image re-matched"

OUT=$T/report.json
"$CUSTOMS_BIN" report --db "$DB" --format json shop/app:v1 >"$OUT" 2>>"$T/report.err"
is "$?" 0 "customs report after the import"
is "$(jq -r '[.vulnerabilities[] | .id + " " + .package + "@" + .version + " -> " + .fixed_version + " " + .severity] | join(", ")' "$OUT")" \
    "DEBIAN-CVE-2024-0727 libssl3@3.0.11-1~deb12u2 -> 3.0.13-1~deb12u1 critical, PYSEC-2024-60 requests@2.31.0 -> 2.32.0 medium, GO-2024-2687 golang.org/x/net@v0.17.0 -> 0.23.0 unknown, GO-2024-2687 stdlib@go1.21.5 -> 1.21.9 unknown" \
    "exactly the expected findings, sorted by severity then id"
is "$(jq -r '.vulnerabilities[0].score' "$OUT")" "9.8" "borrowed CVSS score"
is "$(jq -c '.vulnerabilities[0].aliases' "$OUT")" '["CVE-2024-0727"]' "aliases listed"
is "$(jq -r '[.vulnerabilities[] | .fixable] | all' "$OUT")" "true" "all fixable"
is "$(jq -r '.vulnerabilities[0].ecosystem' "$OUT")" "Debian:12" "ecosystem"
L0=$(jq -r '.layers[0].digest' "$OUT") L1=$(jq -r '.layers[1].digest' "$OUT")
is "$(jq -r '[.vulnerabilities[] | .layer] | join(" ")' "$OUT")" "$L0 $L0 $L1 $L1" \
    "each finding names the layer that brought its package"
"$CUSTOMS_BIN" scan --db "$DB" --format cyclonedx "oci:$IMG:v1" >"$T/sbom.json" 2>>"$T/report.err"
is "$(jq -r '[.vulnerabilities[].id] | sort | join(" ")' "$T/sbom.json")" \
    "$(jq -r '[.vulnerabilities[].id] | sort | join(" ")' "$OUT")" "CycloneDX lists the same vulnerabilities"
ok 'jq -e "[.vulnerabilities[].affects[0].ref] as \$r | [.components[].\"bom-ref\"] as \$c | (\$r | length) > 0 and all(\$r[]; . as \$x | \$c | index(\$x))" "$T/sbom.json" >/dev/null' \
    "each CycloneDX vulnerability points at a component of the SBOM"
"$CUSTOMS_BIN" report --db "$DB" shop/app:v1 >"$T/report.txt" 2>>"$T/report.err"
like "$(cat "$T/report.txt")" "Vulnerabilities \\(4\\)" "table view lists the findings"
like "$(grep DEBIAN-CVE-2024-0727 "$T/report.txt")" "critical" "with severity"
"$CUSTOMS_BIN" db status --db "$DB" >"$T/status.out" 2>&1
is "$?" 0 "customs db status"
like "$(cat "$T/status.out")" "first.zip" "status names the source"
like "$(grep -E '^ +PyPI' "$T/status.out")" "1" "records per ecosystem"

# ---- re-import: nothing changes --------------------------------------------------
gen1=$(db_sql "SELECT value FROM meta WHERE key='vulndb_generation'")
"$CUSTOMS_BIN" db import --db "$DB" "$T/first.zip" >"$T/import2.out" 2>&1
is "$?" 0 "re-import"
like "$(cat "$T/import2.out")" "0 added, 0 updated, 6 unchanged" "every record unchanged"
is "$(db_sql "SELECT value FROM meta WHERE key='vulndb_generation'")" "$gen1" "generation unchanged"
"$CUSTOMS_BIN" report --db "$DB" --format json shop/app:v1 >"$T/report2.json" 2>>"$T/report.err"
is "$(jq -cS .vulnerabilities "$T/report2.json")" "$(jq -cS .vulnerabilities "$OUT")" "same findings"

# ---- an updated record changes the finding without a rescan ---------------------------
scans=$(grep -c 'scan layer=' "$CUS_LOG")
rec b PYSEC-2024-60 <<'X'
{"id": "PYSEC-2024-60", "modified": "2024-06-01T00:00:00Z", "aliases": ["CVE-2024-35195"],
 "database_specific": {"severity": "HIGH"},
 "affected": [{"package": {"ecosystem": "PyPI", "name": "requests"},
   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.31.1"}, {"fixed": "2.32.0"}]}]}]}
X
"$CUSTOMS_BIN" db import --db "$DB" "$OSV/b" >"$T/import3.out" 2>&1
is "$?" 0 "import an updated record (directory)"
like "$(cat "$T/import3.out")" "0 added, 1 updated" "counted as updated"
"$CUSTOMS_BIN" report --db "$DB" --format json shop/app:v1 >"$T/report3.json" 2>>"$T/report.err"
is "$(jq -r '.vulnerabilities[] | select(.id == "PYSEC-2024-60") | .fixed_version + " " + .severity' "$T/report3.json")" \
    "2.31.1 high" "finding follows the new record (lowest fix above the installed version)"
is "$(grep -c 'scan layer=' "$CUS_LOG")" "$scans" "no layer was rescanned"
is "$(db_sql "SELECT count(DISTINCT generation) FROM findings")" 1 "stored findings are of one generation"

# ---- customs scan --db agrees ------------------------------------------------------
"$CUSTOMS_BIN" scan --db "$DB" --format json "oci:$IMG:v1" >"$T/scan.json" 2>"$T/scan.err"
is "$(jq -c '[.vulnerabilities[] | {id, package, fixed_version, severity}]' "$T/scan.json")" \
    "$(jq -c '[.vulnerabilities[] | {id, package, fixed_version, severity}]' "$T/report3.json")" \
    "customs scan --db reports the same findings"

# ---- a version PEP 440 cannot compare: counted as affected, and every format says so ----
mkdir -p "$OSV/c"
rec c PYSEC-odd-version <<'X'
{"id": "PYSEC-odd-version", "modified": "2024-07-01T00:00:00Z",
 "affected": [{"package": {"ecosystem": "PyPI", "name": "requests"},
   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.32.0 !! not pep440"}]}]}]}
X
"$CUSTOMS_BIN" db import --db "$DB" "$OSV/c" >"$T/import5.out" 2>&1
is "$?" 0 "import a record whose range version does not parse"
"$CUSTOMS_BIN" report --db "$DB" --format json shop/app:v1 >"$T/report5.json" 2>>"$T/report.err"
is "$(jq -r '.vulnerabilities[] | select(.id == "PYSEC-odd-version") | .package + " " + (.version_comparable | tostring)' "$T/report5.json")" \
    "requests false" "stored finding read back: counted as affected, version_comparable false"
is "$(jq -r '[.vulnerabilities[] | select(.id != "PYSEC-odd-version") | .version_comparable] | all' "$T/report5.json")" \
    "true" "the other findings are comparable"
like "$(jq -r '.notes[]' "$T/report5.json")" "requests 2.31.0: version not comparable \\(pep440\\): counted as affected by PYSEC-odd-version" \
    "the note survives the store"
is "$(db_sql "SELECT vuln FROM findings WHERE unsure <> 0 ORDER BY vuln" | paste -sd,)" "PYSEC-odd-version" \
    "the findings view marks exactly that one"
"$CUSTOMS_BIN" report --db "$DB" shop/app:v1 >"$T/report5.txt" 2>>"$T/report.err"
like "$(grep PYSEC-odd-version "$T/report5.txt")" "2\\.31\\.0 \\(\\*\\)" "table: marker after the version"
is "$(grep -c '(\*)' "$T/report5.txt")" 2 "table: one marked row and the footnote"
like "$(cat "$T/report5.txt")" "\\(\\*\\) version not comparable: counted as affected \\(1\\)" "table: footnote"
"$CUSTOMS_BIN" scan --db "$DB" --format cyclonedx "oci:$IMG:v1" >"$T/sbom5.json" 2>>"$T/report.err"
is "$(jq -r '.vulnerabilities[] | select(.id == "PYSEC-odd-version") | .analysis.detail + "; " + (.properties[] | .name + "=" + .value)' "$T/sbom5.json")" \
    "version not comparable: counted as affected; customs:version_comparable=false" "CycloneDX: analysis detail and property"

# ---- a truncated zip imports nothing -----------------------------------------------
head -c 700 "$T/first.zip" >"$T/trunc.zip"
"$CUSTOMS_BIN" db import --db "$DB" "$T/trunc.zip" >"$T/import4.out" 2>&1
isnt "$?" 0 "truncated zip: import fails"
is "$(db_sql "SELECT count(*) FROM vuln_sources WHERE name LIKE '%trunc.zip'")" 0 "and records nothing"
kill -0 "$CUS_PID" 2>/dev/null
is "$?" 0 "customs is still running"

done_testing
