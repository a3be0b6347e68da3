#!/bin/bash
# tests/integration/test_eco_java_py.sh - Java and Python names that decide
# whether advisories match (issue 16).  An OCI image carries jars named each
# way the established scanners name them: pom.properties (a jar copied from
# Debian's libslf4j-java), pom.xml's path alone (inside a war), an OSGi
# bundle without pom (copied from Debian's libatinject-jsr330-api-java), a
# bundle whose Implementation-Title used to be its name
# (google-oauth-client-1.33.1.jar), the file name alone, a Jenkins plugin
# (.hpi); and Python content: an unzipped egg, and the interpreter's own
# Python-X.Y.egg-info (one real, from CPython 2.7.18's install, one written to
# its format for 3.11), which are not packages.  The jars are
# tests/fixtures/java (see make_fixtures.sh there).  The image is pushed
# through customs with skopeo; OSV records written here (Maven, PyPI) are
# imported; the report must list exactly the planted packages and exactly the
# planted findings, and `customs scan --format json oci:DIR` must agree.
# Owner: scanner (java and python catalogers).  TAP output.

. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/mkimage.sh"

command -v jq >/dev/null || bail_out "jq is required"
command -v skopeo >/dev/null || bail_out "skopeo is required"
command -v python3 >/dev/null || bail_out "python3 is required"
direct_mode && { echo "1..0 # SKIP needs customs (CUSTOMS_TEST_DIRECT=1)"; exit 0; }
FIX=$LIB_DIR/../fixtures
[ -f "$FIX/java/google-oauth-client-1.33.1.jar" ] || bail_out "fixtures missing under $FIX"

# ---- the image ------------------------------------------------------------------
R0=$T/rootfs0 R1=$T/rootfs1
mkdir -p "$R0/etc" "$R0/opt/app/lib" "$R0/var/jenkins_home/plugins" "$R1/usr/local/lib/python3.11/lib-dynload" \
    "$R1/usr/local/lib/python2.7/lib-dynload" \
    "$R1/usr/local/lib/python3.11/site-packages/PyYAML-5.3.1-py3.11-linux-x86_64.egg/EGG-INFO"
printf 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n' \
    >"$R0/etc/os-release"
for j in slf4j-nop.jar atinject-jsr330-api-1.0.jar google-oauth-client-1.33.1.jar commons-text-1.9.jar; do
    cp "$FIX/java/$j" "$R0/opt/app/lib/$j" || bail_out "copy $j"
done
cp "$FIX/java/git.hpi" "$R0/var/jenkins_home/plugins/git.hpi" || bail_out "copy git.hpi"
# a war whose WEB-INF/lib holds the pom.xml-only jar: the name comes from two levels down
python3 - "$R0/opt/app/webapp.war" "$FIX/java/databind.jar" <<'X' || bail_out "cannot write the war"
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\r\n\r\n")
    z.writestr("WEB-INF/web.xml", "<web-app/>")
    z.write(sys.argv[2], "WEB-INF/lib/databind.jar")
X
cat >"$R1/usr/local/lib/python3.11/site-packages/PyYAML-5.3.1-py3.11-linux-x86_64.egg/EGG-INFO/PKG-INFO" <<'X'
Metadata-Version: 2.1
Name: PyYAML
Version: 5.3.1
Summary: YAML parser and emitter for Python
Home-page: https://pyyaml.org/

YAML is a data serialization format.
X
# what CPython's "make install" writes into lib-dynload (format of the real 2.7.18 one)
cat >"$R1/usr/local/lib/python3.11/lib-dynload/Python-3.11.egg-info" <<'X'
Metadata-Version: 2.1
Name: Python
Version: 3.11.7
Summary: A high-level object-oriented programming language
Platform: Many
X
cp "$FIX/python/Python-2.7.18-py2.7.egg-info" "$R1/usr/local/lib/python2.7/lib-dynload/" || bail_out "copy egg-info"

IMG=$T/eco
{ oci_init "$IMG" && oci_add_layer "$IMG" "$R0" && oci_add_layer "$IMG" "$R1" && oci_finish "$IMG" v1; } \
    >"$T/digest" || bail_out "cannot build the OCI layout"

start_registry
start_customs
DB=$(cus_db 1)

skopeo copy -q --dest-tls-verify=false "oci:$IMG:v1" "docker://127.0.0.1:$CUS_PORT/eco/javapy:v1" \
    >"$T/push.out" 2>&1
is "$?" 0 "skopeo push through customs"
is "$(grep -c 'scan layer=.*via=upload.*status=ok' "$CUS_LOG")" 2 "both layers scanned in-stream"

# ---- packages ------------------------------------------------------------------------
WANT_PKGS="java Maven com.fasterxml.jackson.core:jackson-databind@2.13.3
java Maven com.google.oauth-client:google-oauth-client@1.33.1
java Maven commons-text@1.9
java Maven javax.inject:atinject-jsr330-api@1.0.0
java Maven org.jenkins-ci.plugins:git@4.11.0
java Maven org.slf4j:slf4j-nop@1.7.32
python PyPI PyYAML@5.3.1"
pkgs='[.packages[] | .type + " " + .ecosystem + " " + .name + "@" + .version] | sort | join("\n")'
OUT=$T/report.json
"$CUSTOMS_BIN" report --db "$DB" --format json eco/javapy:v1 >"$OUT" 2>"$T/report.err"
is "$?" 0 "customs report"
is "$(jq -r "$pkgs" "$OUT")" "$WANT_PKGS" "report: exactly the planted packages, named the Maven way"
is "$(jq '[.packages[] | select(.name | test("^(Python|Google OAuth)"; "i"))] | length' "$OUT")" 0 \
    "neither the interpreter nor a manifest title is a package"
is "$(jq -r '.packages[] | select(.name | endswith("jackson-databind")) | .path' "$OUT")" \
    "opt/app/webapp.war!/WEB-INF/lib/databind.jar" "the nested jar's path"
is "$(jq -r '.packages[] | select(.name | endswith("google-oauth-client")) | .purl' "$OUT")" \
    "pkg:maven/com.google.oauth-client/google-oauth-client@1.33.1" "purl of the bundle-named jar"
is "$(jq -c '[.layers[].found]' "$OUT")" '[{"java":6},{"python":1}]' "packages per cataloger, per layer"

# ---- advisories ----------------------------------------------------------------------------
OSV=$T/osv
mkdir -p "$OSV"
rec() { cat >"$OSV/$1.json"; }
rec TEST-MVN-OAUTH <<'X'
{"id": "TEST-MVN-OAUTH", "modified": "2024-01-01T00:00:00Z", "aliases": ["CVE-2021-22573"],
 "affected": [{"package": {"ecosystem": "Maven", "name": "com.google.oauth-client:google-oauth-client"},
   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.33.3"}]}]}]}
X
rec TEST-MVN-DATABIND <<'X'
{"id": "TEST-MVN-DATABIND", "modified": "2024-01-01T00:00:00Z", "aliases": ["CVE-2022-42003"],
 "affected": [{"package": {"ecosystem": "Maven", "name": "com.fasterxml.jackson.core:jackson-databind"},
   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "2.13.0"}, {"fixed": "2.13.4.1"}]}]}]}
X
rec TEST-MVN-JENKINS-GIT <<'X'
{"id": "TEST-MVN-JENKINS-GIT", "modified": "2024-01-01T00:00:00Z",
 "affected": [{"package": {"ecosystem": "Maven", "name": "org.jenkins-ci.plugins:git"},
   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "4.11.4"}]}]}]}
X
# present, but its range does not reach 1.7.32: no finding
rec TEST-MVN-SLF4J <<'X'
{"id": "TEST-MVN-SLF4J", "modified": "2024-01-01T00:00:00Z",
 "affected": [{"package": {"ecosystem": "Maven", "name": "org.slf4j:slf4j-nop"},
   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "2.0.0"}, {"fixed": "2.0.5"}]}]}]}
X
# keyed on the old, title-derived name: nothing carries it any more
rec TEST-MVN-OLDNAME <<'X'
{"id": "TEST-MVN-OLDNAME", "modified": "2024-01-01T00:00:00Z",
 "affected": [{"package": {"ecosystem": "Maven", "name": "Google OAuth Client Library for Java"},
   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}]}
X
rec TEST-PYPI-PYYAML <<'X'
{"id": "TEST-PYPI-PYYAML", "modified": "2024-01-01T00:00:00Z", "aliases": ["CVE-2020-14343"],
 "affected": [{"package": {"ecosystem": "PyPI", "name": "pyyaml"},
   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "5.4"}]}]}]}
X
# the interpreter is not a PyPI package: this must not match Python-3.11.egg-info
rec TEST-PYPI-PYTHON <<'X'
{"id": "TEST-PYPI-PYTHON", "modified": "2024-01-01T00:00:00Z",
 "affected": [{"package": {"ecosystem": "PyPI", "name": "python"},
   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}]}
X
"$CUSTOMS_BIN" db import --db "$DB" "$OSV" >"$T/import.out" 2>&1
is "$?" 0 "customs db import"
like "$(cat "$T/import.out")" "7 added" "every record imported"

WANT_VULNS="TEST-MVN-DATABIND com.fasterxml.jackson.core:jackson-databind@2.13.3 -> 2.13.4.1
TEST-MVN-JENKINS-GIT org.jenkins-ci.plugins:git@4.11.0 -> 4.11.4
TEST-MVN-OAUTH com.google.oauth-client:google-oauth-client@1.33.1 -> 1.33.3
TEST-PYPI-PYYAML PyYAML@5.3.1 -> 5.4"
vulns='[.vulnerabilities[] | .id + " " + .package + "@" + .version + " -> " + .fixed_version] | sort | join("\n")'
"$CUSTOMS_BIN" report --db "$DB" --format json eco/javapy:v1 >"$T/report2.json" 2>>"$T/report.err"
is "$?" 0 "customs report after the import"
is "$(jq -r "$vulns" "$T/report2.json")" "$WANT_VULNS" "exactly the planted findings"

# ---- offline scan agrees -------------------------------------------------------------------
"$CUSTOMS_BIN" scan --db "$DB" --format json "oci:$IMG:v1" >"$T/scan.json" 2>"$T/scan.err"
is "$?" 0 "customs scan --format json oci:DIR"
is "$(jq -r "$pkgs" "$T/scan.json")" "$WANT_PKGS" "scan: the same packages"
is "$(jq -r "$vulns" "$T/scan.json")" "$WANT_VULNS" "scan: the same findings"
is "$(jq -c '[.layers[].found]' "$T/scan.json")" "$(jq -c '[.layers[].found]' "$T/report2.json")" \
    "scan: the same per-layer counts"
kill -0 "$CUS_PID" 2>/dev/null
is "$?" 0 "customs is still running"

done_testing
