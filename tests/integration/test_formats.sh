#!/bin/bash
# tests/integration/test_formats.sh - the standard documents of `customs scan`
# and `customs report`: SARIF 2.1.0 (--format sarif) in the shape GitHub code
# scanning accepts, SPDX 2.3 JSON (--format spdx-json), and scores written as
# their sources give them (8.1, not 8.0999999999999996) in every JSON format.
#
# The image is fixture_shop_image (an OCI layout, no registry needed); the
# database holds fixture_critical_osv (CVE-2099-0001, 9.8, on openssl) and a
# made-up CVE-2099-0081 on bash scored 8.1 with no fix, so there are findings.
# Validation is structural, with jq (no schema downloads).  TAP output.
#
# CUSTOMS_BIN: the customs binary (default: <top>/customs).

. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/mkimage.sh"
. "$LIB_DIR/fixtures.sh"

command -v jq >/dev/null || bail_out "jq is required"
[ -x "$CUSTOMS_BIN" ] || bail_out "no customs binary at $CUSTOMS_BIN (set CUSTOMS_BIN)"

IMG=$T/shop DB=$(cus_db 1) # a file, or PostgreSQL with CUSTOMS_TEST_DB
DIGEST=$(fixture_shop_image "$IMG") || bail_out "cannot build the OCI layout"
mkdir -p "$T/osv"
fixture_critical_osv "$T/osv/critical.json"
# CVSS 3.1 AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H is 8.1 (7.5 the high without AC:H)
cat >"$T/osv/bash.json" <<'X'
{"schema_version": "1.6.0", "id": "CVE-2099-0081", "modified": "2099-01-01T00:00:00Z",
 "summary": "made-up high bash flaw, no fix yet",
 "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
 "affected": [{"package": {"ecosystem": "Debian:12", "name": "bash"},
   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}]}
X
"$CUSTOMS_BIN" db import --db "$DB" "$T/osv" >"$T/import.out" 2>&1 || bail_out "import: $(cat "$T/import.out")"

# ---- SARIF ------------------------------------------------------------------------
S=$T/scan.sarif
"$CUSTOMS_BIN" scan --db "$DB" --format sarif "oci:$IMG:v1" >"$S" 2>"$T/scan.err"
is "$?" 0 "scan --format sarif exits 0"
ok 'jq -e . "$S" >/dev/null' "SARIF is JSON"
is "$(jq -r .version "$S")" 2.1.0 "SARIF version 2.1.0"
like "$(jq -r '."$schema"' "$S")" '^https://.*sarif-schema-2\.1\.0\.json$' "SARIF \$schema is the 2.1.0 schema"
is "$(jq '.runs | length' "$S")" 1 "one run"
is "$(jq -r '.runs[0].tool.driver.name' "$S")" customs "tool.driver.name customs"
is "$(jq -r '[.runs[0].tool.driver.rules[].id] | sort | join(" ")' "$S")" "CVE-2099-0001 CVE-2099-0081" \
    "one rule per vulnerability id"
is "$(jq '[.runs[0].tool.driver.rules[] | select((.helpUri | startswith("https://")) and (.shortDescription.text | length > 0))] | length' "$S")" 2 \
    "every rule has a helpUri and a shortDescription"
is "$(jq -r '.runs[0].results | length' "$S")" 2 "one result per finding"
is "$(jq '[.runs[0] as $r | $r.results[] | select($r.tool.driver.rules[.ruleIndex].id == .ruleId)] | length' "$S")" 2 \
    "every result's ruleIndex points at its ruleId"
is "$(jq -r '.runs[0].results[] | select(.ruleId == "CVE-2099-0001") | .level' "$S")" error "critical -> error"
is "$(jq -r '.runs[0].results[] | select(.ruleId == "CVE-2099-0081") | .level' "$S")" error "high -> error"
M=$(jq -r '.runs[0].results[] | select(.ruleId == "CVE-2099-0001") | .message.text' "$S")
like "$M" 'libssl3 3\.0\.11-1~deb12u2 .*fixed in 3\.0\.13-1~deb12u1' "message names package, installed and fixed version"
like "$(jq -r '.runs[0].results[] | select(.ruleId == "CVE-2099-0081") | .message.text' "$S")" 'bash 5\.2\.15-2\+b2 .*no fixed version' \
    "message says when there is no fix"
is "$(jq '[.runs[0].results[] | select((.locations | length) > 0 and (.locations[0].physicalLocation.artifactLocation.uri | length) > 0)] | length' "$S")" 2 \
    "every result has a location (GitHub rejects results without)"
is "$(jq -r '.runs[0].results[0].locations[0].physicalLocation.artifactLocation.uri' "$S")" var/lib/dpkg/status \
    "location: the file the package was found in"
is "$(jq -r '.runs[0].results[0].locations[0].logicalLocations[0].fullyQualifiedName' "$S")" "local/shop@$DIGEST" \
    "logical location: the image scanned"
is "$(jq -r '.runs[0].tool.driver.rules[] | select(.id == "CVE-2099-0081") | .properties."security-severity"' "$S")" 8.1 \
    "security-severity \"8.1\""
ok 'grep -qE "\"cvssScore\": 8\.1,?$" "$S" && ! grep -q "8\.0999" "$S"' "SARIF text has 8.1, not 8.0999..."
if command -v python3 >/dev/null; then
    python3 - "$S" >"$T/py.out" 2>&1 <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
run = d["runs"][0]
ids = {r["id"] for r in run["tool"]["driver"]["rules"]}
for r in run["results"]:
    assert r["ruleId"] in ids and r["level"] in ("error", "warning", "note", "none")
    assert r["message"]["text"] and r["locations"][0]["physicalLocation"]["region"]["startLine"] >= 1
    assert all(isinstance(v, str) for v in r["partialFingerprints"].values())
print("ok")
PY
    is "$(cat "$T/py.out")" ok "SARIF result shape (python)"
fi

# ---- SPDX -------------------------------------------------------------------------
P=$T/scan.spdx.json
"$CUSTOMS_BIN" scan --db "$DB" --format spdx-json "oci:$IMG:v1" >"$P" 2>>"$T/scan.err"
is "$?" 0 "scan --format spdx-json exits 0"
is "$(jq -r '.spdxVersion + " " + .dataLicense + " " + .SPDXID' "$P")" "SPDX-2.3 CC0-1.0 SPDXRef-DOCUMENT" \
    "spdxVersion, dataLicense, SPDXID"
like "$(jq -r .name "$P")" "shop" "document name is the image"
like "$(jq -r .documentNamespace "$P")" '^https://[^#]+-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-' "documentNamespace a URI with a UUID"
like "$(jq -r .creationInfo.created "$P")" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$' "creationInfo.created"
like "$(jq -r '.creationInfo.creators | join(",")' "$P")" '^Tool: customs-[0-9]' "creators Tool: customs-<version>"
NPKG=$("$CUSTOMS_BIN" scan --format json "oci:$IMG:v1" 2>>"$T/scan.err" | jq '.packages | length')
is "$(jq '[.packages[] | select(.primaryPackagePurpose != "CONTAINER" and .primaryPackagePurpose != "OPERATING-SYSTEM")] | length' "$P")" "$NPKG" \
    "every catalogued package ($NPKG)"
is "$(jq '(.packages | length) as $n | [.packages[] | select((.SPDXID | test("^SPDXRef-[A-Za-z0-9.-]+$")) and .name != "" and .downloadLocation == "NOASSERTION")] | length == $n' "$P")" true \
    "every package has an SPDXID, a name and downloadLocation NOASSERTION"
is "$(jq '[.packages[].SPDXID] | length == (unique | length)' "$P")" true "SPDXIDs unique"
is "$(jq -r '.packages[] | select(.name == "libssl3") | .versionInfo' "$P")" 3.0.11-1~deb12u2 "versionInfo"
like "$(jq -r '.packages[] | select(.name == "libssl3") | .externalRefs[] | select(.referenceCategory == "PACKAGE-MANAGER" and .referenceType == "purl") | .referenceLocator' "$P")" \
    '^pkg:deb/debian/libssl3@' "purl external ref"
is "$(jq -r '.packages[] | select(.name == "libssl3") | .externalRefs[] | select(.referenceCategory == "SECURITY") | .referenceLocator' "$P")" \
    "https://osv.dev/vulnerability/CVE-2099-0001" "advisory ref for the finding"
is "$(jq '[.relationships[] | select(.spdxElementId == "SPDXRef-DOCUMENT" and .relationshipType == "DESCRIBES")] | length' "$P")" 1 \
    "the document DESCRIBES one package"
IMGID=$(jq -r '.relationships[] | select(.relationshipType == "DESCRIBES") | .relatedSpdxElement' "$P")
is "$(jq -r --arg id "$IMGID" '.packages[] | select(.SPDXID == $id) | .primaryPackagePurpose + " " + .versionInfo' "$P")" \
    "CONTAINER $DIGEST" "... the image, versioned by its digest"
is "$(jq --arg id "$IMGID" '[.packages[].SPDXID | select(. != $id)] - [.relationships[] | select(.spdxElementId == $id and .relationshipType == "CONTAINS") | .relatedSpdxElement] | length' "$P")" 0 \
    "the image CONTAINS every other package"
"$CUSTOMS_BIN" scan --db "$DB" --format spdx-json "oci:$IMG:v1" >"$T/scan2.spdx.json" 2>>"$T/scan.err"
isnt "$(jq -r .documentNamespace "$T/scan2.spdx.json")" "$(jq -r .documentNamespace "$P")" \
    "documentNamespace differs between two documents"

# ---- numbers as given, and `customs report` -------------------------------------
"$CUSTOMS_BIN" scan --db "$DB" --format json "oci:$IMG:v1" >"$T/scan.json" 2>>"$T/scan.err"
ok 'grep -q "\"score\": 8.1,$" "$T/scan.json" && grep -q "\"score\": 9.8,$" "$T/scan.json"' "JSON report: scores 8.1 and 9.8 as given"
ok '! grep -qE "[0-9]\.[0-9]{10}" "$T/scan.json"' "JSON report: no long binary expansions"
"$CUSTOMS_BIN" scan --db "$DB" --format cyclonedx "oci:$IMG:v1" >"$T/scan.cdx.json" 2>>"$T/scan.err"
ok 'grep -q "\"score\": 8.1$" "$T/scan.cdx.json" && ! grep -q "8\.0999" "$T/scan.cdx.json"' "CycloneDX: 8.1 as given"
"$CUSTOMS_BIN" report --db "$DB" --format sarif "local/shop:v1" >"$T/report.sarif" 2>>"$T/scan.err"
is "$?" 0 "report --format sarif exits 0"
is "$(jq -c '[.runs[0].results[] | [.ruleId, .level]] | sort' "$T/report.sarif")" \
    "$(jq -c '[.runs[0].results[] | [.ruleId, .level]] | sort' "$S")" "report SARIF agrees with the scan's"
"$CUSTOMS_BIN" report --db "$DB" --format spdx-json "local/shop:v1" >"$T/report.spdx.json" 2>>"$T/scan.err"
is "$?" 0 "report --format spdx-json exits 0"
is "$(jq -c '[.packages[] | .name + "@" + (.versionInfo // "")] | sort' "$T/report.spdx.json")" \
    "$(jq -c '[.packages[] | .name + "@" + (.versionInfo // "")] | sort' "$P")" \
    "report SPDX lists the same packages as the scan's"
"$CUSTOMS_BIN" scan --format xml "oci:$IMG:v1" >/dev/null 2>"$T/bad.err"
isnt "$?" 0 "an unknown format is an error"
"$CUSTOMS_BIN" events --format sarif >/dev/null 2>>"$T/bad.err"
isnt "$?" 0 "events has no sarif"
diag "sizes: sarif $(wc -c <"$S") bytes, spdx $(wc -c <"$P") bytes, cyclonedx $(wc -c <"$T/scan.cdx.json") bytes"

done_testing
