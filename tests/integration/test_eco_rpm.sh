#!/bin/bash
# tests/integration/test_eco_rpm.sh - RHEL-family images pushed through
# customs (issue 16), one per rpm database kind:
#   rocky8  Rocky Linux 8, var/lib/rpm/Packages (BerkeleyDB hash)
#   alma9   AlmaLinux 9, var/lib/rpm/Packages.db (NDB)
#   bootc   RHEL 9 bootc/rpm-ostree layout, usr/share/rpm/rpmdb.sqlite
# `customs report` lists exactly the planted packages with the OS's
# ecosystem, the OSV records written here yield exactly the planted findings
# (rpm version order with epochs: a fix at epoch 1 is not undercut by an
# epoch-0 comparison), and the offline `customs scan` agrees.  TAP output.
#
# Fixtures (tests/fixtures/rpm/, see mkrpmdb.py): the header blobs are real
# (three rpms built with rpmbuild, installed with rpm --justdb); Packages
# was written by db5.3_load and reads with rpm's own bdb_ro backend;
# Packages.ndb (an NDB Packages.db; .gitignore ignores *.db) was written
# byte for byte to rpm's NDB format (Debian's rpm has no ndb backend); the
# sqlite database is made here with rpm's schema.
# Owner: rpmdb.

. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/mkimage.sh"

command -v jq >/dev/null || bail_out "jq is required"
command -v skopeo >/dev/null || bail_out "skopeo is required"
command -v python3 >/dev/null || bail_out "python3 is required"
direct_mode && { echo "1..0 # SKIP needs customs (CUSTOMS_TEST_DIRECT=1)"; exit 0; }
FIX=$top_srcdir/tests/fixtures/rpm
[ -f "$FIX/Packages" ] && [ -f "$FIX/Packages.ndb" ] || bail_out "fixtures not found in $FIX"

osrel() { # DIR ID VERSION_ID NAME
    mkdir -p "$1/etc"
    printf 'NAME="%s"\nID="%s"\nVERSION_ID="%s"\nPLATFORM_ID="platform:el%s"\n' "$4" "$2" "$3" "${3%%.*}" \
        >"$1/etc/os-release"
}

R=$T/rocky8
osrel "$R" rocky 8.9 "Rocky Linux"
mkdir -p "$R/var/lib/rpm" && cp "$FIX/Packages" "$R/var/lib/rpm/Packages"
A=$T/alma9
osrel "$A" almalinux 9.3 "AlmaLinux"
mkdir -p "$A/var/lib/rpm" && cp "$FIX/Packages.ndb" "$A/var/lib/rpm/Packages.db"
B=$T/bootc
osrel "$B" rhel 9.4 "Red Hat Enterprise Linux"
mkdir -p "$B/usr/share/rpm"
python3 - "$B/usr/share/rpm/rpmdb.sqlite" "$FIX"/openssl-libs.hdr "$FIX"/bash.hdr "$FIX"/tzdata.hdr <<'PY' ||
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("PRAGMA journal_mode=WAL")  # as rpm leaves it
db.execute("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)")
db.execute("CREATE TABLE Name (key TEXT NOT NULL, hnum INTEGER NOT NULL, idx INTEGER NOT NULL, "
           "PRIMARY KEY(key, hnum, idx)) WITHOUT ROWID")
for f in sys.argv[2:]:
    db.execute("INSERT INTO Packages (blob) VALUES (?)", (open(f, "rb").read(),))
db.commit()
db.close()
PY
    bail_out "cannot write the sqlite rpmdb"
rm -f "$B/usr/share/rpm/rpmdb.sqlite-wal" "$B/usr/share/rpm/rpmdb.sqlite-shm"

for n in rocky8 alma9 bootc; do
    oci_init "$T/img-$n" && oci_add_layer "$T/img-$n" "$T/$n" && oci_finish "$T/img-$n" v1 >/dev/null ||
        bail_out "cannot build the OCI layout of $n"
done

start_registry
start_customs
DB=$(cus_db 1)

for n in rocky8 alma9 bootc; do
    skopeo copy -q --dest-tls-verify=false "oci:$T/img-$n:v1" "docker://127.0.0.1:$CUS_PORT/rpm/$n:v1" \
        >"$T/push-$n.out" 2>&1
    is "$?" 0 "$n: skopeo push through customs"
done

# ---- the inventories --------------------------------------------------------------
PKGS_JQ='[.packages[] | .name + "@" + .version + " " + .ecosystem + " " + .path] | sort | .[]'
want_pkgs() { # DBPATH ECOSYSTEM
    printf '%s\n' "bash@4.4.20-4.el8_6 $2 $1" "openssl-libs@1:1.1.1k-5.el8_5 $2 $1" "tzdata@2023c-1.el8 $2 $1"
}
check_inventory() { # NAME DBPATH ECOSYSTEM PURL_NS
    local f=$T/report0-$1.json
    "$CUSTOMS_BIN" report --db "$DB" --format json "rpm/$1:v1" >"$f" 2>>"$T/report.err"
    is "$?" 0 "$1: customs report"
    is "$(jq -r "$PKGS_JQ" "$f")" "$(want_pkgs "$2" "$3")" "$1: exactly the planted packages, from $2, in $3"
    is "$(jq -r '[.packages[] | .type] | unique | join(",")' "$f")" "rpm" "$1: all of type rpm"
    is "$(jq -r '.packages[] | select(.name == "openssl-libs") | .purl' "$f")" \
        "pkg:rpm/$4/openssl-libs@1.1.1k-5.el8_5?epoch=1&distro=$5" "$1: purl with the epoch as a qualifier"
    is "$(jq -r '[.layers[] | .found.rpm // 0] | join(" ")' "$f")" "3" "$1: the layer says the rpm cataloger found 3"
    is "$(jq -r '[.layers[].notes[]] | length' "$f")" 0 "$1: no notes"
    is "$(jq '.vulnerabilities | length' "$f")" 0 "$1: no findings before any vulnerability data"
}
check_inventory rocky8 var/lib/rpm/Packages "Rocky Linux:8" rocky rocky-8.9
check_inventory alma9 var/lib/rpm/Packages.db "AlmaLinux:9" almalinux almalinux-9.3
check_inventory bootc usr/share/rpm/rpmdb.sqlite "Red Hat" rhel rhel-9.4

# ---- OSV records of our own (advisories name the source package) -------------------
OSV=$T/osv
mkdir -p "$OSV"
rec() { cat >"$OSV/$1.json"; }
rec RLSA-2022-0001 <<'X'
{"id": "RLSA-2022:0001", "modified": "2024-01-01T00:00:00Z", "database_specific": {"severity": "HIGH"},
 "affected": [{"package": {"ecosystem": "Rocky Linux:8", "name": "openssl"},
   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1:1.1.1k-6.el8_5"}]}]}]}
X
# not matching: fixed at epoch 1 below ours (an epoch-0 source version would sort before it)
rec RLSA-2021-0002 <<'X'
{"id": "RLSA-2021:0002", "modified": "2024-01-01T00:00:00Z",
 "affected": [{"package": {"ecosystem": "Rocky Linux:8", "name": "openssl"},
   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1:1.1.1k-4.el8"}]}]}]}
X
# not matching: bash fixed before ours; and Rocky 9 is another ecosystem
rec RLSA-2020-0003 <<'X'
{"id": "RLSA-2020:0003", "modified": "2024-01-01T00:00:00Z",
 "affected": [{"package": {"ecosystem": "Rocky Linux:8", "name": "bash"},
   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "4.4.19-12.el8"}]}]},
  {"package": {"ecosystem": "Rocky Linux:9", "name": "openssl"},
   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}]}
X
rec ALSA-2024-0004 <<'X'
{"id": "ALSA-2024:0004", "modified": "2024-01-01T00:00:00Z", "database_specific": {"severity": "MODERATE"},
 "affected": [{"package": {"ecosystem": "AlmaLinux:9", "name": "tzdata"},
   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2024a-1.el9"}]}]}]}
X
# rpm order: 4.4.20-4.el8_6 < 4.4.20-4.el8_6.1 (the fix), and not < 4.4.20-4.el8_6~beta
rec RHSA-2024-0005 <<'X'
{"id": "RHSA-2024:0005", "modified": "2024-01-01T00:00:00Z", "database_specific": {"severity": "LOW"},
 "affected": [{"package": {"ecosystem": "Red Hat", "name": "bash"},
   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "4.4.20-4.el8_6.1"}]}]}]}
X
rec RHSA-2024-0006 <<'X'
{"id": "RHSA-2024:0006", "modified": "2024-01-01T00:00:00Z",
 "affected": [{"package": {"ecosystem": "Red Hat", "name": "bash"},
   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "4.4.20-4.el8_6~beta"}]}]}]}
X
"$CUSTOMS_BIN" db import --db "$DB" "$OSV" >"$T/import.out" 2>&1
is "$?" 0 "customs db import"
like "$(cat "$T/import.out")" "6 added" "six records added"

VULNS_JQ='[.vulnerabilities[] | .id + " " + .package + "@" + .version + " -> " + .fixed_version + " " + .ecosystem] | unique | .[]'
check_vulns() { # NAME WANT
    local f=$T/report-$1.json
    "$CUSTOMS_BIN" report --db "$DB" --format json "rpm/$1:v1" >"$f" 2>>"$T/report.err"
    is "$?" 0 "$1: customs report after the import"
    is "$(jq -r "$VULNS_JQ" "$f")" "$2" "$1: exactly the planted findings"
    # the offline scan agrees with what was found in the stream
    "$CUSTOMS_BIN" scan --db "$DB" --format json "oci:$T/img-$1:v1" >"$T/scan-$1.json" 2>"$T/scan-$1.err"
    is "$?" 0 "$1: customs scan oci:DIR"
    is "$(jq -r "$PKGS_JQ" "$T/scan-$1.json")" "$(jq -r "$PKGS_JQ" "$f")" "$1: scan lists the same packages"
    is "$(jq -r "$VULNS_JQ" "$T/scan-$1.json")" "$(jq -r "$VULNS_JQ" "$f")" "$1: scan yields the same findings"
    is "$(jq -c '[.packages[] | .purl] | sort' "$T/scan-$1.json")" "$(jq -c '[.packages[] | .purl] | sort' "$f")" \
        "$1: and the same purls"
    is "$(jq -c '[.layers[] | .found]' "$T/scan-$1.json")" "$(jq -c '[.layers[] | .found]' "$f")" \
        "$1: and the same per-layer counts"
}
check_vulns rocky8 "RLSA-2022:0001 openssl-libs@1:1.1.1k-5.el8_5 -> 1:1.1.1k-6.el8_5 Rocky Linux:8"
check_vulns alma9 "ALSA-2024:0004 tzdata@2023c-1.el8 -> 2024a-1.el9 AlmaLinux:9"
check_vulns bootc "RHSA-2024:0005 bash@4.4.20-4.el8_6 -> 4.4.20-4.el8_6.1 Red Hat"

kill -0 "$CUS_PID" 2>/dev/null
is "$?" 0 "customs is still running"
done_testing
