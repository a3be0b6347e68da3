#!/bin/bash
# tests/integration/test_eco_dotnet_php.sh - a .NET image (an application's
# MyApp.deps.json) and a PHP image (vendor/composer/installed.json written by
# a real composer 2) pushed through customs with skopeo: the report lists
# exactly the planted NuGet and Packagist packages, OSV records written here
# for both ecosystems give exactly the planted findings (and none for the
# versions outside their ranges, the app's own "project" entries or a dev
# branch), a broken deps.json is named in the layer's notes, and the offline
# `customs scan --format json oci:DIR` agrees with the in-stream result.
# TAP output.

. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/mkimage.sh"

command -v jq >/dev/null || bail_out "jq is required"
command -v skopeo >/dev/null || bail_out "skopeo is required"
command -v python3 >/dev/null || bail_out "python3 is required"
direct_mode && { echo "1..0 # SKIP needs customs (CUSTOMS_TEST_DIRECT=1)"; exit 0; }
FIX=$top_srcdir/tests/fixtures
[ -f "$FIX/dotnet/MyApp.deps.json" ] && [ -f "$FIX/php/installed2.json" ] || bail_out "fixtures missing under $FIX"

start_registry
start_customs
DB=$(cus_db 1)

# ---- the images: one layer each, plus a second .NET layer with a broken deps.json ----
R=$T/dotnet0
mkdir -p "$R/app" "$T/dotnet1/srv/broken"
cp "$FIX/dotnet/MyApp.deps.json" "$R/app/MyApp.deps.json"
echo '{"libraries": {"Broken.Pkg/1.0.0": {"type": "package"' >"$T/dotnet1/srv/broken/Broken.deps.json"
oci_init "$T/dotnet" && oci_add_layer "$T/dotnet" "$R" && oci_add_layer "$T/dotnet" "$T/dotnet1" &&
    oci_finish "$T/dotnet" v1 >/dev/null || bail_out "cannot build the .NET image"
R=$T/php0
mkdir -p "$R/var/www/html/vendor/composer"
cp "$FIX/php/installed2.json" "$R/var/www/html/vendor/composer/installed.json"
oci_init "$T/php" && oci_add_layer "$T/php" "$R" && oci_finish "$T/php" v1 >/dev/null ||
    bail_out "cannot build the PHP image"

for img in dotnet php; do
    skopeo copy -q --dest-tls-verify=false "oci:$T/$img:v1" "docker://127.0.0.1:$CUS_PORT/eco/$img:v1" \
        >"$T/push-$img.out" 2>&1
    is "$?" 0 "skopeo push of the $img image through customs"
done
is "$(grep -c 'scan layer=.*via=upload.*status=ok' "$CUS_LOG")" 3 "all three layers scanned in-stream"

# ---- OSV records of our own ---------------------------------------------------------
OSV=$T/osv
mkdir -p "$OSV"
rec() { cat >"$OSV/$1.json"; }
rec GHSA-5crp-9r3c-p9vr <<'X'
{"id": "GHSA-5crp-9r3c-p9vr", "modified": "2023-01-01T00:00:00Z", "aliases": ["CVE-2024-21907"],
 "database_specific": {"severity": "HIGH"},
 "affected": [{"package": {"ecosystem": "NuGet", "name": "Newtonsoft.Json"},
   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "13.0.1"}]}]}]}
X
rec GHSA-ghhp-997w-qr28 <<'X'
{"id": "GHSA-ghhp-997w-qr28", "modified": "2023-01-01T00:00:00Z", "aliases": ["CVE-2021-26701"],
 "database_specific": {"severity": "CRITICAL"},
 "affected": [{"package": {"ecosystem": "NuGet", "name": "System.Text.Encodings.Web"},
   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "4.0.0"}, {"fixed": "4.5.1"}]}]}]}
X
# NuGet, not affected: introduced after the installed version; and the app's own project name
rec NUGET-later-only <<'X'
{"id": "NUGET-later-only", "modified": "2023-01-01T00:00:00Z",
 "affected": [{"package": {"ecosystem": "NuGet", "name": "Newtonsoft.Json"},
   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "12.0.2"}, {"fixed": "12.0.3"}]}]},
  {"package": {"ecosystem": "NuGet", "name": "MyApp.Core"},
   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}]}
X
rec GHSA-f2wf-25xc-69c9 <<'X'
{"id": "GHSA-f2wf-25xc-69c9", "modified": "2023-01-01T00:00:00Z", "aliases": ["CVE-2022-29248"],
 "database_specific": {"severity": "HIGH"},
 "affected": [{"package": {"ecosystem": "Packagist", "name": "guzzlehttp/guzzle"},
   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "7.0.0"}, {"fixed": "7.4.3"}]}]}]}
X
rec GHSA-h7vf-5wrv-9fhv <<'X'
{"id": "GHSA-h7vf-5wrv-9fhv", "modified": "2023-01-01T00:00:00Z", "aliases": ["CVE-2022-24894"],
 "database_specific": {"severity": "MODERATE"},
 "affected": [{"package": {"ecosystem": "Packagist", "name": "symfony/http-kernel"},
   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "5.0.0"}, {"fixed": "5.4.20"}]}]}]}
X
# Packagist, not affected: 9.5.10 is above 9.5.9 (numeric, not text, order)
rec PKGST-phpunit-old <<'X'
{"id": "PKGST-phpunit-old", "modified": "2023-01-01T00:00:00Z",
 "affected": [{"package": {"ecosystem": "Packagist", "name": "phpunit/phpunit"},
   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "9.5.9"}]}]}]}
X
"$CUSTOMS_BIN" db import --db "$DB" "$OSV" >"$T/import.out" 2>&1
is "$?" 0 "customs db import of the NuGet and Packagist records"
like "$(cat "$T/import.out")" "6 added" "six records added"

# ---- the .NET image --------------------------------------------------------------------
OUT=$T/dotnet.json
"$CUSTOMS_BIN" report --db "$DB" --format json eco/dotnet:v1 >"$OUT" 2>"$T/report.err"
is "$?" 0 "customs report eco/dotnet:v1"
is "$(jq -r '[.packages[] | .type + ":" + .ecosystem + ":" + .name + "@" + .version + ":" + .path] | sort | join(" ")' "$OUT")" \
    "nuget:NuGet:Newtonsoft.Json@12.0.1:app/MyApp.deps.json nuget:NuGet:System.Text.Encodings.Web@4.5.0:app/MyApp.deps.json" \
    "exactly the planted NuGet packages (project and reference entries left out)"
is "$(jq -r '[.vulnerabilities[] | .id + " " + .package + "@" + .version + " -> " + .fixed_version] | sort | join(", ")' "$OUT")" \
    "GHSA-5crp-9r3c-p9vr Newtonsoft.Json@12.0.1 -> 13.0.1, GHSA-ghhp-997w-qr28 System.Text.Encodings.Web@4.5.0 -> 4.5.1" \
    "exactly the planted NuGet findings"
is "$(jq -r '[.packages[].purl] | sort | join(" ")' "$OUT")" \
    "pkg:nuget/Newtonsoft.Json@12.0.1 pkg:nuget/System.Text.Encodings.Web@4.5.0" "NuGet purls"
is "$(jq -c '[.layers[].found]' "$OUT")" '[{"nuget":2},{}]' "per layer: the nuget packages, nothing from the broken file"
like "$(jq -r '.layers[1].notes[]' "$OUT")" "srv/broken/Broken.deps.json" "the broken deps.json is named in its layer's notes"

# ---- the PHP image ---------------------------------------------------------------------
OUT=$T/php.json
"$CUSTOMS_BIN" report --db "$DB" --format json eco/php:v1 >"$OUT" 2>>"$T/report.err"
is "$?" 0 "customs report eco/php:v1"
P=var/www/html/vendor/composer/installed.json
is "$(jq -r '[.packages[] | .type + ":" + .ecosystem + ":" + .name + "@" + .version + ":" + .path] | sort | join(" ")' "$OUT")" \
    "composer:Packagist:guzzlehttp/guzzle@7.4.0:$P composer:Packagist:phpunit/phpunit@9.5.10:$P composer:Packagist:symfony/http-kernel@5.4.0:$P" \
    "exactly the planted Packagist packages (v5.4.0 reported as 5.4.0; the dev one included)"
is "$(jq -r '[.vulnerabilities[] | .id + " " + .package + "@" + .version + " -> " + .fixed_version] | sort | join(", ")' "$OUT")" \
    "GHSA-f2wf-25xc-69c9 guzzlehttp/guzzle@7.4.0 -> 7.4.3, GHSA-h7vf-5wrv-9fhv symfony/http-kernel@5.4.0 -> 5.4.20" \
    "exactly the planted Packagist findings"
is "$(jq -r '[.packages[].purl] | sort | join(" ")' "$OUT")" \
    "pkg:composer/guzzlehttp/guzzle@7.4.0 pkg:composer/phpunit/phpunit@9.5.10 pkg:composer/symfony/http-kernel@5.4.0" \
    "Composer purls: pkg:composer/VENDOR/NAME"
is "$(jq -c '[.layers[].found]' "$OUT")" '[{"composer":3}]' "per layer: the composer packages"

# ---- customs scan of the OCI layouts agrees -----------------------------------------------
norm='{packages: (.packages | map({type, ecosystem, name, version, path, purl}) | sort_by(.path, .name)),
       vulnerabilities: (.vulnerabilities | map({id, package, version, fixed_version}) | sort_by(.id)),
       found: [.layers[].found]}'
for img in dotnet php; do
    "$CUSTOMS_BIN" scan --db "$DB" --format json "oci:$T/$img:v1" >"$T/scan-$img.json" 2>"$T/scan-$img.err"
    is "$(jq -cS "$norm" "$T/scan-$img.json")" "$(jq -cS "$norm" "$T/$img.json")" \
        "customs scan --format json oci: agrees with the in-stream report ($img)"
done
is "$(jq '.vulnerabilities | length' "$T/scan-dotnet.json")$(jq '.vulnerabilities | length' "$T/scan-php.json")" 22 \
    "and finds the same two findings in each"

kill -0 "$CUS_PID" 2>/dev/null
is "$?" 0 "customs is still running"
done_testing
