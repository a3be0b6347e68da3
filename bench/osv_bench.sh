#!/bin/bash
# bench/osv_bench.sh - OSV import and re-match speed.
#
#   1. `customs db import` of real OSV zips (Go.zip, PyPI.zip, Debian.zip as
#      OSV publishes them per ecosystem, in the directory OSV_DIR) into a fresh database, interleaved with a re-import
#      of the same zips into the filled database (all unchanged): 3 rounds,
#      medians and peak RSS reported.
#   1b. With SYNTH=N, N synthetic records (bench/osv_synth.py, seed
#      SYNTH_SEED) are imported along with the zips, to reach the size of the
#      full OSV export (~200,000 records); with REAL_IMAGE set, their names
#      partly overlap that image's packages.
#   1c. With REAL_IMAGE=oci:DIR:REF (bench/real_image.sh builds one), 3
#      offline `customs scan` runs of that image against a copy of the
#      imported database, image not stored yet (a first judgement: the
#      matcher loads what the image's packages need).
#   2. A synthetic store of IMAGES images x 300 packages (each image = one
#      of 50 shared Debian base layers with 200 dpkg packages + its own
#      application layer with 100 PyPI/Go packages; names drawn from the
#      imported data so that many match), then the re-match of every image
#      that follows an import (one changed record): 3 runs without stored
#      findings (every finding written), then 3 where they are unchanged.
# Goals: the full export (SYNTH=192545 with the three real zips: 200,000
# records) imported in <= 30 s and <= 128 MiB peak RSS; re-match under 5 s.
# CPU time (user+sys) is reported next to wall time: on a shared machine
# it is the steadier figure.
#
# Usage: bench/osv_bench.sh [IMAGES]
#   env: CUSTOMS_BIN, OSV_DIR, KEEP_TMP=1, SYNTH=N, SYNTH_SEED, REAL_IMAGE
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
CUSTOMS_BIN=${CUSTOMS_BIN:-$TOP/customs}
OSV_DIR=${OSV_DIR:-}
[ -n "$OSV_DIR" ] || { echo "set OSV_DIR to a directory holding OSV's Go.zip, PyPI.zip and/or Debian.zip" >&2; exit 2; }
IMAGES=${1:-10000}
[ -x "$CUSTOMS_BIN" ] || { echo "customs binary not found: $CUSTOMS_BIN" >&2; exit 1; }
command -v sqlite3 >/dev/null || { echo "sqlite3 is required" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time is required" >&2; exit 1; }
ZIPS=()
for z in Go PyPI Debian; do [ -f "$OSV_DIR/$z.zip" ] && ZIPS+=("$OSV_DIR/$z.zip"); done
[ ${#ZIPS[@]} -gt 0 ] || { echo "no OSV zips in $OSV_DIR" >&2; exit 1; }
W=$(mktemp -d "${TMPDIR:-/tmp}/osv-bench.XXXXXX")
[ "${KEEP_TMP:-0}" = 1 ] || trap 'rm -rf "$W"' EXIT
REAL_IMAGE=${REAL_IMAGE:-}
if [ "${SYNTH:-0}" -gt 0 ]; then
    command -v python3 >/dev/null || { echo "python3 is required for SYNTH" >&2; exit 1; }
    names=()
    if [ -n "$REAL_IMAGE" ]; then # the image's packages (Debian: source names), to overlap with
        "$CUSTOMS_BIN" scan --format json "$REAL_IMAGE" >"$W/names.json" || exit 1
        python3 -c 'import json, sys
for p in json.load(open(sys.argv[1]))["packages"]:
    if p.get("ecosystem"): print("%s\t%s" % (p["ecosystem"], p.get("source_name") or p["name"]))' \
            "$W/names.json" | sort -u >"$W/names.tsv" || exit 1
        names=(--names "$W/names.tsv")
    fi
    python3 "$TOP/bench/osv_synth.py" -n "$SYNTH" -o "$W/synth" --seed "${SYNTH_SEED:-1}" "${names[@]}" >/dev/null ||
        exit 1
    ZIPS+=("$W"/synth/*.zip)
fi

# run NAME CMD...: appends "seconds peak_kib cpu_seconds" to $W/NAME.times
run() {
    local name=$1
    shift
    /usr/bin/time -v -o "$W/time.out" "$@" >"$W/$name.out" 2>&1 || { cat "$W/$name.out" >&2; exit 1; }
    local wall rss cpu
    cpu=$(awk -F': ' '/User time|System time/ {s += $2} END {print s}' "$W/time.out")
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, a, ":"); s = 0;
        for (i = 1; i <= n; i++) s = s * 60 + a[i]; print s}' "$W/time.out")
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$W/time.out")
    echo "$wall $rss $cpu" >>"$W/$name.times"
}
median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
report() { # NAME LABEL
    printf '%-44s median %6.2f s   (runs: %s)   user+sys median %6.2f s   peak RSS %s MiB\n' "$2" \
        "$(cut -d' ' -f1 "$W/$1.times" | median)" "$(cut -d' ' -f1 "$W/$1.times" | tr '\n' ' ' | sed 's/ $//')" \
        "$(cut -d' ' -f3 "$W/$1.times" | median)" \
        "$(cut -d' ' -f2 "$W/$1.times" | sort -n | tail -1 | awk '{printf "%.0f", $1 / 1024}')"
}

echo "customs OSV bench: $(printf '%s ' "${ZIPS[@]##*/}")($(du -cb "${ZIPS[@]}" | tail -1 | cut -f1) bytes zipped)"
for round in 1 2 3; do
    rm -f "$W/fresh.db"*
    run import "$CUSTOMS_BIN" db import --db "$W/fresh.db" "${ZIPS[@]}"
    run reimport "$CUSTOMS_BIN" db import --db "$W/fresh.db" "${ZIPS[@]}"
done
grep -h 'added' "$W/import.out" | sed 's/^/  /'
report import "import into a fresh db"
report reimport "re-import (every record unchanged)"
echo "records: $(sqlite3 "$W/fresh.db" "SELECT count(*) FROM vulns"), affected packages:" \
    "$(sqlite3 "$W/fresh.db" "SELECT count(*) FROM vuln_affected")"

# ---- a first judgement of a real image -----------------------------------------
if [ -n "$REAL_IMAGE" ]; then
    for round in 1 2 3; do
        cp "$W/fresh.db" "$W/scan.db"
        rm -f "$W/scan.db-"*
        run scan "$CUSTOMS_BIN" scan --db "$W/scan.db" --format json "$REAL_IMAGE"
    done
    echo "  $(python3 -c 'import json, sys; d = json.load(open(sys.argv[1]))
print(len(d["packages"]), "packages,", len(d["vulnerabilities"]), "findings")' "$W/scan.out" 2>/dev/null)"
    report scan "scan + match of $REAL_IMAGE"
    rm -f "$W/scan.db"*
fi

# ---- synthetic store -----------------------------------------------------------
cp "$W/fresh.db" "$W/big.db"
rm -f "$W/fresh.db"*
t0=$(date +%s.%N)
sqlite3 "$W/big.db" >/dev/null <<SQL || exit 1
PRAGMA journal_mode=WAL;
PRAGMA synchronous=OFF;
BEGIN;
CREATE TEMP TABLE deb AS SELECT DISTINCT name FROM vuln_affected WHERE ecosystem = 'Debian:12' ORDER BY name;
CREATE TEMP TABLE lang AS SELECT DISTINCT ecosystem, name FROM vuln_affected
  WHERE ecosystem IN ('PyPI', 'Go') ORDER BY ecosystem, name;
CREATE TEMP TABLE n(i INTEGER PRIMARY KEY);
WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < max($IMAGES, 200) - 1)
  INSERT INTO n SELECT i FROM c;
INSERT INTO layers (digest, status, scanned_at, os_id, os_version_id, os_path)
  SELECT printf('sha256:b%063d', i), 'ok', 0, 'debian', '12', 'etc/os-release' FROM n WHERE i < 50;
INSERT INTO layer_packages (layer, seq, type, ecosystem, name, version, source_name, source_version, path)
  SELECT printf('sha256:b%063d', b.i), p.i, 'deb', NULL, 'bin-' || d.name,
         CASE WHEN p.i % 10 = 0 THEN '0.1-1' ELSE '999:1-1' END, d.name, NULL, 'var/lib/dpkg/status'
  FROM n b JOIN n p ON b.i < 50 AND p.i < 200
  JOIN deb d ON d.rowid = 1 + (b.i * 37 + p.i) % (SELECT count(*) FROM deb);
INSERT INTO layers (digest, status, scanned_at)
  SELECT printf('sha256:a%063d', i), 'ok', 0 FROM n WHERE i < $IMAGES;
INSERT INTO layer_packages (layer, seq, type, ecosystem, name, version, path)
  SELECT printf('sha256:a%063d', a.i), p.i, CASE l.ecosystem WHEN 'Go' THEN 'go' ELSE 'python' END,
         l.ecosystem, l.name, CASE WHEN p.i % 10 = 0 THEN 'v0.0.1' ELSE '999.0.0' END,
         'app/' || p.i
  FROM n a JOIN n p ON a.i < $IMAGES AND p.i < 100
  JOIN lang l ON l.rowid = 1 + (a.i * 101 + p.i * 7) % (SELECT count(*) FROM lang);
INSERT INTO images (digest, kind, stored_at) SELECT printf('sha256:c%063d', i), 'image', 0 FROM n WHERE i < $IMAGES;
INSERT INTO image_layers (image, idx, layer) SELECT printf('sha256:c%063d', i), 0, printf('sha256:b%063d', i % 50)
  FROM n WHERE i < $IMAGES;
INSERT INTO image_layers (image, idx, layer) SELECT printf('sha256:c%063d', i), 1, printf('sha256:a%063d', i)
  FROM n WHERE i < $IMAGES;
COMMIT;
SQL
t1=$(date +%s.%N)
echo "synthetic store: $(sqlite3 "$W/big.db" "SELECT count(*) FROM images") images," \
    "$(sqlite3 "$W/big.db" "SELECT count(*) FROM layer_packages") layer packages" \
    "($(awk "BEGIN {printf \"%.1f\", $t1 - $t0}") s to generate, $(du -m "$W/big.db" | cut -f1) MiB)"

for round in 1 2 3 4 5 6; do
    # one changed record: the import is trivial, the time is the re-match.
    # Rounds 1-3 start without stored findings (every finding written),
    # rounds 4-6 find them unchanged (only the generation moves).
    name=rematch
    if [ $round -le 3 ]; then
        name=rematch_full
        # derived data only (layer_findings since schema 4, findings before)
        t=$(sqlite3 "$W/big.db" "SELECT CASE WHEN count(*) THEN 'layer_findings' ELSE 'findings' END
            FROM sqlite_master WHERE name = 'layer_findings'")
        sqlite3 "$W/big.db" "DELETE FROM matched_images; DELETE FROM $t;" || exit 1
    fi
    printf '{"id":"BENCH-1","modified":"2030-01-01T00:00:%02dZ","affected":[{"package":{"ecosystem":"PyPI","name":"bench"},"versions":["1"]}]}' \
        "$round" >"$W/bench.json"
    run $name "$CUSTOMS_BIN" db import --db "$W/big.db" "$W/bench.json"
done
grep -h 're-matched' "$W/rematch.out" | sed 's/^/  /'
report rematch_full "re-match $IMAGES images, no stored findings"
report rematch "re-match $IMAGES images, findings unchanged"
