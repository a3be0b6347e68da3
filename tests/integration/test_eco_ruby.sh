#!/bin/bash
# tests/integration/test_eco_ruby.sh - a Ruby image pushed through customs
# (issue 16): installed gems in three gem homes (Debian's
# rubygems-integration, Ruby's default gems, a Bundler home) and an
# application's Gemfile.lock.  `customs report` lists exactly the planted
# RubyGems packages, the OSV records written here yield exactly the planted
# findings (RubyGems version order, prereleases, ecosystem names), and the
# offline `customs scan` agrees with what was found in the stream.  TAP output.
#
# The gemspecs of json and rack 2.2.22 are real Debian 12 files
# (tests/fixtures/ruby/, see tests/unit/test_cat_ruby.c); rack 2.2.3 and
# nokogiri are written here the way RubyGems writes an installed spec;
# the Gemfile.lock follows Bundler's published lockfile format.
# Owner: ruby.

. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/mkimage.sh"

command -v jq >/dev/null || bail_out "jq is required"
command -v skopeo >/dev/null || bail_out "skopeo is required"
command -v python3 >/dev/null || bail_out "python3 is required"
direct_mode && { echo "1..0 # SKIP needs customs (CUSTOMS_TEST_DIRECT=1)"; exit 0; }
FIX=$top_srcdir/tests/fixtures/ruby
[ -f "$FIX/rack-2.2.22.gemspec" ] || bail_out "fixtures not found in $FIX"

# gemspec FILE NAME VERSION [PLATFORM]: an installed spec as `gem install` writes it
gemspec() {
    mkdir -p "$(dirname "$1")"
    {
        echo '# -*- encoding: utf-8 -*-'
        echo "# stub: $2 $3 ${4:-ruby} lib"
        echo
        echo 'Gem::Specification.new do |s|'
        echo "  s.name = \"$2\".freeze"
        echo "  s.version = \"$3\""
        [ -z "${4:-}" ] || echo "  s.platform = \"$4\".freeze"
        echo
        echo '  s.require_paths = ["lib".freeze]'
        echo '  s.rubygems_version = "3.3.26".freeze'
        echo '  s.summary = "planted by test_eco_ruby.sh".freeze'
        echo 'end'
    } >"$1"
}

R0=$T/rootfs0 R1=$T/rootfs1
mkdir -p "$R0/etc" "$R0/usr/share/rubygems-integration/all/specifications" \
    "$R0/usr/lib/ruby/gems/3.1.0/specifications/default" "$R0/usr/local/bundle/gems/rack-2.2.3"
printf 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n' \
    >"$R0/etc/os-release"
cp "$FIX/rack-2.2.22.gemspec" "$R0/usr/share/rubygems-integration/all/specifications/"
cp "$FIX/json-2.6.1.gemspec" "$R0/usr/lib/ruby/gems/3.1.0/specifications/default/"
gemspec "$R0/usr/local/bundle/specifications/rack-2.2.3.gemspec" rack 2.2.3
gemspec "$R0/usr/local/bundle/specifications/nokogiri-1.13.0-x86_64-linux.gemspec" nokogiri 1.13.0 x86_64-linux
# not installed specs: the unpacked gem's own gemspec is not a package
gemspec "$R0/usr/local/bundle/gems/rack-2.2.3/rack.gemspec" rack 0.0.1

mkdir -p "$R1/srv/app"
gemspec "$R1/srv/app/myapp.gemspec" myapp 1.0.0 # the app's source gemspec: not installed
cat >"$R1/srv/app/Gemfile.lock" <<'X'
PATH
  remote: .
  specs:
    myapp (1.0.0)
      rails-html-sanitizer (~> 1.4)

GEM
  remote: https://rubygems.org/
  specs:
    crass (1.0.6)
    loofah (2.19.0)
      crass (~> 1.0.2)
      nokogiri (>= 1.5.9)
    nokogiri (1.13.0-aarch64-linux)
      racc (~> 1.4)
    nokogiri (1.13.0-x86_64-linux)
      racc (~> 1.4)
    racc (1.6.0)
    rails-html-sanitizer (1.4.3)
      loofah (~> 2.3)

PLATFORMS
  aarch64-linux
  x86_64-linux

DEPENDENCIES
  myapp!

BUNDLED WITH
   2.3.26
X

IMG=$T/rubyimg
oci_init "$IMG" && oci_add_layer "$IMG" "$R0" && oci_add_layer "$IMG" "$R1" && oci_finish "$IMG" v1 >"$T/digest" ||
    bail_out "cannot build the OCI layout"

start_registry
start_customs
DB=$(cus_db 1)

skopeo copy -q --dest-tls-verify=false "oci:$IMG:v1" "docker://127.0.0.1:$CUS_PORT/ruby/app:v1" >"$T/push.out" 2>&1
is "$?" 0 "skopeo push through customs"

# ---- the inventory --------------------------------------------------------------
WANT_PKGS="crass@1.0.6 srv/app/Gemfile.lock
json@2.6.1 usr/lib/ruby/gems/3.1.0/specifications/default/json-2.6.1.gemspec
loofah@2.19.0 srv/app/Gemfile.lock
myapp@1.0.0 srv/app/Gemfile.lock
nokogiri@1.13.0 srv/app/Gemfile.lock
nokogiri@1.13.0 usr/local/bundle/specifications/nokogiri-1.13.0-x86_64-linux.gemspec
racc@1.6.0 srv/app/Gemfile.lock
rack@2.2.22 usr/share/rubygems-integration/all/specifications/rack-2.2.22.gemspec
rack@2.2.3 usr/local/bundle/specifications/rack-2.2.3.gemspec
rails-html-sanitizer@1.4.3 srv/app/Gemfile.lock"
PKGS_JQ='[.packages[] | .name + "@" + .version + " " + .path] | sort | .[]'

"$CUSTOMS_BIN" report --db "$DB" --format json ruby/app:v1 >"$T/report0.json" 2>"$T/report.err"
is "$?" 0 "customs report"
is "$(jq -r "$PKGS_JQ" "$T/report0.json")" "$WANT_PKGS" "report lists exactly the planted gems, each where it was found"
is "$(jq -r '[.packages[] | .type + " " + .ecosystem] | unique | join(",")' "$T/report0.json")" "gem RubyGems" \
    "all of type gem, ecosystem RubyGems"
is "$(jq -r '.packages[] | select(.name == "rack" and .version == "2.2.3") | .purl' "$T/report0.json")" \
    "pkg:gem/rack@2.2.3" "purl pkg:gem/NAME@VERSION"
is "$(jq -r '[.layers[] | .found.gem // 0] | join(" ")' "$T/report0.json")" "4 6" \
    "per layer: the ruby cataloger found 4 gems in the gem homes, 6 in the lockfile"
is "$(jq -r '[.layers[].notes[]] | length' "$T/report0.json")" 0 "no notes"
is "$(jq '.vulnerabilities | length' "$T/report0.json")" 0 "no findings before any vulnerability data"

# ---- OSV records of our own ---------------------------------------------------
OSV=$T/osv
mkdir -p "$OSV"
rec() { cat >"$OSV/$1.json"; }
rec GHSA-rack-0001 <<'X'
{"id": "GHSA-rack-0001", "modified": "2024-01-01T00:00:00Z", "database_specific": {"severity": "HIGH"},
 "affected": [{"package": {"ecosystem": "RubyGems", "name": "rack"},
   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.2.6.4"}]},
              {"type": "ECOSYSTEM", "events": [{"introduced": "3.0.0"}, {"fixed": "3.0.6.1"}]}]}]}
X
rec GHSA-nokogiri-0001 <<'X'
{"id": "GHSA-nokogiri-0001", "modified": "2024-01-01T00:00:00Z", "database_specific": {"severity": "HIGH"},
 "affected": [{"package": {"ecosystem": "RubyGems", "name": "nokogiri"},
   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "1.11.0.rc1"}, {"fixed": "1.13.4"}]}]}]}
X
rec GHSA-loofah-0001 <<'X'
{"id": "GHSA-loofah-0001", "modified": "2024-01-01T00:00:00Z", "database_specific": {"severity": "MODERATE"},
 "affected": [{"package": {"ecosystem": "RubyGems", "name": "loofah"},
   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.19.1"}]}]}]}
X
# not matching: json 2.6.1 is above the fix
rec GHSA-json-0001 <<'X'
{"id": "GHSA-json-0001", "modified": "2024-01-01T00:00:00Z",
 "affected": [{"package": {"ecosystem": "RubyGems", "name": "json"},
   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.3.0"}]}]}]}
X
# not matching: a prerelease sorts before its release (Gem::Version), so 1.13.0 is fixed
rec GHSA-nokogiri-0002 <<'X'
{"id": "GHSA-nokogiri-0002", "modified": "2024-01-01T00:00:00Z",
 "affected": [{"package": {"ecosystem": "RubyGems", "name": "nokogiri"},
   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.13.0.rc1"}]}]}]}
X
# not matching: the same names in another ecosystem
rec GHSA-npm-rack <<'X'
{"id": "GHSA-npm-rack", "modified": "2024-01-01T00:00:00Z",
 "affected": [{"package": {"ecosystem": "npm", "name": "rack"},
   "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}]}]},
  {"package": {"ecosystem": "PyPI", "name": "racc"},
   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}]}
X
"$CUSTOMS_BIN" db import --db "$DB" "$OSV" >"$T/import.out" 2>&1
is "$?" 0 "customs db import"
like "$(cat "$T/import.out")" "6 added" "six records added"

"$CUSTOMS_BIN" report --db "$DB" --format json ruby/app:v1 >"$T/report.json" 2>>"$T/report.err"
is "$?" 0 "customs report after the import"
# one finding per affected package instance, with the index of the layer that brought it
WANT_VULNS="GHSA-loofah-0001 loofah@2.19.0 -> 2.19.1 layer 1
GHSA-nokogiri-0001 nokogiri@1.13.0 -> 1.13.4 layer 0
GHSA-nokogiri-0001 nokogiri@1.13.0 -> 1.13.4 layer 1
GHSA-rack-0001 rack@2.2.3 -> 2.2.6.4 layer 0"
VULNS_JQ='. as $r | [.vulnerabilities[] | . as $v | ($r.layers | map(.digest) | index($v.layer)) as $i
  | "\($v.id) \($v.package)@\($v.version) -> \($v.fixed_version) layer \($i)"] | sort | .[]'
is "$(jq -r "$VULNS_JQ" "$T/report.json")" "$WANT_VULNS" "exactly the planted findings, each in its layer"
is "$(jq -r '[.vulnerabilities[] | .ecosystem] | unique | join(",")' "$T/report.json")" "RubyGems" \
    "findings in the RubyGems ecosystem"
is "$(jq -r '[.vulnerabilities[] | select(.package == "rack") | .version] | join(",")' "$T/report.json")" "2.2.3" \
    "rack 2.2.22 from Debian is not affected"

# ---- the offline scan agrees with the stream --------------------------------------
"$CUSTOMS_BIN" scan --db "$DB" --format json "oci:$IMG:v1" >"$T/scan.json" 2>"$T/scan.err"
is "$?" 0 "customs scan oci:DIR"
is "$(jq -r "$PKGS_JQ" "$T/scan.json")" "$(jq -r "$PKGS_JQ" "$T/report.json")" "scan lists the same packages"
is "$(jq -r "$VULNS_JQ" "$T/scan.json")" "$(jq -r "$VULNS_JQ" "$T/report.json")" "scan yields the same findings"
is "$(jq -c '[.packages[] | .purl] | sort' "$T/scan.json")" "$(jq -c '[.packages[] | .purl] | sort' "$T/report.json")" \
    "and the same purls"
is "$(jq -c '[.layers[] | .found]' "$T/scan.json")" "$(jq -c '[.layers[] | .found]' "$T/report.json")" \
    "and the same per-layer counts"
kill -0 "$CUS_PID" 2>/dev/null
is "$?" 0 "customs is still running"

done_testing
