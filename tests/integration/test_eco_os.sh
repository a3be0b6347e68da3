#!/bin/bash
# tests/integration/test_eco_os.sh - the OS package ecosystems that share a
# database format with one already cataloged: Wolfi (apk's installed
# database, with Wolfi's origins and -rN releases, OSV ecosystem "Wolfi"
# without a release) and Ubuntu (dpkg's status, matched against Ubuntu
# records with dpkg's version rules, OSV ecosystem "Ubuntu:22.04:LTS" naming
# the same release as "Ubuntu:22.04").  Each image is pushed through
# customs; the report lists exactly the planted packages and findings, and
# `customs scan` of the same layout agrees.  The OSV records are written for
# the test; the database files follow apk-tools' and dpkg's formats.  TAP.

. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/mkimage.sh"

command -v jq >/dev/null || bail_out "jq is required"
command -v skopeo >/dev/null || bail_out "skopeo is required"
direct_mode && { echo "1..0 # SKIP needs customs (CUSTOMS_TEST_DIRECT=1)"; exit 0; }

start_registry
start_customs
DB=$(cus_db 1)

# ---- Wolfi: apk's database, ID=wolfi ---------------------------------------------
W=$T/wolfi
mkdir -p "$W/etc" "$W/lib/apk/db"
cat >"$W/etc/os-release" <<'X'
ID=wolfi
NAME="Wolfi"
PRETTY_NAME="Wolfi"
VERSION_ID="20230201"
HOME_URL="https://wolfi.dev"
X
# apk-tools' installed database: P name, V version, o origin, blank line between
cat >"$W/lib/apk/db/installed" <<'X'
C:Q1abcdefghijklmnopqrstuvwxyz01=
P:libcrypto3
V:3.1.0-r2
A:x86_64
S:1638400
I:4505600
T:OpenSSL libcrypto library
o:openssl
m:Wolfi
t:1680000000

C:Q1bcdefghijklmnopqrstuvwxyz012=
P:glibc
V:2.37-r6
A:x86_64
S:2000000
I:6000000
T:the GNU C library
o:glibc
m:Wolfi
t:1680000000

X
oci_init "$T/wimg" && oci_add_layer "$T/wimg" "$W" && oci_finish "$T/wimg" v1 >/dev/null || bail_out "wolfi image"

# ---- Ubuntu 22.04: dpkg's status --------------------------------------------------
U=$T/ubuntu
mkdir -p "$U/etc" "$U/var/lib/dpkg" "$U/usr/lib"
cat >"$U/usr/lib/os-release" <<'X'
PRETTY_NAME="Ubuntu 22.04.3 LTS"
NAME="Ubuntu"
VERSION_ID="22.04"
VERSION="22.04.3 LTS (Jammy Jellyfish)"
VERSION_CODENAME=jammy
ID=ubuntu
ID_LIKE=debian
UBUNTU_CODENAME=jammy
X
ln -s ../usr/lib/os-release "$U/etc/os-release"
echo "bookworm/sid" >"$U/etc/debian_version" # Ubuntu's says so: not a Debian release
cat >"$U/var/lib/dpkg/status" <<'X'
Package: libssl3
Status: install ok installed
Priority: important
Section: libs
Installed-Size: 5800
Maintainer: Ubuntu Developers <ubuntu-devel-discuss@lists.ubuntu.com>
Architecture: amd64
Multi-Arch: same
Source: openssl
Version: 3.0.2-0ubuntu1.10
Description: Secure Sockets Layer toolkit - shared libraries

Package: bash
Essential: yes
Status: install ok installed
Priority: required
Section: shells
Installed-Size: 1864
Maintainer: Ubuntu Developers <ubuntu-devel-discuss@lists.ubuntu.com>
Architecture: amd64
Version: 5.1-6ubuntu1
Description: GNU Bourne Again SHell

X
oci_init "$T/uimg" && oci_add_layer "$T/uimg" "$U" && oci_finish "$T/uimg" v1 >/dev/null || bail_out "ubuntu image"

for n in wimg uimg; do
    skopeo copy -q --dest-tls-verify=false "oci:$T/$n:v1" "docker://127.0.0.1:$CUS_PORT/os/$n:v1" >>"$T/push.out" 2>&1
    is "$?" 0 "push of $n through customs"
done

PKGS_JQ='[.packages[] | .ecosystem + " " + .name + "@" + .version + " src=" + (.source_name // "-")] | sort | .[]'
"$CUSTOMS_BIN" report --db "$DB" --format json os/wimg:v1 >"$T/w0.json" 2>"$T/report.err"
is "$(jq -r "$PKGS_JQ" "$T/w0.json")" "Wolfi glibc@2.37-r6 src=glibc
Wolfi libcrypto3@3.1.0-r2 src=openssl" "wolfi: exactly the planted packages, ecosystem Wolfi, origin as source"
is "$(jq -r '.os.id' "$T/w0.json")" "wolfi" "wolfi: the OS"
"$CUSTOMS_BIN" report --db "$DB" --format json os/uimg:v1 >"$T/u0.json" 2>>"$T/report.err"
is "$(jq -r "$PKGS_JQ" "$T/u0.json")" "Ubuntu:22.04 bash@5.1-6ubuntu1 src=-
Ubuntu:22.04 libssl3@3.0.2-0ubuntu1.10 src=openssl" "ubuntu: exactly the planted packages, ecosystem Ubuntu:22.04"

# ---- OSV records written for the test ---------------------------------------------
OSV=$T/osv
mkdir -p "$OSV"
rec() { cat >"$OSV/$1.json"; }
# Wolfi: by origin (source) name, apk version order (-r2 < -r3)
rec CGA-openssl-0001 <<'X'
{"id": "CGA-openssl-0001", "modified": "2024-01-01T00:00:00Z", "aliases": ["CVE-2099-7001"],
 "affected": [{"package": {"ecosystem": "Wolfi", "name": "openssl"},
   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.1.0-r3"}]}]}]}
X
# not matching: glibc fixed at the installed release
rec CGA-glibc-0001 <<'X'
{"id": "CGA-glibc-0001", "modified": "2024-01-01T00:00:00Z",
 "affected": [{"package": {"ecosystem": "Wolfi", "name": "glibc"},
   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.37-r6"}]}]}]}
X
# not matching: the same name in Alpine
rec ALPINE-openssl-0001 <<'X'
{"id": "ALPINE-openssl-0001", "modified": "2024-01-01T00:00:00Z",
 "affected": [{"package": {"ecosystem": "Alpine:v3.19", "name": "openssl"},
   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "9.9.9-r0"}]}]}]}
X
# Ubuntu: the release as OSV names it (":LTS"), dpkg order (ubuntu1.10 < ubuntu1.11)
rec UBUNTU-CVE-2099-7002 <<'X'
{"id": "UBUNTU-CVE-2099-7002", "modified": "2024-01-01T00:00:00Z", "upstream": ["CVE-2099-7002"],
 "affected": [{"package": {"ecosystem": "Ubuntu:22.04:LTS", "name": "openssl"},
   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.0.2-0ubuntu1.11"}]}]}]}
X
# not matching: fixed below the installed version (ubuntu1.9 < ubuntu1.10 in dpkg order,
# though a plain string order would say otherwise)
rec UBUNTU-CVE-2099-7003 <<'X'
{"id": "UBUNTU-CVE-2099-7003", "modified": "2024-01-01T00:00:00Z",
 "affected": [{"package": {"ecosystem": "Ubuntu:22.04:LTS", "name": "openssl"},
   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.0.2-0ubuntu1.9"}]}]}]}
X
# not matching: another Ubuntu release, and Debian
rec UBUNTU-CVE-2099-7004 <<'X'
{"id": "UBUNTU-CVE-2099-7004", "modified": "2024-01-01T00:00:00Z",
 "affected": [{"package": {"ecosystem": "Ubuntu:20.04:LTS", "name": "bash"},
   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "9.9"}]}]},
  {"package": {"ecosystem": "Debian:12", "name": "bash"},
   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "9.9"}]}]}]}
X
"$CUSTOMS_BIN" db import --db "$DB" "$OSV" >"$T/import.out" 2>&1
is "$?" 0 "customs db import"

VULNS_JQ='[.vulnerabilities[] | "\(.id) \(.package)@\(.version) -> \(.fixed_version)"] | sort | .[]'
"$CUSTOMS_BIN" report --db "$DB" --format json os/wimg:v1 >"$T/w.json" 2>>"$T/report.err"
is "$(jq -r "$VULNS_JQ" "$T/w.json")" "CGA-openssl-0001 libcrypto3@3.1.0-r2 -> 3.1.0-r3" \
    "wolfi: exactly the planted finding, matched by origin"
"$CUSTOMS_BIN" report --db "$DB" --format json os/uimg:v1 >"$T/u.json" 2>>"$T/report.err"
is "$(jq -r "$VULNS_JQ" "$T/u.json")" "UBUNTU-CVE-2099-7002 libssl3@3.0.2-0ubuntu1.10 -> 3.0.2-0ubuntu1.11" \
    "ubuntu: exactly the planted finding (Ubuntu:22.04:LTS is Ubuntu:22.04; dpkg order)"

# ---- the offline scan agrees with the stream --------------------------------------
for n in w u; do
    "$CUSTOMS_BIN" scan --db "$DB" --format json "oci:$T/${n}img:v1" >"$T/$n-scan.json" 2>"$T/scan.err"
    is "$(jq -r "$PKGS_JQ" "$T/$n-scan.json")" "$(jq -r "$PKGS_JQ" "$T/$n.json")" "$n: scan lists the same packages"
    is "$(jq -r "$VULNS_JQ" "$T/$n-scan.json")" "$(jq -r "$VULNS_JQ" "$T/$n.json")" "$n: scan yields the same findings"
done
kill -0 "$CUS_PID" 2>/dev/null
is "$?" 0 "customs is still running"

done_testing
