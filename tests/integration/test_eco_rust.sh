#!/bin/bash
# tests/integration/test_eco_rust.sh - a Rust image pushed through customs
# with skopeo: binaries carrying a cargo-auditable ".dep-v0" section and an
# application's Cargo.lock.  The report lists exactly the planted crates.io
# packages, OSV records written here (ecosystem crates.io) give exactly the
# planted findings, and the offline `customs scan --format json oci:DIR`
# agrees with the in-stream result.
#
# cargo-auditable is not in Debian, so its binaries are made the two ways the
# section can get into a real ELF file, with the section's content written
# byte for byte to cargo-auditable's published format (zlib-compressed
# compact JSON {"packages":[{"name","version","source","kind",
# "dependencies","root"}]}):
#   - rustapp: a C program compiled here whose array is placed in a section
#     named .dep-v0, kept by the linker in a loaded segment before the code's
#     end - where cargo-auditable's linked-in object puts it;
#   - objapp: a copy of /bin/true with the section added by
#     `objcopy --add-section .dep-v0=FILE --set-section-flags .dep-v0=noload,readonly`.
# Planted traps that must give nothing: the same JSON in .rodata of a binary
# without .dep-v0, the root crate and path/git crates, a crate of another
# registry with a vulnerable crates.io name, a Cargo.lock cargo generated
# (path crates only), and a zlib bomb in .dep-v0 (named in the layer notes).
# TAP output.

. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/mkimage.sh"

command -v jq >/dev/null || bail_out "jq is required"
command -v skopeo >/dev/null || bail_out "skopeo is required"
command -v python3 >/dev/null || bail_out "python3 is required"
command -v gcc >/dev/null || bail_out "gcc is required"
command -v objcopy >/dev/null || bail_out "objcopy (binutils) is required"
direct_mode && { echo "1..0 # SKIP needs customs (CUSTOMS_TEST_DIRECT=1)"; exit 0; }
FIX=$top_srcdir/tests/fixtures/rust
[ -f "$FIX/Cargo.lock" ] || bail_out "fixture missing: $FIX/Cargo.lock"

start_registry
start_customs
DB=$(cus_db 1)

# ---- the section contents: cargo-auditable's JSON, zlib-compressed ----
# dep FILE 'name version source [root]' ... : writes the compressed section
dep() {
    local out=$1; shift
    python3 - "$out" "$@" <<'PY'
import json, sys, zlib
pk = []
for spec in sys.argv[2:]:
    f = spec.split()
    p = {"name": f[0], "version": f[1], "source": f[2], "kind": "runtime", "dependencies": []}
    if len(f) > 3: p["root"] = True
    pk.append(p)
pk[0]["dependencies"] = list(range(1, len(pk)))
doc = json.dumps({"packages": pk}, separators=(",", ":")).encode()
if len(sys.argv) == 3 and sys.argv[2] == "bomb x y":  # 64 MiB of JSON whitespace
    doc = b'{"packages":[' + b" " * (64 << 20)
open(sys.argv[1], "wb").write(zlib.compress(doc, 7))
PY
}
# c_array FILE: FILE's bytes as a C initializer
c_array() { python3 -c 'import sys; print(",".join(str(b) for b in open(sys.argv[1], "rb").read()))' "$1"; }

B=$T/build
mkdir -p "$B"
dep "$B/rustapp.z" "rustapp 0.1.0 local root" "smallvec 1.6.0 crates.io" "time 0.1.43 crates.io" \
    "mylocal 0.2.0 local" "gitdep 0.3.0 git" || bail_out "cannot write the .dep-v0 JSON"
cat >"$B/rustapp.c" <<C
/* the array lands in a section named .dep-v0, as cargo-auditable's symbol does */
__attribute__((section(".dep-v0"), used)) static const unsigned char dep_v0[] = {$(c_array "$B/rustapp.z")};
int main(void) { return 0; }
C
gcc -O1 -o "$B/rustapp" "$B/rustapp.c" || bail_out "gcc failed"
dep "$B/objapp.z" "objapp 2.0.0 crates.io root" "regex 1.5.4 crates.io" "cc 1.0.79 registry" || bail_out "dep"
cp /bin/true "$B/objapp" && chmod u+w "$B/objapp" &&
    objcopy --add-section .dep-v0="$B/objapp.z" --set-section-flags .dep-v0=noload,readonly "$B/objapp" ||
    bail_out "objcopy failed"
# the decoy: the JSON in .rodata, no .dep-v0 section
dep "$B/decoy.z" "decoy 0.1.0 local root" "evil-crate 0.1.0 crates.io" || bail_out "dep"
cat >"$B/decoy.c" <<C
const unsigned char blob[] = {$(c_array "$B/decoy.z")};
int main(int argc, char **argv) { (void)argv; return blob[argc]; }
C
gcc -O1 -o "$B/decoy" "$B/decoy.c" || bail_out "gcc failed"
dep "$B/bomb.z" "bomb x y" || bail_out "dep"
cp /bin/true "$B/bomb" && chmod u+w "$B/bomb" &&
    objcopy --add-section .dep-v0="$B/bomb.z" --set-section-flags .dep-v0=noload,readonly "$B/bomb" ||
    bail_out "objcopy failed"
is "$(readelf -S -W "$B/rustapp" | grep -c ' \.dep-v0 ')$(readelf -S -W "$B/objapp" | grep -c ' \.dep-v0 ')$(readelf -S -W "$B/decoy" | grep -c ' \.dep-v0 ')" \
    110 "the fixtures are ELF files with (and without) a .dep-v0 section"

# ---- the image: binaries; the application's lock files; the bomb ----
R0=$T/l0 R1=$T/l1 R2=$T/l2
mkdir -p "$R0/usr/local/bin" "$R1/srv/app" "$R1/srv/tool" "$R2/usr/local/bin"
cp "$B/rustapp" "$B/objapp" "$B/decoy" "$R0/usr/local/bin/"
# lock format 3 as Cargo writes it: root, path and git crates, another
# registry's "time" (vulnerable name, not crates.io), crates.io by its git
# and by its sparse index
cat >"$R1/srv/app/Cargo.lock" <<'L'
# This file is automatically @generated by Cargo.
# It is not intended for manual editing.
version = 3

[[package]]
name = "server"
version = "1.0.0"
dependencies = [
 "helper",
 "smallvec",
 "time",
 "tokio",
]

[[package]]
name = "helper"
version = "0.1.0"

[[package]]
name = "private-time"
version = "0.1.40"
source = "git+https://example.invalid/time.git#4f8e1f2d0a9b3c7d6e5f4a3b2c1d0e9f8a7b6c5d"

[[package]]
name = "smallvec"
version = "1.6.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "fe0f37c9e8f3c5a4a66ad655a93c74daac4ad00c441533bf5c6e7990bb42604e"

[[package]]
name = "time"
version = "0.1.43"
source = "registry+https://example.invalid/private-index"
checksum = "ca8a50ef2360fbd1eeb0ecd46795a87a19024eb4b53c5dc916ca1fd95fe62438"

[[package]]
name = "tokio"
version = "1.8.0"
source = "sparse+https://index.crates.io/"
checksum = "570c2eb13b3ab38208130eccd41be92520388791207fde783bda7c1e8ace28d4"
L
cp "$FIX/Cargo.lock" "$R1/srv/tool/Cargo.lock"
cp "$B/bomb" "$R2/usr/local/bin/bomb"
oci_init "$T/rust" && oci_add_layer "$T/rust" "$R0" && oci_add_layer "$T/rust" "$R1" &&
    oci_add_layer "$T/rust" "$R2" && oci_finish "$T/rust" v1 >/dev/null || bail_out "cannot build the Rust image"

skopeo copy -q --dest-tls-verify=false "oci:$T/rust:v1" "docker://127.0.0.1:$CUS_PORT/eco/rust:v1" \
    >"$T/push.out" 2>&1
is "$?" 0 "skopeo push of the Rust image through customs"
is "$(grep -c 'scan layer=.*via=upload.*status=ok' "$CUS_LOG")" 3 "all three layers scanned in-stream"

# ---- OSV records of our own (crates.io) ----
OSV=$T/osv
mkdir -p "$OSV"
rec() { # id crate introduced fixed
    printf '{"id": "%s", "modified": "2023-01-01T00:00:00Z", "affected": [{"package": {"ecosystem": "crates.io", "name": "%s"}, "ranges": [{"type": "SEMVER", "events": [{"introduced": "%s"}, {"fixed": "%s"}]}]}]}\n' \
        "$1" "$2" "$3" "$4" >"$OSV/$1.json"
}
rec RUSTSEC-2021-0003 smallvec 1.0.0 1.6.1
rec RUSTSEC-2020-0071 time 0.0.0-0 0.2.23
rec RUSTSEC-2022-0013 regex 0.0.0-0 1.5.5
rec RUSTSEC-2021-0124 tokio 1.8.0 1.8.4
# not affected: below the range, the decoy's crate, the root and path crates, a git crate
rec RUSTSEC-T-0001 smallvec 1.6.1 1.7.0
rec RUSTSEC-T-0002 evil-crate 0.0.0-0 9.0.0
rec RUSTSEC-T-0003 rustapp 0.0.0-0 9.0.0
rec RUSTSEC-T-0004 mylocal 0.0.0-0 9.0.0
rec RUSTSEC-T-0005 private-time 0.0.0-0 9.0.0
rec RUSTSEC-T-0006 tokio 1.8.4 1.9.0
"$CUSTOMS_BIN" db import --db "$DB" "$OSV" >"$T/import.out" 2>&1
is "$?" 0 "customs db import of the crates.io records"
like "$(cat "$T/import.out")" "10 added" "ten records added"

# ---- the report ----
OUT=$T/rust.json
"$CUSTOMS_BIN" report --db "$DB" --format json eco/rust:v1 >"$OUT" 2>"$T/report.err"
is "$?" 0 "customs report eco/rust:v1"
is "$(jq -r '[.packages[] | .type + ":" + .ecosystem + ":" + .name + "@" + .version + ":" + .path] | sort | join(" ")' "$OUT")" \
    "rust:crates.io:cc@1.0.79:usr/local/bin/objapp rust:crates.io:objapp@2.0.0:usr/local/bin/objapp rust:crates.io:regex@1.5.4:usr/local/bin/objapp rust:crates.io:smallvec@1.6.0:srv/app/Cargo.lock rust:crates.io:smallvec@1.6.0:usr/local/bin/rustapp rust:crates.io:time@0.1.43:usr/local/bin/rustapp rust:crates.io:tokio@1.8.0:srv/app/Cargo.lock" \
    "exactly the planted crates.io packages (root from crates.io kept; local, git, other registry, decoy left out)"
is "$(jq -r '[.vulnerabilities[] | .id + " " + .package + "@" + .version + " -> " + .fixed_version] | sort | join(", ")' "$OUT")" \
    "RUSTSEC-2020-0071 time@0.1.43 -> 0.2.23, RUSTSEC-2021-0003 smallvec@1.6.0 -> 1.6.1, RUSTSEC-2021-0003 smallvec@1.6.0 -> 1.6.1, RUSTSEC-2021-0124 tokio@1.8.0 -> 1.8.4, RUSTSEC-2022-0013 regex@1.5.4 -> 1.5.5" \
    "exactly the planted findings (smallvec twice: in rustapp and in the Cargo.lock)"
is "$(jq -c '[.layers[].found]' "$OUT")" '[{"rust":5},{"rust":2},{}]' "per layer: what the rust cataloger found"
like "$(jq -r '.layers[2].notes[]' "$OUT")" "zlib bomb refused: usr/local/bin/bomb" "the zlib bomb is refused, named in its layer's notes"
is "$(jq -r '[.layers[0,1].notes[]?] | length' "$OUT")" 0 "no notes on the good layers"
is "$(jq -r '[.packages[] | select(.name == "regex") | .purl] | join(" ")' "$OUT")" "pkg:cargo/regex@1.5.4" \
    "purl pkg:cargo/NAME@VERSION"

# ---- customs scan of the OCI layout agrees ----
norm='{packages: (.packages | map({type, ecosystem, name, version, path}) | sort_by(.path, .name)),
       vulnerabilities: (.vulnerabilities | map({id, package, version, fixed_version}) | sort_by(.id, .package)),
       found: [.layers[].found]}'
"$CUSTOMS_BIN" scan --db "$DB" --format json "oci:$T/rust:v1" >"$T/scan.json" 2>"$T/scan.err"
is "$(jq -cS "$norm" "$T/scan.json")" "$(jq -cS "$norm" "$OUT")" \
    "customs scan --format json oci: agrees with the in-stream report"
is "$(jq '.packages | length' "$T/scan.json") $(jq '.vulnerabilities | length' "$T/scan.json")" "7 5" \
    "and finds the same seven packages and five findings"

kill -0 "$CUS_PID" 2>/dev/null
is "$?" 0 "customs is still running"
done_testing
