# tests/integration/fixtures.sh - made-up root filesystems with known
# contents, shared by the scan tests (sourced after lib.sh).

# fixture_shop ROOT0 ROOT1
#   Layer 0: Debian 12 os-release, a dpkg status with Source: fields, a
#            Python dist-info, two node_modules packages.
#   Layer 1: a whiteout deleting one node_modules package of layer 0, a
#            planted PEM private key, one more npm package.
fixture_shop() {
    local R0=$1 R1=$2
    mkdir -p "$R0/etc" "$R0/var/lib/dpkg" \
        "$R0/usr/lib/python3/dist-packages/requests-2.31.0.dist-info" \
        "$R0/app/node_modules/left-pad" "$R0/app/node_modules/gone-pkg"
    cat >"$R0/etc/os-release" <<'X'
PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
ID=debian
X
    cat >"$R0/var/lib/dpkg/status" <<'X'
Package: libssl3
Status: install ok installed
Architecture: amd64
Source: openssl
Version: 3.0.11-1~deb12u2

Package: zlib1g
Status: install ok installed
Architecture: amd64
Source: zlib (1:1.2.13.dfsg-1)
Version: 1:1.2.13.dfsg-1

Package: bash
Status: install ok installed
Architecture: amd64
Version: 5.2.15-2+b2
X
    printf 'Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0\n' \
        >"$R0/usr/lib/python3/dist-packages/requests-2.31.0.dist-info/METADATA"
    printf '{"name":"left-pad","version":"1.3.0"}\n' >"$R0/app/node_modules/left-pad/package.json"
    printf '{"name":"gone-pkg","version":"0.0.1"}\n' >"$R0/app/node_modules/gone-pkg/package.json"

    mkdir -p "$R1/app/node_modules/is-odd" "$R1/root/.ssh"
    : >"$R1/app/node_modules/.wh.gone-pkg"
    printf '{"name":"is-odd","version":"3.0.1"}\n' >"$R1/app/node_modules/is-odd/package.json"
    {
        echo "-----BEGIN RSA PRIVATE KEY-----"
        echo "MIIEowIBAAKCAQEAq7BFUpkGp3+LQmlQYx2eqzDV+xeG8kx/sQFV18S5JhzGeIJN"
        echo "AAAAB3NzaC1yc2EAAAADAQABAAABAQC7fake0fake0fake0fake0fake0fake0fak"
        echo "-----END RSA PRIVATE KEY-----"
    } >"$R1/root/.ssh/id_rsa"
}

# fixture_go_binary FILE MODULE
#   Writes an executable with the byte layout of a Go 1.18+ binary's build
#   info (ELF magic, the "\xff Go buildinf:" blob at a 16-byte aligned offset,
#   inline version and module strings framed by debug/buildinfo's sentinels):
#   toolchain go1.21.5, main module MODULE v1.4.0, dependency
#   golang.org/x/net v0.17.0.
fixture_go_binary() {
    python3 - "$1" "$2" <<'PY'
import sys
path, mod = sys.argv[1], sys.argv[2]
def uvarint(n):
    out = bytearray()
    while True:
        b = n & 0x7f; n >>= 7
        if n: out.append(b | 0x80)
        else: out.append(b); return bytes(out)
start = bytes.fromhex("3077af0c9274080241e1c107e6d618e6")
end = bytes.fromhex("f932433186182072008242104116d8f2")
info = (f"path\t{mod}/cmd/app\nmod\t{mod}\tv1.4.0\th1:abc=\n"
        "dep\tgolang.org/x/net\tv0.17.0\th1:def=\n").encode()
elf = b"\x7fELF\x02\x01\x01" + b"\0" * 57 + b"\0" * 192          # 256 bytes of "header"
hdr = b"\xff Go buildinf:" + bytes([8, 2]) + b"\0" * 16            # 32-byte blob header
ver = b"go1.21.5"
blob = hdr + uvarint(len(ver)) + ver + uvarint(len(start + info + end)) + start + info + end
data = elf + blob + b"\0" * 4096
open(path, "wb").write(data)
PY
    chmod 755 "$1"
}

# fixture_shop_image DIR: the two shop layers plus a Go binary in layer 1,
# as an OCI layout at DIR tagged v1; sets R0, R1 (the root filesystems) and
# prints the manifest digest.
fixture_shop_image() {
    local img=$1
    R0=$T/rootfs0 R1=$T/rootfs1
    fixture_shop "$R0" "$R1"
    mkdir -p "$R1/usr/local/bin"
    fixture_go_binary "$R1/usr/local/bin/app" example.com/shop
    oci_init "$img" && oci_add_layer "$img" "$R0" && oci_add_layer "$img" "$R1" && oci_finish "$img" v1
}

# fixture_critical_osv FILE
#   A made-up OSV record, CVE-2099-0001: a critical (CVSS 9.8) flaw in
#   Debian 12's openssl, fixed in 3.0.13-1~deb12u1; fixture_shop's openssl
#   is affected.  The policy tests deny images on it.
fixture_critical_osv() {
    cat >"$1" <<'X'
{"schema_version": "1.6.0", "id": "CVE-2099-0001", "modified": "2099-01-01T00:00:00Z",
 "summary": "made-up critical openssl flaw",
 "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
 "affected": [{"package": {"ecosystem": "Debian:12", "name": "openssl"},
   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.0.13-1~deb12u1"}]}]}]}
X
}

# fixture_debian_base DIR OPENSSL_VERSION [MARK]
#   A Debian 12 root filesystem with libssl3 (source openssl) at that
#   version and bash: with fixture_critical_osv, 3.0.11-1~deb12u2 has
#   CVE-2099-0001 and 3.0.13-1~deb12u1 fixes it.  MARK (optional) is written
#   to etc/mark, so that two bases with the same packages differ.
fixture_debian_base() {
    mkdir -p "$1/etc" "$1/var/lib/dpkg"
    printf 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n' \
        >"$1/etc/os-release"
    printf 'Package: libssl3\nStatus: install ok installed\nArchitecture: amd64\nSource: openssl\nVersion: %s\n\n' \
        "$2" >"$1/var/lib/dpkg/status"
    printf 'Package: bash\nStatus: install ok installed\nArchitecture: amd64\nVersion: 5.2.15-2+b2\n' \
        >>"$1/var/lib/dpkg/status"
    [ -z "${3:-}" ] || echo "$3" >"$1/etc/mark"
}

# fixture_policy_no_critical FILE [KEY=VALUE...]
#   The policy most gate tests use: enforce, scan images never seen, deny on
#   errors, and one rule denying critical vulnerabilities (fixture_critical_osv)
#   in every repository.  KEY=VALUE pairs replace or add top-level keys
#   (on_error=allow, head=auto).
fixture_policy_no_critical() {
    local file=$1 kv k
    shift
    local -A top=([mode]=enforce [unscanned]=scan [on_error]=deny)
    local order=(mode unscanned on_error)
    for kv in "$@"; do
        k=${kv%%=*}
        [ -n "${top[$k]+x}" ] || order+=("$k")
        top[$k]=${kv#*=}
    done
    {
        for k in "${order[@]}"; do echo "$k: ${top[$k]}"; done
        printf 'rules:\n  - name: no-critical\n    repositories: ["**"]\n    deny:\n      severity: critical\n'
    } >"$file"
}
